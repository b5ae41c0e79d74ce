"""Each test's student code in a process of its own, with limits, so nothing it does reaches the harness.

The harness (the pytest process) collects the tests and scores them, and
never runs student code. For each test it forks a child that runs the test's
body (where the ``submission`` fixture imports the student's files) and
sends back plain data: the verdict, its message, the ``id`` of every
protected object (:mod:`autograder.grading.integrity`) and the accuracies an
accuracy test measured. The harness decides what to make of them.

In the child, before any student code runs:

- a session of its own (``setsid``), so the whole group can be killed, and
  death with the harness (``PR_SET_PDEATHSIG``);
- standard output and error go to a pipe that the harness drains, keeping at
  most ``output_bytes`` (a flood costs the child time, never the harness memory);
- limits: memory (``RLIMIT_DATA``: allocations beyond ``memory_mb`` over the
  harness's own fail with ``MemoryError``), processes (``RLIMIT_NPROC``), file
  size, no core files; the child is the out-of-memory killer's first choice;
- as root (Gradescope): a network namespace of its own with no interfaces,
  then an unprivileged account (``dlcv-student`` if it exists, else
  ``nobody``) in a fresh working folder, so student code can write neither
  the results nor the grader's files;
- ``faulthandler`` writes the Python stack of every thread to a third pipe on
  a crash and on ``SIGUSR1``: that is how the harness learns where code that
  ran out of time was, even inside a C call or with every signal handler
  replaced.

The harness watches the child's CPU time (the limit declared for the test,
times ``--time-limit-scale``), its wall-clock time (a multiple of that), and
whether it computes at all (a child that waits without computing for
``IDLE_SECONDS`` is stopped). At a limit it asks for the stack, then kills
the child's process group and every process the child left, detached or
not: the harness is a child subreaper (``PR_SET_CHILD_SUBREAPER``), so
orphans come back to it to be ended.

PyTorch and ``fork``: the harness sets its thread count before the first
fork and runs no parallel work itself, so no OpenMP pool exists to be
copied in a broken state; it never initialises CUDA (tests call
``pick_device()`` in the child), so each child can start CUDA for itself.
"""

from __future__ import annotations

import ast
import ctypes
import faulthandler
import io
import json
import os
import re
import selectors
import signal
import stat
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if sys.platform != "win32":  # Windows has no fork: the grader runs tests in its own process there
    import pwd
    import resource
from autograder.grading.messages import explain, safe_str, shorten

if TYPE_CHECKING:  # imported where a test runs, not here: the controller of a parallel run never imports torch
    from autograder.grading.integrity import Snapshot

# On a machine with an NVIDIA GPU, a limit on address space would stop CUDA from starting; the harness then
# watches the child's resident memory instead, allowing CUDA's own host memory on top of the limit.
GPU_POSSIBLE = os.path.exists("/dev/nvidiactl")
CUDA_HOST_MB = 2048
STUDENT_ACCOUNTS = ("dlcv-student", "nobody")  # the first that exists runs student code when the harness is root
IDLE_SECONDS = 20.0  # a child that has not computed for this long is waiting forever (sleep, input, a lock) ...
IDLE_SHARE = 1 / 3  # ... or for this share of its CPU-time limit, if that is shorter (at least 2 s)
IDLE_CPU_SECONDS = 0.2  # ... where "computed" means at least this much CPU time since the last check
STACK_WAIT_SECONDS = 1.0  # how long the harness waits for the stack it asked for before killing
POLL_SECONDS = 0.05
PROCESSES_ALLOWED = 64  # processes and threads student code may add
FILE_BYTES = 256 * 2**20  # the largest file student code may write
RESULT_CHARACTERS = 20_000  # the most of a message the child sends

_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
CLONE_NEWNET = 0x40000000
CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 4096, 16384, 1 << 18


def available() -> bool:
    """Whether this platform can fork (Linux and macOS; not Windows)."""
    return hasattr(os, "fork")


def become_subreaper() -> None:
    """Make orphaned descendants (detached processes of student code) children of this process."""
    if _libc is not None:
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


@dataclass(frozen=True)
class Limits:
    cpu_seconds: float
    wall_seconds: float
    memory_mb: int
    output_bytes: int
    threads: int


@dataclass(frozen=True)
class Confinement:
    """Whom student code runs as (root only: an unprivileged account, or None) and what it must not see."""

    account: "pwd.struct_passwd | None"
    hidden: tuple[Path, ...]  # the grader's sources, the solutions, the meta-tests, the results file


