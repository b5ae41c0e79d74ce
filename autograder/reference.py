"""The autograder's own model and training loop.

Parts are graded independently: the student's network is trained by this
loop (so a broken training loop cannot fail Part 1), and the student's
training loop trains this model (so a broken network cannot fail Part 2).
The settings here are the ones the calibration records in
``autograder/calibration/`` were measured with; change them only with a new
calibration.
"""

from __future__ import annotations

import torch
from torch import nn

from dlcv.data import Split, make_loader, mnist_split

BATCH_SIZE = 64
EVAL_BATCH_SIZE = 256
LEARNING_RATE = 1e-3


class SmallCNN(nn.Module):
    """A small, fast CNN: ``(N, 3, H, W)`` images to ``(N, num_classes)`` logits; no dropout."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=5, stride=2, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(4),
        )
        self.classifier = nn.Linear(16 * 4 * 4, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def accuracy(model: nn.Module, loader, device: torch.device) -> float:
    """Fraction of ``loader``'s examples that ``model`` classifies correctly (eval mode, no grad)."""
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            logits = model(images.to(device))
            correct += (logits.argmax(dim=1).cpu() == labels).sum().item()
            total += len(labels)
    return correct / total


def train(
    model: nn.Module,
    train_split: Split,
    epochs: int,
    seed: int,
    device: torch.device,
    transform=None,
    lr: float = LEARNING_RATE,
) -> nn.Module:
    """Train ``model`` with AdamW and cross-entropy: the reference loop, seeded by ``seed``."""
    torch.manual_seed(seed)
    model.to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    loader = make_loader(train_split, BATCH_SIZE, shuffle=True, seed=seed, transform=transform)
    for _ in range(epochs):
        model.train()
        for images, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(images.to(device)), labels.to(device))
            loss.backward()
            optimizer.step()
    return model


def mnist_test_loader(transform=None):
    """The fixed MNIST test split, in order, ready for :func:`accuracy`."""
    return make_loader(mnist_split()[1], EVAL_BATCH_SIZE, transform=transform)
