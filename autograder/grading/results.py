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


def score_table(outcomes: list[Outcome]) -> list[str]:
    """Lines of the per-part table that ends every run."""
    rows = [(f"Part {part}", f"{_points(score)} / {_points(most)}") for part, (score, most) in part_totals(outcomes).items()]
    rows.append(("Total", f"{_points(sum(o.score for o in outcomes))} / {_points(sum(o.max_score for o in outcomes))}"))
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {points:>11}" for label, points in rows]
    lines.insert(len(lines) - 1, "-" * (width + 13))
    return lines


def test_numbers(outcomes: list[Outcome]) -> list[str]:
    """Gradescope's ``number`` of each outcome: ``"<part>.<n>"``, the n-th test of its part in run order."""
    seen: dict[str, int] = {}
    numbers = []
    for outcome in outcomes:
        part_number = outcome.part.split()[0]
        seen[part_number] = seen.get(part_number, 0) + 1
        numbers.append(f"{part_number}.{seen[part_number]}")
    return numbers


def gradescope_results(outcomes: list[Outcome], execution_time: float, output: str = "") -> dict:
    """The ``results.json`` document for ``outcomes``."""
    return {
        "score": sum(o.score for o in outcomes),
        "execution_time": round(execution_time, 3),
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": o.name,
                "number": number,
                "score": o.score,
                "max_score": o.max_score,
                "status": "passed" if o.passed else "failed",
                "output": o.output,
                "visibility": o.visibility,
                "tags": [f"part {o.part}"],
            }
            for number, o in zip(test_numbers(outcomes), outcomes)
        ],
    }


def write_results(path: Path, document: dict) -> None:
    """Write ``document`` to ``path`` atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(document, indent=2) + "\n")
    partial.replace(path)
