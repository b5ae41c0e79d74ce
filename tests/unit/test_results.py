"""Scores of a run: totals per part, the score table and Gradescope's results.json (autograder.grading.results)."""

import json

from autograder.grading.results import Outcome, gradescope_results, part_totals, score_table, write_results


def outcome(part, points, passed, name="t", visibility="visible"):
    return Outcome(
        name=f"Part {part}: {name}",
        part=part,
        max_score=points,
        passed=passed,
        output="" if passed else "wrong",
        visibility=visibility,
        seconds=0.5,
    )


# -------------------------------------------------------------------------------------------- Outcome


def test_a_passed_test_scores_its_points():
    assert outcome("1 network", 2.5, True).score == 2.5


def test_a_failed_test_scores_zero():
    assert outcome("1 network", 2.5, False).score == 0.0


# ---------------------------------------------------------------------------------------- part_totals


def test_part_totals_sum_score_and_maximum_per_part():
    totals = part_totals([outcome("1 network", 2, True), outcome("1 network", 3, False), outcome("2 training", 1, True)])
    assert totals == {"1 network": (2.0, 5.0), "2 training": (1.0, 1.0)}


def test_part_totals_are_in_numeric_part_order():
    totals = part_totals([outcome("10 extra", 1, True), outcome("2 training", 1, True), outcome("1 network", 1, True)])
    assert list(totals) == ["1 network", "2 training", "10 extra"]


def test_part_totals_of_no_outcomes_are_empty():
    assert part_totals([]) == {}


# ---------------------------------------------------------------------------------------- score_table


def test_a_complete_run_ends_with_a_rule_and_the_total():
    lines = score_table([outcome("1 network", 2, True), outcome("2 training", 1.5, False)], parts=["1 network", "2 training"])
    assert lines[0].split() == ["Part", "1", "network", "2", "/", "2"]
    assert lines[1].split() == ["Part", "2", "training", "0", "/", "1.5"]
    assert set(lines[2]) == {"-"}
    assert lines[3].split() == ["Total", "2", "/", "3.5"]
    assert len(lines) == 4


def test_a_part_that_was_not_run_is_shown_as_not_run():
    lines = score_table([outcome("1 network", 2, True)], parts=["1 network", "3 augmentation"])
    assert lines[1].split() == ["Part", "3", "augmentation", "not", "run"]


def test_a_partial_run_calls_its_total_the_total_of_the_tests_run():
    lines = score_table([outcome("1 network", 2, True)], parts=["1 network", "3 augmentation"])
    assert lines[-1].startswith("Total of the tests run")
    assert "2 / 2" in lines[-1]
    assert lines[-1].endswith("(run pytest autograder/ for the whole homework)")


def test_a_part_with_tests_left_out_says_how_many():
    lines = score_table([outcome("1 network", 2, True)], left_out={"1 network": 3}, parts=["1 network"])
    assert lines[0].endswith("(3 of its tests not run)")
    assert lines[-1].startswith("Total of the tests run")


def test_a_left_out_count_of_zero_is_not_a_partial_run():
    lines = score_table([outcome("1 network", 2, True)], left_out={"1 network": 0}, parts=["1 network"])
    assert "not run" not in lines[0]
    assert lines[-1].split() == ["Total", "2", "/", "2"]


def test_the_table_lists_parts_in_numeric_order():
    lines = score_table([outcome("10 extra", 1, True), outcome("2 training", 1, True)], parts=["1 network"])
    assert [line.split()[1] for line in lines[:3]] == ["1", "2", "10"]


def test_the_table_right_aligns_the_points_of_every_row():
    lines = score_table([outcome("1 network", 2, True), outcome("12 long_part_name", 10, True)])
    assert len(lines[0]) == len(lines[1]) == len(lines[-1])
    assert lines[0].endswith(" 2 / 2") and lines[-1].endswith(" 12 / 12")


# -------------------------------------------------------------------------------- gradescope_results


def test_results_number_the_tests_of_each_part_from_one():
    outcomes = [
        outcome("1 network", 1, True),
        outcome("2 training", 1, True),
        outcome("1 network", 1, False),
        outcome("2 training", 1, True),
    ]
    assert [test["number"] for test in gradescope_results(outcomes, 1.0)["tests"]] == ["1.1", "2.1", "1.2", "2.2"]


def test_results_give_each_tests_score_status_visibility_and_part_tag():
    document = gradescope_results(
        [outcome("1 network", 2, True, name="a"), outcome("3 augmentation", 1.5, False, name="b", visibility="hidden")], 1.0
    )
    passed, failed = document["tests"]
    assert passed == {
        "name": "Part 1 network: a",
        "number": "1.1",
        "score": 2,
        "max_score": 2,
        "status": "passed",
        "output": "",
        "visibility": "visible",
        "tags": ["part 1 network"],
    }
    assert (failed["score"], failed["max_score"], failed["status"]) == (0.0, 1.5, "failed")
    assert failed["visibility"] == "hidden"
    assert failed["output"] == "wrong"
    assert failed["tags"] == ["part 3 augmentation"]


def test_results_total_only_the_points_earned():
    document = gradescope_results([outcome("1 network", 2, True), outcome("1 network", 5, False)], 1.0)
    assert document["score"] == 2


def test_results_have_gradescopes_top_level_fields():
    document = gradescope_results([], 12.34567, output="the table")
    assert document["execution_time"] == 12.346
    assert document["output"] == "the table"
    assert document["visibility"] == "visible"
    assert document["stdout_visibility"] == "hidden"
    assert document["tests"] == []
    assert document["score"] == 0


def test_results_carry_extra_data_when_given():
    extra = {"audit": ["network.py, line 1: imports subprocess"], "flags": []}
    assert gradescope_results([], 1.0, extra=extra)["extra_data"] == extra


def test_results_have_no_extra_data_when_none_or_empty_is_given():
    assert "extra_data" not in gradescope_results([], 1.0)
    assert "extra_data" not in gradescope_results([], 1.0, extra={})


def test_results_are_json_serialisable():
    document = gradescope_results([outcome("1 network", 2, True)], 1.0, extra={"flags": ["x"]})
    assert json.loads(json.dumps(document)) == document


# ------------------------------------------------------------------------------------- write_results


def test_write_results_writes_the_document_as_json(tmp_path):
    document = gradescope_results([outcome("1 network", 2, True)], 1.0)
    path = tmp_path / "results.json"
    write_results(path, document)
    assert json.loads(path.read_text()) == document


def test_write_results_leaves_no_partial_file_behind(tmp_path):
    path = tmp_path / "results.json"
    write_results(path, {"score": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_write_results_replaces_an_earlier_file_whole(tmp_path):
    path = tmp_path / "results.json"
    write_results(path, {"score": 1, "tests": [{"output": "x" * 10_000}]})
    write_results(path, {"score": 2})
    assert json.loads(path.read_text()) == {"score": 2}


def test_write_results_creates_missing_folders(tmp_path):
    path = tmp_path / "results" / "deep" / "results.json"
    write_results(path, {"score": 0})
    assert json.loads(path.read_text()) == {"score": 0}
