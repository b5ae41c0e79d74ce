"""Time the autograder on the solutions, on one CPU core and on all of them, and measure its peak memory.

Runs ``python -m pytest FILES --target solutions -p no:cacheprovider -q``
(plus ``--pytest-args``; FILES default to ``autograder/``: every part's
public and hidden tests, the whole Gradescope run) ``--runs`` times pinned to core 0 (``taskset -c 0``:
Gradescope's default machine has at most one) and ``--runs`` times unpinned,
and reports the median wall time of each. Memory is sampled every 50 ms over
the whole process tree (the grader and the process it forks for each test);
the sampler reads every process's smaps and so takes CPU from a run that uses
every core: time such runs with ``--no-memory`` (seen here: 2 workers on 2
cores took 40.3 s sampled, 32 s not):

- *peak memory*: the largest sum of proportional set sizes (PSS) over the
  tree, which counts a page shared by the grader and a test's process once,
  as a container's memory limit does;
- *peak RSS*: the largest resident set of any one process;
- *peak per worker*, when the grader ran in workers (``--workers``, by default
  one per CPU it may use; pinned to one core it runs serially): the largest
  PSS of one worker with its tests' processes. In a serial run the tree is the
  one grading process.

Both are shown beside those of a bare ``python -c "import torch, torchvision"``
measured the same way: the difference is what grading adds.

With ``--handout`` it builds the student handout into a temporary folder,
copies the solutions into its ``assignment/`` and times ``pytest autograder/``
there: what a student who has solved everything waits for locally.

Nothing is written into the repository (no pytest cache, no ``__pycache__``).

Usage (from the repository root)::

    python scripts/benchmark_autograder.py                                # autograder/: what Gradescope runs
    python scripts/benchmark_autograder.py --handout                      # the student handout's public tests
    python scripts/benchmark_autograder.py autograder/test_part1_network.py --runs 5
    python scripts/benchmark_autograder.py --pytest-args="--no-isolation"   # the cost of isolation, by difference
    python scripts/benchmark_autograder.py --beside-grader                  # on a busy machine: no test may fail
    python scripts/benchmark_autograder.py --cores all --pytest-args="--workers 1"   # all cores, serially
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from autograder.grading.isolation import descendants  # noqa: E402  (after the path is set)

BARE = [sys.executable, "-c", "import torch, torchvision"]
SAMPLE_SECONDS = 0.05


def memory_kib(pid: int) -> tuple[int, int]:
    """``(PSS, RSS)`` of ``pid`` in KiB, or zeros if it is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    values = {line.split(":")[0]: int(line.split()[1]) for line in text.splitlines()[1:] if line.split()[-1] == "kB"}
    return values.get("Pss", 0), values.get("Rss", 0)


