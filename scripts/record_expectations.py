"""Write the recorded expectations of the public tests from ``solutions/`` (or check that they are current).

    python scripts/record_expectations.py            # rewrite autograder/recorded/*.json
    python scripts/record_expectations.py --check    # exit 1 if a file differs from what it would be now
    python scripts/record_expectations.py part6_detection   # one part

Each part's recorder (``scripts/recorders/part<N>_<name>.py``) runs the
solution, and the catalogued mistakes of ``tests/mutants/``, on its public
tests' inputs. The handout ships only the data written here, never the code
that computed it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import pkgutil
import sys
import types
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402

from autograder.recorded import RECORDED_DIR, decode, encode  # noqa: E402
from scripts import recorders  # noqa: E402
from tests.mutants import MUTANTS  # noqa: E402

TENSOR_TOLERANCE = dict(rtol=1e-5, atol=1e-6)  # another CPU's kernels may round the last bits differently


def module_from_source(name: str, source: str, filename: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = filename
    exec(compile(source, filename, "exec"), module.__dict__)
    return module


def solution(module: str) -> types.ModuleType:
    path = REPO_ROOT / "solutions" / f"{module}.py"
    return module_from_source(f"recorded_solution_{module}", path.read_text(), str(path))


def mistake_loader(module: str):
    """``mistake(name)``: the solution of ``module`` with the edit of the mutant called ``name``."""
    def mistake(name: str) -> types.ModuleType:
        found = [m for m in MUTANTS if m.module == module and m.name == name]
        if len(found) != 1:
            raise KeyError(f"no mutant {name!r} of {module}.py in tests/mutants")
        return module_from_source(f"recorded_mistake_{module}", found[0].source(), f"<mutant {name}>")
    return mistake


def part_recorders() -> dict[str, types.ModuleType]:
    names = sorted(info.name for info in pkgutil.iter_modules(recorders.__path__) if info.name.startswith("part"))
    return {name: importlib.import_module(f"scripts.recorders.{name}") for name in names}


def record(part: str, recorder: types.ModuleType) -> dict:
    module = part.split("_", 1)[1]
    torch.manual_seed(0)
    return encode(recorder.record(solution(module), mistake_loader(module)))


def dumps(value, depth: int = 0) -> str:
    """JSON with one key per line and every list of numbers on a line of its own: readable, and small."""
    pad, inner = " " * depth, " " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{json.dumps(key)}: {dumps(item, depth + 1)}" for key, item in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        if all(isinstance(item, list) and not any(isinstance(x, (dict, list)) for x in item) for item in value):
            return "[" + ", ".join(json.dumps(item) for item in value) + "]"  # a matrix of numbers: one line
        return "[\n" + ",\n".join(inner + dumps(item, depth + 1) for item in value) + f"\n{pad}]"
    return json.dumps(value)


def same_data(a, b) -> bool:
    """Recorded data equal up to the last bits of floating-point tensors."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and bool(torch.allclose(a, b, equal_nan=True, **TENSOR_TOLERANCE))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_data(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same_data, a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7) or (math.isnan(a) and math.isnan(b))
    return a == b


def stale_parts(parts: dict[str, types.ModuleType]) -> list[str]:
    """The parts whose recorded file is missing or differs from what the solutions give now."""
    stale = []
    for part, recorder in parts.items():
        path = RECORDED_DIR / f"{part}.json"
        if not path.is_file() or not same_data(decode(record(part, recorder)), decode(json.loads(path.read_text()))):
            stale.append(part)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("parts", nargs="*", help="parts to record (default: all), e.g. part6_detection")
    parser.add_argument("--check", action="store_true", help="only check that the recorded files are current")
    options = parser.parse_args(argv)
    parts = part_recorders()
    if options.parts:
        parts = {name: parts[name] for name in options.parts}
    if options.check:
        stale = stale_parts(parts)
        for part in stale:
            print(f"{RECORDED_DIR.name}/{part}.json is not current: run python scripts/record_expectations.py {part}")
        return 1 if stale else 0
    RECORDED_DIR.mkdir(exist_ok=True)
    for part, recorder in parts.items():
        (RECORDED_DIR / f"{part}.json").write_text(dumps(record(part, recorder)) + "\n")
        print(f"wrote {RECORDED_DIR.name}/{part}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
