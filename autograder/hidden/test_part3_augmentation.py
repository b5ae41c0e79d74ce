"""Part 3, graded on Gradescope only: the test transform on random images of any size and mode.

The public ``test_test_transform_output`` compares the test transform with
recorded outputs for a few images. This test compares it, on 25 random
images and output sizes, with the documented steps computed here
(``expected_output``): that computation is the answer to
``test_transform``, so it stays out of the handout.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from autograder.test_part3_augmentation import (
    CONTRACT_SETTINGS,
    build,
    check_test_transform_output,
    image_sizes,
    modes,
    output_sizes,
    random_image,
)
from dlcv.data import MNIST_MEAN, MNIST_STD

MEAN = torch.tensor(MNIST_MEAN).view(3, 1, 1)
STD = torch.tensor(MNIST_STD).view(3, 1, 1)


def expected_output(image: Image.Image, size: int) -> torch.Tensor:
    """The documented test transform, written without torchvision's transforms."""
    pixels = np.asarray(image.convert("RGB").resize((size, size), Image.BILINEAR))
    return (torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255 - MEAN) / STD


@pytest.mark.points(1, visibility="after_due_date")
def test_test_transform_output_on_random_images(submission):
    build(submission, "test_transform", 64)  # a TODO fails here, before hypothesis runs

    @CONTRACT_SETTINGS
    @given(height=image_sizes, width=image_sizes, size=output_sizes, mode=modes, seed=st.integers(0, 2**16))
    def check(height, width, size, mode, seed):
        image = random_image(mode, height, width, seed)
        transform = build(submission, "test_transform", size)
        check_test_transform_output(transform, image, size, expected_output(image, size))

    check()