@dataclass
class ChildOutcome:
    """What the harness learnt from one test's child."""

    verdict: str  # "passed", "failed", "skipped", "stopped" (a limit) or "ended" (the process died)
    message: str = ""
    output: str = ""
    reason: str = ""  # for "stopped": "cpu", "wall" or "idle"
    reached: float = 0.0  # where the limit was reached: seconds (CPU, wall or idle), or MB of memory
    exit_code: int | None = None
    signal_number: int | None = None
    running: tuple[str, int, str] | None = None  # (student file, line, function) at the stop or crash
    identities: list | None = None
    measured: dict = field(default_factory=dict)
    replaced_at_import: list = field(default_factory=list)
    confinement: list = field(default_factory=list)  # what was done to the child, for the instructor


# ------------------------------------------------------------------------------------------- the child


def readable_by_others(path: Path) -> bool:
    """Whether a user who owns nothing here can reach ``path`` (every folder on the way searchable) and read it."""
    path = path.resolve()
    for folder in reversed(path.parents):
        if not folder.stat().st_mode & stat.S_IXOTH:
            return False
    mode = path.stat().st_mode
    return bool(mode & stat.S_IROTH) and (not path.is_dir() or bool(mode & stat.S_IXOTH))


def student_account(needed: list[Path]) -> tuple["pwd.struct_passwd | None", str]:
    """The unprivileged account to run student code as, and a note for the instructor if there is none.

    Only when the harness runs as root (Gradescope). The account must be able
    to read what the tests need: Python's own files, the installed packages,
    the data and the submission (``needed``); where it cannot (a Python
    installed in root's home, say), student code runs as root, and the note says why.
    """
    if not available() or os.geteuid() != 0:
        return None, ""
    for name in STUDENT_ACCOUNTS:
        try:
            account = pwd.getpwnam(name)
            break
        except KeyError:
            continue
    else:
        return None, f"student code ran as root: no account named {' or '.join(STUDENT_ACCOUNTS)} exists"
    hidden = [path for path in needed if path.exists() and not readable_by_others(path)]
    if hidden:
        return None, f"student code ran as root: {hidden[0]} is not readable by the account {account.pw_name}"
    return account, f"student code ran as the unprivileged account {account.pw_name}"


def _own_tasks(uid: int) -> int:
    """How many processes and threads ``uid`` runs now (Linux), for a process limit relative to it."""
    count = 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        match = re.search(r"^Uid:\s+(\d+)", status, re.MULTILINE)
        threads = re.search(r"^Threads:\s+(\d+)", status, re.MULTILINE)
        if match and int(match.group(1)) == uid and threads:
            count += int(threads.group(1))
    return count


def _vm_data_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _mount(source: bytes | None, target: Path, fstype: bytes | None, flags: int, data: bytes | None) -> bool:
    return _libc.mount(source, str(target).encode(), fstype, flags, data) == 0


def _hide(paths: tuple[Path, ...]) -> list[str]:
    """In a mount namespace of the child's own, cover each path: folders by an empty tmpfs, files by /dev/null."""
    if _libc.unshare(CLONE_NEWNS) != 0 or not _mount(None, Path("/"), None, MS_REC | MS_PRIVATE, None):
        return []
    hidden = []
    for path in paths:
        if path.is_dir():
            covered = _mount(b"tmpfs", path, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=4k,mode=0")
        elif path.is_file():
            covered = _mount(b"/dev/null", path, None, MS_BIND, None)
        else:
            continue
        if covered:
            hidden.append(str(path))
    return hidden


def _confine(limits: Limits, confinement: Confinement) -> list[str]:
    """Set the child's limits; as root, hide the instructor's files, cut the network, drop privileges.

    Returns what was done, for the instructor.
    """
    done = []
    os.setsid()
    if _libc is not None:
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:
            os._exit(1)  # the harness died before the death signal was set
        with open("/proc/self/oom_score_adj", "w") as adjust:
            adjust.write("1000")  # kill this child, never the harness, when memory runs out
        if not GPU_POSSIBLE:  # CUDA reserves address space of its own at start: there the harness watches memory
            _limit(resource.RLIMIT_DATA, _vm_data_bytes() + limits.memory_mb * 2**20)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_FSIZE, FILE_BYTES)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails with an error instead
    workdir = Path(tempfile.mkdtemp(prefix="dlcv-student-"))
    account = confinement.account
    if os.geteuid() == 0 and _libc is not None:
        hidden = _hide(confinement.hidden)
        if hidden:
            done.append("hidden from it: " + ", ".join(hidden))
        if _libc.unshare(CLONE_NEWNET) == 0:  # a network of its own, with no interface up: no network
            done.append("no network")
    if account is not None:
        os.chown(workdir, account.pw_uid, account.pw_gid)
        os.setgroups([])
        os.setgid(account.pw_gid)
        _limit(resource.RLIMIT_NPROC, PROCESSES_ALLOWED)
        os.setuid(account.pw_uid)
        # A change of user clears the parent-death signal (prctl(2)): without this, a child left behind by a
        # harness that was killed (batch grading's time limit) would run on as an orphan.
        if _libc is not None:
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() == 1:
                os._exit(1)
        done.append(f"ran as {account.pw_name}")
    elif _libc is not None:
        _limit(resource.RLIMIT_NPROC, _own_tasks(os.getuid()) + PROCESSES_ALLOWED)
    os.chdir(workdir)
    os.environ.update(HOME=str(workdir), TMPDIR=str(workdir))
    tempfile.tempdir = str(workdir)
    return done


