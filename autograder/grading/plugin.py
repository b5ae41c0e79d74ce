"""The pytest plugin that turns the autograder's tests into a grade.

It adds ``--target`` (which student files to grade) and ``--results`` (where
to write Gradescope's ``results.json``), enforces each test's time limit,
replaces tracebacks from student code with short messages, and ends every
run with the per-part points table. ``autograder/conftest.py`` loads it.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import pytest

from autograder.grading.hidden import hidden_points_line
from autograder.grading.messages import TimeLimitExceeded, explain
from autograder.grading.points import MARKER_HELP, grading_of
from autograder.grading.results import Outcome, gradescope_results, score_table, write_results
from autograder.grading.target import Submission, resolve_target

__all__ = [
    "pytest_addoption",
    "pytest_configure",
    "pytest_collection_modifyitems",
    "pytest_runtest_call",
    "pytest_runtest_makereport",
    "pytest_terminal_summary",
    "submission",
]

STATE = pytest.StashKey["GradingState"]()


class GradingState:
    """What the plugin learns during a run."""

    def __init__(self, submission: Submission, results_path: Path | None, time_limit_scale: float):
        self.submission = submission
        self.results_path = results_path
        self.time_limit_scale = time_limit_scale
        self.outcomes: list[Outcome] = []
        self.started = time.monotonic()

    def record(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        # Written after every test, so a run that dies part-way still leaves the scores it earned.
        if self.results_path is not None:
            elapsed = time.monotonic() - self.started
            output = "\n".join(score_table(self.outcomes))
            write_results(self.results_path, gradescope_results(self.outcomes, elapsed, output))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("autograder")
    group.addoption(
        "--target",
        default=None,
        help="folder of student files to grade: 'assignment' (default), 'solutions', or a path; "
        "the DLCV_TARGET environment variable is used when this option is not given",
    )
    group.addoption("--results", default=None, type=Path, help="write Gradescope's results.json here")
    group.addoption(
        "--time-limit-scale",
        default=1.0,
        type=float,
        help="multiply every test's time limit by this factor (for a machine slower or faster than Gradescope's)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    folder = resolve_target(config.getoption("--target"))
    config.stash[STATE] = GradingState(
        Submission(folder), config.getoption("--results"), config.getoption("--time-limit-scale")
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        grading_of(item)  # raises a usage error for a test without points


@pytest.fixture(scope="session")
def submission(request: pytest.FixtureRequest) -> Submission:
    """The student's modules in the graded target; see :mod:`autograder.grading.target`."""
    return request.config.stash[STATE].submission


def _raise_time_limit(seconds: float):
    def handler(signum, frame):
        raise TimeLimitExceeded(seconds)

    return handler


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    # SIGALRM exists on Linux and macOS; on Windows tests run without a limit.
    limit = grading_of(item).time_limit * item.config.stash[STATE].time_limit_scale
    can_alarm = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not can_alarm:
        return (yield)
    previous = signal.signal(signal.SIGALRM, _raise_time_limit(limit))
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return (yield)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report: pytest.TestReport = yield
    state: GradingState = item.config.stash[STATE]
    if call.excinfo is not None:
        message = explain(call.excinfo.value, call.excinfo.tb, state.submission.owns)
        if message is not None:
            report.longrepr = message
    # A test is graded by its call phase, or by its setup when setup did not succeed.
    if report.when == "call" or (report.when == "setup" and not report.passed):
        grading = grading_of(item)
        state.record(
            Outcome(
                name=f"Part {grading.part}: {item.nodeid.split('::', 1)[-1]}",
                part=grading.part,
                max_score=grading.points,
                passed=report.passed,
                output="" if report.passed else _failure_text(report),
                visibility=grading.visibility,
                seconds=report.duration,
            )
        )
    return report


def _failure_text(report: pytest.TestReport) -> str:
    if report.skipped:
        return f"not graded: skipped ({report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr})"
    return str(report.longrepr)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    state: GradingState = config.stash[STATE]
    terminalreporter.section(f"autograder score: {state.submission.folder}")
    for line in score_table(state.outcomes):
        terminalreporter.write_line(line)
    hidden = hidden_points_line({outcome.part for outcome in state.outcomes})  # only in a student handout
    if hidden is not None:
        terminalreporter.write_line(hidden)
    if state.results_path is not None:
        terminalreporter.write_line(f"results written to {state.results_path}")
