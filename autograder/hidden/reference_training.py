"""The grader's own optimizer and training loop (Part 2's contract), for the accuracy tests on Gradescope only.

On Gradescope every accuracy test trains with these functions, never
with the student's ``training.py``, so that a mistake in Part 2 costs Part
2's points alone. They answer Part 2's TODOs, so the handout does not ship
them: there the accuracy tests train with the student's own Part 2 (see
:mod:`autograder.training_loop`). A correct Part 2 trains exactly as these
do, so the calibrated thresholds hold for both.
"""

from __future__ import annotations

import torch
from torch import nn


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """AdamW over every parameter of ``model``, PyTorch's defaults but the learning rate."""
    return torch.optim.AdamW(model.parameters(), lr=lr)


def train_one_epoch(loader, model: nn.Module, criterion, optimizer, device) -> float:
    """One pass over ``loader`` in train mode; the mean loss per example."""
    model.train()
    loss_sum, examples = 0.0, 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(labels)
        examples += len(labels)
    return loss_sum / examples


def evaluate(loader, model: nn.Module, criterion, device) -> tuple[float, float]:
    """Mean loss per example and accuracy over ``loader``, in eval mode without gradients."""
    model.eval()
    loss_sum, correct, examples = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            loss_sum += criterion(logits, labels).item() * len(labels)
            correct += (logits.argmax(dim=1) == labels).sum().item()
            examples += len(labels)
    return loss_sum / examples, correct / examples
