"""Scores of a run: the per-part table and Gradescope's ``results.json``.

The file follows Gradescope's documented format for autograder results:
top-level ``score``, ``execution_time``, ``output``, ``visibility``,
``stdout_visibility`` and ``tests``; each test has ``name``, ``number``,
``score``, ``max_score``, ``status`` (``passed`` or ``failed``), ``output``
and ``visibility``, plus ``tags`` holding its part.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Outcome:
    """One graded test."""

    name: str
    part: str
    max_score: float
    passed: bool
    output: str
    visibility: str
    seconds: float

    @property
    def score(self) -> float:
        return self.max_score if self.passed else 0.0


def part_totals(outcomes: list[Outcome]) -> dict[str, tuple[float, float]]:
    """``{part: (score, max_score)}`` in part order."""
    totals: dict[str, tuple[float, float]] = {}
    for outcome in sorted(outcomes, key=lambda o: int(o.part.split()[0])):
        score, most = totals.get(outcome.part, (0.0, 0.0))
        totals[outcome.part] = (score + outcome.score, most + outcome.max_score)
    return totals


def _points(value: float) -> str:
    return f"{value:g}"


def score_table(outcomes: list[Outcome], left_out: dict[str, int] | None = None, parts: list[str] | None = None) -> list[str]:
    """Lines of the per-part table that ends every run.

    ``left_out`` counts, per part, the tests that were collected but not run
    (``-k``, node ids); ``parts`` names every part of the homework, so that a
    part not run at all is shown as such and the total is not mistaken for
    the homework's.
    """
    left_out = left_out or {}
    totals = part_totals(outcomes)
    rows = []
    for part in sorted(set(totals) | set(parts or []), key=lambda part: int(part.split()[0])):
        if part not in totals:
            rows.append((f"Part {part}", "not run", ""))
            continue
        score, most = totals[part]
        note = f"({left_out[part]} of its tests not run)" if left_out.get(part) else ""
        rows.append((f"Part {part}", f"{_points(score)} / {_points(most)}", note))
    partial = any(points == "not run" or note for _, points, note in rows)
    total = f"{_points(sum(o.score for o in outcomes))} / {_points(sum(o.max_score for o in outcomes))}"
    rows.append(("Total of the tests run" if partial else "Total", total, "(run pytest autograder/ for the whole homework)" if partial else ""))
    width = max(len(label) for label, _, _ in rows)
    lines = [f"{label:<{width}}  {points:>11}  {note}".rstrip() for label, points, note in rows]
    lines.insert(len(lines) - 1, "-" * max(len(line) for line in lines))
    return lines


def gradescope_results(outcomes: list[Outcome], execution_time: float, output: str = "", extra: dict | None = None) -> dict:
    """The ``results.json`` document for ``outcomes``; ``extra`` goes to ``extra_data`` (not shown to students)."""
    numbers: dict[str, int] = {}
    tests = []
    for o in outcomes:
        numbers[o.part] = numbers.get(o.part, 0) + 1
        tests.append(
            {
                "name": o.name,
                "number": f"{o.part.split()[0]}.{numbers[o.part]}",
                "score": o.score,
                "max_score": o.max_score,
                "status": "passed" if o.passed else "failed",
                "output": o.output,
                "visibility": o.visibility,
                "tags": [f"part {o.part}"],
            }
        )
    document = {
        "score": sum(o.score for o in outcomes),
        "execution_time": round(execution_time, 3),
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if extra:
        document["extra_data"] = extra
    return document


def write_results(path: Path, document: dict) -> None:
    """Write ``document`` to ``path`` atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, indent=2) + "\n")
    partial.replace(path)
