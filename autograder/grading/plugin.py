"""The pytest plugin that turns the autograder's tests into a grade.

It adds ``--target`` (which student files to grade), ``--results`` (where to
write Gradescope's ``results.json``), ``--workers`` and the limits of a test's
process, runs each test's body in a process of its own
(:mod:`autograder.grading.isolation`), replaces tracebacks from student code
with short messages, and ends every run with the per-part points table.
``autograder/conftest.py`` loads it.

The harness never runs student code: the only things it takes from a test's
process are plain data (a verdict, a message, numbers). A test's grade leaves
the process that ran it as a plain record in the test's report
(``user_properties``, :data:`GRADE`); the process that reads the reports (the
grader itself, or with ``--workers`` the controller of pytest-xdist's workers,
:mod:`autograder.grading.parallel`) alone keeps the score and writes the
results file, after every test and once more at the end, after ending every
process that student code left behind.
"""

from __future__ import annotations

import bisect
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from autograder.grading import isolation, parallel
from autograder.grading.audit import audit_folder
from autograder.grading.hidden import hidden_points_line
from autograder.grading.messages import explain, process_ended_message, shorten, time_limit_message
from autograder.grading.points import MARKER_HELP, grading_of, part_of
from autograder.grading.results import Outcome, gradescope_results, score_table, write_results
from autograder.grading.target import Submission, resolve_target

__all__ = [
    "pytest_addoption",
    "pytest_cmdline_main",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_deselected",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_sessionfinish",
    "pytest_sessionstart",
    "pytest_terminal_summary",
    "pytest_unconfigure",
    "pytest_xdist_make_scheduler",
    "submission",
]

STATE = pytest.StashKey["GradingState"]()
POSITION = pytest.StashKey[int]()  # a test's place in the collection
WALL_FACTOR = 3  # a test's wall-clock limit is this multiple of its CPU-time limit
OUTPUT_BYTES = 64 * 1024  # what is kept of a test's printed output
SCALE_OPTION = "--time-limit-scale"
RUN_TIME_ENV = "DLCV_RUN_TIME_LIMIT"
AUTOGRADER = Path(__file__).resolve().parents[1]
DATA = AUTOGRADER.parent / "data"  # dlcv.data.DATA_DIR, named here without importing dlcv.data (and torch)
FAILED = pytest.fail.Exception
SKIPPED = pytest.skip.Exception
GRADE = "autograder grade"  # the user_properties key of a test's grade record (see make_grade)
DESELECTED = "autograder deselected"  # the workeroutput key of a worker's counts of tests left out


