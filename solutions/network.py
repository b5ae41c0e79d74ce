"""Part 1: the lecture's AlexNet-style convolutional network.

AlexNet reads as three stages: ``features`` (convolutions that find local
patterns, with max pooling that shrinks the image), ``avgpool`` (an adaptive
average pool that fixes the spatial size, so any input size works), and
``classifier`` (fully connected layers with dropout against over-fitting).
This network keeps that shape with fewer channels, sized for 64 x 64 digits.
"""

import torch
from torch import nn


class Network(nn.Module):
    """AlexNet-style CNN: ``(N, 3, 64, 64)`` images to ``(N, num_classes)`` logits.

    Layers, in order (ReLU is ``nn.ReLU``; pooling is ``nn.MaxPool2d(kernel_size=3, stride=2)``):

    ``features``
        1. Conv2d(3, 16, kernel_size=11, stride=4, padding=2), ReLU, MaxPool  -> (N, 16, 7, 7)
        2. Conv2d(16, 48, kernel_size=5, padding=2), ReLU, MaxPool           -> (N, 48, 3, 3)
        3. Conv2d(48, 96, kernel_size=3, padding=1), ReLU
        4. Conv2d(96, 64, kernel_size=3, padding=1), ReLU
        5. Conv2d(64, 64, kernel_size=3, padding=1), ReLU                     -> (N, 64, 3, 3)
    ``avgpool``
        AdaptiveAvgPool2d((3, 3))                                             -> (N, 64, 3, 3)
    ``classifier`` (after flattening to (N, 64 * 3 * 3))
        Dropout(dropout), Linear(576, 256), ReLU,
        Dropout(dropout), Linear(256, 256), ReLU,
        Linear(256, num_classes)

    With ``num_classes=10`` it has 375,002 parameters. ``forward`` returns raw
    scores (logits): ``nn.CrossEntropyLoss`` applies the softmax itself.
    """

    def __init__(self, num_classes: int = 10, dropout: float = 0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(16, 48, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(48, 96, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(96, 64, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((3, 3))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(64 * 3 * 3, 256),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(256, 256),
            nn.ReLU(inplace=True),
            nn.Linear(256, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` images to ``(N, num_classes)`` logits."""
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)
