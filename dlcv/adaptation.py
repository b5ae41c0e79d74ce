"""Adapting the pretrained backbone to digits 5-9: one training loop, three methods.

*From scratch* trains a freshly initialised :class:`~dlcv.backbone.DigitBackbone`;
the *linear probe* trains only a new head on the frozen pretrained backbone;
*fine-tuning* trains a new head and, more slowly, the pretrained encoder. All
three are trained by a Part 2 training loop that the caller passes in (AdamW,
cross-entropy; see :mod:`dlcv.training_loop`) within the same :class:`Budget` on a few-shot training set of digits 5-9
(:func:`dlcv.digit_tasks.target_task`) and measured on its 500 test digits.

The linear probe and fine-tuning call the functions of a ``transfer`` module
(yours in ``assignment/``, or the solution): the learning curves
(``python -m dlcv.transfer_curves``) and Part 4's accuracy tests both run
these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from dlcv.backbone import DigitBackbone, pretrained_backbone
from dlcv.data import Split, make_loader
from dlcv.device import seed_everything
from dlcv.digit_tasks import NUM_TASK_CLASSES, target_task
from dlcv.training_loop import TrainingLoop, accuracy, train_epochs

EVAL_BATCH_SIZE = 250


@dataclass(frozen=True)
class Budget:
    """How long and how fast one adaptation trains."""

    epochs: int
    lr: float  # the head's learning rate (and every layer's, from scratch)
    batch_size: int
    frozen_epochs: int = 0  # fine-tuning's warm start: the first epochs train the head alone


def train_on(training: TrainingLoop, model: nn.Module, optimizer, split: Split, budget: Budget, seed: int,
             device: torch.device, before_epoch: Callable[[int], None] | None = None) -> nn.Module:
    """Train ``model`` on ``split`` for ``budget.epochs`` epochs of ``training``'s loop, shuffled by ``seed``."""
    loader = make_loader(split, budget.batch_size, shuffle=True, seed=seed)
    return train_epochs(training, model, optimizer, loader, budget.epochs, device, before_epoch=before_epoch)


def task_accuracy(training: TrainingLoop, model: nn.Module, split: Split, device: torch.device) -> float:
    """Fraction of ``split`` that ``model`` classifies correctly, as ``training.evaluate`` counts it."""
    return accuracy(training, model, make_loader(split, EVAL_BATCH_SIZE), device)


def scratch_accuracy(training: TrainingLoop, shots: int | None, budget: Budget, seed: int, device: torch.device) -> float:
    """Test accuracy on digits 5-9 of a freshly initialised backbone trained on ``shots`` examples per class."""
    seed_everything(seed)
    train, test = target_task(shots)
    model = DigitBackbone(num_classes=NUM_TASK_CLASSES).to(device)
    optimizer = training.make_optimizer(model, lr=budget.lr)
    train_on(training, model, optimizer, train, budget, seed, device)
    return task_accuracy(training, model, test, device)


def probe_accuracy(
    training: TrainingLoop, linear_probe, shots: int | None, budget: Budget, seed: int, device: torch.device
) -> float:
    """Test accuracy on digits 5-9 of ``linear_probe(pretrained backbone, 5)`` trained on ``shots`` examples per class.

    The optimizer is given every parameter: those that do not require grad
    get no gradient, and AdamW leaves a parameter without gradient alone.
    """
    seed_everything(seed)
    train, test = target_task(shots)
    model = linear_probe(pretrained_backbone(), NUM_TASK_CLASSES).to(device)
    optimizer = training.make_optimizer(model, lr=budget.lr)
    train_on(training, model, optimizer, train, budget, seed, device)
    return task_accuracy(training, model, test, device)


def fine_tune_accuracy(
    training: TrainingLoop, transfer, shots: int | None, budget: Budget, seed: int, device: torch.device
) -> float:
    """Test accuracy on digits 5-9 of the pretrained backbone fine-tuned on ``shots`` examples per class.

    Uses ``transfer.replace_head``, ``transfer.fine_tune_optimizer`` (learning
    rate ``budget.lr`` for the head) and ``transfer.warm_start`` before every
    epoch, with ``budget.frozen_epochs`` frozen epochs.
    """
    seed_everything(seed)
    train, test = target_task(shots)
    model = pretrained_backbone()
    transfer.replace_head(model, NUM_TASK_CLASSES)
    model.to(device)
    optimizer = transfer.fine_tune_optimizer(model, lr=budget.lr)
    train_on(
        training, model, optimizer, train, budget, seed, device,
        before_epoch=lambda epoch: transfer.warm_start(model, epoch, budget.frozen_epochs),
    )
    return task_accuracy(training, model, test, device)


def features_probe_accuracy(transfer, shots: int | None, seed: int, device: torch.device) -> float:
    """Test accuracy on digits 5-9 of a linear classifier fitted on pre-computed features of ``shots`` examples per class.

    ``transfer.extract_features`` computes the pretrained backbone's
    features of the training and the test digits, and
    ``transfer.train_linear_classifier`` (with its default settings) fits
    the classifier on the training features.
    """
    seed_everything(seed)
    train, test = target_task(shots)
    model = pretrained_backbone().to(device)
    features, labels = transfer.extract_features(model, make_loader(train, EVAL_BATCH_SIZE), device)
    classifier = transfer.train_linear_classifier(features, labels, NUM_TASK_CLASSES)
    test_features, test_labels = transfer.extract_features(model, make_loader(test, EVAL_BATCH_SIZE), device)
    with torch.no_grad():
        predictions = classifier(test_features).argmax(dim=1)
    return (predictions == test_labels).sum().item() / len(test_labels)
