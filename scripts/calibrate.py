"""Calibrate the autograder's accuracy tests over many seeds; write autograder/calibration/*.md.

    PYTHONPATH=. python scripts/calibrate.py                 # every part, seeds 0-19, 2 processes
    PYTHONPATH=. python scripts/calibrate.py --part 3 --seeds 10 --other-seeds 3 --jobs 1

Each accuracy test computes its accuracy with one function that this script
calls too (``reference.network_accuracy``, ``reference.fit_accuracy``,
``shifted_digits.accuracy_after_training``), and reads its threshold from the
test module, so the record cannot drift from the test. Only the seed varies:
the test uses one fixed seed, and here each of ``--seeds`` stands in for
everything else that moves the result a little (thread count, CPU, GPU).

Per test it runs the solution, the mistakes the test must catch (the
accuracy must fall below the threshold on every seed), and, over fewer
seeds, other mutants and correct variants from ``tests/mutants.py`` for
context. Every run uses one thread on the CPU, as Gradescope's grader does.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import platform
import statistics
import sys
import time
import types
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

SOLUTION = "solution"


@dataclass(frozen=True)
class AccuracyTest:
    test: str  # file::name of the autograder test
    module: str  # the student module it grades
    record: str  # file written under autograder/calibration/
    must_fail: tuple[str, ...]  # mutants whose accuracy must fall below the threshold
    context: tuple[str, ...]  # other mutants and correct variants, recorded over fewer seeds


TESTS = {
    1: AccuracyTest(
        "test_part1_network.py::test_trained_network_reaches_accuracy_threshold",
        "network",
        "part1_network.md",
        ("features detached from the gradient",),
        ("softmax in forward", "no relu at all", "dropout on in eval mode", "functional relu and dropout in forward"),
    ),
    2: AccuracyTest(
        "test_part2_training.py::test_fit_trains_the_grader_model_to_accuracy_threshold",
        "training",
        "part2_training.md",
        ("zero_grad missing", "scheduler stepped every batch", "optimizer step missing"),
        ("zero_grad between backward and step", "scheduler never stepped",
         "mean over batches, model.zero_grad, inference_mode, dataset length"),
    ),
    3: AccuracyTest(
        "test_part3_augmentation.py::test_augmentation_helps_on_shifted_digits",
        "augmentation",
        "part3_augmentation.md",
        ("train transform without augmentation", "colour casting only"),
        ("shifts only, by a padded random crop", "rotation and shifts without colour casting",
         "horizontal flip", "vertical flip", "the lecture's flips and quarter turns", "rotations up to 180 degrees",
         "colour jitter so strong the digit vanishes"),
    ),
}


def threshold(part: int) -> float:
    if part == 1:
        from autograder.test_part1_network import ACCURACY_THRESHOLD

        return ACCURACY_THRESHOLD
    if part == 2:
        from autograder.test_part2_training import FIT_ACCURACY_THRESHOLD

        return FIT_ACCURACY_THRESHOLD
    from autograder.shifted_digits import THRESHOLD

    return THRESHOLD


def load(part: int, variant: str) -> types.ModuleType:
    """The solution module, or the mutant or variant of it named ``variant``."""
    from tests.mutants import MUTANTS, VARIANTS

    module_name = TESTS[part].module
    if variant == SOLUTION:
        source = (REPO_ROOT / "solutions" / f"{module_name}.py").read_text()
    else:
        (edited,) = [e for e in (*MUTANTS, *VARIANTS) if e.name == variant and e.module == module_name]
        source = edited.source()
    module = types.ModuleType(f"calibrated_{module_name}")
    exec(compile(source, f"<{variant}: {module_name}.py>", "exec"), module.__dict__)
    return module


def accuracy(part: int, variant: str, seed: int) -> float:
    """What the part's accuracy test measures, with ``variant`` as the student's module and ``seed``."""
    import torch

    from autograder import reference, shifted_digits

    torch.set_num_threads(1)
    student = load(part, variant)
    cpu = torch.device("cpu")
    if part == 1:
        return reference.network_accuracy(student.Network, seed, cpu)
    if part == 2:
        return reference.fit_accuracy(student.make_optimizer, student.make_scheduler, student.fit, seed, cpu)
    return shifted_digits.accuracy_after_training(student.train_transform(64), seed, cpu)


def _run(job: tuple[int, str, int]) -> tuple[int, str, int, float, float]:
    started = time.perf_counter()
    value = accuracy(*job)
    return (*job, value, time.perf_counter() - started)


def row(name: str, values: list[float], limit: float, above: bool) -> str:
    """A summary row; the margin is on the side the variant must be (above or below ``limit``)."""
    low, middle, high = min(values), statistics.median(values), max(values)
    margin = low - limit if above else limit - high
    passing = sum(v >= limit for v in values)
    return f"| {name} | {len(values)} | {low:.3f} | {middle:.3f} | {high:.3f} | {passing}/{len(values)} | {margin * 100:+.1f} |"


def record(part: int, results: dict[str, list[float]], seconds: float, command: str) -> str:
    import torch

    from tests.mutants import VARIANTS

    spec, limit = TESTS[part], threshold(part)
    correct = {variant.name for variant in VARIANTS}
    header = ["| variant | seeds | min | median | max | runs at or above | margin (points) |", "|---|---:|---:|---:|---:|---:|---:|"]
    solution = results[SOLUTION]
    lines = [
        f"# Calibration: `{spec.test}`",
        "",
        f"**Threshold {limit:.2f}.** The solution's worst seed is {min(solution):.3f} "
        f"(margin {(min(solution) - limit) * 100:+.1f} points); the best seed of the mistakes this test must catch "
        f"is {max(max(results[m]) for m in spec.must_fail):.3f} "
        f"(margin {(limit - max(max(results[m]) for m in spec.must_fail)) * 100:+.1f} points).",
        "",
        "The solution must pass on every seed and the mistakes must fail on every seed; a margin is the distance, "
        "in accuracy points, from the threshold to the nearest run on the wrong side (positive: every run is on "
        "the right side). The test itself runs one fixed seed.",
        "",
        "## Must pass, and must fail",
        "",
        *header,
        row(SOLUTION, solution, limit, above=True),
        *(row(name, results[name], limit, above=False) for name in spec.must_fail),
        "",
        "## For context",
        "",
        "Other mistakes, caught by their own tests (`caught_by` in `tests/mutants.py`), and correct solutions "
        "written differently (the `VARIANTS` of `tests/mutants.py`, marked *correct*, which must keep full marks "
        "and whose margin reads as the solution's).",
        "",
        *header,
        *(
            row(f"{name} (*correct*)" if name in correct else name, results[name], limit, above=name in correct)
            for name in spec.context
        ),
        "",
        "## Accuracy per seed",
        "",
        "| variant | accuracies, seed 0 first |",
        "|---|---|",
        *(f"| {name} | {', '.join(f'{v:.3f}' for v in values)} |" for name, values in results.items()),
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", type=int, choices=sorted(TESTS), action="append", help="default: every part")
    parser.add_argument("--seeds", type=int, default=20, help="seeds 0..N-1 for the solution and the must-fail mistakes")
    parser.add_argument("--other-seeds", type=int, default=5, help="seeds 0..N-1 for the context rows")
    parser.add_argument("--jobs", type=int, default=2, help="processes side by side, one thread each")
    options = parser.parse_args()
    parts = options.part or sorted(TESTS)
    jobs = [
        (part, variant, seed)
        for part in parts
        for variant, seeds in [
            (SOLUTION, options.seeds),
            *((m, options.seeds) for m in TESTS[part].must_fail),
            *((c, options.other_seeds) for c in TESTS[part].context),
        ]
        for seed in range(seeds)
    ]
    os.environ["TQDM_DISABLE"] = "1"  # read by tqdm when the worker processes import it
    results: dict[int, dict[str, list[float]]] = {part: {} for part in parts}
    seconds = {part: 0.0 for part in parts}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=options.jobs, mp_context=context) as pool:
        for done, (part, variant, seed, value, took) in enumerate(pool.map(_run, jobs), start=1):
            results[part].setdefault(variant, []).append(value)
            seconds[part] += took
            print(f"[{done}/{len(jobs)}] part {part} {variant!r} seed {seed}: {value:.3f} ({took:.1f} s)", flush=True)
    for part in parts:
        command = (
            f"PYTHONPATH=. python scripts/calibrate.py --part {part} --seeds {options.seeds} "
            f"--other-seeds {options.other_seeds} --jobs {options.jobs}"
        )
        path = REPO_ROOT / "autograder" / "calibration" / TESTS[part].record
        path.write_text(record(part, results[part], seconds[part], command))
        print(f"wrote {path.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
