"""Part 3 (augmentation.py): the recorded outputs of the test transform that the public tests compare with.

- ``test_transform``: a few random images (grey and colour, smaller and
  larger than the output, square and not) and the solution's
  ``test_transform(size)`` of each. The images are recorded as their bytes
  and the outputs in half precision (``pack``), both in base64: the outputs
  are 2,352 numbers or more each, too many for JSON lists, and the tests'
  tolerance (a few grey levels) is far above half precision's rounding.
- ``probe``: the solution's ``test_transform(32)`` of the asymmetric "P"
  (``probe_p`` in the test file), which the flip test compares augmented
  copies with and the normalisation test reads the range of.
- ``digit_contrast``: for the first test digit of each class, the contrast
  (the largest per-channel standard deviation) of the solution's
  ``test_transform(32)`` output, which the visibility test compares
  augmented copies with.
"""

from __future__ import annotations

import base64

import numpy as np
import torch
from PIL import Image

from dlcv.data import mnist_split

PROBE_SIZE = 32  # as PROBE_SIZE in the test file
# (height, width, mode, output size) of the test transform's cases.
CASES = [(9, 13, "L", 28), (40, 23, "RGB", 30), (61, 47, "L", 29), (28, 28, "RGB", 28)]


def pack(tensor: torch.Tensor, dtype: torch.dtype) -> dict:
    """A tensor as base64 of its bytes in ``dtype`` (little-endian), with its shape; ``unpack`` in the test file."""
    array = tensor.detach().to(dtype).contiguous().numpy()
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    return {"base64": base64.b64encode(data).decode("ascii"), "dtype": str(dtype).removeprefix("torch."),
            "shape": list(tensor.shape)}


def random_pixels(height: int, width: int, mode: str, seed: int) -> torch.Tensor:
    shape = (height, width) if mode == "L" else (height, width, 3)
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8))


def probe_p() -> Image.Image:
    """The test file's ``probe_p``: a 28 x 28 white 'P' on black."""
    pixels = np.zeros((28, 28), dtype=np.uint8)
    pixels[4:24, 8:12] = 255
    pixels[4:13, 12:20] = 255
    return Image.fromarray(pixels, mode="L")


def sample_digits() -> list[Image.Image]:
    """The test file's ``sample_digits``: the first test image of each digit."""
    test = mnist_split()[1]
    first = [int(torch.nonzero(test.labels == digit)[0]) for digit in range(10)]
    return [Image.fromarray(test.images[i].numpy(), mode="L") for i in first]


def record(solution, mistake) -> dict:
    cases = []
    for seed, (height, width, mode, size) in enumerate(CASES):
        pixels = random_pixels(height, width, mode, seed)
        output = solution.test_transform(size)(Image.fromarray(pixels.numpy(), mode=mode))
        cases.append({"mode": mode, "size": size, "image": pack(pixels, torch.uint8), "expected": pack(output, torch.float16)})
    transform = solution.test_transform(PROBE_SIZE)
    contrast = torch.stack([transform(digit).std(dim=(1, 2)).max() for digit in sample_digits()])
    return {
        "test_transform": cases,
        "probe": {"size": PROBE_SIZE, "expected": pack(transform(probe_p()), torch.float16)},
        "digit_contrast": {"size": PROBE_SIZE, "expected": contrast},
    }
