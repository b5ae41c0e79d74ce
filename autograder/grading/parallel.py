"""Grading in several worker processes at once, with pytest-xdist.

``--workers N`` (default ``auto``, or the ``DLCV_WORKERS`` environment
variable) starts N pytest-xdist workers. Each worker is a harness of its own:
it runs its tests exactly as a serial run does, every test's body in an
isolated child process with one thread, and sends each test's report to the
controller, the process the grader was started as, which alone keeps the
score and writes ``results.json``.

A part's tests, public and hidden, all run on one worker, in the order a
serial run gives them (:class:`PartScheduling`): what a test learns about the
submission for the tests after it (a function that hung, a part that hangs
where it cannot be told) stays within the part, so every verdict is the one
the serial run gives.

``auto`` is the number of CPUs this process may use (its affinity and its
cgroup's CPU quota), no more than the machine's free memory allows for a
worker and its test's child, and no more than the parts to grade: on
Gradescope's default machine (one CPU, 768 MB) it is 1, and 1 means no
workers at all, the grader's serial run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.grading.points import PART_FILE, part_of

WORKERS_OPTION = "--workers"
WORKERS_ENV = "DLCV_WORKERS"
# What one worker needs at most: its own Python with torch (about 650 MB with the CUDA build, 220 MB with the CPU
# build) and its test's child, which may allocate up to --memory-limit (400 MB) more.
WORKER_MEMORY_MB = 1100
MOST_WORKERS = 8


def add_option(group: pytest.OptionGroup) -> None:
    group.addoption(
        WORKERS_OPTION,
        default=None,
        help="grading processes side by side: a number, or 'auto' (default: the CPUs this process may use, as "
        f"free memory allows, at most one per part; the {WORKERS_ENV} environment variable if not given). "
        "Scores are the same as with 1",
    )


def is_worker(config: pytest.Config) -> bool:
    """Whether this process is a pytest-xdist worker (which runs tests and reports them to the controller)."""
    return hasattr(config, "workerinput")


def usable_cpus() -> int:
    """CPUs this process may run on: its affinity, lowered by its cgroup's CPU quota (a container's ``--cpus``)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = _cgroup_cpu_quota()
    return max(1, min(cpus, int(quota)) if quota is not None else cpus)


def _cgroup_cpu_quota() -> float | None:
    """CPUs allowed by the cgroup (v2 ``cpu.max``, v1 ``cpu.cfs_quota_us``), or None if unlimited or unknown."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return None if quota == "max" else max(1.0, int(quota) / int(period))
    except (OSError, ValueError):
        pass
    try:
        quota = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return None if quota <= 0 else max(1.0, quota / period)
    except (OSError, ValueError):
        return None


def free_memory_mb() -> float | None:
    """Memory this process can still use: the machine's available memory, lowered by its cgroup's limit."""
    free = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                free.append(int(line.split()[1]) / 1024)
    except (OSError, ValueError):
        pass
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ):
        try:
            limit, usage = Path(limit_file).read_text().strip(), int(Path(usage_file).read_text())
            if limit != "max" and int(limit) < 1 << 60:
                free.append((int(limit) - usage) / 2**20)
            break
        except (OSError, ValueError):
            continue
    return min(free) if free else None


def parts_in(config: pytest.Config) -> int:
    """How many parts the run's arguments name (a test file, a node id, or a folder of test files)."""
    parts = set()
    for argument in config.args:
        path = Path(config.invocation_params.dir, argument.split("::", 1)[0])
        files = sorted(path.rglob("test_part*_*.py")) if path.is_dir() else [path]
        parts.update(part_of(file) for file in files if PART_FILE.fullmatch(file.name))
    return len(parts)


def workers_wanted(config: pytest.Config) -> int:
    """The workers this run should start (1: none, the serial run)."""
    asked = config.getoption(WORKERS_OPTION) or os.environ.get(WORKERS_ENV) or "auto"
    if asked == "auto":
        memory = free_memory_mb()
        by_memory = int(memory // WORKER_MEMORY_MB) if memory is not None else MOST_WORKERS
        wanted = min(usable_cpus(), by_memory, MOST_WORKERS)
    else:
        try:
            wanted = int(asked)
        except ValueError:
            raise pytest.UsageError(f"{WORKERS_OPTION} takes a number or 'auto', not {asked!r}") from None
        if wanted < 1:
            raise pytest.UsageError(f"{WORKERS_OPTION} must be at least 1, not {wanted}")
    return max(1, min(wanted, parts_in(config)))


def start_workers(config: pytest.Config, isolated: bool) -> None:
    """Ask pytest-xdist for the workers this run should have; called before xdist reads its options.

    Nothing is changed when this is a worker, when the user chose xdist's ``-n`` or ``--dist`` themselves, when
    pytest-xdist is not loaded, or when student code runs in the grader's own process (``--no-isolation``, for
    pdb): those runs stay serial.
    """
    if is_worker(config) or not config.pluginmanager.hasplugin("xdist") or not isolated:
        return
    if config.option.numprocesses is not None or config.option.dist != "no" or config.getoption("usepdb"):
        return
    if config.getoption("collectonly"):
        return
    workers = workers_wanted(config)
    if workers > 1:
        config.option.numprocesses = workers


def runs_tests(config: pytest.Config) -> bool:
    """Whether this process runs tests: a serial run or a worker, not the controller of workers (which only
    keeps the score). Known once pytest-xdist has read its options (in ``pytest_configure``, not before)."""
    return is_worker(config) or not (
        config.pluginmanager.hasplugin("xdist") and config.option.dist != "no" and bool(config.option.tx)
    )


def workers_started(config: pytest.Config) -> int:
    """How many workers this run (the controller) started; 0 for a serial run or in a worker."""
    return 0 if runs_tests(config) else len(config.option.tx)


def scheduler(config: pytest.Config, log):
    """pytest-xdist's scheduling by scope, with a part as the scope: see the module's docstring."""
    from xdist.scheduler import LoadScopeScheduling  # noqa: PLC0415  (only where xdist runs the session)

    class PartScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return part_of(Path(nodeid.split("::", 1)[0]))

    return PartScheduling(config, log)
