"""See what a train transform does: save a grid of augmented digits as a PNG.

    python -m dlcv.augmentation_grid --target assignment --output grid.png

Each row is one training digit: first the digit as the test transform
shows it, then ``--samples`` outputs of ``train_transform`` for it. The
images are un-normalised (``x * MNIST_STD + MNIST_MEAN``) before saving, so
they look as the network's input would look to you. ``--target`` is a
folder with ``augmentation.py``: ``assignment`` (your code, the default),
``solutions``, or any path.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from PIL import Image
from torchvision.utils import make_grid, save_image

from dlcv.data import IMAGE_SIZE, MNIST_MEAN, MNIST_STD, mnist_split, normalize_digits, resize_digits
from dlcv.device import seed_everything
from dlcv.student_module import load_student_module


def augmentation_grid(train_transform, digits: int = 10, samples: int = 8, image_size: int = IMAGE_SIZE, seed: int = 0):
    """A ``(3, H, W)`` image in ``[0, 1]``: a row per digit, the clean digit then ``samples`` augmented copies."""
    train = mnist_split()[0]
    first = [int(torch.nonzero(train.labels == digit)[0]) for digit in range(digits)]
    mean = torch.tensor(MNIST_MEAN).view(3, 1, 1)
    std = torch.tensor(MNIST_STD).view(3, 1, 1)
    seed_everything(seed)
    tiles = []
    for index in first:
        digit = train.images[index]
        tiles.append(normalize_digits(resize_digits(digit[None], image_size))[0])
        image = Image.fromarray(digit.numpy(), mode="L")
        tiles += [train_transform(image) for _ in range(samples)]
    shown = torch.stack([(tile * std + mean).clamp(0, 1) for tile in tiles])
    return make_grid(shown, nrow=samples + 1, padding=2, pad_value=1.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Save a grid of augmented digits made by train_transform.")
    parser.add_argument("--target", default="assignment", help="folder with augmentation.py (default: assignment)")
    parser.add_argument("--output", type=Path, default=Path("augmentation_grid.png"), help="PNG file to write")
    parser.add_argument("--samples", type=int, default=8, help="augmented copies of each digit (default: 8)")
    parser.add_argument("--digits", type=int, default=10, help="rows: digits 0, 1, ... (default: 10)")
    parser.add_argument("--image-size", type=int, default=IMAGE_SIZE, help="image_size given to train_transform")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    module = load_student_module(args.target, "augmentation")
    try:
        grid = augmentation_grid(
            module.train_transform(args.image_size), min(args.digits, 10), args.samples, args.image_size, args.seed
        )
    except NotImplementedError as error:
        sys.exit(f"train_transform is not implemented yet ({error})")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    save_image(grid, args.output)
    print(f"saved {args.output}: {min(args.digits, 10)} digits, each clean then {args.samples} augmented copies")


if __name__ == "__main__":
    main()
