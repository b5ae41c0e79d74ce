"""Calibrate the autograder's accuracy tests over many seeds.

For each accuracy test this runs what the test runs, with the settings
imported from the test module (epochs, learning rate, schedule, threshold) and
from ``autograder.reference`` (batch sizes, the training loop, the accuracy),
so the calibration cannot drift from the test. Only the seed varies: the
test fixes it (``torch.manual_seed`` before the model is built, and the seed
of the shuffling loader / of ``reference.train``); here it takes each value
of ``--seeds``.

It runs the solution and the mutants of ``tests/mutants.py`` that bear on
accuracy, and writes a markdown record per part into
``autograder/calibration/``: per-seed accuracies, min / median / max, the
threshold and the margins (reference min - threshold; threshold - mutant max).

Before the sweep, the real test function runs once on the solution at the
test's own seed, with ``reference.accuracy`` wrapped to record its value; the
script checks that its own run at that seed gives the same accuracy.

Usage (from the repository root)::

    PYTHONPATH=. .venv/bin/python scripts/calibrate.py                    # both parts, seeds 0-19, 2 processes
    PYTHONPATH=. .venv/bin/python scripts/calibrate.py --part 1 --seeds 0-9 --jobs 1 --no-write

Every run uses one thread (``torch.set_num_threads(1)``); ``--jobs`` runs
that many processes side by side.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import importlib.util
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

SOLUTION = "solution"


@dataclass(frozen=True)
class Part:
    number: int
    module: str  # the student module the test exercises: network or training
    test_module: str
    test_name: str
    record: str  # file under autograder/calibration/
    # Mutants the accuracy test should fail: the mistakes its failure message names as likely
    # (each also has, in tests/mutants.py, a cheaper test meant to catch it: see caught_by).
    targeted: tuple[str, ...]
    informative: tuple[str, ...]  # other mutants that change training, recorded but not required to fail


PARTS = {
    1: Part(
        1,
        "network",
        "autograder.test_part1_network",
        "test_trained_network_reaches_accuracy_threshold",
        "part1_network.md",
        ("softmax in forward", "features detached from the gradient"),
        # Measured: without any ReLU the network still reaches about 95% on these digits, and dropout left
        # on at evaluation costs nothing measurable; only their own structural tests can catch them.
        ("no relu at all", "dropout on in eval mode"),
    ),
    2: Part(
        2,
        "training",
        "autograder.test_part2_training",
        "test_fit_trains_the_grader_model_to_accuracy_threshold",
        "part2_training.md",
        ("zero_grad missing", "scheduler stepped every batch", "optimizer step missing", "zero_grad between backward and step"),
        ("scheduler never stepped",),
    ),
}


def test_module(part: Part) -> ModuleType:
    return importlib.import_module(part.test_module)


def threshold_of(part: Part) -> float:
    tests = test_module(part)
    return tests.ACCURACY_THRESHOLD if part.number == 1 else tests.FIT_ACCURACY_THRESHOLD


def settings_of(part: Part) -> str:
    """The test's settings, as read from the test module, for the record."""
    from autograder import reference

    tests = test_module(part)
    if part.number == 1:
        return (
            f"`reference.train`: AdamW lr {reference.LEARNING_RATE}, batch {reference.BATCH_SIZE}, "
            f"`ACCURACY_EPOCHS` = {tests.ACCURACY_EPOCHS}; test seed `ACCURACY_SEED` = {tests.ACCURACY_SEED}"
        )
    return (
        f"student's `fit` on `reference.SmallCNN`, `make_optimizer(lr=FIT_LR={tests.FIT_LR})`, "
        f"`make_scheduler(step_size={tests.FIT_STEP_SIZE}, gamma={tests.FIT_GAMMA})`, "
        f"`FIT_EPOCHS` = {tests.FIT_EPOCHS}, batch {reference.BATCH_SIZE}; test seed `FIT_SEED` = {tests.FIT_SEED}"
    )


# ---------------------------------------------------------------- loading the variants

_loaded: dict[tuple[str, str], ModuleType] = {}


def variant_source(part: Part, variant: str) -> str:
    if variant == SOLUTION:
        return (REPO_ROOT / "solutions" / f"{part.module}.py").read_text()
    from tests.mutants import MUTANTS

    matches = [m for m in MUTANTS if m.name == variant]
    if len(matches) != 1 or matches[0].module != part.module:
        raise SystemExit(f"no mutant of {part.module}.py named {variant!r} in tests/mutants.py")
    return matches[0].source()