class Sampler(threading.Thread):
    """Samples the memory of a process tree until stopped; keeps the peaks."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.peak_pss, self.peak_rss, self.peak_child_pss = root, 0, 0, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            below = descendants(self.root)
            sizes = {pid: memory_kib(pid) for pid in [self.root, *below]}
            self.peak_pss = max(self.peak_pss, sum(pss for pss, _ in sizes.values()))
            self.peak_rss = max([self.peak_rss, *(rss for _, rss in sizes.values())])
            # Each child of the root with everything below it: a worker and its tests' processes.
            inner = set().union(*(descendants(pid) for pid in below)) if below else set()
            for child in (pid for pid in below if pid not in inner):
                subtree = [child, *descendants(child)]
                self.peak_child_pss = max(self.peak_child_pss, sum(sizes.get(pid, (0, 0))[0] for pid in subtree))
            time.sleep(SAMPLE_SECONDS)


def start(command: list[str], pin: bool, root: Path = REPO_ROOT) -> subprocess.Popen:
    """``command`` started from ``root`` (the repository, or a handout), on core 0 alone if ``pin``, its output captured."""
    prefix = ["taskset", "-c", "0"] if pin else []
    environment = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(root))
    return subprocess.Popen(prefix + command, cwd=root, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def summary_of(output: str) -> str:
    """pytest's last line ("128 passed in 57.99s"), or the output's last line."""
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return next((line for line in reversed(lines) if " passed" in line or " failed" in line), lines[-1] if lines else "").strip("= ")


def workers_of(output: str) -> int:
    """How many worker processes the run had (the score table's "graded in 2 worker processes"); 0 for serial."""
    found = re.search(r"^graded in (\d+) worker processes", output, re.MULTILINE)
    return int(found.group(1)) if found else 0


def measure(
    command: list[str], pin: bool, root: Path = REPO_ROOT, sample: bool = True
) -> tuple[float, float, float, int, str, int, float]:
    """Run ``command`` once; return (wall seconds, peak PSS of the tree and peak RSS of one process in MiB, exit
    status, output tail, workers, peak PSS of one worker's tree in MiB). Without ``sample``, memory is not
    sampled (zeros): the sampler reads every process's smaps, which takes CPU from a run that uses every core."""
    began = time.perf_counter()
    process = start(command, pin, root)
    sampler = Sampler(process.pid)
    if sample:
        sampler.start()
    output, _ = process.communicate()
    wall = time.perf_counter() - began
    if sample:
        sampler.done.set()
        sampler.join()
    workers = workers_of(output)
    return (wall, sampler.peak_pss / 1024, sampler.peak_rss / 1024, process.returncode, summary_of(output), workers,
            sampler.peak_child_pss / 1024)


class Beside(threading.Thread):
    """Runs ``command`` again and again until stopped: a second CPU-heavy process beside the measured runs.

    Its finished runs are kept (exit status, summary): a busy machine must not fail them either.
    """

    def __init__(self, command: list[str], pin: bool, root: Path):
        super().__init__(daemon=True)
        self.command, self.pin, self.root = command, pin, root
        self.finished: list[tuple[int, str]] = []
        self.done = threading.Event()
        self.process: subprocess.Popen | None = None

    def run(self) -> None:
        while not self.done.is_set():
            self.process = start(self.command, self.pin, self.root)
            output, _ = self.process.communicate()
            if not self.done.is_set():
                self.finished.append((self.process.returncode, summary_of(output)))

    def stop(self) -> None:
        self.done.set()
        if self.process is not None:
            self.process.terminate()  # the grader's test processes die with it (PR_SET_PDEATHSIG)
        self.join()


def solved_handout(folder: Path) -> Path:
    """The student handout built into ``folder``, with the solutions copied into its ``assignment/``."""
    import zipfile

    from autograder.gradescope.build import HANDOUT_FOLDER, build

    with zipfile.ZipFile(build("handout", folder / "handout.zip")) as archive:
        archive.extractall(folder)
    handout = folder / HANDOUT_FOLDER
    for solution in (REPO_ROOT / "solutions").glob("*.py"):
        shutil.copy(solution, handout / "assignment" / solution.name)
    return handout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="test files (default: every autograder/test_part*.py)")
    parser.add_argument("--runs", type=int, default=3, help="runs per setting (default 3)")
    parser.add_argument("--target", default="solutions", help="the --target to grade (default solutions)")
    parser.add_argument("--pytest-args", default="", help="more arguments for the grader, e.g. \"--no-isolation\"")
    parser.add_argument("--cores", choices=["one", "all", "both"], default="both", help="pin to one core, use all, or both")
    parser.add_argument("--handout", action="store_true", help="time the student handout's tests on the solutions copied in")
    parser.add_argument(
        "--beside-grader", action="store_true",
        help="time the grader on a busy machine: a second grader run (the same command, on the same cores) "
        "runs again and again beside each measured run",
    )
    parser.add_argument(
        "--no-memory", action="store_true",
        help="time without sampling memory: on all cores the sampler competes with the grader for CPU",
    )
    options = parser.parse_args()
    files = options.files or ["autograder/"]
    scratch = tempfile.TemporaryDirectory(prefix="dlcv-benchmark-")
    root = solved_handout(Path(scratch.name)) if options.handout else REPO_ROOT
    target = "assignment" if options.handout else options.target
    pytest_command = [
        sys.executable, "-m", "pytest", *files, "--target", target, "-p", "no:cacheprovider", "-q",
        *shlex.split(options.pytest_args),
    ]
    if not shutil.which("taskset"):
        raise SystemExit("taskset not found (util-linux): cannot pin to one core")

    import torch

    print(f"files: {' '.join(files)}" + (" of the student handout, the solutions copied in" if options.handout else ""))
    print(f"machine: {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}, torch {torch.__version__}")
    print(f"command: {' '.join(pytest_command[1:])}")
    settings = [(True, "1 core")] if options.cores == "one" else [(False, f"{os.cpu_count()} cores")] if options.cores == "all" else [
        (True, "1 core"), (False, f"{os.cpu_count()} cores")]
    rows = []
    for command, what in ((pytest_command, "pytest"), (BARE, "bare import")):
        for pin, cores in settings:
            label = f"{what}, {cores}"
            walls, pss, rss, per_worker, workers = [], [], [], [], 0
            busy = command is pytest_command and options.beside_grader
            if busy:
                label += ", beside a second grader"
            for run in range(1, options.runs + 1):
                beside = Beside(pytest_command, pin, root) if busy else None
                if beside is not None:
                    beside.start()
                    time.sleep(5)  # past its start-up: the measured run starts on a busy machine
                wall, peak_pss, peak_rss, status, summary, workers, worker_pss = measure(
                    command, pin, root, sample=not options.no_memory
                )
                if beside is not None:
                    beside.stop()
                    for other_status, other_summary in beside.finished:
                        print(f"  (the grader beside it: exit {other_status}: {other_summary})", flush=True)
                walls.append(wall)
                pss.append(peak_pss)
                rss.append(peak_rss)
                per_worker.append(worker_pss)
                in_workers = f", {workers} workers (peak PSS of one: {worker_pss:.0f} MiB)" if workers else ""
                print(f"  {label} run {run}: {wall:.1f} s, peak PSS {peak_pss:.0f} MiB, peak RSS {peak_rss:.0f} MiB"
                      f"{in_workers}, exit {status}: {summary}", flush=True)
            if workers:
                label += f", {workers} workers"
            rows.append((label, walls, pss, rss, per_worker if workers else None))

    bare_pss = max(max(p) for label, _, p, _, _ in rows if label.startswith("bare"))
    bare_rss = max(max(r) for label, _, _, r, _ in rows if label.startswith("bare"))
    print()
    print(f"| run | median wall (s) of {options.runs} | min-max wall (s) | peak PSS, tree (MiB) | over bare import | "
          "peak RSS, one process (MiB) | over bare import | peak PSS, one worker's tree (MiB) | over bare import |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, walls, pss, rss, per_worker in rows:
        if options.no_memory:
            print(f"| {label} | {statistics.median(walls):.1f} | {min(walls):.1f}-{max(walls):.1f} | not sampled "
                  "| | | | | |")
            continue
        over = label.startswith("pytest")
        worker = f"{max(per_worker):.0f} | {max(per_worker) - bare_pss:+.0f}" if per_worker else " | "
        print(
            f"| {label} | {statistics.median(walls):.1f} | {min(walls):.1f}-{max(walls):.1f} | {max(pss):.0f} | "
            f"{f'{max(pss) - bare_pss:+.0f}' if over else ''} | {max(rss):.0f} | {f'{max(rss) - bare_rss:+.0f}' if over else ''} | "
            f"{worker} |"
        )


if __name__ == "__main__":
    main()
