"""The small CNN that the autograder trains with your code, and that ``python -m dlcv.top_patches`` shows.

Part 2's accuracy test trains it with your ``fit``, Part 3's with your
augmentation, and Part 7's command trains it to show what its channels learn:
a 5 x 5 convolution with stride 2, max pooling, a 3 x 3 convolution, average
pooling to 4 x 4 and one linear layer.
"""

from __future__ import annotations

import torch
from torch import nn


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
