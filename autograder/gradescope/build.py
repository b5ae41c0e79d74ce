"""Build the zip uploaded to Gradescope, or the handout given to students.

    python -m autograder.gradescope.build gradescope   # dist/dlcv-autograder.zip
    python -m autograder.gradescope.build handout      # dist/dlcv-handout.zip
    python -m autograder.gradescope.build handout --output somewhere/else.zip

**The Gradescope zip** follows Gradescope's "Autograder Specifications"
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): ``setup.sh``
and an executable ``run_autograder`` at the root of the archive (not inside a
folder), unpacked on Gradescope into ``/autograder/source``. Beside them:
``autograder/`` with every test, hidden ones included, ``dlcv/``, ``data/``,
``pyproject.toml`` and ``README.md`` (which ``setup.sh`` installs from). No
``solutions/``, ``assignment/``, ``tests/`` or ``scripts/``.

**The handout** is one folder, ``dlcv-homework/``: the stubs (``assignment/``),
``dlcv/``, ``data/``, the public tests and the plugin (``autograder/`` without
``autograder/hidden/``, whose tests are graded on Gradescope only, without
this Gradescope tooling and the calibration records), ``autograder/hidden_points.json`` (what the
hidden tests are worth, reported by the handout's grader), ``pyproject.toml``
and a student ``README.md`` made from ``handout_README.md``. No solutions, no
``tests/``, no ``scripts/`` (they need the solutions).

Both are built from this checkout's files, found by folder, not by a list of
parts, so a new part needs no change here. The build stops with an error
(exit status 1) rather than ship a solution: no file of either zip may equal a
file of ``solutions/``, the handout's stubs must still be stubs
(:mod:`.stubs`), the handout's tests must be exactly the visible ones
(:mod:`.visibility`), and no function of the handout outside ``assignment/``
may return what a graded function returns (:mod:`.answers`).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import stat
import string
import sys
import tempfile
import zipfile
from pathlib import Path

from autograder.gradescope import inventory
from autograder.gradescope.stubs import StubError, check_stub_sources, check_stubs_score_zero
from autograder.gradescope.submission import part_modules
from autograder.gradescope.answers import AnswerError, check_no_answers
from autograder.gradescope.visibility import (
    HIDDEN_FOLDER,
    VisibilityError,
    check_handout_tests,
    check_placement,
    hidden_manifest,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(__file__).resolve().parent
HANDOUT_FOLDER = "dlcv-homework"
SKIPPED = {"__pycache__", ".pytest_cache", ".hypothesis", ".DS_Store"}
EXECUTABLE = {"setup.sh", "run_autograder"}
ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed, so that the same files always make the same zip


HIDDEN_TESTS = """\
- **Hidden tests.** Some tests run only on Gradescope ({points:g} points in all,
  in the last column above). They are not in this folder, so the local total
  cannot include them: the table's last line says how many points of the
  parts you ran are graded only on Gradescope. Passing every test here does
  not mean full marks; the docstrings describe everything that is graded."""
NO_HIDDEN_TESTS = """\
- Every test is here: the local total is what Gradescope will give the same files."""


class BuildError(Exception):
    """The build would ship something it must not, or could not check that it does not."""


def _files(folder: Path):
    """The files under ``folder``, sorted, without caches."""
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not SKIPPED & set(relative.parts) and path.suffix != ".pyc" and ".egg-info" not in path.as_posix():
            yield path


def _copy(source: Path, destination: Path, excluded: tuple[str, ...] = ()) -> None:
    for path in _files(source):
        relative = path.relative_to(source).as_posix()
        if not any(relative == e or relative.startswith(e + "/") for e in excluded):
            (destination / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination / relative)


def _zip(folder: Path, output: Path, prefix: str = "") -> None:
    """Zip the contents of ``folder`` (under ``prefix/`` if given), executables marked executable."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _files(folder):
            name = (f"{prefix}/" if prefix else "") + path.relative_to(folder).as_posix()
            info = zipfile.ZipInfo(name, ZIP_TIME)
            mode = 0o755 if path.name in EXECUTABLE else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def _check_no_solutions(stage: Path) -> None:
    solutions = {path.read_bytes(): path.name for path in (REPO_ROOT / "solutions").glob("*.py")}
    leaked = [f"{path.relative_to(stage)} is solutions/{solutions[path.read_bytes()]}"
              for path in _files(stage) if path.read_bytes() in solutions]
    if leaked or (stage / "solutions").exists():
        raise BuildError("refusing to ship solutions:\n  " + "\n  ".join(leaked or ["a solutions/ folder"]))


