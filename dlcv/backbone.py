"""The pretrained backbone of Part 4: a small batch-norm CNN trained on digits 0-4.

``pretrained_backbone()`` builds :class:`DigitBackbone` and loads the
checkpoint shipped in ``data/`` (made by ``scripts/pretrain_backbone.py``;
its training record is in ``data/README.md``). Nothing is downloaded.
"""

from __future__ import annotations

import torch
from torch import nn

from dlcv.data import DATA_DIR

CHECKPOINT = DATA_DIR / "digit_backbone.pt"


class DigitBackbone(nn.Module):
    """A small CNN with batch norm: ``(N, 3, 64, 64)`` images to ``(N, num_classes)`` logits.

    Three named stages, as torchvision's models have, read top to bottom:

    ``features``
        Conv2d(3, 16, kernel_size=5, stride=2, padding=2), BatchNorm2d, ReLU   -> (N, 16, 32, 32)
        Conv2d(16, 32, kernel_size=3, padding=1), BatchNorm2d, ReLU, MaxPool2d(2) -> (N, 32, 16, 16)
        Conv2d(32, 64, kernel_size=3, padding=1), BatchNorm2d, ReLU, MaxPool2d(2) -> (N, 64, 8, 8)
        Conv2d(64, 128, kernel_size=3, padding=1), BatchNorm2d, ReLU              -> (N, 128, 8, 8)
    ``avgpool``
        AdaptiveAvgPool2d((2, 2))                                                 -> (N, 128, 2, 2)
    ``fc`` (the head, after flattening to (N, 512))
        Linear(512, num_classes)

    The head is the last layer, ``fc``, as in torchvision's ResNets; the
    512 numbers it reads are the image's *features*. The convolutions have
    no bias: the batch norm after each adds its own.
    """

    def __init__(self, num_classes: int = 5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=5, stride=2, padding=2, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.Conv2d(16, 32, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 128, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
        )
        # 2 x 2 rather than 1 x 1: the features keep where in the image a stroke is.
        self.avgpool = nn.AdaptiveAvgPool2d((2, 2))
        self.fc = nn.Linear(128 * 2 * 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.fc(x)


def pretrained_backbone() -> DigitBackbone:
    """The shipped :class:`DigitBackbone` pretrained on digits 0-4 (5 classes), in eval mode, on the CPU."""
    if not CHECKPOINT.exists():
        raise FileNotFoundError(
            f"{CHECKPOINT} is missing; it ships with the homework (see data/README.md to rebuild it)"
        )
    model = DigitBackbone(num_classes=5)
    model.load_state_dict(torch.load(CHECKPOINT, map_location="cpu", weights_only=True))
    return model.eval()