def _redirect_output(output_fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False))
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True, errors="replace")
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True, errors="replace")


def _verdict(error: BaseException | None, item: pytest.Item, owns) -> tuple[str, str]:
    """``(verdict, message)`` of a test body that raised ``error`` (None: it returned)."""
    if error is None:
        return "passed", ""
    if isinstance(error, pytest.skip.Exception):
        return "skipped", safe_str(error)
    if isinstance(error, pytest.fail.Exception):
        return "failed", safe_str(error)
    message = explain(error, error.__traceback__, owns)
    if message is None:  # an assert in the grader's own code
        message = f"{type(error).__name__}: {safe_str(error)}"
    return "failed", message


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data) :]


def run_child(
    item: pytest.Item,
    runtest,
    submission,
    snapshot: Snapshot,
    limits: Limits,
    confinement: Confinement,
    channels: dict[str, int],
    measured: dict,
) -> None:
    """The child's whole life: confine, run the test, report plain data, exit. Never returns.

    ``measured`` is where the test's accuracy checks leave their numbers (``autograder.accuracy.MEASURED``).
    """
    try:
        _redirect_output(channels["output"])
        stack_file = os.fdopen(channels["stack"], "w")
        faulthandler.enable(file=stack_file, all_threads=True)
        faulthandler.register(signal.SIGUSR1, file=stack_file, all_threads=True)
        _write_all(channels["result"], json.dumps({"main_thread": _thread_id()}).encode() + b"\n")
        done = _confine(limits, confinement)
        _write_all(channels["result"], json.dumps({"confinement": done}).encode() + b"\n")
        import torch  # noqa: PLC0415  (already imported by the harness: this only names it)

        torch.set_num_threads(limits.threads)
        replaced: list[str] = []
        submission.after_import = lambda name: replaced.extend(f"{name}.py: {label}" for label in snapshot.restore())
        error = None
        try:
            runtest()
        except BaseException as raised:  # everything student code can throw, SystemExit and KeyboardInterrupt too
            error = raised
        verdict, message = _verdict(error, item, submission.owns)
        report = {
            "verdict": verdict,
            "message": shorten(message, RESULT_CHARACTERS),
            "identities": snapshot.identities(),
            "measured": {k: v for k, v in measured.items() if type(v) is float},
            "replaced_at_import": replaced[:50],
        }
        _write_all(channels["result"], json.dumps(report).encode() + b"\n")
    except BaseException:  # a failure of the harness's own child code: report it rather than vanish
        try:
            detail = shorten(traceback.format_exc(), RESULT_CHARACTERS)
            _write_all(channels["result"], json.dumps({"verdict": "failed", "message": f"the grader failed: {detail}"}).encode() + b"\n")
        except BaseException:
            pass
    finally:
        os._exit(0)


def _thread_id() -> str:
    import threading  # noqa: PLC0415

    return f"0x{threading.get_ident():016x}"


# ----------------------------------------------------------------------------------------- the harness


def _cpu_seconds(pid: int) -> float | None:
    """CPU time of ``pid`` and the children it has waited for, or None where /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _resident_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (0 where /proc is missing)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def descendants(root: int) -> list[int]:
    """Every process below ``root`` (Linux); orphans come back to ``root`` as it is a subreaper."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, frontier = [], list(children.get(root, []))
    while frontier:
        pid = frontier.pop()
        found.append(pid)
        frontier.extend(children.get(pid, []))
    return found


