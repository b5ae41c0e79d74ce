"""Adapting the pretrained backbone to digits 5-9: one training loop, three methods.

*From scratch* trains a freshly initialised :class:`~dlcv.backbone.DigitBackbone`;
the *linear probe* trains only a new head on the frozen pretrained backbone;
*fine-tuning* trains a new head and, more slowly, the pretrained encoder. All
three are trained by :func:`train_epochs` (AdamW, cross-entropy) within the
same :class:`Budget` on a few-shot training set of digits 5-9
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

EVAL_BATCH_SIZE = 250


@dataclass(frozen=True)
class Budget:
    """How long and how fast one adaptation trains."""

    epochs: int
    lr: float  # the head's learning rate (and every layer's, from scratch)
    batch_size: int
    frozen_epochs: int = 0  # fine-tuning's warm start: the first epochs train the head alone


def train_epochs(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    split: Split,
    epochs: int,
    batch_size: int,
    seed: int,
    device: torch.device,
    before_epoch: Callable[[int], None] | None = None,
    transform=None,
) -> nn.Module:
    """Train ``model`` on ``split`` (through ``transform``, if given) with cross-entropy; call
    ``before_epoch(epoch)`` before each epoch. Also the loop of the autograder's reference training."""
    loader = make_loader(split, batch_size, shuffle=True, seed=seed, transform=transform)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        if before_epoch is not None:
            before_epoch(epoch)
        model.train()  # as every training loop does: a frozen encoder must stay frozen anyway
        for images, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(images.to(device)), labels.to(device))
            loss.backward()
            optimizer.step()
    return model


def task_accuracy(model: nn.Module, split: Split, device: torch.device) -> float:
    """Fraction of ``split`` that ``model`` classifies correctly (eval mode, no grad)."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in make_loader(split, EVAL_BATCH_SIZE):
            correct += (model(images.to(device)).argmax(dim=1).cpu() == labels).sum().item()
    return correct / len(split)


def scratch_accuracy(shots: int | None, budget: Budget, seed: int, device: torch.device) -> float:
    """Test accuracy on digits 5-9 of a freshly initialised backbone trained on ``shots`` examples per class."""
    seed_everything(seed)
    train, test = target_task(shots)
    model = DigitBackbone(num_classes=NUM_TASK_CLASSES).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=budget.lr)
    train_epochs(model, optimizer, train, budget.epochs, budget.batch_size, seed, device)
    return task_accuracy(model, test, device)


def probe_accuracy(linear_probe, shots: int | None, budget: Budget, seed: int, device: torch.device) -> float:
    """Test accuracy on digits 5-9 of ``linear_probe(pretrained backbone, 5)`` trained on ``shots`` examples per class.

    The optimizer is given every parameter: those that do not require grad
    get no gradient, and AdamW leaves a parameter without gradient alone.
    """
    seed_everything(seed)
    train, test = target_task(shots)
    model = linear_probe(pretrained_backbone(), NUM_TASK_CLASSES).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=budget.lr)
    train_epochs(model, optimizer, train, budget.epochs, budget.batch_size, seed, device)
    return task_accuracy(model, test, device)


def fine_tune_accuracy(transfer, shots: int | None, budget: Budget, seed: int, device: torch.device) -> float:
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
    train_epochs(
        model, optimizer, train, budget.epochs, budget.batch_size, seed, device,
        before_epoch=lambda epoch: transfer.warm_start(model, epoch, budget.frozen_epochs),
    )
    return task_accuracy(model, test, device)


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
