"""Learning curves of transfer learning on digits 5-9: from scratch, linear probe, fine-tuning.

    python -m dlcv.transfer_curves --target solutions --output experiments/transfer_curves

For 1, 5, 20 and 100 training examples per class and the whole split (400
per class) of the target task (:func:`dlcv.digit_tasks.target_task`), and
for each of ``--seeds`` seeds, three networks are trained and measured on
the 500 test digits 5-9 (see :mod:`dlcv.adaptation`):

- *from scratch*: a freshly initialised backbone, every layer at ``lr``;
- *linear probe*: your ``linear_probe`` on the pretrained backbone, at ``lr``;
- *fine-tune*: your ``replace_head``, ``fine_tune_optimizer`` (head at
  ``lr``, encoder 10x slower) and ``warm_start`` (the first fifth of the
  epochs train the head alone).

Every run takes the same number of optimizer steps (``--steps``) in batches
of up to ``BATCH_SIZE``, so a small training set is seen for many epochs.
The training sets are fixed (the first examples of each digit), so the
seeds vary the initialisation and the order of the batches only.

Writes into ``--output``: ``curves.png`` (test error against examples per
class, log-log, mean over seeds with the min-max range, beside Hoiem et
al.'s ImageNet-to-CIFAR-100 curves for comparison), ``results.csv`` (one row
per run) and ``results.md`` (a table of the means). Every run trains through
the target's Part 2 (``make_optimizer``, ``train_one_epoch``) and is measured by its ``evaluate``.
``--target`` is a folder with ``transfer.py`` and ``training.py``:
``assignment`` (your code, the default),
``solutions``, or any path. The plot needs matplotlib
(``pip install -e ".[experiments]"``).
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from pathlib import Path

import torch
from tqdm.auto import tqdm

from dlcv.adaptation import Budget, fine_tune_accuracy, probe_accuracy, scratch_accuracy
from dlcv.device import pick_device
from dlcv.digit_tasks import NUM_TASK_CLASSES, SHOTS
from dlcv.student_module import load_student_module

METHODS = ("linear probe", "fine-tune", "from scratch")  # your code first: a TODO stops the run at once
STEPS = 300
BATCH_SIZE = 50
LR = 3e-3
ALL_PER_CLASS = 400  # what shots=None means

# Hoiem et al., "Learning Curves for Analysis of Deep Networks" (ICML 2021): ImageNet-pretrained
# ResNet-18 on CIFAR-100, test error (%) at 25, 50, 100, 200 and 400 training examples per class.
HOIEM_PER_CLASS = (25, 50, 100, 200, 400)
HOIEM_ERROR = {
    "fine-tune": (44.7, 32.3, 26.4, 22.1, 18.9),
    "linear probe": (45.6, 40.9, 37.5, 34.6, 32.4),
    "from scratch": (74.7, 58.4, 44.6, 35.3, 27.9),
}
COLOURS = {"from scratch": "tab:red", "linear probe": "tab:blue", "fine-tune": "tab:green"}


def per_class(shots: int | None) -> int:
    return ALL_PER_CLASS if shots is None else shots


def curve_budget(shots: int | None, steps: int = STEPS) -> Budget:
    """``steps`` optimizer steps in batches of up to ``BATCH_SIZE``, as whole epochs; a fifth of them frozen."""
    examples = NUM_TASK_CLASSES * per_class(shots)
    batch_size = min(BATCH_SIZE, examples)
    epochs = math.ceil(steps / math.ceil(examples / batch_size))
    return Budget(epochs=epochs, lr=LR, batch_size=batch_size, frozen_epochs=epochs // 5)


def run(training, transfer, method: str, shots: int | None, seed: int, steps: int, device: torch.device) -> float:
    """Test accuracy on digits 5-9 of one ``method`` trained through ``training``'s loop on ``shots`` examples
    per class."""
    budget = curve_budget(shots, steps)
    if method == "linear probe":
        return probe_accuracy(training, transfer.linear_probe, shots, budget, seed, device)
    if method == "fine-tune":
        return fine_tune_accuracy(training, transfer, shots, budget, seed, device)
    return scratch_accuracy(training, shots, budget, seed, device)


def summary(results: list[dict]) -> dict[tuple[str, int], list[float]]:
    """Test error (%) of every seed, by (method, examples per class)."""
    errors: dict[tuple[str, int], list[float]] = {}
    for row in results:
        errors.setdefault((row["method"], row["per_class"]), []).append(100 * (1 - row["accuracy"]))
    return errors


def write_table(results: list[dict], path: Path, command: str) -> None:
    errors = summary(results)
    sizes = sorted({size for _, size in errors})
    seeds = len(next(iter(errors.values())))
    lines = [
        "# Learning curves: digits 0-4 to digits 5-9",
        "",
        f"Test error (%) on the 500 test digits 5-9, mean over {seeds} seed{'s' if seeds > 1 else ''} "
        "(min-max in brackets), "
        "by training examples per class.",
        "",
        "| examples per class | " + " | ".join(METHODS) + " |",
        "|---:|" + "---:|" * len(METHODS),
    ]
    for size in sizes:
        cells = []
        for method in METHODS:
            values = errors.get((method, size))
            cells.append(f"{statistics.mean(values):.1f} ({min(values):.1f}-{max(values):.1f})" if values else "")
        lines.append(f"| {size} | " + " | ".join(cells) + " |")
    lines += ["", f"Made by `{command}`; one row per run in `results.csv`.", ""]
    path.write_text("\n".join(lines))


def write_plot(results: list[dict], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import NullFormatter, ScalarFormatter
    except ImportError:
        raise SystemExit('the plot needs matplotlib: pip install -e ".[experiments]"') from None
    errors = summary(results)
    figure, (ours, theirs) = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for method in METHODS:
        sizes = sorted(size for name, size in errors if name == method)
        if not sizes:
            continue
        means = [statistics.mean(errors[method, size]) for size in sizes]
        ours.plot(sizes, means, "o-", color=COLOURS[method], label=method)
        ours.fill_between(
            sizes, [min(errors[method, s]) for s in sizes], [max(errors[method, s]) for s in sizes],
            color=COLOURS[method], alpha=0.2, linewidth=0,
        )
        theirs.plot(HOIEM_PER_CLASS, HOIEM_ERROR[method], "o-", color=COLOURS[method], label=method)
    ours.set_title("MNIST digits 0-4 to 5-9, small BN CNN (ours)")
    theirs.set_title("ImageNet to CIFAR-100, ResNet-18 (Hoiem et al. 2021)")
    sizes = sorted({size for _, size in errors})
    for axes, ticks in ((ours, sizes), (theirs, HOIEM_PER_CLASS)):
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_xticks(ticks)
        axes.set_yticks([1, 2, 5, 10, 20, 50, 100])
        for axis in (axes.xaxis, axes.yaxis):  # plain numbers, not powers of ten
            axis.set_major_formatter(ScalarFormatter())
            axis.set_minor_formatter(NullFormatter())
        axes.set_xlabel("training examples per class")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    ours.set_ylabel("test error (%)")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="assignment", help="folder with transfer.py and training.py (default: assignment)")
    parser.add_argument("--output", type=Path, default=Path("transfer_curves"), help="folder for the plot and tables")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 per point (default: 3)")
    parser.add_argument(
        "--shots", nargs="+", default=[str(s or "all") for s in SHOTS],
        help="examples per class, or 'all' (default: 1 5 20 100 all)",
    )
    parser.add_argument("--steps", type=int, default=STEPS, help=f"optimizer steps per run (default: {STEPS})")
    args = parser.parse_args(argv)

    transfer = load_student_module(args.target, "transfer")
    training = load_student_module(args.target, "training")  # your Part 2 trains every run
    torch.set_num_threads(1)  # fastest for these small networks, and fair to others on a shared machine
    device = pick_device()
    shots = [None if s == "all" else int(s) for s in args.shots]
    jobs = [(method, s, seed) for method in METHODS for s in shots for seed in range(args.seeds)]
    results = []
    progress = tqdm(jobs, desc="runs")
    for method, s, seed in progress:
        progress.set_postfix_str(f"{method}, {per_class(s)} per class, seed {seed}")
        try:
            accuracy = run(training, transfer, method, s, seed, args.steps, device)
        except NotImplementedError as error:
            sys.exit(f"not implemented yet: {error} (the {method} runs need transfer.py and Part 2's training loop)")
        results.append({"method": method, "per_class": per_class(s), "seed": seed, "accuracy": accuracy})

    args.output.mkdir(parents=True, exist_ok=True)
    with open(args.output / "results.csv", "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=["method", "per_class", "seed", "accuracy"])
        writer.writeheader()
        writer.writerows({**row, "accuracy": f"{row['accuracy']:.4f}"} for row in results)
    command = "python -m dlcv.transfer_curves " + " ".join(argv if argv is not None else sys.argv[1:])
    write_table(results, args.output / "results.md", command.strip())
    write_plot(results, args.output / "curves.png")
    print(f"wrote {args.output}/curves.png, results.csv and results.md ({len(results)} runs)")


if __name__ == "__main__":
    main()
