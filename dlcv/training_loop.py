"""Training through a Part 2 training loop that is passed in: this library has no loop of its own.

The commands that show what your code does (``transfer_curves``,
``top_patches``, ``segmentation_overlay``) and the autograder's accuracy
tests train networks for several epochs. They train through a *training
loop*: any module with Part 2's ``make_optimizer`` (AdamW), ``train_one_epoch``
and ``evaluate``, as ``training.py`` defines them. The commands use the target's own
``training.py`` (in the handout, yours: write Part 2 first); on Gradescope
the accuracy tests use the grader's own, so that each part is graded on its
own.
"""

from __future__ import annotations

from typing import Callable, Iterable, Protocol

import torch
from torch import nn


class TrainingLoop(Protocol):
    """Part 2's functions that training needs: a module such as ``training.py`` satisfies this."""

    def make_optimizer(self, model: nn.Module, lr: float) -> torch.optim.Optimizer: ...

    def train_one_epoch(self, loader: Iterable, model: nn.Module, criterion, optimizer, device) -> float: ...

    def evaluate(self, loader: Iterable, model: nn.Module, criterion, device) -> tuple[float, float]: ...


def train_epochs(
    training: TrainingLoop,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loader: Iterable,
    epochs: int,
    device: torch.device,
    criterion=None,
    before_epoch: Callable[[int], None] | None = None,
) -> nn.Module:
    """``epochs`` calls of ``training.train_one_epoch`` over ``loader`` (cross-entropy unless ``criterion`` is
    given), with ``before_epoch(epoch)`` called before each."""
    criterion = criterion if criterion is not None else nn.CrossEntropyLoss()
    for epoch in range(epochs):
        if before_epoch is not None:
            before_epoch(epoch)
        training.train_one_epoch(loader, model, criterion, optimizer, device)
    return model


def accuracy(training: TrainingLoop, model: nn.Module, loader: Iterable, device: torch.device) -> float:
    """The accuracy that ``training.evaluate`` reports for ``model`` on ``loader`` (cross-entropy as the loss)."""
    return training.evaluate(loader, model, nn.CrossEntropyLoss(), device)[1]
