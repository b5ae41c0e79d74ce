"""Calibrate the autograder's accuracy tests over many seeds; write autograder/calibration/*.md.

    PYTHONPATH=. python scripts/calibrate.py                 # every part, seeds 0-19, every CPU kernel, 2 processes
    PYTHONPATH=. python scripts/calibrate.py --part 3 --seeds 10 --other-seeds 3 --kernels default avx2 --jobs 1
    PYTHONPATH=. python scripts/calibrate.py --runs runs.jsonl      # resumable: finished runs are kept there

Each accuracy test is declared in its test module as an
:class:`autograder.accuracy.AccuracyTest` (``ACCURACY_TESTS``): this script
finds those objects and calls the same ``measure`` with the same
``threshold`` as the test, so the record cannot drift from the test. The
test uses one fixed seed; here the seed varies, and so do PyTorch's CPU
kernels: the same seed trains a little differently on another CPU, and
``ATEN_CPU_CAPABILITY`` (``default``, ``avx2``, ``avx512`` where this CPU has
it) lets one machine run each of them (``--kernels``, default: all this CPU
offers), so that a verdict that holds in the record holds on Gradescope's
CPU and a student's too.

Per test it runs the solution, the mistakes the test must catch (the
accuracy must fall below the threshold on every seed), and, over fewer
seeds, other mutants and correct variants from ``tests/mutants/`` for
context. Every run uses one thread on the CPU, as Gradescope's grader does.

A full calibration takes about an hour on two cores. With ``--runs FILE``
every finished run is appended to ``FILE`` (JSON lines) and the runs already
there are not run again, so an interrupted calibration resumes where it
stopped. Delete the file when what a test measures changes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
import types
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from autograder.accuracy import AccuracyTest  # noqa: E402  (after the path is set)

SOLUTION = "solution"


def accuracy_tests() -> dict[str, AccuracyTest]:
    """Every accuracy test the autograder declares (``ACCURACY_TESTS`` in its test modules), by part number."""
    import importlib

    tests = {}
    for path in sorted((REPO_ROOT / "autograder").glob("test_part*_*.py")):
        part = path.stem.split("_")[1].removeprefix("part")
        for number, test in enumerate(getattr(importlib.import_module(f"autograder.{path.stem}"), "ACCURACY_TESTS", [])):
            tests[part if number == 0 else f"{part}.{number + 1}"] = test
    return tests


def load(test: AccuracyTest, variant: str) -> types.ModuleType:
    """The solution module, or the mutant or variant of it named ``variant``."""
    from tests.mutants import MUTANTS, VARIANTS

    if variant == SOLUTION:
        source = (REPO_ROOT / "solutions" / f"{test.module}.py").read_text()
    else:
        (edited,) = [e for e in (*MUTANTS, *VARIANTS) if e.name == variant and e.module == test.module]
        source = edited.source()
    module = types.ModuleType(f"calibrated_{test.module}")
    exec(compile(source, f"<{variant}: {test.module}.py>", "exec"), module.__dict__)
    return module


def kernels_offered() -> list[str]:
    """The values of ``ATEN_CPU_CAPABILITY`` this CPU can run, the simplest first."""
    import torch

    best = torch.backends.cpu.get_cpu_capability().lower()
    return ["default", "avx2", "avx512"][: ["default", "avx2", "avx512"].index(best) + 1] if best in ("default", "avx2", "avx512") else [best]


def accuracy(key: str, variant: str, seed: int) -> float:
    """What accuracy test ``key`` measures, with ``variant`` as the student's module and ``seed``, on the CPU."""
    import torch

    from autograder.hidden import reference_training  # the grader's own loop, as on Gradescope

    torch.set_num_threads(1)
    test = accuracy_tests()[key]
    return test.measure(load(test, variant), reference_training, seed, torch.device("cpu"))


def _run(job: tuple[str, str, int, str]) -> tuple[str, str, int, str, float, float]:
    """One run, in a process started with ``ATEN_CPU_CAPABILITY`` set to the job's kernel."""
    import torch

    key, variant, seed, kernel = job
    running = torch.backends.cpu.get_cpu_capability().lower()
    if running != kernel:
        raise RuntimeError(f"asked for the {kernel} kernels, the process runs {running}")
    started = time.perf_counter()
    value = accuracy(key, variant, seed)
    return (*job, value, time.perf_counter() - started)


def row(name: str, kernels: str, values: list[float], limit: float, above: bool) -> str:
    """A summary row; the margin is on the side the variant must be (above or below ``limit``)."""
    low, middle, high = min(values), statistics.median(values), max(values)
    margin = low - limit if above else limit - high
    passing = sum(v >= limit for v in values)
    return (f"| {name} | {kernels} | {len(values)} | {low:.3f} | {middle:.3f} | {high:.3f} | {passing}/{len(values)} "
            f"| {margin * 100:+.1f} |")


