"""Part 3: data augmentation for digit images.

Augmentation shows the network, during training only, random variations of
each training image that do not change its label, so that it learns what a
digit is rather than where and how bright the training digits happened to
be. The lecture lists the usual ones:

- **horizontal or vertical flip**: fine for cats and cars, wrong for digits.
  A flipped 2 or 3 is no digit at all, and a flipped or half-turned 6 looks
  like a 9. The lecture's MNIST example flips digits and rotates them by 90,
  180 or 270 degrees: that teaches the network that 6 and 9 are the same
  class. Do not do it here.
- **random crop** (or a random translation): a digit written a little to the
  left is the same digit. Keep the shift small enough that the whole digit
  stays in the picture.
- **colour casting**: brightness, contrast, a tint per colour channel. A
  lighter or tinted digit is the same digit, as long as it stays visible.
- **geometric distortion**: small rotations (up to about 20 degrees), a
  little scaling or shear. Handwriting leans; it does not turn upside down.
- **erasing** (``RandomErasing``, after ``ToTensor``): small patches only;
  a large erased block can remove the stroke that makes a 7 a 7.

Where the grader draws the line (it augments an asymmetric shape, a "P",
100 times and looks at the copies): a copy may be shifted by up to about
15% of the side, rotated by up to about 20 degrees, zoomed by about 10%,
cropped to no less than about 75% of its area (``RandomResizedCrop(scale=(0.75,
1))``), partly erased by patches of up to about 10% of the image, and recoloured
as long as the digit stays visible. Flips and turns by 90 degrees or more
fail, and so do augmentations that push the digit partly out of the picture
or erase much of it in 10 copies of 100 or more. Shown with
``python -m dlcv.augmentation_grid``: if you cannot read a digit in the grid,
neither can the label.

Both transforms take a PIL image of any size, mode ``"L"`` (greyscale, as
:class:`dlcv.data.DigitDataset` gives them) or ``"RGB"``, and return a
``float32`` tensor of shape ``(3, image_size, image_size)`` (``image_size``
is 28 or more; the network uses 64):

1. resized to ``image_size x image_size`` (bilinear, whatever the input
   size; the aspect ratio is not kept),
2. with three channels (a greyscale image repeated over R, G and B; an RGB
   image kept as it is: the given :func:`to_rgb` does this),
3. turned into a ``(3, image_size, image_size)`` tensor with the pixel
   values 0 .. 255 scaled to ``[0, 1]``,
4. normalised per channel with ``MNIST_MEAN`` and ``MNIST_STD`` (subtract
   the mean, divide by the standard deviation), so every value lies in
   ``[(0 - 0.1307) / 0.3081, (1 - 0.1307) / 0.3081]``, that is
   ``[-0.4242, 2.8215]``.

``torchvision.transforms`` has a ready-made transform for each step, and a
way to chain transforms into one callable.

``test_transform`` is exactly these four steps: no randomness, the same
output every call. ``train_transform`` adds label-preserving random
augmentation, and must normalise exactly as ``test_transform`` does, or the
network is tested on inputs scaled differently from those it learnt on.

The autograder trains its own small network on 2,000 training digits with
your ``train_transform`` and tests it on digits that are shifted by up to
4 pixels (of 28), rotated by up to 20 degrees and dimmed or tinted per
channel. Without augmentation that network falls below the threshold (50%);
with shifts, small rotations and colour casting it passes, even mild ones
(a ``RandomResizedCrop`` at 75% or more of the area, ``RandomRotation(15)``
and a ``ColorJitter``).

See what your transform does with
``python -m dlcv.augmentation_grid --target assignment --output grid.png``.
"""

import torch
from PIL import Image
from torchvision import transforms

from dlcv.data import MNIST_MEAN, MNIST_STD


def to_rgb(image: Image.Image) -> Image.Image:
    """A PIL image with three channels: greyscale repeated over R, G and B; RGB unchanged."""
    return image.convert("RGB")


class ColourCast:
    """Multiply each colour channel of a ``(3, H, W)`` tensor in ``[0, 1]`` by a random gain.

    The gains are drawn from ``[1 - strength, 1 + strength]`` with ``torch``'s
    random numbers, and the result is clipped to ``[0, 1]``: black stays
    black, and a white stroke becomes a tinted one.
    """

    def __init__(self, strength: float = 0.3):
        self.strength = strength

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        gains = 1 + self.strength * (2 * torch.rand(3, 1, 1) - 1)
        return (image * gains).clamp(0, 1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(strength={self.strength})"


def train_transform(image_size: int = 64):
    """Random, label-preserving augmentation, then the steps of :func:`test_transform`.

    Returns a callable: PIL image (any size, mode ``"L"`` or ``"RGB"``) to a
    ``float32`` tensor ``(3, image_size, image_size)`` normalised with
    ``MNIST_MEAN`` and ``MNIST_STD``; a different random variation each call.
    """
    return transforms.Compose(
        [
            transforms.Resize((image_size, image_size)),
            to_rgb,
            # Geometric distortion: a small rotation, a shift of up to 15% of the side, a little zoom.
            # The empty border that a shift or rotation uncovers is filled with black, the background.
            transforms.RandomAffine(degrees=20, translate=(0.15, 0.15), scale=(0.9, 1.1), fill=0),
            # Colour casting: lighter or darker, more or less contrast, a tint per channel.
            transforms.ColorJitter(brightness=0.3, contrast=0.3),
            transforms.ToTensor(),
            ColourCast(strength=0.3),
            transforms.Normalize(MNIST_MEAN, MNIST_STD),
        ]
    )


def test_transform(image_size: int = 64):
    """The deterministic transform: resize, three channels, ``ToTensor``, ``Normalize``.

    Returns a callable: PIL image (any size, mode ``"L"`` or ``"RGB"``) to a
    ``float32`` tensor ``(3, image_size, image_size)`` normalised with
    ``MNIST_MEAN`` and ``MNIST_STD``; the same output for the same image, every call.
    """
    return transforms.Compose(
        [
            transforms.Resize((image_size, image_size)),
            to_rgb,
            transforms.ToTensor(),
            transforms.Normalize(MNIST_MEAN, MNIST_STD),
        ]
    )
