"""The shifted test set of Part 3: test digits moved, turned and recoloured.

A network trained on centred, upright, white-on-black digits without
augmentation does poorly on digits that are a little off-centre, leaning or
tinted; one trained with label-preserving augmentation does well. Part 3's
accuracy test measures exactly that difference on this set: it trains the
autograder's ``SmallCNN`` on ``TRAIN_IMAGES`` training digits for ``EPOCHS``
epochs with the student's train transform (:func:`accuracy_after_training`)
and compares the accuracy on this set with its threshold. Those settings
are the ones ``scripts/calibrate.py`` measured; see
``autograder/calibration/part3_augmentation.md``.

Each of the 1,000 digits of the fixed MNIST test split is, with one fixed
random draw per digit (seed ``SEED``):

- rotated by an angle in ``[-MAX_DEGREES, MAX_DEGREES]``,
- scaled by a factor in ``[1 - MAX_SCALE, 1 + MAX_SCALE]``,
- shifted by up to ``MAX_SHIFT`` of the image side along each axis
  (0.15 of 28 pixels is about 4 pixels),
- recoloured: each channel multiplied by a gain in ``[MIN_GAIN, 1]``.

The images are built as tensors (no PIL, no student code), resized to
``IMAGE_SIZE`` and normalised with ``MNIST_MEAN`` and ``MNIST_STD``, as
the documented transforms do. Building the set takes a fraction of a second.
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from autograder import reference
from dlcv.data import IMAGE_SIZE, MNIST_MEAN, MNIST_STD, Split, mnist_split, resize_digits
from dlcv.device import seed_everything
from dlcv.small_cnn import SmallCNN
from dlcv.training_loop import TrainingLoop, accuracy

SEED = 2024
MAX_DEGREES = 20.0
MAX_SCALE = 0.1
MAX_SHIFT = 0.15
MIN_GAIN = 0.5

# The accuracy test: TRAIN_IMAGES training digits (200 of each digit), EPOCHS epochs.
TRAIN_IMAGES = 2000
EPOCHS = 8


def _uniform(generator: torch.Generator, n: int, low: float, high: float) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def shift_digits(images: torch.Tensor, seed: int = SEED, size: int = IMAGE_SIZE) -> torch.Tensor:
    """uint8 digits ``(N, H, W)`` to shifted, normalised float images ``(N, 3, size, size)``."""
    generator = torch.Generator().manual_seed(seed)
    n = len(images)
    angle = torch.deg2rad(_uniform(generator, n, -MAX_DEGREES, MAX_DEGREES))
    scale = _uniform(generator, n, 1 - MAX_SCALE, 1 + MAX_SCALE)
    # affine_grid works in [-1, 1] coordinates: a shift of s of the side is 2 * s there.
    shift = _uniform(generator, 2 * n, -2 * MAX_SHIFT, 2 * MAX_SHIFT).view(n, 2)
    gains = _uniform(generator, 3 * n, MIN_GAIN, 1.0).view(n, 3, 1, 1)

    # The grid maps each output pixel to where it is read in the input: the inverse transform.
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos, -sin, -(cos * shift[:, 0] - sin * shift[:, 1])], dim=1),
            torch.stack([sin, cos, -(sin * shift[:, 0] + cos * shift[:, 1])], dim=1),
        ],
        dim=1,
    )
    pixels = resize_digits(images, size)[:, None].float().div(255.0)
    grid = F.affine_grid(theta, list(pixels.shape), align_corners=False)
    moved = F.grid_sample(pixels, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    coloured = (moved.expand(-1, 3, -1, -1) * gains).clamp(0, 1)
    mean = torch.tensor(MNIST_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(MNIST_STD).view(1, 3, 1, 1)
    return (coloured - mean) / std


@lru_cache(maxsize=1)
def shifted_test_set() -> tuple[torch.Tensor, torch.Tensor]:
    """The shifted test digits ``(1000, 3, 64, 64)`` and their labels ``(1000,)``."""
    test = mnist_split()[1]
    return shift_digits(test.images), test.labels


def shifted_accuracy(training: TrainingLoop, model: torch.nn.Module, device: torch.device, batch_size: int = 250) -> float:
    """Fraction of the shifted test set that ``model`` classifies correctly, as ``training.evaluate`` counts it."""
    images, labels = shifted_test_set()
    return accuracy(training, model, DataLoader(TensorDataset(images, labels), batch_size=batch_size), device)


def training_subset() -> Split:
    """``TRAIN_IMAGES`` training digits, the same number of each (the split is ordered by digit)."""
    train = mnist_split()[0]
    step = len(train) // TRAIN_IMAGES
    return Split(train.images[::step][:TRAIN_IMAGES], train.labels[::step][:TRAIN_IMAGES])


def accuracy_after_training(training: TrainingLoop, transform, seed: int, device: torch.device) -> float:
    """Shifted-set accuracy of a ``SmallCNN`` trained through ``training``'s loop on :func:`training_subset`
    with ``transform``."""
    seed_everything(seed)  # Python's and NumPy's generators too, for transforms that use them
    model = reference.train(training, SmallCNN(), training_subset(), EPOCHS, seed, device, transform=transform)
    return shifted_accuracy(training, model, device)