def load_variant(part: Part, variant: str) -> ModuleType:
    """The solution module, or a mutant of it, loaded from a file under a private name."""
    key = (part.module, variant)
    if key not in _loaded:
        folder = Path(tempfile.mkdtemp(prefix="calibrate-"))
        path = folder / f"{part.module}.py"
        path.write_text(variant_source(part, variant))
        name = f"calibrate_{part.module}_{len(_loaded)}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        _loaded[key] = module
    return _loaded[key]


class ShimSubmission:
    """Stands in for the autograder's ``submission`` fixture: ``get("module.attribute")``."""

    def __init__(self, part: Part, variant: str):
        self.part, self.variant = part, variant

    def get(self, dotted: str):
        module_name, _, attribute = dotted.partition(".")
        assert module_name == self.part.module, dotted
        return getattr(load_variant(self.part, self.variant), attribute)


# ---------------------------------------------------------------- one run: what the test runs, at ``seed``


def run_once(part_number: int, variant: str, seed: int) -> float:
    import torch
    from torch import nn

    from autograder import reference
    from dlcv.data import make_loader, mnist_split
    from dlcv.device import pick_device

    part = PARTS[part_number]
    tests = test_module(part)
    student = ShimSubmission(part, variant)
    device = pick_device()
    if part.number == 1:
        # test_trained_network_reaches_accuracy_threshold: build() seeds 0, reference.train gets ACCURACY_SEED.
        torch.manual_seed(seed)
        model = student.get("network.Network")()
        train_split, _ = mnist_split()
        reference.train(model, train_split, epochs=tests.ACCURACY_EPOCHS, seed=seed, device=device)
    else:
        # test_fit_trains_the_grader_model_to_accuracy_threshold, with FIT_SEED replaced by seed.
        torch.manual_seed(seed)
        model = reference.SmallCNN().to(device)
        train_split, test_split = mnist_split()
        optimizer = student.get("training.make_optimizer")(model, lr=tests.FIT_LR)
        scheduler = student.get("training.make_scheduler")(optimizer, step_size=tests.FIT_STEP_SIZE, gamma=tests.FIT_GAMMA)
        student.get("training.fit")(
            model,
            make_loader(train_split, reference.BATCH_SIZE, shuffle=True, seed=seed),
            make_loader(test_split, reference.EVAL_BATCH_SIZE),
            nn.CrossEntropyLoss(),
            optimizer,
            scheduler,
            tests.FIT_EPOCHS,
            device,
        )
    return reference.accuracy(model, reference.mnist_test_loader(), device)


def run_the_test_itself(part_number: int) -> tuple[int, float, str]:
    """Run the real test function on the solution; return its seed, the accuracy it measured, its verdict."""
    from autograder import reference

    part = PARTS[part_number]
    tests = test_module(part)
    seen: list[float] = []
    original = reference.accuracy

    def recording(*args, **kwargs):
        seen.append(original(*args, **kwargs))
        return seen[-1]

    reference.accuracy = recording
    try:
        getattr(tests, part.test_name)(ShimSubmission(part, SOLUTION))
        verdict = "passed"
    except BaseException as error:  # pytest.fail raises an Exception subclass of BaseException
        verdict = f"failed: {error}"
    finally:
        reference.accuracy = original
    seed = tests.ACCURACY_SEED if part.number == 1 else tests.FIT_SEED
    return seed, seen[-1], verdict


def _init_worker() -> None:
    os.environ["TQDM_DISABLE"] = "1"
    import torch

    torch.set_num_threads(1)


def _job(args: tuple[int, str, int]) -> tuple[int, str, int, float, float]:
    part_number, variant, seed = args
    start = time.perf_counter()
    accuracy = run_once(part_number, variant, seed)
    return part_number, variant, seed, accuracy, time.perf_counter() - start


# ---------------------------------------------------------------- the record


def fmt(value: float) -> str:
    return f"{value:.3f}"


def points(value: float) -> str:
    return f"{value * 100:+.1f}"


