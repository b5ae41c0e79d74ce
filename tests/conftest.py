"""The project's own tests: each may take at most 15 minutes (pytest-timeout), so a stuck run fails instead of hanging CI.

The graders they start run serially (``DLCV_WORKERS=1``, inherited by every grader process), since the suite itself
runs two at a time; a test that compares parallel grading with serial grading asks for workers explicitly.
"""

import os

import pytest

from autograder.grading.parallel import WORKERS_ENV
from autograder.grading.points import MARKER_HELP

os.environ[WORKERS_ENV] = "1"

TEST_TIMEOUT = 900  # seconds; the slowest meta-test runs the whole grader twice


def pytest_configure(config: pytest.Config) -> None:
    # Some meta-tests import the autograder's test modules (for their recorded inputs), whose tests carry `points`.
    config.addinivalue_line("markers", MARKER_HELP)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT))
