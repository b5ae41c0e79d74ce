"""The project's own tests: each may take at most 15 minutes (pytest-timeout), so a stuck run fails instead of hanging CI."""

import pytest

TEST_TIMEOUT = 900  # seconds; the slowest meta-test runs the whole grader twice


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT))
