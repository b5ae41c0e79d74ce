"""Which tests the handout holds: the public ones, at the top of ``autograder/``; and the points of the rest.

A part's tests live in two files of the same name. ``autograder/test_part<N>_<name>.py``
holds its public tests, visible to everyone and shipped in the handout;
``autograder/hidden/test_part<N>_<name>.py`` holds the thorough ones, whose
checks would reveal an answer, graded on Gradescope only and declared with
another of Gradescope's visibilities (``after_due_date``, ``after_published``
or ``hidden``) next to each test. The handout leaves out the whole hidden
folder, so a hidden test's helpers never reach a student.

:func:`check_placement` holds the repository to that rule (a public test in
the hidden folder, or a non-visible one in the handout, stops the build);
:func:`hidden_manifest` is what the handout records in
``autograder/hidden_points.json`` (points and tests per part), from which
:mod:`autograder.grading.hidden` tells students how many points they cannot
see locally; :func:`check_handout_tests` holds the built handout to the truth:
its collected tests must be exactly the visible tests of the full set.
"""

from __future__ import annotations

from autograder.gradescope.inventory import GradedTest

VISIBLE = "visible"
HIDDEN_FOLDER = "hidden"


class VisibilityError(Exception):
    """A test sits on the wrong side of the public/hidden split, or the handout's tests are not the visible ones."""


def is_in_hidden_folder(test: GradedTest) -> bool:
    return f"/{HIDDEN_FOLDER}/" in test.nodeid.split("::", 1)[0]


def check_placement(tests: list[GradedTest]) -> None:
    """Public tests at the top of ``autograder/``, the others in its hidden folder, and nowhere else."""
    misplaced = [
        f"  {test.nodeid}: visibility {test.visibility!r} "
        + ("in the hidden folder (Gradescope only): declare it after_due_date, after_published or hidden, "
           "or move it to the public file" if is_in_hidden_folder(test) else
           "in a public file, which the handout ships: move it to autograder/hidden/ with its helpers")
        for test in tests
        if is_in_hidden_folder(test) == (test.visibility == VISIBLE)
    ]
    if misplaced:
        raise VisibilityError("tests on the wrong side of the public/hidden split:\n" + "\n".join(misplaced))


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
