"""The autograder on the solutions, on the stubs and on broken submissions, run as a user would."""

import re
import subprocess
import sys

import pytest

from tests.gradescope_format import check_gradescope_results
from tests.grader_run import PART_FILES, REPO_ROOT, committed_stubs, run_autograder

@pytest.fixture(scope="module")
def solutions_run(tmp_path_factory):
    return run_autograder(tmp_path_factory.mktemp("solutions") / "results.json", "autograder/", target="solutions")


@pytest.fixture(scope="module")
def stubs_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stubs")
    return run_autograder(folder / "results.json", "autograder/", target=committed_stubs(folder / "assignment"))


def test_solutions_score_full_marks(solutions_run):
    failed = [t["name"] + ": " + t["output"] for t in solutions_run.results["tests"] if t["status"] != "passed"]
    assert not failed, "\n".join(failed)
    total = sum(t["max_score"] for t in solutions_run.results["tests"])
    assert solutions_run.results["score"] == total > 0
    assert solutions_run.returncode == 0


def test_every_part_is_graded(solutions_run):
    parts = {t["tags"][0] for t in solutions_run.results["tests"]}
    expected = {"part " + re.fullmatch(r"autograder/test_part(\d+)_(\w+)\.py", f).expand(r"\1 \2") for f in PART_FILES.values()}
    assert parts == expected


def test_stubs_score_zero_with_not_implemented_messages(stubs_run):
    assert stubs_run.results["score"] == 0
    for test in stubs_run.results["tests"]:
        assert test["status"] == "failed"
        assert re.fullmatch(r"not implemented yet: \w+\.[\w.]+", test["output"]), f"{test['name']}: {test['output']}"
    # Failures only: no test errors, no crash, no traceback.
    assert " error" not in stubs_run.stdout.splitlines()[-1]
    assert "Traceback" not in stubs_run.stdout
    assert stubs_run.returncode == 1


def test_run_ends_with_the_per_part_table(solutions_run, stubs_run):
    for run in (solutions_run, stubs_run):
        assert re.search(r"^Part 1 network +[\d.]+ / [\d.]+$", run.stdout, re.MULTILINE)
        assert re.search(r"^Total +[\d.]+ / [\d.]+$", run.stdout, re.MULTILINE)


@pytest.mark.parametrize("which", ["solutions", "stubs"])
def test_results_file_follows_gradescope_format(which, solutions_run, stubs_run):
    check_gradescope_results({"solutions": solutions_run, "stubs": stubs_run}[which].results)


def test_target_can_come_from_the_environment(tmp_path):
    run = run_autograder(
        tmp_path / "results.json", "autograder/test_part2_training.py", "-k", "make_",
        env={"DLCV_TARGET": "solutions"},
    )
    assert run.results["tests"] and all(t["status"] == "passed" for t in run.results["tests"])


def test_unknown_target_is_a_usage_error(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "autograder/", "--target", str(tmp_path / "nowhere")],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    assert completed.returncode == 4
    assert "no such folder" in completed.stderr