def counted(spec: AccuracyTest, values: list[float]) -> float:
    """What the graded test counts from runs at seeds 0, 1, ...: the first run's accuracy, or with retries the best
    of the first ``1 + retries`` runs (the test passes exactly when one of them reaches the threshold)."""
    return max(values[: 1 + spec.retries])


def verdicts_intro(spec: AccuracyTest) -> str:
    counts = (
        "the best of seeds 0 to " f"{spec.retries} (it retries while a run falls short, so it passes exactly when one "
        "of them reaches the threshold)" if spec.retries else "seed 0's run"
    )
    return (
        f"What the test itself counts for each variant, on each kernel: {counts}. A verdict holds on a machine the "
        "record has not seen as long as its margin is larger than the few points by which the kernels move a run; "
        "*expected* is the verdict the variant must get (pass for the solution and the correct variants, fail for "
        "the mistakes this test must catch), *charged elsewhere* marks mistakes that other tests catch."
    )


def verdict_row(name: str, kernel: str, values: list[float], spec: AccuracyTest, must_pass: bool) -> str:
    value = counted(spec, values)
    passed = value >= spec.threshold
    if must_pass or name in spec.must_fail:
        verdict = "pass" if passed else "fail"
        verdict += " (expected)" if passed == must_pass else " (**wrong**)"
    else:
        verdict = ("pass" if passed else "fail") + " (charged elsewhere)"
    margin = value - spec.threshold if passed else spec.threshold - value
    return f"| {name} | {kernel} | {value:.3f} | {verdict} | {margin * 100:+.1f} |"


def verdicts_summary(spec: AccuracyTest, by_kernel: dict[str, dict[str, list[float]]], kernels: list[str],
                     correct: set[str]) -> str:
    """Whether every variant gets one verdict on every kernel, and the counted run nearest the threshold."""
    split = [name for name in by_kernel
             if len({counted(spec, by_kernel[name][kernel]) >= spec.threshold for kernel in kernels}) > 1]
    nearest_name, nearest_kernel = min(
        ((name, kernel) for name in by_kernel for kernel in kernels),
        key=lambda pair: abs(counted(spec, by_kernel[pair[0]][pair[1]]) - spec.threshold),
    )
    nearest = counted(spec, by_kernel[nearest_name][nearest_kernel])
    agreement = (
        f"Every variant gets the same verdict on all {len(kernels)} kernels."
        if not split else f"**The verdict depends on the kernel** for: {', '.join(split)}."
    )
    return (
        f"{agreement} The counted run nearest the threshold: {nearest_name} on {nearest_kernel}, {nearest:.3f} "
        f"({abs(nearest - spec.threshold) * 100:.1f} points away)."
    )