def render(
    part: Part,
    seeds: list[int],
    results: dict[tuple[str, int], float],
    seconds: dict[str, float],
    check: tuple[int, float, str, float],
    command: str,
    recommended: float | None,
    note: str = "",
) -> str:
    import torch

    threshold = threshold_of(part)
    variants = [SOLUTION, *part.targeted, *part.informative]
    stats = {}
    for variant in variants:
        values = [results[(variant, seed)] for seed in seeds]
        stats[variant] = (min(values), statistics.median(values), max(values))
    ref_min = stats[SOLUTION][0]
    targeted_max = max(stats[v][2] for v in part.targeted)
    proposal = recommended if recommended is not None else threshold

    lines = [f"# Calibration: {part.test_module.rsplit('.', 1)[1]}.py::{part.test_name}", ""]
    if recommended is not None and recommended != threshold:
        lines += [
            f"**Recommended threshold: {recommended:.2f}** (the test currently uses {threshold:.2f}). "
            f"Margins (positive = on the right side) with {recommended:.2f}: reference {points(ref_min - recommended)} points, "
            f"best targeted mutant {points(recommended - targeted_max)}; "
            f"with {threshold:.2f}: {points(ref_min - threshold)} and {points(threshold - targeted_max)}.",
            "",
        ]
    else:
        lines += [
            f"**Threshold {threshold:.2f} (as in the test) is kept.** Margins (positive = on the right side): "
            f"reference {points(ref_min - threshold)} points, best targeted mutant {points(threshold - targeted_max)}.",
            "",
        ]
    if note:
        lines += [note, ""]
    check_seed, check_accuracy, verdict, own = check
    lines += [
        f"- Test settings (read from `{part.test_module}` and `autograder.reference`): {settings_of(part)}.",
        f"- Threshold in the test: {threshold:.2f}" + (f"; recommended: {recommended:.2f}." if recommended is not None and recommended != threshold else "."),
        f"- Seeds: {seeds[0]}-{seeds[-1]} ({len(seeds)}); the seed replaces the test's fixed seed in `torch.manual_seed` "
        "before the model is built and in the training loader's shuffling.",
        f"- Cross-check: the test function itself, run on the solution at its seed {check_seed}, measured "
        f"{fmt(check_accuracy)} ({verdict}); this script at seed {check_seed}: {fmt(own)}"
        + (" (same)." if abs(check_accuracy - own) < 1e-12 else " (**differs**)."),
        f"- Machine: {os.cpu_count()}-core {platform.machine()} CPU ({_cpu_name()}), one thread per run, "
        f"torch {torch.__version__}, Python {platform.python_version()}.",
        f"- Date: {datetime.date.today().isoformat()}.",
        f"- Reproduce: `{command}`",
        "",
        "## Summary",
        "",
        "Margin: reference min - threshold for the reference; threshold - max for a mutant (positive = separated). "
        f"Columns for the recommended threshold {proposal:.2f} are shown when it differs from the test's.",
        "",
    ]
    header = "| variant | should fail this test; test meant for it | min | median | max | runs passing | margin (points) |"
    rule = "|---|---|---|---|---|---|---|"
    if proposal != threshold:
        header += f" passing at {proposal:.2f} | margin at {proposal:.2f} |"
        rule += "---|---|"
    lines += [header, rule]
    for variant in variants:
        low, middle, high = stats[variant]
        values = [results[(variant, seed)] for seed in seeds]
        role = "reference" if variant == SOLUTION else (
            ("yes" if variant in part.targeted else "no") + f"; caught by `{_caught_by(variant)}`"
        )
        margin = (low - threshold) if variant == SOLUTION else (threshold - high)
        row = (
            f"| {variant} | {role} | {fmt(low)} | {fmt(middle)} | {fmt(high)} | "
            f"{sum(v >= threshold for v in values)}/{len(values)} | {points(margin)} |"
        )
        if proposal != threshold:
            margin = (low - proposal) if variant == SOLUTION else (proposal - high)
            row += f" {sum(v >= proposal for v in values)}/{len(values)} | {points(margin)} |"
        lines.append(row)
    lines += ["", "## Accuracy per seed", "", "| seed | " + " | ".join(variants) + " |", "|---|" + "---|" * len(variants)]
    for seed in seeds:
        lines.append(f"| {seed} | " + " | ".join(fmt(results[(v, seed)]) for v in variants) + " |")
    lines += [
        "",
        "Mean seconds per run (one thread): " + ", ".join(f"{v} {seconds[v]:.1f}" for v in variants) + ".",
        "",
    ]
    return "\n".join(lines)


