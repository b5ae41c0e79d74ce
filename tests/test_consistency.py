"""The same submission scores the same through `pytest autograder/`, run_autograder and batch grading.

The submission mixes a solved part, a realistic mistake (the first mutant that a cheap test catches) and an
untouched stub, so that each part's score is neither all nor nothing by accident. Only a cheap subset of the
tests runs (``-k``), the same one on every path.
"""

import ast
import os
import shutil
import subprocess
import sys

import pytest

from tests.gradescope_format import load_results
from tests.gradescope_runs import MODULES, REPO_ROOT, build, cheap_tests, gradescope_root, run_autograder, submit
from tests.grader_run import run_autograder as run_pytest
from tests.mutants import MUTANTS


def default_limit_tests() -> set[str]:
    """The names of the tests that need no more than the default time limit (they train nothing)."""
    names = set()
    for path in (REPO_ROOT / "autograder").glob("test_part*_*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    if isinstance(decorator, ast.Call) and ast.unparse(decorator.func).endswith("mark.points"):
                        if not any(keyword.arg == "time_limit" for keyword in decorator.keywords):
                            names.add(node.name)
    return names


MUTANT = next(m for m in MUTANTS if m.caught_by.split("[")[0] in default_limit_tests() and f"{m.module}.py" != MODULES[-1])
KEYWORD = f"{cheap_tests()} or {MUTANT.caught_by.split('[')[0]}"


@pytest.fixture(scope="module")
def submission(tmp_path_factory):
    folder = submit(tmp_path_factory.mktemp("mixed") / "student_42", "solutions")
    MUTANT.write(folder)
    shutil.copy(REPO_ROOT / "assignment" / MODULES[-1], folder / MODULES[-1])
    return folder


def verdicts(results: dict) -> dict[str, tuple[float, str]]:
    return {test["name"]: (test["score"], test["status"]) for test in results["tests"]}


@pytest.fixture(scope="module")
def through_pytest(submission, tmp_path_factory):
    results = tmp_path_factory.mktemp("pytest") / "results.json"
    run_pytest(results, "autograder/", "-k", KEYWORD, target=submission, env={"OMP_NUM_THREADS": "1"})
    return load_results(results)


@pytest.fixture(scope="module")
def through_run_autograder(submission, tmp_path_factory):
    scratch = tmp_path_factory.mktemp("gradescope")
    root = gradescope_root(build("gradescope", scratch / "autograder.zip"), scratch / "autograder")
    shutil.copytree(submission, root / "submission", dirs_exist_ok=True)
    return run_autograder(root, "-k", KEYWORD).results


@pytest.fixture(scope="module")
def through_batch(submission, tmp_path_factory):
    output = tmp_path_factory.mktemp("batch")
    command = [sys.executable, "-m", "autograder.gradescope.batch", str(submission.parent), "--output", str(output), "-k", KEYWORD]
    completed = subprocess.run(command, cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    return load_results(output / "results" / submission.name / "results.json")


def test_the_submission_earns_some_points_but_not_all(through_pytest):
    assert 0 < through_pytest["score"] < sum(test["max_score"] for test in through_pytest["tests"])
    assert any(test["name"].endswith(MUTANT.caught_by) and test["status"] == "failed" for test in through_pytest["tests"])


def test_run_autograder_scores_as_pytest(through_pytest, through_run_autograder):
    assert verdicts(through_run_autograder) == verdicts(through_pytest)
    assert through_run_autograder["score"] == through_pytest["score"]


def test_batch_grading_scores_as_pytest(through_pytest, through_batch):
    assert verdicts(through_batch) == verdicts(through_pytest)
    assert through_batch["score"] == through_pytest["score"]
