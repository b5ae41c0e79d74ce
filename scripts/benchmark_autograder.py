"""Time the autograder on the solutions, on one CPU core and on all of them, and measure its peak memory.

Runs ``python -m pytest FILES --target solutions -p no:cacheprovider -q``
``--runs`` times pinned to core 0 (``taskset -c 0``, Gradescope's default
machine has at most one) and ``--runs`` times unpinned, and reports the
median wall time of each. Peak memory is the maximum resident set size of the
pytest process (``/usr/bin/time -v`` where present, else
``resource.getrusage(RUSAGE_CHILDREN)``), shown beside that of a bare
``python -c "import torch, torchvision"`` measured the same way: the
difference is what the tests themselves add.

Nothing is written into the repository (no pytest cache, no ``__pycache__``).

Usage (from the repository root)::

    PYTHONPATH=. .venv/bin/python scripts/benchmark_autograder.py                      # all autograder/test_part*.py
    PYTHONPATH=. .venv/bin/python scripts/benchmark_autograder.py autograder/test_part1_network.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TIME = "/usr/bin/time"
BARE = [sys.executable, "-c", "import torch, torchvision"]


def measure(command: list[str], pin: bool) -> tuple[float, float, int, str]:
    """Run ``command`` once; return (wall seconds, peak RSS in MiB, exit status, output tail)."""
    prefix = ["taskset", "-c", "0"] if pin else []
    environment = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(REPO_ROOT))
    with tempfile.TemporaryDirectory(prefix="benchmark-") as scratch:
        report = Path(scratch) / "time.txt"
        use_time = Path(TIME).is_file()
        wrapped = [TIME, "-v", "-o", str(report), *command] if use_time else command
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        done = subprocess.run(prefix + wrapped, cwd=REPO_ROOT, env=environment, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if use_time:
            match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read_text())
            peak_kib = int(match.group(1))
        else:
            # ru_maxrss of children is the largest child so far (KiB on Linux): valid if this child is the largest.
            peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            if peak_kib == before:
                print("warning: RUSAGE_CHILDREN did not grow; the peak shown is an earlier child's", file=sys.stderr)
    tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or [""]
    return wall, peak_kib / 1024, done.returncode, tail[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="test files (default: every autograder/test_part*.py)")
    parser.add_argument("--runs", type=int, default=3, help="runs per setting (default 3)")
    parser.add_argument("--target", default="solutions", help="the --target to grade (default solutions)")
    options = parser.parse_args()
    files = options.files or sorted(str(p.relative_to(REPO_ROOT)) for p in REPO_ROOT.glob("autograder/test_part*.py"))
    pytest_command = [sys.executable, "-m", "pytest", *files, "--target", options.target, "-p", "no:cacheprovider", "-q"]
    if not shutil.which("taskset"):
        raise SystemExit("taskset not found (util-linux): cannot pin to one core")

    import torch

    print(f"files: {' '.join(files)}")
    print(f"machine: {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}, torch {torch.__version__}")
    print(f"command: {' '.join(pytest_command[1:])} (under taskset -c 0, and unpinned)")

    rows = []
    for label, command, pin in (
        ("pytest, 1 core", pytest_command, True),
        (f"pytest, {os.cpu_count()} cores", pytest_command, False),
        ("bare import, 1 core", BARE, True),
        (f"bare import, {os.cpu_count()} cores", BARE, False),
    ):
        walls, peaks = [], []
        for run in range(1, options.runs + 1):
            wall, peak, status, tail = measure(command, pin)
            walls.append(wall)
            peaks.append(peak)
            print(f"  {label} run {run}: {wall:.1f} s, peak RSS {peak:.0f} MiB, exit {status}: {tail}", flush=True)
            if status != 0:
                print(f"warning: {label} exited with status {status}", file=sys.stderr)
        rows.append((label, walls, peaks))

    bare_peak = max(max(peaks) for label, _, peaks in rows if label.startswith("bare"))
    print()
    print(f"| run | median wall (s) of {options.runs} | min-max wall (s) | peak RSS (MiB) | over bare import (MiB) |")
    print("|---|---|---|---|---|")
    for label, walls, peaks in rows:
        over = f"{max(peaks) - bare_peak:+.0f}" if label.startswith("pytest") else ""
        print(
            f"| {label} | {statistics.median(walls):.1f} | {min(walls):.1f}-{max(walls):.1f} | {max(peaks):.0f} | {over} |"
        )


if __name__ == "__main__":
    main()