def _caught_by(variant: str) -> str:
    from tests.mutants import MUTANTS

    return next(m.caught_by for m in MUTANTS if m.name == variant)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def sweep(parts: list[Part], seeds: list[int], jobs: int):
    """Run the test itself once per part, then every (variant, seed) of every part."""
    checks = {}
    for part in parts:
        checks[part.number] = run_the_test_itself(part.number)
        print(f"part {part.number}: the test itself at seed {checks[part.number][0]}: "
              f"{checks[part.number][1]:.3f}, {checks[part.number][2]}", flush=True)

    work = [(p.number, v, s) for p in parts for v in (SOLUTION, *p.targeted, *p.informative) for s in seeds]
    results: dict[int, dict[tuple[str, int], float]] = {p.number: {} for p in parts}
    timings: dict[int, dict[str, list[float]]] = {p.number: {} for p in parts}
    started = time.perf_counter()
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
    ) as pool:
        for done, (number, variant, seed, accuracy, seconds) in enumerate(pool.map(_job, work), start=1):
            results[number][(variant, seed)] = accuracy
            timings[number].setdefault(variant, []).append(seconds)
            print(f"[{done}/{len(work)} {time.perf_counter() - started:.0f}s] part {number} {variant!r} seed {seed}: {accuracy:.3f} ({seconds:.1f}s)", flush=True)
    return checks, results, timings


def parse_seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for piece in text.split(","):
        if "-" in piece:
            first, last = piece.split("-")
            seeds.extend(range(int(first), int(last) + 1))
        else:
            seeds.append(int(piece))
    return seeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", type=int, choices=sorted(PARTS), action="append", help="part to calibrate (repeatable; default all)")
    parser.add_argument("--seeds", default="0-19", help="seeds, e.g. 0-19 or 0,3,5 (default 0-19)")
    parser.add_argument("--jobs", type=int, default=2, help="processes side by side, one thread each (default 2)")
    parser.add_argument("--recommend", action="append", default=[], metavar="PART=THRESHOLD",
                        help="write a recommended threshold into the record, e.g. --recommend 1=0.92")
    parser.add_argument("--note", action="append", default=[], metavar="PART=TEXT",
                        help="a paragraph placed at the top of the part's record (the reasoning behind a recommendation)")
    parser.add_argument("--save", type=Path, help="also save the raw accuracies and timings as JSON here")
    parser.add_argument("--load", type=Path, help="render the records from a --save file instead of training again")
    parser.add_argument("--no-write", action="store_true", help="print the records instead of writing them")
    options = parser.parse_args()
    parts = [PARTS[n] for n in (options.part or sorted(PARTS))]
    seeds = parse_seeds(options.seeds)
    recommended = {int(k): float(v) for k, v in (item.split("=") for item in options.recommend)}
    notes = {int(k): v for k, v in (item.split("=", 1) for item in options.note)}
    command = "PYTHONPATH=. .venv/bin/python scripts/calibrate.py " + " ".join(
        [f"--part {p.number}" for p in parts] + [f"--seeds {options.seeds}", f"--jobs {options.jobs}"]
        + [f"--recommend {item}" for item in options.recommend]
    )

    _init_worker()
    if options.load:
        saved = json.loads(options.load.read_text())
        command = saved["command"] + "".join(f" --recommend {item}" for item in options.recommend)
        seeds = saved["seeds"]
        checks = {int(n): tuple(c) for n, c in saved["checks"].items()}
        results = {p.number: {(v, s): a for n, v, s, a in saved["results"] if n == p.number} for p in parts}
        timings = {p.number: {} for p in parts}
        for n, v, t in saved["timings"]:
            if n in timings:
                timings[n].setdefault(v, []).append(t)
    else:
        checks, results, timings = sweep(parts, seeds, options.jobs)
        if options.save:
            options.save.write_text(json.dumps({
                "command": command,
                "seeds": seeds,
                "checks": checks,
                "results": [[n, v, s, a] for n, r in results.items() for (v, s), a in r.items()],
                "timings": [[n, v, t] for n, r in timings.items() for v, ts in r.items() for t in ts],
            }))

    for part in parts:
        check_seed, check_accuracy, verdict = checks[part.number]
        own = results[part.number].get((SOLUTION, check_seed))
        if own is None:
            own = run_once(part.number, SOLUTION, check_seed)
        text = render(
            part,
            seeds,
            results[part.number],
            {v: statistics.mean(t) for v, t in timings[part.number].items()},
            (check_seed, check_accuracy, verdict, own),
            command,
            recommended.get(part.number),
            notes.get(part.number, ""),
        )
        if abs(check_accuracy - own) > 1e-12:
            print(f"WARNING part {part.number}: the test measured {check_accuracy:.4f}, this script {own:.4f} at seed {check_seed}")
        if options.no_write:
            print(text)
        else:
            path = REPO_ROOT / "autograder" / "calibration" / part.record
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
