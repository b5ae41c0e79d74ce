"""Grade one submission as Gradescope does, and always leave a ``results.json``.

    python -m autograder.gradescope.grade SUBMISSION RESULTS [--timeout S] [-k EXPR] [--time-limit-scale F]

``run_autograder`` runs this on Gradescope, and batch grading runs it once per
submission, so a submission scores the same either way. It

1. finds the part modules among the uploaded files (:mod:`.submission`) and
   copies them into a target folder of their own;
2. runs the grader as a user would, ``python -m pytest autograder/ --target
   TARGET --results RESULTS``, from the autograder's source folder, its output
   passing through (on Gradescope that output is ``/autograder/results/stdout``,
   which only instructors see);
3. completes the results file: what was graded and what is missing above the
   per-part table in ``output``, the run's whole ``execution_time``, and
   ``stdout_visibility: hidden``. If the grader stopped early (killed, out of
   time, crashed), the tests it recorded stay and ``output`` says what
   happened; if it recorded none, a fallback document says so.

The file follows Gradescope's documented format (Gradescope's "Autograder
Specifications", section "Output format":
https://gradescope-autograders.readthedocs.io/en/latest/specs/#output-format):
a top-level ``score``, ``execution_time`` (seconds), ``output``,
``visibility``, ``stdout_visibility``, ``extra_data`` and ``tests``; each test
with ``score``, ``max_score``, ``status`` (``passed``/``failed``), ``name``,
``number``, ``output``, ``tags`` and ``visibility`` (``hidden``,
``after_due_date``, ``after_published`` or ``visible``). Gradescope reports
"The autograder failed to execute correctly" when the file is missing or is
not valid JSON, so this module writes it whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.gradescope.submission import Collected, collect, part_modules
from autograder.grading.results import write_results

SOURCE = Path(__file__).resolve().parents[2]  # the folder holding autograder/, dlcv/ and data/
STOP_GRACE = 30  # seconds between the grader's own run-time limit and the hard stop: start-up and one test's stop
PYTEST_STATUS = {  # pytest's exit codes other than 0 (all passed) and 1 (some failed)
    2: "the run was interrupted",
    3: "the grader hit an internal error",
    4: "the grader could not start (pytest usage error, or an error while loading the grader)",
    5: "no test was selected",
}


def _stopped(status: int) -> str:
    if status in (0, 1):  # pytest's own statuses, but without its end of session: the process was ended early
        return f"the grader's process ended early (exit status {status}), most likely ended by the code it graded"
    if status < 0:
        name = signal.Signals(-status).name
        likely = " (most often: out of memory)" if -status == signal.SIGKILL else ""
        return f"the grader was killed by {name}{likely}"
    return PYTEST_STATUS.get(status, f"the grader exited with status {status}")


def _read(results: Path) -> dict | None:
    try:
        document = json.loads(results.read_text())
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) and isinstance(document.get("tests"), list) else None


def fallback(what_happened: str, elapsed: float = 0.0) -> dict:
    """The results document when the grader recorded no test at all."""
    return {
        "score": 0.0,
        "execution_time": round(elapsed, 3),
        "output": (
            f"{what_happened} No test could be graded. This is not a judgement of your work: tell the course "
            "staff (the autograder's own output, which they see, says more)."
        ).strip(),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"stopped": what_happened or "the grader recorded no test"},
        "tests": [],
    }


def _what_stopped(status: int, finished: bool, timeout: float | None, elapsed: float) -> str:
    """Why the grader did not finish, or "" if it did."""
    if finished and status in (0, 1):
        return ""
    if timeout is not None and status == -signal.SIGKILL and elapsed >= timeout:
        return (
            f"Grading was stopped after {timeout:g} s, the time allowed for the whole run. "
            "Likely causes: a loop that never ends, or training for far more epochs or data than asked."
        )
    return f"Grading stopped before the end: {_stopped(status)}."


def complete(
    document: dict | None, collected: Collected, status: int, finished: bool, timeout: float | None, elapsed: float
) -> dict:
    """The final ``results.json``: the grader's ``document`` (None if it wrote none), completed.

    ``finished``: whether pytest reached the end of its session; its exit status alone cannot say, since
    code that calls ``os._exit(1)`` ends it with the status of a run where some tests failed.
    """
    stopped = _what_stopped(status, finished, timeout, elapsed)
    if document is None:
        document = fallback(stopped)
        note = ""
    else:
        note = stopped and stopped + " The tests that had not finished are not listed and earn no points."
        document.setdefault("extra_data", {})["stopped"] = stopped  # "" when the run finished: batch grading reads it
    document["output"] = "\n\n".join(text for text in (collected.report(), document.get("output", ""), note) if text)
    document["execution_time"] = round(elapsed, 3)
    document["output_format"] = "text"  # shown as written: the points table is aligned with spaces
    document["stdout_visibility"] = "hidden"  # stdout is the instructor's log: it shows every test's traceback
    document["extra_data"]["submission_files"] = {
        "graded": collected.graded,
        "missing": collected.missing,
        "ignored": collected.ignored,
    }
    document["score"] = sum(test.get("score", 0.0) for test in document["tests"])
    return document


def run_grader(target: Path, results: Path, session_end: Path, pytest_args: list[str], timeout: float | None) -> int:
    """Run ``pytest autograder/`` on ``target``; its exit status (negative: killed by that signal).

    pytest writes its JUnit report ``session_end`` only when its session ends: its presence is the proof
    that the run was not cut short.
    """
    command = [sys.executable, "-m", "pytest", "autograder/", "-p", "no:cacheprovider", "-q"]
    command += ["--target", str(target), "--results", str(results), f"--junitxml={session_end}", *pytest_args]
    if timeout is not None:
        # The grader itself stops starting tests in time and ends every process student code left; the kill
        # below is only for a grader that cannot (stuck in its own start-up, say).
        command += ["--run-time-limit", f"{max(timeout - STOP_GRACE, timeout / 2):g}"]
    environment = {key: value for key, value in os.environ.items() if key != "DLCV_TARGET"}
    environment.update(PYTHONPATH=str(SOURCE), PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    environment.setdefault("OMP_NUM_THREADS", "1")  # one thread per grading process: see the README's budgets
    # Its own process group, so that the grader and everything it started can be stopped together.
    process = subprocess.Popen(command, cwd=SOURCE, env=environment, start_new_session=True)

    def stop(signum=None, frame=None):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if signum is not None:  # stopped from outside (batch grading's own limit): the results are still written
            raise TimeoutError(f"grading stopped by signal {signum}")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop()
        return process.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)


def grade(submission: Path, results: Path, pytest_args: list[str] = (), timeout: float | None = None) -> dict:
    """Grade the files in ``submission``; write and return the results document."""
    started = time.monotonic()
    results = results.resolve()
    results.parent.mkdir(parents=True, exist_ok=True)
    results.unlink(missing_ok=True)  # a stale file from an earlier run must never pass for this one
    work = Path(tempfile.mkdtemp(prefix="dlcv-grade-"))
    work.chmod(0o755)  # student code, run as an unprivileged user, reads its own files in here
    try:
        collected = collect(submission, work / "target", part_modules(SOURCE / "autograder"))
        print(collected.report(), flush=True)
        try:
            status = run_grader(work / "target", results, work / "session-end.xml", list(pytest_args), timeout)
        except TimeoutError:
            status = -signal.SIGTERM
        finished = (work / "session-end.xml").exists()
        document = complete(_read(results), collected, status, finished, timeout, time.monotonic() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_results(results, document)
    return document


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submission", type=Path, help="folder of the student's uploaded files")
    parser.add_argument("results", type=Path, help="where to write results.json")
    parser.add_argument("--timeout", type=float, default=None, help="seconds for the whole run, then it is stopped")
    parser.add_argument("-k", dest="keyword", default=None, help="grade only the tests matching this pytest -k expression")
    parser.add_argument("--time-limit-scale", default=None, help="passed to the grader: scales every test's time limit")
    parser.add_argument("--workers", default=None, help="passed to the grader: grading processes side by side")
    options = parser.parse_args(argv)
    pytest_args = []
    if options.keyword:
        pytest_args += ["-k", options.keyword]
    for option, value in (("--time-limit-scale", options.time_limit_scale), ("--workers", options.workers)):
        if value:
            pytest_args += [option, value]
    if not options.submission.is_dir():
        parser.error(f"{options.submission}: no such folder")
    document = grade(options.submission, options.results, pytest_args, options.timeout)
    print(f"\n{document['output']}\n\nresults written to {options.results}")


if __name__ == "__main__":
    main()