class GradingState:
    """What the harness learns during a run."""

    def __init__(self, config: pytest.Config):
        self.submission = Submission(resolve_target(config.getoption("--target")))
        results = config.getoption("--results")
        # Resolved now: a relative path means relative to where the grader started, whatever happens later.
        self.results_path = Path(results).resolve() if results is not None else None
        # Only the process that reads the reports writes the file; a worker only runs tests.
        self.writes_results = not parallel.is_worker(config)
        self.time_limit_scale: float = config.getoption(SCALE_OPTION)
        self.memory_mb: int = config.getoption("--memory-limit")
        self.threads: int = config.getoption("--threads")
        budget = config.getoption("--run-time-limit") or os.environ.get(RUN_TIME_ENV)
        self.run_time_limit = float(budget) if budget else None
        self.isolated = _isolates(config)
        account, self.account_note = isolation.student_account(_needed_paths(self.submission.folder))
        self.confinement = isolation.Confinement(account, _instructor_paths(self.submission.folder, self.results_path))
        self.confined: list[str] = []  # what the first test's process reported of its confinement
        self.outcomes: list[Outcome] = []  # in the order of collection, whichever worker ran them
        self.positions: list[int] = []  # each outcome's place in the collection, for that order
        self.flags: list[str] = []  # for the instructor: tampering seen while grading
        self.new_flags: list[str] = []  # flags of the test running here, sent with its grade
        self.audit = audit_folder(self.submission.folder)
        self.unlocated_stops: dict[str, int] = {}  # part -> stops whose place in student code is unknown
        self.deselected: dict[str, int] = {}  # part -> tests left out by -k or node ids
        self.parts = [part_of(path) for path in sorted(AUTOGRADER.glob("test_part*_*.py"))]  # the whole homework
        self.terminal = None
        self.started = time.monotonic()

    def flag(self, text: str) -> None:
        """Tell the instructor ``text`` about the test running in this process."""
        self.new_flags.append(text)

    def record(self, grade: dict) -> None:
        """Keep a test's grade record (see :func:`make_grade`) and write the results."""
        position = bisect.bisect(self.positions, grade["position"])
        self.positions.insert(position, grade["position"])
        self.outcomes.insert(position, Outcome(**grade["outcome"]))
        self.flags.extend(grade["flags"])
        self.confined = self.confined or grade["confined"]
        self.write_results()

    def write_results(self) -> None:
        # Written after every test, so a run that dies part-way still leaves the scores it earned.
        if self.results_path is not None and self.writes_results:
            elapsed = time.monotonic() - self.started
            output = "\n".join(score_table(self.outcomes, self.left_out(), self.parts))
            extra = {"audit": self.audit, "flags": self.flags, "confinement": [self.account_note, *self.confined]}
            write_results(self.results_path, gradescope_results(self.outcomes, elapsed, output, extra))

    def left_out(self) -> dict[str, int]:
        """Tests of each part that were collected but not run (deselected)."""
        return {part: count for part, count in self.deselected.items() if count}

    def limits_for(self, item: pytest.Item) -> isolation.Limits | None:
        """The limits of ``item``'s process, or None once the run's time budget is spent."""
        grading = grading_of(item)
        cpu = grading.time_limit * self.time_limit_scale
        if self.unlocated_stops.get(grading.part):
            cpu = max(5.0, cpu / 4)  # this part already hung where it could not be told; do not wait as long again
        wall = cpu * WALL_FACTOR
        if self.run_time_limit is not None:
            remaining = self.run_time_limit - (time.monotonic() - self.started)
            if remaining < 1:
                return None
            cpu, wall = min(cpu, remaining), min(wall, remaining)
        return isolation.Limits(cpu, wall, self.memory_mb, OUTPUT_BYTES, self.threads)


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
        SCALE_OPTION,
        default=1.0,
        type=float,
        help="multiply every test's time limit by this factor (for a machine slower or faster than Gradescope's)",
    )
    group.addoption("--threads", default=1, type=int, help="PyTorch threads per test (default 1, as on Gradescope)")
    group.addoption(
        "--memory-limit", default=400, type=int, help="MB a test's process may allocate beyond the grader's own (default 400)"
    )
    group.addoption(
        "--run-time-limit",
        default=None,
        type=float,
        help=f"seconds the whole run may take; tests left when it is spent are not graded ({RUN_TIME_ENV} if not given)",
    )
    parallel.add_option(group)
    group.addoption(
        "--no-isolation",
        action="store_true",
        help="run student code in the grader's own process, without limits (for debugging with pdb; "
        "a crash or a hang then stops the whole run)",
    )


def _isolates(config: pytest.Config) -> bool:
    """Whether each test's student code runs in a process of its own (not with --no-isolation, and where it can)."""
    return not config.getoption("--no-isolation") and isolation.available()


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's, which starts the workers asked for here
def pytest_cmdline_main(config: pytest.Config) -> None:
    parallel.start_workers(config, isolated=_isolates(config))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    return parallel.scheduler(config, log)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    state = GradingState(config)
    config.stash[STATE] = state
    if parallel.runs_tests(config):  # the controller of workers only keeps the score: it never imports torch
        import torch  # noqa: PLC0415  (the tests import it anyway; its threads are set before any fork)

        torch.set_num_threads(state.threads)
    if state.isolated:
        isolation.become_subreaper()
    if state.writes_results:
        config.pluginmanager.register(ScoreKeeper(state), "autograder-score-keeper")
    state.write_results()  # the file exists from the start (and can be hidden from student code)


def pytest_sessionstart(session: pytest.Session) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")  # registered after pytest_configure
    if reporter is not None:
        reporter.reportchars = ""  # each failure is shown once, with its message; the run ends with the score
        session.config.stash[STATE].terminal = reporter


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Part by part, each part's public tests before its hidden ones (pytest collects autograder/hidden/ first).
    items.sort(key=lambda item: (int(grading_of(item).part.split()[0]), grading_of(item).visibility != "visible"))
    for position, item in enumerate(items):
        item.stash[POSITION] = position  # the same in every worker: each collects and sorts the same tests
        state: GradingState = item.config.stash[STATE]
        if state.isolated:
            item.runtest = _isolated(item, item.runtest)


