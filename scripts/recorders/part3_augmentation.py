"""Part 3 (augmentation.py): the recorded outputs of the test transform that the public tests compare with.

- ``test_transform``: a few random images (grey and colour, smaller and
  larger than the output, square and not) and the solution's
  ``test_transform(size)`` of each. The images are recorded as their bytes
  and the outputs in half precision (:class:`~autograder.recorded.Packed`): the outputs
  are 2,352 numbers or more each, too many for JSON lists, and the tests'
  tolerance (a few grey levels) is far above half precision's rounding.
- ``probe``: the asymmetric "P" (:func:`probe_p`) and the solution's
  ``test_transform(32)`` of it, which the flip test compares augmented
  copies with and the normalisation test reads the range of.
- ``digit_contrast``: the first test digit of each class (its index in the
  MNIST test split) and the contrast
  (the largest per-channel standard deviation) of the solution's
  ``test_transform(32)`` output, which the visibility test compares
  augmented copies with.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from autograder.recorded import Packed
from dlcv.data import mnist_split

PROBE_SIZE = 32  # as PROBE_SIZE in the test file
# (height, width, mode, output size) of the test transform's cases.
CASES = [(9, 13, "L", 28), (40, 23, "RGB", 30), (61, 47, "L", 29), (28, 28, "RGB", 28)]


def random_pixels(height: int, width: int, mode: str, seed: int) -> torch.Tensor:
    shape = (height, width) if mode == "L" else (height, width, 3)
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8))


def probe_p() -> torch.Tensor:
    """A 28 x 28 white 'P' on black: a bar with a block at its top right.

    Its mirror images and quarter turns are all different shapes (q, b, d and
    their transposes), so a flipped or turned copy is recognised as such.
    """
    pixels = torch.zeros(28, 28, dtype=torch.uint8)
    pixels[4:24, 8:12] = 255
    pixels[4:13, 12:20] = 255
    return pixels


def first_of_each_digit() -> list[int]:
    """The index in the MNIST test split of the first image of each digit."""
    test = mnist_split()[1]
    return [int(torch.nonzero(test.labels == digit)[0]) for digit in range(10)]


def record(solution, mistake) -> dict:
    cases = []
    for seed, (height, width, mode, size) in enumerate(CASES):
        pixels = random_pixels(height, width, mode, seed)
        output = solution.test_transform(size)(Image.fromarray(pixels.numpy(), mode=mode))
        cases.append({"mode": mode, "size": size, "image": Packed(pixels, torch.uint8), "expected": Packed(output, torch.float16)})
    transform = solution.test_transform(PROBE_SIZE)
    digits = first_of_each_digit()
    test_images = mnist_split()[1].images
    contrast = torch.stack([transform(Image.fromarray(test_images[i].numpy(), mode="L")).std(dim=(1, 2)).max() for i in digits])
    probe = probe_p()
    return {
        "test_transform": cases,
        "probe": {"size": PROBE_SIZE, "image": Packed(probe, torch.uint8),
                  "expected": Packed(transform(Image.fromarray(probe.numpy(), mode="L")), torch.float16)},
        "digit_contrast": {"size": PROBE_SIZE, "indices": digits, "expected": contrast},
    }
