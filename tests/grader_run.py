"""Run the autograder as a user would: ``python -m pytest autograder/...`` in a subprocess."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.mutants import Variant

REPO_ROOT = Path(__file__).resolve().parent.parent
# The autograder's public test file of each part, by the student module it grades: {"network": "autograder/test_part1_network.py", ...}
PART_FILES = {
    path.stem.split("_", 2)[2]: str(path.relative_to(REPO_ROOT))
    for path in sorted((REPO_ROOT / "autograder").glob("test_part*_*.py"))
}


def part_test_files(module: str) -> list[str]:
    """The test files of ``module``'s part: the public one, and the hidden one (Gradescope only) if it has one."""
    hidden = Path(PART_FILES[module]).parent / "hidden" / Path(PART_FILES[module]).name
    return [PART_FILES[module]] + ([str(hidden)] if (REPO_ROOT / hidden).is_file() else [])


def node_of(module: str, test: str) -> str:
    """``file::test`` for the test called ``test`` (parameters included, if any) of ``module``'s part, public or hidden."""
    function = test.split("[", 1)[0]
    for path in part_test_files(module):
        if re.search(rf"^def {re.escape(function)}\(", (REPO_ROOT / path).read_text(), re.MULTILINE):
            return f"{path}::{test}"
    raise KeyError(f"no test function {function!r} in {part_test_files(module)}")


def committed_stubs(folder: Path) -> Path:
    """The stubs of ``assignment/`` as committed, written into ``folder``.

    The meta-tests grade these, not the working copy of ``assignment/``, which
    may hold an instructor's (or a student's) work in progress. Outside a git
    checkout, the working copy is all there is.
    """
    folder.mkdir(parents=True, exist_ok=True)
    listed = subprocess.run(
        ["git", "ls-tree", "--name-only", "HEAD", "assignment/"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    names = [Path(line).name for line in listed.stdout.split() if line.endswith(".py")] if listed.returncode == 0 else []
    if not names:
        for path in (REPO_ROOT / "assignment").glob("*.py"):
            shutil.copy(path, folder)
        return folder
    for name in names:
        shown = subprocess.run(["git", "show", f"HEAD:assignment/{name}"], cwd=REPO_ROOT, capture_output=True, check=True)
        (folder / name).write_bytes(shown.stdout)
    return folder


@dataclass(frozen=True)
class GraderRun:
    returncode: int
    stdout: str
    results: dict

    def test(self, name: str, module: str | None = None) -> dict:
        """The results entry of the test called ``name`` (with its parameters, if any), of ``module``'s part if given."""
        for test in self.results["tests"]:
            if test["name"].split(": ", 1)[-1] == name and (module is None or test["tags"][0].endswith(f" {module}")):
                return test
        raise KeyError(f"no test {name!r} in results; have {[t['name'] for t in self.results['tests']]}")


def run_autograder(
    results_path: Path, *args: str, target: str | Path | None = None, env: dict | None = None, timeout: float = 900
) -> GraderRun:
    """Run the autograder on ``target`` with extra pytest ``args`` and environment ``env``; read its results file."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--results", str(results_path)]
    if target is not None:
        command += ["--target", str(target)]
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    environment.pop("DLCV_TARGET", None)
    environment.update(env or {})
    completed = subprocess.run(
        command + list(args), cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, env=environment
    )
    if not results_path.exists():
        raise AssertionError(f"the autograder wrote no results file; it printed:\n{completed.stdout}\n{completed.stderr}")
    return GraderRun(completed.returncode, completed.stdout + completed.stderr, json.loads(results_path.read_text()))


PARALLEL_RUNS = 2  # grader runs side by side (one thread each)


def batches(edits: list[Variant]) -> list[list[Variant]]:
    """``edits`` in batches with at most one edit of each module, in their order."""
    grouped: list[list[Variant]] = []
    for edit in edits:
        batch = next((b for b in grouped if all(other.module != edit.module for other in b)), None)
        if batch is None:
            grouped.append(batch := [])
        batch.append(edit)
    return grouped


def run_batches(edits: list[Variant], folder: Path, selection) -> dict[Variant, GraderRun]:
    """Grade each batch once; the run that graded each edit (two parts may use the same name)."""
    def grade(numbered: tuple[int, list[Variant]]) -> list[tuple[Variant, GraderRun]]:
        number, batch = numbered
        submission = folder / f"batch{number}"
        for edit in batch:
            edit.write(submission)
        run = run_autograder(folder / f"results{number}.json", *selection(batch), target=submission)
        return [(edit, run) for edit in batch]

    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        return dict(pair for done in pool.map(grade, enumerate(batches(edits))) for pair in done)
