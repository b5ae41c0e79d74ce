"""Points, visibility and time limit, declared next to each test.

    @pytest.mark.points(2)                                  # visible, default time limit
    @pytest.mark.points(3, visibility="after_published", time_limit=120)
    def test_something(submission): ...

A test's *part* is read from its file name: ``test_part1_network.py`` is
part ``1 network``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")  # Gradescope's values
DEFAULT_TIME_LIMIT = 60.0  # seconds a test may run unless its marker says otherwise
PART_FILE = re.compile(r"test_part(\d+)_(\w+)\.py")

MARKER_HELP = (
    "points(value, visibility='visible', time_limit=60): the points a test is worth, "
    "who sees it on Gradescope, and how many seconds it may run"
)


@dataclass(frozen=True)
class Grading:
    points: float
    visibility: str
    time_limit: float
    part: str


def part_of(path: Path) -> str:
    match = PART_FILE.fullmatch(path.name)
    if match is None:
        raise pytest.UsageError(f"{path.name}: autograder test files are named test_part<N>_<name>.py")
    return f"{match.group(1)} {match.group(2)}"


def grading_of(item: pytest.Item) -> Grading:
    """The grading declared on ``item``; a usage error if it is missing or malformed."""
    marker = item.get_closest_marker("points")
    if marker is None or len(marker.args) != 1:
        raise pytest.UsageError(f"{item.nodeid}: every autograder test needs @pytest.mark.points(value)")
    unknown = set(marker.kwargs) - {"visibility", "time_limit"}
    visibility = marker.kwargs.get("visibility", "visible")
    if unknown or visibility not in VISIBILITIES:
        raise pytest.UsageError(
            f"{item.nodeid}: points marker takes visibility in {VISIBILITIES} and time_limit; "
            f"found {marker.kwargs}"
        )
    return Grading(
        points=float(marker.args[0]),
        visibility=visibility,
        time_limit=float(marker.kwargs.get("time_limit", DEFAULT_TIME_LIMIT)),
        part=part_of(Path(item.fspath)),
    )
