"""See what a trained network's channels respond to: save the image patches that excite them most as a PNG.

    python -m dlcv.top_patches --target assignment --output patches.png

Trains the small CNN that the autograder also uses (:class:`dlcv.small_cnn.SmallCNN`:
a 5 x 5 convolution with stride 2, max pooling, a 3 x 3 convolution) on the
shipped MNIST training digits for ``--epochs`` epochs (AdamW, through
``--target``'s Part 2 ``make_optimizer`` and ``train_one_epoch``; a few seconds an epoch on one CPU
core), then calls
``top_activating_patches`` from ``--target``'s ``visualize.py`` on the 1,000
test digits: for the ``--channels`` channels of each convolutional layer (after its
ReLU) whose patches show the clearest pattern (see :func:`patterned_channels`), the
``--k`` digits where the channel fires most. Each row of the grid is one
channel, the first layer's rows first; its patches, strongest first, are
the units' receptive fields: 5 x 5 pixels in the first layer, 15 x 15 in
the second (of 64 x 64 digits). All are scaled up to the same tile size, pixels kept square, and
un-normalised so that they look as the digits do. Parts of a field outside
the digit are the zero padding (after normalisation): near black.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.nn import functional as F
from torchvision.utils import make_grid, save_image

from dlcv.data import MNIST_MEAN, MNIST_STD, make_loader, mnist_split, normalize_digits, resize_digits
from dlcv.device import pick_device, seed_everything
from dlcv.small_cnn import SmallCNN
from dlcv.student_module import load_student_module
from dlcv.training_loop import train_epochs

LEARNING_RATE = 1e-3  # AdamW's, over batches of BATCH_SIZE training digits
BATCH_SIZE = 64

# SmallCNN's features: the ReLU after each convolution, and the name shown for it.
LAYERS = {1: "layer 1 (conv 5x5, stride 2)", 4: "layer 2 (pool, conv 3x3)"}
TILE = 45  # pixels of a tile: 9 x 5 and 3 x 15, so every patch scales by a whole factor


def patterned_channels(top_activating_patches, features, layer: int, images: torch.Tensor, channels: int, k: int):
    """``[(channel, its k top patches)]`` for the ``channels`` channels of ``features[layer]`` whose patches show most.

    A channel's patches show a pattern when their average is not flat: channels
    are ranked by the spread of the pixels of the average of their top patches.
    A channel that fires most on plain white (or black) ink shows nothing and comes last.
    """
    count = features[: layer + 1](images[:1]).shape[1]
    found = []
    for channel in range(count):
        patches, _ = top_activating_patches(features, layer, channel, images, k)
        found.append((patches.mean(dim=0).std().item(), channel, patches))
    found.sort(key=lambda item: -item[0])
    return [(channel, patches) for _, channel, patches in found[:channels]]


def patch_grid(rows: list[torch.Tensor], k: int) -> torch.Tensor:
    """A ``(3, H, W)`` image in ``[0, 1]`` of ``rows`` of ``k`` normalised patches each, un-normalised and scaled to tiles."""
    mean = torch.tensor(MNIST_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(MNIST_STD).view(1, 3, 1, 1)
    tiles = [F.interpolate(patches * std + mean, size=(TILE, TILE), mode="nearest").clamp(0, 1) for patches in rows]
    return make_grid(torch.cat(tiles), nrow=k, padding=2, pad_value=0.5)  # grey lines: white patches stay visible


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Save the image patches that excite a trained CNN's channels most.")
    parser.add_argument("--target", default="assignment", help="folder with visualize.py and training.py (default: assignment)")
    parser.add_argument("--output", type=Path, default=Path("top_patches.png"), help="PNG file to write")
    parser.add_argument("--epochs", type=int, default=2, help="epochs to train the network (default: 2)")
    parser.add_argument("--channels", type=int, default=4, help="channels shown per layer, those with the clearest patterns (default: 4)")
    parser.add_argument("--k", type=int, default=8, help="patches per channel (default: 8)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    module = load_student_module(args.target, "visualize")
    training = load_student_module(args.target, "training")  # your Part 2 trains the network
    train_split, test_split = mnist_split()
    images = normalize_digits(resize_digits(test_split.images))
    seed_everything(args.seed)
    model = SmallCNN()
    try:  # before training, so that an unfinished visualize.py is reported at once
        module.top_activating_patches(model.features, 1, 0, images[:1], 1)
    except NotImplementedError as error:
        sys.exit(f"top_activating_patches is not implemented yet ({error})")
    device = pick_device()
    model.to(device)
    loader = make_loader(train_split, BATCH_SIZE, shuffle=True, seed=args.seed)
    try:
        train_epochs(training, model, training.make_optimizer(model, lr=LEARNING_RATE), loader, args.epochs, device)
    except NotImplementedError as error:
        sys.exit(f"not implemented yet: {error} (this command trains the network with your Part 2: make_optimizer and train_one_epoch)")
    features = model.features.cpu().eval()
    with torch.no_grad():
        chosen = {
            layer: patterned_channels(module.top_activating_patches, features, layer, images, args.channels, args.k)
            for layer in LAYERS
        }
    grid = patch_grid([patches for layer in LAYERS for _, patches in chosen[layer]], args.k)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    save_image(grid, args.output)
    print(f"saved {args.output}: a row per channel, its {args.k} strongest patches, strongest first")
    first = 1
    for layer, name in LAYERS.items():
        last = first + len(chosen[layer]) - 1
        print(f"  rows {first}-{last}: {name}, features[{layer}], channels {[c for c, _ in chosen[layer]]}")
        first = last + 1


if __name__ == "__main__":
    main()