def pytest_deselected(items: list[pytest.Item]) -> None:
    for item in items:
        state: GradingState = item.config.stash[STATE]
        part = part_of(Path(item.fspath))
        state.deselected[part] = state.deselected.get(part, 0) + 1


def _needed_paths(folder: Path) -> list[Path]:
    """What student code and the tests must be able to read: Python, its packages, the data, the submission."""
    return [Path(os.__file__).parent, *(Path(entry) for entry in sys.path if entry), DATA, folder, *folder.glob("*.py")]


def _instructor_paths(folder: Path, results: Path | None) -> tuple[Path, ...]:
    """What student code must not see: the grader's sources, the meta-tests, the solutions, the results file.

    A folder that holds what the tests need (the submission, the data, the course library) is never hidden.
    """
    import dlcv  # noqa: PLC0415

    needed = [folder, Path(dlcv.__file__).parent, DATA]
    candidates = [AUTOGRADER, AUTOGRADER.parent / "tests", AUTOGRADER.parent / "solutions"]
    hidden = [path for path in candidates if not any(path == n or path in n.parents for n in needed)]
    return tuple(hidden + ([results] if results is not None else []))


@pytest.fixture(scope="session")
def submission(request: pytest.FixtureRequest) -> Submission:
    """The student's modules in the graded target; see :mod:`autograder.grading.target`."""
    return request.config.stash[STATE].submission


def _isolated(item: pytest.Item, runtest):
    def run_in_child() -> None:
        state: GradingState = item.config.stash[STATE]
        limits = state.limits_for(item)
        if limits is None:
            raise FAILED(
                f"not graded: the run's time limit ({state.run_time_limit:g} s) was spent before this test could "
                "start, by earlier tests that ran out of time. Fix those first.",
                pytrace=False,
            )
        from autograder.grading.integrity import Snapshot  # noqa: PLC0415  (torch: only where tests run)

        snapshot = Snapshot()  # the protected objects as the harness has them, before the child exists
        outcome = isolation.fork_test(item, runtest, state.submission, snapshot, limits, state.confinement)
        state.confined = state.confined or outcome.confinement
        judge(item, state, snapshot, limits, outcome)

    return run_in_child


def judge(item: pytest.Item, state: GradingState, snapshot: Snapshot, limits, outcome: isolation.ChildOutcome) -> None:
    """Turn what the child reported into the test's verdict, here in the harness."""
    name = item.nodeid.split("::", 1)[-1]
    if outcome.output and outcome.verdict != "passed":
        item.add_report_section("call", "output", outcome.output)
    for label in outcome.replaced_at_import:
        state.flag(f"{name}: replaced at import, and put back before grading: {label}")
    if outcome.verdict == "stopped":
        running = isolation.describe_running(outcome.running)
        remember_stop(state, item, outcome)
        raise FAILED(time_limit_message(outcome.reason, outcome.reached, running, SCALE_OPTION), pytrace=False)
    if outcome.verdict == "ended":
        running = isolation.describe_running(outcome.running)
        raise FAILED(process_ended_message(outcome.exit_code, outcome.signal_number, running, limits.memory_mb), pytrace=False)
    changed = snapshot.changed(outcome.identities)
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        state.flag(f"{name}: changed while the test ran: {shown}")
        raise FAILED(
            f"not graded: your code changed the grader's or PyTorch's own functions while this test ran ({shown}), "
            "so its result cannot be trusted. This is reported to the instructor.",
            pytrace=False,
        )
    if outcome.verdict == "skipped":
        raise SKIPPED(outcome.message)
    if outcome.verdict == "failed":
        raise FAILED(outcome.message or "failed", pytrace=False)
    for test in getattr(item.module, "ACCURACY_TESTS", []):
        problem = test.confirm(outcome.measured) if test.test == item.originalname else None
        if problem is not None:
            state.flag(f"{name}: {problem}")
            raise FAILED(f"not graded: {problem}. This is reported to the instructor.", pytrace=False)