def end_all_descendants() -> None:
    """Kill and reap every process below the harness: what student code left running, detached or not."""
    if _libc is None:
        return
    for _ in range(100):  # a fork bomb refills the tree between scans: repeat until it stays empty
        found = descendants(os.getpid())
        if not found:
            return
        for pid in found:
            _signal(pid, signal.SIGKILL)
        time.sleep(0.01)
        while True:  # reap the dead, ours and the orphans that came back to us
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break


class _Capped:
    """The first ``limit`` bytes written, and a count of the rest."""

    def __init__(self, limit: int):
        self.limit, self.data, self.dropped = limit, bytearray(), 0

    def add(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - room)


def student_output(raw: _Capped) -> str:
    """What the test printed, without progress bars (lines redrawn with carriage returns)."""
    lines = [line for line in raw.data.decode(errors="replace").split("\n") if "\r" not in line]
    text = "\n".join(lines).strip()
    if raw.dropped:
        text += f"\n[... {raw.dropped:,} more bytes of output not kept ...]"
    return text


def supervise(pid: int, channels: dict[str, int], limits: Limits, owns) -> ChildOutcome:
    """Watch the child ``pid`` until it is done or stopped; return what it reported."""
    selector = selectors.DefaultSelector()
    buffers = {"result": bytearray(), "stack": bytearray()}
    output = _Capped(limits.output_bytes)
    for name, fd in channels.items():
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ, name)

    def read(timeout: float) -> bool:
        """Read what the pipes hold within ``timeout``; whether anything was there."""
        events = selector.select(timeout)
        for key, _ in events:
            try:
                chunk = os.read(key.fd, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                selector.unregister(key.fd)
            elif key.data == "output":
                output.add(chunk)
            elif len(buffers[key.data]) < 2**22:
                buffers[key.data] += chunk
        return bool(events)

    started = time.monotonic()
    active_at, active_cpu = started, 0.0
    resident_at_start = _resident_mb(pid)
    stop: tuple[str, float] | None = None
    stop_asked_at = stack_grew_at = 0.0
    status = None
    try:
        while status is None:
            read(POLL_SECONDS)
            done, status_word = os.waitpid(pid, os.WNOHANG)
            if done:
                status = status_word
                break
            now = time.monotonic()
            if stop is None:
                cpu = _cpu_seconds(pid)
                if cpu is not None and cpu - active_cpu >= IDLE_CPU_SECONDS:
                    active_at, active_cpu = now, cpu
                if cpu is not None and cpu > limits.cpu_seconds:
                    stop = ("cpu", cpu)
                elif now - started > limits.wall_seconds:
                    stop = ("wall", now - started)
                elif cpu is not None and now - active_at > max(2.0, min(IDLE_SECONDS, IDLE_SHARE * limits.cpu_seconds)):
                    stop = ("idle", now - active_at)
                elif GPU_POSSIBLE and _resident_mb(pid) - resident_at_start > limits.memory_mb + CUDA_HOST_MB:
                    stop = ("memory", _resident_mb(pid) - resident_at_start)
                if stop is not None:
                    stop_asked_at = stack_grew_at = now
                    stack_size = 0
                    _signal(pid, signal.SIGUSR1)  # faulthandler writes the stacks, then the child carries on
            else:
                if len(buffers["stack"]) > stack_size:
                    stack_size, stack_grew_at = len(buffers["stack"]), now
                stack_done = stack_size > 0 and now - stack_grew_at > 0.2
                if stack_done or now - stop_asked_at > STACK_WAIT_SECONDS:
                    _kill_group(pid)
        for _ in range(100):  # the child is gone: take what it left in the pipes, not what its leftovers write
            if not selector.get_map() or not read(0):
                break
    finally:
        if status is None:
            _kill_group(pid)
            os.waitpid(pid, 0)
        selector.close()
        for fd in channels.values():
            os.close(fd)
        end_all_descendants()
    return _outcome(status, stop, buffers, output, owns)


def _signal(pid: int, number: int) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        _signal(pid, signal.SIGKILL)


def _outcome(status: int, stop, buffers, output: _Capped, owns) -> ChildOutcome:
    lines = [line for line in bytes(buffers["result"]).split(b"\n") if line.strip()]
    documents = []
    for line in lines:
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if type(document) is dict:
            documents.append(document)
    main_thread = next((d.get("main_thread") for d in documents if "main_thread" in d), None)
    confinement = next((d.get("confinement") for d in documents if "confinement" in d), None)
    confinement = [str(x) for x in confinement] if type(confinement) is list else []
    report = next((d for d in documents if "verdict" in d), None)
    running = where_it_was(bytes(buffers["stack"]).decode(errors="replace"), main_thread, owns)
    printed = student_output(output)
    if stop is not None:
        return ChildOutcome("stopped", output=printed, reason=stop[0], reached=stop[1], running=running, confinement=confinement)
    if report is None or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return ChildOutcome(
            "ended",
            output=printed,
            exit_code=os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            signal_number=os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            running=running,
            confinement=confinement,
        )
    verdict = report.get("verdict")
    message = report.get("message")
    return ChildOutcome(
        verdict if verdict in ("passed", "failed", "skipped") else "failed",
        message=shorten(message) if type(message) is str else "",
        output=printed,
        identities=report.get("identities"),
        measured=report.get("measured") if type(report.get("measured")) is dict else {},
        replaced_at_import=[str(x) for x in report.get("replaced_at_import", [])][:50]
        if type(report.get("replaced_at_import")) is list
        else [],
        confinement=confinement,
    )


FRAME = re.compile(r'^\s+File "(?P<file>.+)", line (?P<line>\d+) in (?P<name>\S+)')


def where_it_was(stacks: str, main_thread: str | None, owns) -> tuple[str, int, str] | None:
    """The innermost student frame ``(file, line, function)`` of the main thread in a faulthandler dump."""
    blocks = re.split(r"^(?=(?:Current thread|Thread) 0x)", stacks, flags=re.MULTILINE)
    chosen = [b for b in blocks if main_thread and main_thread.lower() in b.lower()] or [
        b for b in blocks if b.startswith("Current thread")
    ] or blocks
    for block in chosen:
        for line in block.splitlines():  # most recent call first
            match = FRAME.match(line)
            if match and owns(match.group("file")):
                return match.group("file"), int(match.group("line")), match.group("name")
    return None


def definition_at(path: str, line: int) -> str | None:
    """``Class.method`` or ``function`` of the file's definition around ``line`` (None: module level)."""
    try:
        tree = ast.parse(Path(path).read_text())
    except (OSError, SyntaxError, ValueError):
        return None
    names: list[str] = []
    node = tree
    while True:
        inner = [
            child
            for child in ast.iter_child_nodes(node)
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and child.lineno <= line <= (child.end_lineno or child.lineno)
        ]
        if not inner:
            break
        node = inner[0]
        names.append(node.name)
        if not isinstance(node, ast.ClassDef):
            break  # the outermost function: what can be replaced from outside
    if not names or isinstance(node, ast.ClassDef):
        return None
    return ".".join(names)


def describe_running(running: tuple[str, int, str] | None) -> str | None:
    if running is None:
        return None
    path, line, name = running
    qualname = definition_at(path, line)
    module = Path(path).stem
    where = f"{module}.{qualname}" if qualname else f"the top level of {module}.py (code that runs at import)"
    return f"{where} ({Path(path).name}, line {line})"


def pipes() -> tuple[dict[str, int], dict[str, int]]:
    """``(read ends, write ends)`` of the result, output and stack pipes."""
    reads, writes = {}, {}
    for name in ("result", "output", "stack"):
        reads[name], writes[name] = os.pipe()
    return reads, writes


def fork_test(item: pytest.Item, runtest, submission, snapshot: Snapshot, limits: Limits, confinement: Confinement) -> ChildOutcome:
    """Run ``runtest`` (the test's body) in a confined child; return what it reported.

    ``snapshot`` is taken by the harness just before: the child restores from it
    and reports against it, so both sides compare the same objects.
    """
    # Imported here, before the fork (the confined child cannot read the grader's files) and not at the top of this
    # module (the controller of a parallel run, which imports it, never imports torch).
    from autograder.accuracy import MEASURED  # noqa: PLC0415

    reads, writes = pipes()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        for fd in reads.values():
            os.close(fd)
        run_child(item, runtest, submission, snapshot, limits, confinement, writes, MEASURED)
    for fd in writes.values():
        os.close(fd)
    return supervise(pid, reads, limits, submission.owns)

