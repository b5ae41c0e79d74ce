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
        # TODO: build self.features, self.avgpool and self.classifier as the docstring lists them.
        # Hints:
        #   1. Each stage is one module that runs its layers in the listed order (torch.nn has a
        #      container for that). Layers kept in a plain Python list are invisible to
        #      .parameters(), .to(device) and .eval().
        #   2. Both dropout layers take the ``dropout`` argument, and the last layer gives
        #      ``num_classes`` scores: hard-code neither.
        #   3. The first fully connected layer reads every value of avgpool's output:
        #      channels x height x width of it.
        raise NotImplementedError("Network.__init__: build features, avgpool and classifier")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` images to ``(N, num_classes)`` logits."""
        # TODO: the three stages in order. Between avgpool and classifier, turn each image's
        # feature maps into one vector (the batch dimension stays). Return logits: no softmax.
        raise NotImplementedError("Network.forward")
