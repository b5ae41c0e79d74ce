"""See what a U-Net segments: save input, target and prediction overlays as a PNG.

    python -m dlcv.segmentation_overlay --target assignment --output overlay.png

Trains ``UNet`` from the target's ``unet.py`` briefly on the training
canvases of :mod:`dlcv.segmentation` (the autograder's settings, for
``--epochs`` epochs, through the target's Part 2 ``make_optimizer`` and ``train_one_epoch``), then saves one row per held-out canvas: the canvas,
the true label map over it, and the predicted label map over it, each digit
class in its own colour (background left grey), with a legend of the colours
below. ``--target`` is a folder with ``unet.py`` and ``training.py``:
``assignment`` (your code, the default), ``solutions``, or any path.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from dlcv.data import MNIST_MEAN, MNIST_STD
from dlcv.device import pick_device, seed_everything
from dlcv.segmentation import (
    BACKGROUND,
    BASE_CHANNELS,
    CLASS_NAMES,
    DEPTH,
    EPOCHS,
    NUM_CLASSES,
    TRAIN_CANVASES,
    predict,
    segmentation_split,
    train_segmentation,
)
from dlcv.student_module import load_student_module

# One colour per digit class (matplotlib's "tab10" colours); the background keeps the canvas's grey.
TAB10 = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
]
PALETTE = torch.tensor(TAB10[: NUM_CLASSES - 1], dtype=torch.float32)  # row c - 1 is class c's colour
SCALE = 4  # each canvas pixel becomes SCALE x SCALE screen pixels
GAP = 4  # pixels between tiles
LEGEND_HEIGHT = 20
OPACITY = 0.7  # of a class's colour over the canvas


def greys(images: torch.Tensor) -> torch.Tensor:
    """Normalised canvases ``(N, 1, H, W)`` to RGB values ``(N, H, W, 3)`` in ``[0, 255]``."""
    pixels = (images[:, 0] * MNIST_STD[0] + MNIST_MEAN[0]).clamp(0, 1) * 255
    return pixels[..., None].expand(-1, -1, -1, 3)


def paint(grey: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``grey`` ``(N, H, W, 3)`` with each labelled pixel of ``labels`` ``(N, H, W)`` tinted in its class's colour."""
    colours = PALETTE[(labels - 1).clamp(min=0)]
    opacity = OPACITY * (labels != BACKGROUND)[..., None].float()
    return grey * (1 - opacity) + colours * opacity


def overlay_image(images: torch.Tensor, labels: torch.Tensor, predicted: torch.Tensor) -> Image.Image:
    """Rows of (canvas, true labels over it, predicted labels over it), and a legend of the colours."""
    grey = greys(images)
    columns = [grey, paint(grey, labels), paint(grey, predicted)]
    count, height, width = labels.shape
    tile_h, tile_w = height * SCALE, width * SCALE
    sheet = Image.new("RGB", (3 * tile_w + 4 * GAP, count * (tile_h + GAP) + GAP + LEGEND_HEIGHT), "white")
    for row in range(count):
        for column, tiles in enumerate(columns):
            tile = Image.fromarray(tiles[row].round().to(torch.uint8).numpy(), mode="RGB")
            tile = tile.resize((tile_w, tile_h), Image.NEAREST)
            sheet.paste(tile, (GAP + column * (tile_w + GAP), GAP + row * (tile_h + GAP)))
    draw = ImageDraw.Draw(sheet)
    swatch = (sheet.width - 2 * GAP) // len(PALETTE)
    top = sheet.height - LEGEND_HEIGHT
    for number, colour in enumerate(PALETTE.to(torch.uint8).tolist()):
        left = GAP + number * swatch
        draw.rectangle((left, top, left + swatch - 2, sheet.height - GAP), fill=tuple(colour))
        draw.text((left + 3, top + 2), CLASS_NAMES[number + 1], fill="white")
    return sheet


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train a UNet briefly and save its segmentations as a PNG.")
    parser.add_argument("--target", default="assignment", help="folder with unet.py and training.py (default: assignment)")
    parser.add_argument("--output", type=Path, default=Path("segmentation_overlay.png"), help="PNG file to write")
    parser.add_argument("--canvases", type=int, default=6, help="held-out canvases to show (default: 6)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"default: {EPOCHS}")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    module = load_student_module(args.target, "unet")
    training = load_student_module(args.target, "training")  # your Part 2 trains your U-Net
    device = pick_device()
    seed_everything(args.seed)
    train, test = segmentation_split(TRAIN_CANVASES, args.canvases)
    try:
        model = module.UNet(1, NUM_CLASSES, base_channels=BASE_CHANNELS, depth=DEPTH)
        train_segmentation(training, model, train, args.seed, device, epochs=args.epochs)
        predicted = predict(model, test.images, device)
    except NotImplementedError as error:
        sys.exit(f"not implemented yet: {error} (this command trains your UNet with your Part 2: make_optimizer and train_one_epoch)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    overlay_image(test.images, test.labels, predicted).save(args.output)
    print(f"saved {args.output}: {args.canvases} held-out canvases, each as input, target and prediction")


if __name__ == "__main__":
    main()