def _stage_common(stage: Path, autograder_excluded: tuple[str, ...] = ()) -> None:
    _copy(REPO_ROOT / "autograder", stage / "autograder", autograder_excluded)
    for folder in ("dlcv", "data"):
        _copy(REPO_ROOT / folder, stage / folder)
    shutil.copy2(REPO_ROOT / "pyproject.toml", stage)


def stage_gradescope(stage: Path) -> None:
    _stage_common(stage)
    shutil.copy2(REPO_ROOT / "README.md", stage)  # pyproject.toml names it: setup.sh's install needs it
    for script in EXECUTABLE:
        shutil.copy2(PACKAGE / script, stage / script)


def _first_docstring_line(path: Path) -> str:
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    return docstring.strip().splitlines()[0] if docstring.strip() else ""


def student_readme(tests: list[inventory.GradedTest], manifest: dict) -> str:
    """The handout's README.md: ``handout_README.md`` with its parts table and upload list filled in."""
    modules = part_modules(REPO_ROOT / "autograder")
    rows = []
    for module, part in modules.items():
        public = sum(t.points for t in tests if t.part == part and t.visibility == "visible")
        hidden = manifest["parts"].get(part, {}).get("points", 0.0)
        summary = re.sub(r"^Part \d+: ", "", _first_docstring_line(REPO_ROOT / "assignment" / module))
        rows.append(f"| {part.split()[0]} | `{module}` | {summary} | {public:g} | {hidden:g} |")
    hidden_total = sum(entry["points"] for entry in manifest["parts"].values())
    template = string.Template((PACKAGE / "handout_README.md").read_text())
    return template.substitute(
        parts_table="\n".join(rows),
        upload_list=", ".join(f"`{module}`" for module in modules),
        public_points=f"{sum(t.points for t in tests if t.visibility == 'visible'):g}",
        hidden_tests=HIDDEN_TESTS.format(points=hidden_total) if hidden_total else NO_HIDDEN_TESTS,
    )


def stage_handout(stage: Path) -> None:
    full = inventory.collect(REPO_ROOT)
    check_placement(full)
    # The hidden tests, their helpers and the grader's own training loop stay with the instructors and Gradescope.
    _stage_common(stage, autograder_excluded=("gradescope", "calibration", HIDDEN_FOLDER))
    _copy(REPO_ROOT / "assignment", stage / "assignment")
    manifest = hidden_manifest(full)
    (stage / "autograder" / "hidden_points.json").write_text(json.dumps(manifest, indent=2) + "\n")
    pyproject = stage / "pyproject.toml"
    # A bare `pytest` in the handout grades: its tests/ folder stays with the instructors.
    pyproject.write_text(re.sub(r'(?m)^testpaths = .*$', 'testpaths = ["autograder"]', pyproject.read_text()))
    (stage / "README.md").write_text(student_readme(full, manifest))
    check_stub_sources(stage / "assignment")
    check_handout_tests(full, inventory.collect(stage))
    check_stubs_score_zero(stage)
    check_no_answers(stage)


def build(kind: str, output: Path) -> Path:
    """Build the ``kind`` zip ("gradescope" or "handout") at ``output``."""
    with tempfile.TemporaryDirectory(prefix=f"dlcv-{kind}-") as scratch:
        stage = Path(scratch)
        (stage_gradescope if kind == "gradescope" else stage_handout)(stage)
        _check_no_solutions(stage)
        _zip(stage, output, prefix=HANDOUT_FOLDER if kind == "handout" else "")
    return output


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["gradescope", "handout"], help="what to build")
    parser.add_argument("--output", type=Path, default=None, help="the zip to write (default: dist/dlcv-<kind>.zip)")
    options = parser.parse_args(argv)
    default_name = "dlcv-autograder.zip" if options.kind == "gradescope" else "dlcv-handout.zip"
    output = options.output or REPO_ROOT / "dist" / default_name
    try:
        build(options.kind, output)
    except (AnswerError, BuildError, StubError, VisibilityError, RuntimeError) as error:
        print(f"build {options.kind}: FAILED: {error}", file=sys.stderr)
        raise SystemExit(1)
    with zipfile.ZipFile(output) as archive:
        count = len(archive.namelist())
    print(f"built {output} ({count} files, {output.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
