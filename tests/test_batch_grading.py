"""Batch grading of Gradescope's "Export submissions" zip: one row each, whatever a submission does."""

import csv
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from autograder.gradescope.batch import find_submissions, grade_one
from autograder.gradescope.submission import part_modules
from tests.gradescope_format import load_results
from tests.gradescope_runs import MODULES, REPO_ROOT, cheap_tests, part_scores, submit

PARTS = list(part_modules(REPO_ROOT / "autograder").values())  # ["1 network", ...]
TIMEOUT = 60  # seconds for one submission's run: a cheap run takes about 10 s alone, more beside other tests
# Made-up people, in the format of Gradescope's export (Ruby's YAML, symbol keys, earlier results nested).
METADATA = textwrap.dedent("""\
    ---
    submission_1001:
      :submitters:
      - :name: Ada Lovelace
        :sid: '0001'
        :email: ada@example.edu
      - :name: Alan Turing
        :sid: '0002'
        :email: alan@example.edu
      :created_at: 2024-03-01 12:00:00.000000000 Z
      :score: 0.0
      :status: processed
      :results:
        score: 0.0
        tests: []
        output: |-
          Files graded: network.py
          - :name: not a submitter
        extra_data:
        visibility:
      :history: []
    submission_1002:
      :submitters:
      - :name: "Grace O'Hopper"
        :sid: '0003'
        :email: grace@example.edu
      :created_at: 2024-03-02 12:00:00.000000000 Z
      :score: 0.0
      :history: []
    submission_1003:
      :submitters:
      - :name: Edsger Dijkstra
        :sid: '0004'
        :email: edsger@example.edu
      :history: []
    submission_1004:
      :submitters:
      - :name: Barbara Liskov
        :sid: '0005'
        :email: barbara@example.edu
      :history: []
    """)
HANG = "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)  # defeats the per-test time limit\nwhile True:\n    pass\n"
CRASH = "import os\nos._exit(3)\n"


@pytest.fixture(scope="module")
def export_zip(tmp_path_factory):
    """An export: solutions (1001, zipped), stubs (1002), the last part hanging (1003), the first crashing (1004)."""
    export = tmp_path_factory.mktemp("export") / "assignment_77_export"
    export.mkdir()
    (export / "submission_metadata.yml").write_text(METADATA)
    solutions = submit(export / "solutions", "solutions")
    shutil.make_archive(str(export / "submission_1001" / "homework"), "zip", solutions)
    shutil.rmtree(solutions)
    submit(export / "submission_1002", "assignment")
    (submit(export / "submission_1003", "solutions") / MODULES[-1]).write_text(HANG)
    (submit(export / "submission_1004", "solutions") / MODULES[0]).write_text(CRASH)
    return shutil.make_archive(str(export.parent / "export"), "zip", export.parent, export.name)


@pytest.fixture(scope="module")
def batch(export_zip, tmp_path_factory):
    output = tmp_path_factory.mktemp("graded")
    command = [sys.executable, "-m", "autograder.gradescope.batch", export_zip, "--output", str(output),
               "--jobs", "2", "--timeout", str(TIMEOUT), "-k", cheap_tests()]
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    completed = subprocess.run(command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    with open(output / "grades.csv", newline="") as handle:
        rows = {row["id"]: row for row in csv.DictReader(handle)}
    return output, rows, completed.stderr


def test_one_row_per_submission_with_people_from_the_metadata(batch):
    _, rows, progress = batch
    assert list(rows) == ["submission_1001", "submission_1002", "submission_1003", "submission_1004"]
    assert rows["submission_1001"]["name"] == "Ada Lovelace; Alan Turing"
    assert rows["submission_1001"]["email"] == "ada@example.edu; alan@example.edu"
    assert rows["submission_1001"]["sid"] == "0001; 0002"
    assert rows["submission_1002"]["name"] == "Grace O'Hopper"
    assert "audit" in rows["submission_1001"] and "4/4" in progress  # tqdm's progress bar, on stderr


def test_each_submission_has_its_results_and_scores(batch):
    output, rows, _ = batch
    for submission_id, row in rows.items():
        results = load_results(output / "results" / submission_id / "results.json", allow_no_tests=True)
        assert row["total"] == f"{results['score']:g}"
        for part, (score, _) in part_scores(results).items():
            assert row[f"Part {part}"] == f"{score:g}"
        assert (output / "results" / submission_id / "grading.log").stat().st_size > 0
    assert rows["submission_1001"]["total"] == rows["submission_1001"]["max_score"] != "0"
    assert rows["submission_1001"]["status"] == "graded" and rows["submission_1001"]["missing"] == ""
    assert rows["submission_1002"]["total"] == "0" and rows["submission_1002"]["status"] == "graded"


def test_hanging_and_crashing_submissions_cost_only_their_own_rows(batch):
    _, rows, _ = batch
    first, last = f"Part {PARTS[0]}", f"Part {PARTS[-1]}"
    hung = rows["submission_1003"]
    assert hung[last] == "0" and hung[first] != "0"
    # Stopped by the run's time budget, or (where the grader isolates each test) by the test's own limit.
    assert hung["status"] == "graded" or f"stopped after {TIMEOUT} s" in hung["status"]
    assert rows["submission_1004"][first] == "0"
    assert rows["submission_1001"]["total"] == rows["submission_1001"]["max_score"]  # graded beside them, unharmed


def test_plain_folder_layout_uses_folder_names(tmp_path):
    submit(tmp_path / "alice", "solutions", MODULES[:1])
    submit(tmp_path / "bob", "assignment", MODULES[:1])
    (tmp_path / "__MACOSX").mkdir()
    assert [(s.id, s.names) for s in find_submissions(tmp_path)] == [("alice", []), ("bob", [])]


def graders_running() -> set[int]:
    """Processes of grade.py's graders (and the test processes forked from them) now running, started from this
    pytest worker: under `-n 2` the other worker may be grading at the same time (its graders carry its own
    PYTEST_XDIST_WORKER)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    running = set()
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            environment = (entry / "environ").read_bytes().split(b"\0") if worker else []
        except OSError:
            continue
        if worker and f"PYTEST_XDIST_WORKER={worker}".encode() not in environment:
            continue
        if entry.name.isdigit() and b"pytest autograder/" in command and b"/dlcv-grade-" in command:
            running.add(int(entry.name))
    return running


def test_a_grading_past_its_time_is_stopped_with_results(tmp_path):
    (submit(tmp_path / "hang", "solutions") / MODULES[0]).write_text(HANG)
    submission = find_submissions(tmp_path)[0]
    before = graders_running()
    document = grade_one(submission, tmp_path / "out", timeout=3, grader_args=["-k", cheap_tests()])
    assert "Grading was stopped after 3 s" in document["output"]
    load_results(tmp_path / "out" / "results" / "hang" / "results.json", allow_no_tests=True)
    # Nothing it started runs on: not the grader, not the test process stuck in the submission's loop.
    deadline = time.monotonic() + 10
    while graders_running() - before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not graders_running() - before, "a stopped grading left processes running"
