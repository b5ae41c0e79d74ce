"""Points that a student handout's grader cannot show: the tests kept for Gradescope.

The handout leaves out every test whose visibility is not ``"visible"`` (see
``autograder/gradescope/visibility.py``) and records what it left out in
``autograder/hidden_points.json``::

    {"parts": {"1 network": {"points": 4.0, "tests": 1}, ...}}

The handout's grader ends its score table with the line made here, so that a
student who passes every public test is never told that this is the whole
grade (Stanford's graderUtil does the same). In the instructor's repository,
which has every test, the file does not exist and no line is added.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

MANIFEST = Path(__file__).resolve().parents[1] / "hidden_points.json"


def _plural(count: float, word: str) -> str:
    return f"{count:g} {word}" + ("" if count == 1 else "s")


def hidden_points_line(parts: Iterable[str], manifest: Path = MANIFEST) -> str | None:
    """The line saying how many points of ``parts`` (``"1 network"``, ...) only Gradescope grades, or None."""
    if not manifest.is_file():
        return None
    hidden = json.loads(manifest.read_text())["parts"]
    shown = [(part, hidden[part]) for part in sorted(set(parts), key=lambda p: int(p.split()[0])) if part in hidden]
    points = sum(entry["points"] for _, entry in shown)
    if not points:
        return None
    tests = sum(entry["tests"] for _, entry in shown)
    breakdown = ", ".join(f"Part {part} {entry['points']:g}" for part, entry in shown)
    return (
        f"{_plural(points, 'more point')}, not in the total above, "
        f"{'is' if points == 1 else 'are'} graded only on Gradescope "
        f"({_plural(tests, 'hidden test')}: {breakdown})"
    )
