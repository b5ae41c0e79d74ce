"""Scores per part and the points table."""

from autograder.grading.results import Outcome, gradescope_results, part_totals, score_table


def outcome(part: str, points: float, passed: bool) -> Outcome:
    return Outcome(f"Part {part}: t", part, points, passed, "" if passed else "wrong", "visible", 0.1)


def test_parts_are_summed_and_ordered_by_number():
    outcomes = [outcome("10 extra", 1, True), outcome("2 training", 3, False), outcome("2 training", 2, True)]
    assert list(part_totals(outcomes).items()) == [("2 training", (2.0, 5.0)), ("10 extra", (1.0, 1.0))]


def test_table_ends_with_the_total():
    lines = score_table([outcome("1 network", 2, True), outcome("1 network", 1.5, False)])
    assert lines[0].split() == ["Part", "1", "network", "2", "/", "3.5"]
    assert lines[-1].split() == ["Total", "2", "/", "3.5"]


def test_failed_test_scores_zero_in_results():
    document = gradescope_results([outcome("1 network", 2, False)], 1.0)
    assert document["tests"][0]["score"] == 0 and document["tests"][0]["status"] == "failed"
    assert document["score"] == 0


def test_numbers_count_the_tests_of_each_part():
    outcomes = [outcome("1 network", 1, True), outcome("2 training", 1, True), outcome("1 network", 1, False)]
    assert [test["number"] for test in gradescope_results(outcomes, 1.0)["tests"]] == ["1.1", "2.1", "1.2"]
