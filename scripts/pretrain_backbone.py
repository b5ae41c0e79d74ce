"""Pretrain the shipped backbone on digits 0-4 and write data/digit_backbone.pt.

    PYTHONPATH=. OMP_NUM_THREADS=1 python scripts/pretrain_backbone.py

Trains :class:`dlcv.backbone.DigitBackbone` (5 classes) on the 2,000
training images of digits 0-4 (:func:`dlcv.digit_tasks.source_task`) with
AdamW and cross-entropy, one thread on the CPU, then prints what
data/README.md records: the held-out accuracy on the 500 test images of
digits 0-4, the file's size and its sha256. With the same seed, torch
version and CPU the file is the same byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograder.hidden import reference_training  # noqa: E402  (after the path is set)
from dlcv.adaptation import Budget, task_accuracy, train_on  # noqa: E402
from dlcv.backbone import CHECKPOINT, DigitBackbone  # noqa: E402
from dlcv.device import seed_everything  # noqa: E402
from dlcv.digit_tasks import NUM_TASK_CLASSES, source_task  # noqa: E402

SEED = 0
EPOCHS = 5
LR = 2e-3
BATCH_SIZE = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=CHECKPOINT)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    options = parser.parse_args()

    torch.set_num_threads(1)
    device = torch.device("cpu")
    seed_everything(options.seed)
    train, test = source_task()
    model = DigitBackbone(num_classes=NUM_TASK_CLASSES)
    optimizer = reference_training.make_optimizer(model, lr=LR)
    budget = Budget(epochs=options.epochs, lr=LR, batch_size=BATCH_SIZE)
    train_on(reference_training, model, optimizer, train, budget, options.seed, device)
    accuracy = task_accuracy(reference_training, model, test, device)

    options.output.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), options.output)
    data = options.output.read_bytes()
    print(f"seed {options.seed}, {options.epochs} epochs: held-out accuracy on digits 0-4 {accuracy:.3f} ({len(test)} images)")
    print(f"wrote {options.output}: {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
