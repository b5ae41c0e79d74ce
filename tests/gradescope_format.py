"""The one check that a results.json follows Gradescope's documented format, for every meta-test.

The format is Gradescope's "Autograder Specifications", section "Output
format" (https://gradescope-autograders.readthedocs.io/en/latest/specs/#output-format,
read in gradescope/autograder_samples docs/specs.md as of January 2025):

- top level, all optional: ``score`` (required when a test lacks one),
  ``execution_time`` (seconds), ``output``, ``output_format``,
  ``test_output_format``, ``test_name_format``, ``visibility``,
  ``stdout_visibility``, ``extra_data`` (an object), ``tests``, ``leaderboard``;
- each test, all optional: ``score``, ``max_score``, ``status`` (``passed``
  or ``failed``), ``name``, ``name_format``, ``number`` (a string such as
  ``"1.1"``), ``output``, ``output_format``, ``tags`` (strings),
  ``visibility``, ``extra_data``;
- visibilities: ``hidden``, ``after_due_date``, ``after_published``,
  ``visible``; formats: ``text``, ``html``, ``simple_format``, ``md``, ``ansi``;
- the file must be valid JSON (Gradescope: "The autograder failed to execute
  correctly" otherwise), so no ``NaN`` or ``Infinity``.

On top of the format, what this project's results always have: every test
with a name, a ``"<part>.<n>"`` number (unique), points, a status that agrees
with them and a visibility; a top-level score equal to the tests' sum; the
instructor-only stdout (``stdout_visibility: hidden``); and the run's
execution time.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
TOP_LEVEL = {
    "score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
    "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard",
}
TEST_KEYS = {
    "score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
    "visibility", "extra_data",
}
NUMBER = re.compile(r"\d+\.\d+")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def load_results(path: Path, allow_no_tests: bool = False) -> dict:
    """Read ``path`` as strict JSON and check it; the document."""
    document = json.loads(Path(path).read_text(), parse_constant=_reject_constant)
    check_gradescope_results(document, allow_no_tests)
    return document


def check_gradescope_results(results: dict, allow_no_tests: bool = False) -> None:
    """Assert that ``results`` follows Gradescope's format and this project's conventions.

    ``allow_no_tests``: a document that records no test (what run_autograder writes when the grader
    could not record any) is valid too.
    """
    assert isinstance(results, dict), type(results)
    assert set(results) <= TOP_LEVEL, f"keys Gradescope does not document: {set(results) - TOP_LEVEL}"
    # Gradescope's format
    for key in ("output_format", "test_output_format", "test_name_format"):
        assert results.get(key, "text") in FORMATS, (key, results[key])
    for key in ("visibility", "stdout_visibility"):
        assert results.get(key, "visible") in VISIBILITIES, (key, results[key])
    assert isinstance(results.get("extra_data", {}), dict)
    assert isinstance(results.get("output", ""), str)
    tests = results.get("tests", [])
    assert isinstance(tests, list) and (tests or allow_no_tests), "no test in the results"
    if "score" not in results:
        assert tests and all("score" in test for test in tests), "a score is needed at the top or on every test"
    for test in tests:
        assert isinstance(test, dict) and set(test) <= TEST_KEYS, f"keys Gradescope does not document: {set(test) - TEST_KEYS}"
        assert all(_number(test[key]) for key in ("score", "max_score") if key in test), test
        assert test.get("status", "passed") in {"passed", "failed"}, test
        assert all(isinstance(test[key], str) for key in ("name", "number", "output") if key in test), test
        assert all(test.get(key, "text") in FORMATS for key in ("name_format", "output_format")), test
        assert isinstance(test.get("tags", []), list) and all(isinstance(tag, str) for tag in test.get("tags", []))
        assert test.get("visibility", "visible") in VISIBILITIES, test
        assert isinstance(test.get("extra_data", {}), dict)
    for entry in results.get("leaderboard", []):
        assert isinstance(entry, dict) and "name" in entry and "value" in entry, entry
    # This project's conventions
    assert _number(results["score"]) and _number(results["execution_time"]) and results["execution_time"] >= 0
    assert results["stdout_visibility"] == "hidden"
    numbers = set()
    for test in tests:
        assert test["name"] and NUMBER.fullmatch(test["number"]), test
        assert test["visibility"] in VISIBILITIES and isinstance(test["output"], str)
        assert 0 <= test["score"] <= test["max_score"], test
        assert (test["score"] == test["max_score"]) == (test["status"] == "passed"), test
        numbers.add(test["number"])
    assert len(numbers) == len(tests), "test numbers are not unique"
    assert results["score"] == sum(test["score"] for test in tests)