def record(spec: AccuracyTest, by_kernel: dict[str, dict[str, list[float]]], seconds: float, command: str) -> str:
    import torch

    from tests.mutants import VARIANTS

    limit = spec.threshold
    correct = {variant.name for variant in VARIANTS}
    header = ["| variant | kernels | runs | min | median | max | runs at or above | margin (points) |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    kernels = sorted({kernel for runs in by_kernel.values() for kernel in runs}, key=["default", "avx2", "avx512"].index)
    results = {name: [v for kernel in kernels for v in runs.get(kernel, [])] for name, runs in by_kernel.items()}

    def rows(name: str, shown: str, above: bool) -> list[str]:
        """All kernels together, then each kernel on its own."""
        every = row(f"{shown}", ", ".join(kernels), results[name], limit, above)
        return [every, *(row(f"{shown}", kernel, by_kernel[name][kernel], limit, above) for kernel in kernels)]

    solution = results[SOLUTION]
    lines = [
        f"# Calibration: `{spec.test}` ({spec.module}.py)",
        "",
        f"**Threshold {limit:.2f}.** Over every seed and every CPU kernel ({', '.join(kernels)}), the "
        f"solution's worst run is {min(solution):.3f} (margin {(min(solution) - limit) * 100:+.1f} points); the best "
        f"run of the mistakes this test must catch is {max(max(results[m]) for m in spec.must_fail):.3f} "
        f"(margin {(limit - max(max(results[m]) for m in spec.must_fail)) * 100:+.1f} points).",
        "",
        "The solution must pass on every seed and kernel and the mistakes must fail on every seed and kernel; a "
        "margin is the distance, in accuracy points, from the threshold to the nearest run on the wrong side "
        "(positive: every run is on the right side). The test itself runs one fixed seed, on whatever kernel the "
        "grading machine's CPU selects (`ATEN_CPU_CAPABILITY` chooses it here)"
        + (f"; when that run falls short it runs again at the next seed ({spec.retries} more at most), and the best "
           "run counts: the rows are single runs, so a margin that holds for every run holds for the best of them."
           if spec.retries else "."),
        "",
        *([ "## Why this threshold", "", spec.note, ""] if spec.note else []),
        "## Must pass, and must fail",
        "",
        *header,
        *rows(SOLUTION, SOLUTION, above=True),
        *(line for name in spec.must_fail for line in rows(name, name, above=False)),
        "",
        "## For context",
        "",
        "Other mistakes, caught by their own tests (`caught_by` in `tests/mutants/`), and correct solutions "
        "written differently (the `VARIANTS` of `tests/mutants/`, marked *correct*, which must keep full marks "
        "and whose margin reads as the solution's).",
        "",
        *header,
        *(
            line
            for name in spec.context
            for line in rows(name, f"{name} (*correct*)" if name in correct else name, above=name in correct)
        ),
        "",
        "## The verdicts the test gives",
        "",
        verdicts_intro(spec),
        "",
        "| variant | kernel | counted | verdict | margin (points) |",
        "|---|---|---:|---|---:|",
        *(
            verdict_row(name, kernel, by_kernel[name][kernel], spec, must_pass=name == SOLUTION or name in correct)
            for name in by_kernel
            for kernel in kernels
        ),
        "",
        verdicts_summary(spec, by_kernel, kernels, correct),
        "",
        "## Accuracy per seed",
        "",
        "| variant | kernel | accuracies, seed 0 first |",
        "|---|---|---|",
        *(
            f"| {name} | {kernel} | {', '.join(f'{v:.3f}' for v in by_kernel[name][kernel])} |"
            for name in by_kernel
            for kernel in kernels
        ),
        "",
        "## How this was measured",
        "",
        f"- Command: `{command}` ({seconds / 60:.0f} minutes of processes).",
        f"- Machine: {os.cpu_count()} cores, {platform.machine()}, one thread a run on the CPU; "
        f"torch {torch.__version__}, Python {platform.python_version()}; {datetime.date.today().isoformat()}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    tests = accuracy_tests()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=sorted(tests), action="append", help="default: every accuracy test")
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0..N-1 for the solution and the must-fail mistakes")
    parser.add_argument("--other-seeds", type=int, default=5, help="seeds 0..N-1 for the context rows")
    parser.add_argument("--kernels", nargs="+", help="ATEN_CPU_CAPABILITY values (default: every one this CPU offers)")
    parser.add_argument("--jobs", type=int, default=2, help="processes side by side, one thread each")
    parser.add_argument("--runs", type=Path, help="JSON lines of finished runs: read, not run again, and appended to")
    options = parser.parse_args()
    finished: dict[tuple, tuple[float, float]] = {}
    if options.runs and options.runs.exists():
        for line in options.runs.read_text().splitlines():
            run = json.loads(line)
            finished[(run["part"], run["variant"], run["seed"], run["kernel"])] = (run["accuracy"], run["seconds"])
    keys = options.part or sorted(tests)
    kernels = options.kernels or kernels_offered()
    os.environ["TQDM_DISABLE"] = "1"  # read by tqdm when the worker processes import it
    results: dict[str, dict[str, dict[str, list[float]]]] = {key: {} for key in keys}
    seconds = {key: 0.0 for key in keys}
    for kernel in kernels:
        jobs = [
            (key, variant, seed, kernel)
            for key in keys
            for variant, seeds in [
                (SOLUTION, options.seeds),
                *((m, options.seeds) for m in tests[key].must_fail),
                *((c, options.other_seeds) for c in tests[key].context),
            ]
            for seed in range(seeds)
        ]
        os.environ["ATEN_CPU_CAPABILITY"] = kernel  # read by torch when each spawned worker imports it
        with ProcessPoolExecutor(max_workers=options.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            ran = pool.map(_run, [job for job in jobs if job not in finished])
            for done, job in enumerate(jobs, start=1):
                key, variant, seed, _ = job
                if job in finished:
                    value, took = finished[job]
                else:
                    *_, value, took = next(ran)
                    if options.runs:
                        with options.runs.open("a") as runs:
                            runs.write(json.dumps({"part": key, "variant": variant, "seed": seed, "kernel": kernel,
                                                   "accuracy": value, "seconds": took}) + "\n")
                results[key].setdefault(variant, {}).setdefault(kernel, []).append(value)
                seconds[key] += took
                print(f"[{kernel} {done}/{len(jobs)}] part {key} {variant!r} seed {seed}: {value:.3f} ({took:.1f} s)", flush=True)
    for key in keys:
        command = (
            f"PYTHONPATH=. python scripts/calibrate.py --part {key} --seeds {options.seeds} "
            f"--other-seeds {options.other_seeds} --kernels {' '.join(kernels)} --jobs {options.jobs}"
        )
        path = REPO_ROOT / "autograder" / "calibration" / tests[key].record
        path.write_text(record(tests[key], results[key], seconds[key], command))
        print(f"wrote {path.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
