"""Keep tests that students must not see out of the handout, and record the points they carry.

An instructor declares a test's visibility next to it, as Gradescope names
them: ``@pytest.mark.points(3, visibility="after_due_date")``. Every test
whose visibility is not ``"visible"`` (``hidden``, ``after_due_date``,
``after_published``) runs only on Gradescope: :func:`strip_hidden_tests`
removes its function (or class), decorators included, from the handout's copy
of the test file, and leaves everything else (helpers, fixtures, comments) as
written. The visibility must be a string literal, so that it can be read
without running the file; anything else stops the build.

:func:`hidden_manifest` is what the handout records in
``autograder/hidden_points.json`` (points and tests per part), from which
:mod:`autograder.grading.hidden` tells students how many points they cannot
see locally. :func:`check_handout_tests` holds the result to the truth: the
handout's collected tests must be exactly the visible tests of the full set.
"""

from __future__ import annotations

import ast
import re

from autograder.gradescope.inventory import GradedTest

VISIBLE = "visible"


class VisibilityError(Exception):
    """A test's visibility cannot be read, or the handout's tests are not the visible ones."""


def _points_marker(decorator: ast.expr) -> ast.Call | None:
    """The ``pytest.mark.points(...)`` call among a definition's decorators, if this is it."""
    if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute):
        if decorator.func.attr == "points" and ast.unparse(decorator.func.value).endswith("mark"):
            return decorator
    return None


def _visibility(marker: ast.Call, where: str) -> str:
    for keyword in marker.keywords:
        if keyword.arg == "visibility":
            if isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
                return keyword.value.value
            raise VisibilityError(f"{where}: write visibility=... as a string literal, so the build can read it")
        if keyword.arg is None:  # **kwargs
            raise VisibilityError(f"{where}: the points marker's keywords must be written out, not unpacked")
    return VISIBLE


def strip_hidden_tests(source: str, filename: str) -> tuple[str, list[str]]:
    """``source`` without its non-visible tests, and the names of the tests removed."""
    tree = ast.parse(source, filename)
    spans, removed = [], []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pytestmark" for t in node.targets):
                for marker in filter(None, map(_points_marker, ast.walk(node.value))):
                    if _visibility(marker, f"{filename}::pytestmark") != VISIBLE:
                        raise VisibilityError(f"{filename}: declare visibility on each test, not in pytestmark")
            continue
        markers = [m for m in map(_points_marker, node.decorator_list) if m is not None]
        if markers and _visibility(markers[0], f"{filename}::{node.name}") != VISIBLE:
            start = min(d.lineno for d in node.decorator_list)
            spans.append((start, node.end_lineno))
            removed.append(node.name)
    lines = source.splitlines(keepends=True)
    for start, end in reversed(spans):
        del lines[start - 1 : end]
    stripped = re.sub(r"\n{4,}", "\n\n\n", "".join(lines))  # at most two blank lines where a test was
    ast.parse(stripped, filename)  # still Python
    return stripped, removed


def hidden_manifest(tests: list[GradedTest]) -> dict:
    """``{"parts": {"1 network": {"points": 4.0, "tests": 1}}}`` for the tests that are not visible."""
    parts: dict[str, dict] = {}
    for test in tests:
        if test.visibility != VISIBLE:
            entry = parts.setdefault(test.part, {"points": 0.0, "tests": 0})
            entry["points"] += test.points
            entry["tests"] += 1
    return {"parts": parts}


def check_handout_tests(full: list[GradedTest], handout: list[GradedTest]) -> None:
    """The handout's tests must be exactly the full set's visible tests, with the same points."""
    expected = {(t.nodeid, t.points) for t in full if t.visibility == VISIBLE}
    found = {(t.nodeid, t.points) for t in handout}
    not_visible = [t.nodeid for t in handout if t.visibility != VISIBLE]
    if not_visible or expected != found:
        raise VisibilityError(
            "the handout's tests are not exactly the visible tests:\n"
            + "".join(f"  not visible, yet in the handout: {n}\n" for n in not_visible)
            + "".join(f"  missing from the handout: {n} ({p:g} points)\n" for n, p in sorted(expected - found))
            + "".join(f"  unexpected in the handout: {n} ({p:g} points)\n" for n, p in sorted(found - expected))
        )