def remember_stop(state: GradingState, item: pytest.Item, outcome: isolation.ChildOutcome) -> None:
    """Remember where student code ran out of time, so later tests do not wait for it again."""
    name = item.nodeid.split("::", 1)[-1]
    if outcome.running is None:
        part = grading_of(item).part
        state.unlocated_stops[part] = state.unlocated_stops.get(part, 0) + 1
        return
    path, line, _ = outcome.running
    qualname = isolation.definition_at(path, line)
    module = Path(path).stem
    if qualname is None:
        state.submission.stopped.imports[module] = name
    else:
        state.submission.stopped.functions[(module, qualname)] = name


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report: pytest.TestReport = yield
    state: GradingState = item.config.stash[STATE]
    if call.excinfo is not None and not state.isolated:
        message = explain(call.excinfo.value, call.excinfo.tb, state.submission.owns)
        if message is not None:
            report.longrepr = message
    # A test is graded by its call phase, or by its setup when setup did not succeed.
    if report.when == "call" or (report.when == "setup" and not report.passed):
        grading = grading_of(item)
        text = "" if report.passed else shorten(_failure_text(report))
        if not report.passed:
            points = f"{grading.points:g} point{'s' if grading.points != 1 else ''}"
            report.longrepr = f"0 of {points}. {text}"
        outcome = Outcome(
            name=f"Part {grading.part}: {item.nodeid.split('::', 1)[-1]}",
            part=grading.part,
            max_score=grading.points,
            passed=report.passed,
            output=text,
            visibility=grading.visibility,
            seconds=report.duration,
        )
        report.user_properties.append((GRADE, make_grade(item, state, outcome)))
    return report


def make_grade(item: pytest.Item, state: GradingState, outcome: Outcome) -> dict:
    """A test's grade as plain data, which pytest-xdist can carry from a worker to the controller: the outcome,
    the test's place in the collection, what the instructor is told about it, and the confinement its process
    reported."""
    flags, state.new_flags = state.new_flags, []
    return {"outcome": asdict(outcome), "position": item.stash[POSITION], "flags": flags, "confined": state.confined}


class ScoreKeeper:
    """Where the score is kept: registered in the grader's own process (not in a worker), it reads every test's
    report, from the tests it runs itself or from its workers."""

    def __init__(self, state: GradingState):
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        grades = [value for key, value in report.user_properties if key == GRADE]
        if grades:
            self.state.record(grades[0])
        elif report.when not in ("setup", "teardown"):
            # A report of no phase, without a grade: pytest-xdist's, for a test whose worker died while running it.
            self.state.flags.append(f"{report.nodeid.split('::', 1)[-1]}: not graded: {_failure_text(report)[:300]}")

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        """A worker finished: the tests it left out by -k or node ids (each worker collects them all)."""
        deselected = getattr(node, "workeroutput", {}).get(DESELECTED)
        if deselected is not None:
            self.state.deselected = deselected


def _failure_text(report: pytest.TestReport) -> str:
    if report.skipped:
        return f"not graded: skipped ({report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr})"
    return str(report.longrepr)


def pytest_sessionfinish(session: pytest.Session) -> None:
    state: GradingState = session.config.stash[STATE]
    if state.isolated:
        isolation.end_all_descendants()  # nothing student code started outlives the grading
    if parallel.is_worker(session.config):
        session.config.workeroutput[DESELECTED] = state.deselected
    state.write_results()  # the last word on the results file is the harness's


def pytest_report_header(config: pytest.Config) -> list[str]:
    state: GradingState = config.stash[STATE]
    if not state.isolated:
        return ["autograder: student code runs in the grader's own process, without limits"]
    lines = [f"autograder: each test in a process of its own; up to {state.memory_mb} MB and {state.threads} thread(s)"]
    return lines + ([f"autograder: {state.account_note}"] if state.account_note else [])


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    state: GradingState = config.stash[STATE]
    terminalreporter.section("for the instructor", sep="-")
    if state.isolated:
        terminalreporter.write_line(
            "student code: a process per test; " + "; ".join([state.account_note or "ran as the grader's user", *state.confined])
        )
    for line in state.audit + state.flags or ["audit: nothing to report"]:
        terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    # After pytest's own summary line, so the run ends with the score.
    state: GradingState | None = config.stash.get(STATE, None)
    if state is None or state.terminal is None or not state.outcomes:
        return
    state.terminal.write_sep("=", f"autograder score: {state.submission.folder}")
    for line in score_table(state.outcomes, state.left_out(), state.parts):
        state.terminal.write_line(line)
    hidden = hidden_points_line({outcome.part for outcome in state.outcomes})  # only in a student handout
    if hidden is not None:
        state.terminal.write_line(hidden)
    workers = parallel.workers_started(config)
    if workers:
        state.terminal.write_line(f"graded in {workers} worker processes, a part at a time each (--workers)")
    if state.results_path is not None:
        state.terminal.write_line(f"results written to {state.results_path}")
