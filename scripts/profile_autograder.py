"""Where one serial run of the autograder on one CPU core spends its time.

    python scripts/profile_autograder.py                 # autograder/ on the solutions, pinned to core 0
    python scripts/profile_autograder.py --top 30

Everything runs pinned to core 0 (``taskset -c 0``), serially (``--workers 1``),
one after the other, and is split by difference:

- the interpreter alone (``python -c pass``) and ``import torch, torchvision``;
- start-up and collection: ``pytest autograder/ --collect-only`` (the
  plugin, the test modules and what they import), less the bare import;
- the whole run, and in it the tests' own durations (each test's call
  phase as pytest reports it with ``--durations=0``: the fork, the child's
  work, the verdict), the accuracy tests (the seven training runs) apart;
- what isolation costs: the same run with ``--no-isolation`` (every test in
  the grader's own process, no forks, no integrity snapshots, no limits),
  by difference;
- loading the data once (``dlcv.data.load_mnist``), which every test process
  that trains pays again.

Graded examples come from the project's own generator (``autograder/examples.py``),
so hypothesis costs the grader nothing. It prints the top test durations and a
table of the parts of the run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PINNED = ["taskset", "-c", "0"]


def timed(command: list[str]) -> tuple[float, str]:
    """Wall seconds of ``command`` on core 0, and its output; fails loudly if it fails."""
    environment = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", DLCV_WORKERS="1")
    began = time.perf_counter()
    done = subprocess.run(PINNED + command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} exited with {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return seconds, done.stdout + done.stderr


def accuracy_test_names() -> set[str]:
    """The function names of the accuracy tests (``ACCURACY_TESTS`` of each test module)."""
    sys.path.insert(0, str(REPO_ROOT))
    import importlib  # noqa: PLC0415

    names = set()
    for path in sorted((REPO_ROOT / "autograder").glob("test_part*_*.py")):
        module = importlib.import_module(f"autograder.{path.stem}")
        names.update(test.test for test in getattr(module, "ACCURACY_TESTS", []))
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="solutions", help="the --target to grade (default solutions)")
    parser.add_argument("--top", type=int, default=20, help="how many of the slowest tests to list (default 20)")
    options = parser.parse_args()
    python = sys.executable
    grader = [python, "-m", "pytest", "autograder/", "--target", options.target, "-p", "no:cacheprovider", "-q"]
    with tempfile.TemporaryDirectory(prefix="dlcv-profile-") as scratch:
        results = Path(scratch) / "results.json"  # written as on Gradescope, not read
        interpreter, _ = timed([python, "-c", "pass"])
        bare_import, _ = timed([python, "-c", "import torch, torchvision"])
        collection, _ = timed(grader + ["--collect-only"])
        data, data_output = timed([python, "-c", "import dlcv.data, time; t = time.perf_counter(); "
                                                 "dlcv.data.load_mnist(); print(time.perf_counter() - t)"])
        data_seconds = float(data_output.split()[-1])
        whole, output = timed(grader + ["--results", str(results), "--durations=0", "--durations-min=0"])
        in_process, _ = timed(grader + ["--no-isolation"])
    accuracy = accuracy_test_names()
    calls = re.findall(r"^([\d.]+)s call +(\S+)$", output, re.MULTILINE)
    durations = sorted(((nodeid, float(seconds)) for seconds, nodeid in calls), key=lambda pair: -pair[1])
    test_seconds = sum(seconds for _, seconds in durations)
    is_accuracy = lambda nodeid: nodeid.split("::", 1)[-1].split("[")[0] in accuracy  # noqa: E731
    training = sum(seconds for nodeid, seconds in durations if is_accuracy(nodeid))
    print(f"{len(durations)} tests of {options.target}, serially, on core 0; {python}")
    print()
    print(f"| the {options.top} slowest tests | seconds |")
    print("|---|---:|")
    for nodeid, seconds in durations[: options.top]:
        print(f"| {nodeid}{' (accuracy)' if is_accuracy(nodeid) else ''} | {seconds:.1f} |")
    print()
    rows = [
        ("the whole run", whole),
        ("  the interpreter (python -c pass)", interpreter),
        ("  import torch, torchvision, less the interpreter", bare_import - interpreter),
        ("  the grader's start-up and collection, less the bare import", collection - bare_import),
        ("  the tests' call phases, accuracy tests (training) included", test_seconds),
        ("    of which the accuracy tests (the training runs)", training),
        ("    of which loading the data once", data_seconds),
        ("  the rest (setup and teardown, results writes, end of session)", whole - collection - test_seconds),
        ("the same run without isolation (--no-isolation)", in_process),
        ("  isolation's cost, by difference (forks, snapshots, confinement, supervision)", whole - in_process),
    ]
    print("| part of the run | seconds | share of the whole run | bare imports |")
    print("|---|---:|---:|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.1f} | {seconds / whole:.0%} | {seconds / bare_import:.1f} |")
    print(f"\nbare import: {bare_import:.1f} s; data load measured in a process of {data:.1f} s")


if __name__ == "__main__":
    main()
