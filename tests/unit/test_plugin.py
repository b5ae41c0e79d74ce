"""The grading plugin end to end on a two-part toy homework, in a pytest of its own (autograder.grading.plugin)."""

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

STUDENT = '''\
import subprocess


def double(x):
    return 2 * x


def broken():
    raise ValueError("bad value")


class Network:
    def forward(self, x):
        raise NotImplementedError
'''

PART_ONE = '''\
import pytest


@pytest.mark.points(2)
def test_double_doubles(submission):
    assert submission.get("network.double")(3) == 6


@pytest.mark.points(3, visibility="hidden")
def test_broken_is_explained(submission):
    submission.get("network.broken")()
'''

PART_TWO = '''\
import pytest


@pytest.mark.points(1.5, visibility="after_published")
def test_forward_is_a_todo(submission):
    submission.get("network.Network")().forward(1)


@pytest.mark.points(4)
def test_left_out(submission):
    pass
'''


@dataclass
class GradingRun:
    """What a grading run left: its exit status, its terminal output and its results.json."""

    returncode: int
    output: str
    results: dict
    results_path: Path

    @property
    def lines(self):
        return [line.split() for line in self.output.splitlines()]

    @property
    def tests(self):
        return {test["name"].split(": ", 1)[1]: test for test in self.results["tests"]}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One grading run of the toy homework, with one test left out by -k; its output and its results.json."""
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "submitted").mkdir()
    (folder / "submitted" / "network.py").write_text(STUDENT)
    (folder / "test_part1_demo.py").write_text(PART_ONE)
    (folder / "test_part2_more.py").write_text(PART_TWO)
    environment = {**os.environ, "PYTHONPATH": str(REPO), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    for name in ("PYTEST_ADDOPTS", "DLCV_TARGET", "DLCV_RUN_TIME_LIMIT"):
        environment.pop(name, None)
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "autograder.grading.plugin",
        "--target", "submitted", "--results", "out/results.json", "-k", "not left_out",
    ]
    completed = subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True, timeout=300)
    results = folder / "out" / "results.json"
    assert results.is_file(), completed.stdout + completed.stderr
    return GradingRun(completed.returncode, completed.stdout, json.loads(results.read_text()), results)


def test_a_run_with_failed_tests_exits_as_failed(run):
    assert run.returncode == 1, run.output


def test_results_hold_each_test_run_numbered_within_its_part(run):
    assert [(test["name"], test["number"]) for test in run.results["tests"]] == [
        ("Part 1 demo: test_double_doubles", "1.1"),
        ("Part 1 demo: test_broken_is_explained", "1.2"),
        ("Part 2 more: test_forward_is_a_todo", "2.1"),
    ]


def test_results_give_the_declared_points_and_visibility(run):
    assert run.tests["test_double_doubles"]["max_score"] == 2.0
    assert run.tests["test_broken_is_explained"]["visibility"] == "hidden"
    assert run.tests["test_forward_is_a_todo"]["max_score"] == 1.5
    assert run.tests["test_forward_is_a_todo"]["visibility"] == "after_published"


def test_results_score_only_the_passed_tests(run):
    assert (run.tests["test_double_doubles"]["status"], run.tests["test_double_doubles"]["score"]) == ("passed", 2.0)
    assert (run.tests["test_broken_is_explained"]["status"], run.tests["test_broken_is_explained"]["score"]) == ("failed", 0.0)
    assert run.results["score"] == 2.0


def test_a_student_exception_reaches_the_results_as_a_short_message(run):
    assert run.tests["test_broken_is_explained"]["output"] == (
        'your code raised ValueError: bad value\n  network.py, line 9, in broken: raise ValueError("bad value")'
    )
    assert run.tests["test_forward_is_a_todo"]["output"] == "not implemented yet: network.Network.forward"


def test_the_student_reads_the_points_lost_and_the_message_instead_of_a_traceback(run):
    assert "0 of 3 points. your code raised ValueError: bad value" in run.output
    assert "0 of 1.5 points. not implemented yet: network.Network.forward" in run.output
    assert "Traceback" not in run.output


def test_a_test_left_out_is_not_in_the_results(run):
    assert "test_left_out" not in run.tests


def test_the_run_ends_with_the_score_table_and_its_left_out_note(run):
    assert ["Part", "1", "demo", "2", "/", "5"] in run.lines
    assert ["Part", "2", "more", "0", "/", "1.5", "(1", "of", "its", "tests", "not", "run)"] in run.lines
    assert any(line[:6] == ["Total", "of", "the", "tests", "run", "2"] and line[6:8] == ["/", "6.5"] for line in run.lines)


def test_the_results_output_is_the_score_table(run):
    assert "Part 1 demo" in run.results["output"]
    assert "(1 of its tests not run)" in run.results["output"]


def test_a_relative_results_path_is_read_from_where_the_grader_started(run):
    assert f"results written to {run.results_path}" in run.output


def test_the_audit_goes_to_the_instructor_in_the_output_and_in_extra_data(run):
    finding = "network.py, line 1: imports subprocess: starting processes"
    assert run.results["extra_data"]["audit"] == [finding]
    assert run.results["extra_data"]["flags"] == []
    instructor_part = run.output.split("for the instructor", 1)[1]
    assert finding in instructor_part
