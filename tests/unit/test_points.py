"""A test's part from its file name, and its declared points, visibility and time limit (autograder.grading.points)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading.points import DEFAULT_TIME_LIMIT, part_of

REPO = Path(__file__).resolve().parents[2]

# Writes grading_of(item) for every collected test, or the usage error it raised, to gradings.json.
RECORDING_CONFTEST = '''\
import json
from dataclasses import asdict

import pytest

from autograder.grading.points import grading_of


def pytest_collection_modifyitems(items):
    found = {}
    for item in items:
        try:
            found[item.name] = asdict(grading_of(item))
        except pytest.UsageError as error:
            found[item.name] = {"usage_error": str(error)}
    with open("gradings.json", "w") as file:
        json.dump(found, file)
'''

DECLARED_TESTS = '''\
import pytest


@pytest.mark.points(2)
def test_defaults():
    pass


@pytest.mark.points(3, visibility="after_published", time_limit=120)
def test_everything_declared():
    pass


def test_no_marker():
    pass


@pytest.mark.points()
def test_no_points():
    pass


@pytest.mark.points(1, visibility="secret")
def test_unknown_visibility():
    pass


@pytest.mark.points(1, timelimit=5)
def test_unknown_keyword():
    pass


@pytest.mark.points(1)
class TestInAClass:
    def test_marked_by_its_class(self):
        pass
'''


# ---------------------------------------------------------------------------------------------- part_of


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("test_part1_network.py", "1 network"),
        ("test_part12_two_words.py", "12 two_words"),
        ("test_part03_x.py", "03 x"),
    ],
)
def test_part_of_reads_the_part_from_the_file_name(name, part):
    assert part_of(Path("anywhere", name)) == part


@pytest.mark.parametrize(
    "name",
    [
        "test_network.py",
        "test_part1_network.txt",
        "test_partX_network.py",
        "test_part1_.py",
        "test_part1network.py",
        "part1_network.py",
        "test_part1_net-work.py",
    ],
)
def test_part_of_refuses_a_file_not_named_test_part_n_name(name):
    with pytest.raises(pytest.UsageError, match="test_part<N>_<name>.py"):
        part_of(Path(name))


# -------------------------------------------------------------------------------------------- grading_of


@pytest.fixture(scope="module")
def gradings(tmp_path_factory):
    """grading_of for each test of a small test_part2_demo.py, collected by a pytest of its own."""
    folder = tmp_path_factory.mktemp("points")
    (folder / "pytest.ini").write_text("[pytest]\nmarkers =\n    points: the autograder's points\n")
    (folder / "conftest.py").write_text(RECORDING_CONFTEST)
    (folder / "test_part2_demo.py").write_text(DECLARED_TESTS)
    environment = {**os.environ, "PYTHONPATH": str(REPO), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    environment.pop("PYTEST_ADDOPTS", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=folder, env=environment, capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((folder / "gradings.json").read_text())


def test_a_points_marker_alone_gives_a_visible_test_with_the_default_time_limit(gradings):
    assert gradings["test_defaults"] == {
        "points": 2.0,
        "visibility": "visible",
        "time_limit": DEFAULT_TIME_LIMIT,
        "part": "2 demo",
    }


def test_a_points_marker_declares_visibility_and_time_limit(gradings):
    assert gradings["test_everything_declared"] == {
        "points": 3.0,
        "visibility": "after_published",
        "time_limit": 120.0,
        "part": "2 demo",
    }


def test_a_marker_on_the_class_grades_its_tests(gradings):
    assert gradings["test_marked_by_its_class"]["points"] == 1.0


def test_a_test_without_a_points_marker_is_a_usage_error(gradings):
    assert "every autograder test needs @pytest.mark.points(value)" in gradings["test_no_marker"]["usage_error"]


def test_a_points_marker_without_a_value_is_a_usage_error(gradings):
    assert "every autograder test needs @pytest.mark.points(value)" in gradings["test_no_points"]["usage_error"]


def test_an_unknown_visibility_is_a_usage_error(gradings):
    error = gradings["test_unknown_visibility"]["usage_error"]
    assert "test_part2_demo.py::test_unknown_visibility" in error
    assert "visibility" in error and "secret" in error


def test_an_unknown_keyword_of_the_marker_is_a_usage_error(gradings):
    assert "timelimit" in gradings["test_unknown_keyword"]["usage_error"]
