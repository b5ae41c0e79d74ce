"""The autograder on the solutions, on the stubs and on broken submissions, run as a user would."""

import re
import subprocess
import sys

import pytest

from tests.gradescope_format import check_gradescope_results
from tests.grader_run import PART_FILES, REPO_ROOT, committed_stubs, run_autograder

@pytest.fixture(scope="module")
def solutions_run(tmp_path_factory):
    return run_autograder(tmp_path_factory.mktemp("solutions") / "results.json", "autograder/", target="solutions")


@pytest.fixture(scope="module")
def stubs_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stubs")
    return run_autograder(folder / "results.json", "autograder/", target=committed_stubs(folder / "assignment"))


def test_solutions_score_full_marks(solutions_run):
    failed = [t["name"] + ": " + t["output"] for t in solutions_run.results["tests"] if t["status"] != "passed"]
    assert not failed, "\n".join(failed)
    total = sum(t["max_score"] for t in solutions_run.results["tests"])
    assert solutions_run.results["score"] == total > 0
    assert solutions_run.returncode == 0


def test_every_part_is_graded(solutions_run):
    parts = {t["tags"][0] for t in solutions_run.results["tests"]}
    expected = {"part " + re.fullmatch(r"autograder/test_part(\d+)_(\w+)\.py", f).expand(r"\1 \2") for f in PART_FILES.values()}
    assert parts == expected


def test_stubs_score_zero_with_not_implemented_messages(stubs_run):
    assert stubs_run.results["score"] == 0
    for test in stubs_run.results["tests"]:
        assert test["status"] == "failed"
        assert re.fullmatch(r"not implemented yet: \w+\.[\w.]+", test["output"]), f"{test['name']}: {test['output']}"
    # Failures only: no test errors, no crash, no traceback.
    assert " error" not in stubs_run.stdout.splitlines()[-1]
    assert "Traceback" not in stubs_run.stdout
    assert stubs_run.returncode == 1


def test_run_ends_with_the_per_part_table(solutions_run, stubs_run):
    for run in (solutions_run, stubs_run):
        assert re.search(r"^Part 1 network +[\d.]+ / [\d.]+$", run.stdout, re.MULTILINE)
        assert re.search(r"^Total +[\d.]+ / [\d.]+$", run.stdout, re.MULTILINE)


@pytest.mark.parametrize("which", ["solutions", "stubs"])
def test_results_file_follows_gradescope_format(which, solutions_run, stubs_run):
    check_gradescope_results({"solutions": solutions_run, "stubs": stubs_run}[which].results)


def test_target_can_come_from_the_environment(tmp_path):
    run = run_autograder(
        tmp_path / "results.json", "autograder/test_part2_training.py", "-k", "make_",
        env={"DLCV_TARGET": "solutions"},
    )
    assert run.results["tests"] and all(t["status"] == "passed" for t in run.results["tests"])


def test_unknown_target_is_a_usage_error(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "autograder/", "--target", str(tmp_path / "nowhere")],
        cwd=REPO_ROOT, capture_output=True, text=True,
    )
    assert completed.returncode == 4
    assert "no such folder" in completed.stderr


# Grading with workers (--workers 2, pytest-xdist): the same score for every test as the serial runs above, listed in
# the same order, and the same per-part table.

def graded(run) -> list[tuple[str, float, float, str]]:
    return [(t["name"], t["score"], t["max_score"], t["visibility"]) for t in run.results["tests"]]


def table(run) -> list[str]:
    return [line for line in run.stdout.splitlines() if re.match(r"^(Part \d|Total)", line)]


@pytest.fixture(scope="module")
def parallel_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parallel")
    stubs = committed_stubs(folder / "assignment")
    return {
        "solutions": run_autograder(folder / "solutions.json", "autograder/", "--workers", "2", target="solutions"),
        "stubs": run_autograder(folder / "stubs.json", "autograder/", "--workers", "2", target=stubs),
    }


@pytest.mark.parametrize("which", ["solutions", "stubs"])
def test_workers_give_the_serial_scores(which, parallel_runs, solutions_run, stubs_run):
    serial, parallel = {"solutions": solutions_run, "stubs": stubs_run}[which], parallel_runs[which]
    assert "graded in 2 worker processes" in parallel.stdout, parallel.stdout[-3000:]  # it did run in workers
    assert graded(parallel) == graded(serial)
    assert table(parallel) == table(serial)
    assert parallel.results["score"] == serial.results["score"]
    check_gradescope_results(parallel.results)


def test_workers_give_the_serial_scores_to_mistakes(tmp_path):
    """Mistakes in three parts (one of them failing an accuracy test) and a hang, graded with and without workers."""
    from tests.mutants import MUTANTS  # noqa: PLC0415

    folder = tmp_path / "submission"
    folder.mkdir()
    for path in (REPO_ROOT / "solutions").glob("*.py"):
        (folder / path.name).write_text(path.read_text())
    chosen = ["zero_grad missing", "union not subtracting the intersection", "receptive field ignores stride"]
    for mutant in MUTANTS:
        if mutant.name in chosen:
            mutant.write(folder)
    # The hang: later tests of Part 1 learn from the first where the submission hangs (a part stays on one worker).
    network = folder / "network.py"
    network.write_text(network.read_text().replace("    def forward(self, x", "    def forward(self, x, *_):\n        while True:\n            pass\n\n    def unused(self, x", 1))
    files = [PART_FILES[module] for module in ("network", "training", "detection", "visualize")]
    runs = [
        run_autograder(tmp_path / f"{workers}.json", *files, "--workers", workers, "--time-limit-scale", "0.3", target=folder)
        for workers in ("1", "2")
    ]
    assert "graded in 2 worker processes" in runs[1].stdout and "worker processes" not in runs[0].stdout
    serial, parallel = (graded(run) for run in runs)
    assert parallel == serial
    lost = {name for name, score, max_score, _ in serial if score < max_score}
    assert any(name.startswith("Part 1") for name in lost) and any(name.startswith("Part 2") for name in lost)
    assert any(name.startswith("Part 6") for name in lost) and any(name.startswith("Part 7") for name in lost)
