"""Gradescope's documented ``results.json`` format, as one check shared by every meta-test that reads a results file.

The keys and values follow Gradescope's autograder specification ("Output
format": top-level ``score``, ``execution_time``, ``output``, ``visibility``,
``stdout_visibility``, ``extra_data``, ``tests``; per test ``score``,
``max_score``, ``status``, ``name``, ``number``, ``output``, ``tags``,
``visibility``, ``extra_data``).
"""

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
TOP_LEVEL = {
    "score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
    "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard",
}
PER_TEST = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags", "visibility", "extra_data"}


def check_gradescope_results(results: dict, allow_no_tests: bool = False) -> None:
    """Assert that ``results`` is a valid Gradescope results document whose scores add up."""
    assert set(results) <= TOP_LEVEL, set(results) - TOP_LEVEL
    assert isinstance(results["score"], (int, float))
    assert isinstance(results["execution_time"], (int, float)) and results["execution_time"] >= 0
    assert isinstance(results["output"], str)
    assert results["visibility"] in VISIBILITIES and results["stdout_visibility"] in VISIBILITIES
    assert isinstance(results.get("extra_data", {}), dict)
    assert results["tests"] or allow_no_tests
    numbers = set()
    for test in results["tests"]:
        assert set(test) <= PER_TEST, set(test) - PER_TEST
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], (int, float)) and isinstance(test["max_score"], (int, float))
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in {"passed", "failed"}
        assert (test["score"] == test["max_score"]) == (test["status"] == "passed")
        assert test["visibility"] in VISIBILITIES
        assert isinstance(test["output"], str)
        assert all(isinstance(tag, str) for tag in test["tags"])
        numbers.add(test["number"])
    assert len(numbers) == len(results["tests"])
    assert results["score"] == sum(t["score"] for t in results["tests"])
