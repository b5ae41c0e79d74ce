"""Part 7: what the CNN learns: receptive fields and the image patches that excite a channel.

A unit of a convolutional layer sees only part of the image: its *receptive
field*, a square of input pixels that grows with every convolution and
pooling layer. To see what a channel of a trained network has learned, map
its activations back to the input pixel space: find the units where the
channel fires most, and cut out of the images the fields those units see
(the lecture's layer-by-layer figures of image patches).

Coordinates: pixel ``(row, column)`` of an image is at ``(row, column)``, so
a pixel's centre has integer coordinates and the image's top-left pixel is
``(0, 0)``. Fields are square: rows and columns follow the same rule.
"""

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F


class ReceptiveField(NamedTuple):
    """The receptive field of the units of one layer, in input pixels (given: do not change).

    ``size``
        side of the square field of one unit, in pixels (an ``int``). Padding
        counts: near the border part of the field may lie outside the image.
    ``jump``
        distance between the fields of two neighbouring units, in pixels (an
        ``int``): the product of the strides of the layers so far.
    ``start``
        centre of the field of the top-left unit ``(0, 0)``, in input pixel
        coordinates (a ``float``): a half-integer when ``size`` is even,
        negative when padding pushes the field beyond the top-left corner.

    The field of unit ``(y, x)`` is centred on ``(start + y * jump, start + x * jump)``;
    its rows go from ``start + y * jump - (size - 1) / 2`` (always a whole number)
    to ``start + y * jump + (size - 1) / 2``, inclusive, and its columns likewise.
    """

    size: int
    jump: int
    start: float


def receptive_field(layers) -> ReceptiveField:
    """The receptive field of one unit after ``layers``, applied to an image in order.

    Args:
        layers: a sequence of layers (a list, or an ``nn.Sequential`` such as a
            network's ``features``; not nested). ``nn.Conv2d``, ``nn.MaxPool2d``
            and ``nn.AvgPool2d`` change the field through their ``kernel_size``,
            ``stride``, ``padding`` and ``dilation`` (pooling layers' ``stride``
            defaults to their kernel size; ``nn.AvgPool2d`` has no dilation: 1).
            These may be given as an int or as a tuple of two equal ints: only
            square layers are asked for. Every other layer (``nn.ReLU``,
            ``nn.BatchNorm2d``, ``nn.Dropout``, ...) acts pixel by pixel and
            leaves the field unchanged.

    Returns:
        ``ReceptiveField(size, jump, start)`` (see its docstring), with ``size``
        and ``jump`` Python ints and ``start`` a Python float. With no layers,
        or only pixel-wise ones, each unit is one pixel: ``ReceptiveField(1, 1, 0.0)``.

    Example: ``nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1)`` then
    ``nn.MaxPool2d(2)`` give ``ReceptiveField(size=5, jump=4, start=1.0)``.
    """
    # TODO: follow the field through the layers, one layer at a time, from a single pixel.
    #   - Before any layer a unit is one pixel: size 1, jump 1, start 0.0.
    #   - The three numbers describe the units of the layers so far: how many pixels
    #     one unit sees (size), how many pixels apart neighbouring units' fields are
    #     (jump), and where the centre of unit 0's field lies (start).
    #   - Only Conv2d, MaxPool2d and AvgPool2d change them, each through its
    #     kernel_size, stride, padding and dilation (an int or a pair of equal ints;
    #     AvgPool2d has no dilation). Work out on paper, in one dimension, how such a
    #     layer turns the numbers before it into the numbers after it:
    #       * one of its units reads a window of its input, and dilation leaves gaps
    #         between the kernel's taps; a step in its input is a step between the
    #         units of the layers *before* it, not one pixel;
    #       * padding adds positions before the image, so it moves the window of the
    #         layer's first unit;
    #       * the stride sets how many input positions apart its own units are.
    #     Check your rule on the example above, and on two layers drawn by hand.
    #   - Return ReceptiveField(size, jump, start), start a float: half-integers happen.
    raise NotImplementedError("receptive_field")


def top_activating_patches(
    model: nn.Sequential, layer: int, channel: int, images: torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` image patches where ``channel`` of ``model[layer]`` fires most, and its activations there.

    Args:
        model: an ``nn.Sequential`` of layers, as :func:`receptive_field`
            takes them (for example a network's ``features``). It is run as
            given (put it in eval mode first if it has dropout or batch norm):
            the function leaves the mode of every layer, and the
            ``requires_grad`` of every parameter, as they were.
        layer: index into ``model``: the activations are the output of
            ``model[layer]``, that is of ``model[: layer + 1]``, an
            ``(N, channels, h, w)`` tensor.
        channel: which of its channels.
        images: ``(N, C, H, W)`` input images, of the model's floating-point
            dtype (``float32``, ``float64``, ...); ``H`` and ``W`` may differ.
        k: how many patches, ``1 <= k <= N``.

    Returns:
        ``(patches, activations)``, two tensors without gradient (computed
        under ``torch.no_grad()``):

        - ``activations``: ``(k,)``, the ``k`` highest values of the channel,
          at most one per image: for each image, the channel's largest value
          over all positions ``(y, x)``; then the ``k`` images where it is
          largest, in decreasing order (ties between positions or images
          may be broken either way).
        - ``patches``: ``(k, C, size, size)``, same dtype as ``images``, where
          ``size`` is ``receptive_field(model[: layer + 1]).size``: patch ``i``
          is the receptive field of the unit that gave ``activations[i]``, cut
          out of its image (rows and columns as in :class:`ReceptiveField`).
          Parts of the field outside the image are zeros, as the padding the
          convolutions saw, and the image stays where it is inside the patch.
    """
    # TODO: Hints:
    #   1. The activations are the output of model[: layer + 1] (slicing an nn.Sequential
    #      gives one), or model[layer]'s output caught with a forward hook; run the model
    #      under torch.no_grad(), and keep only ``channel``: an (N, h, w) tensor.
    #   2. For each image, the channel's largest value and the position (y, x) where it
    #      is; then the k images where it is largest, strongest first (torch.topk).
    #   3. Unit (y, x)'s field, from receptive_field(model[: layer + 1]), starts at row
    #      start + y * jump - (size - 1) / 2 and column start + x * jump - (size - 1) / 2.
    #   4. Cut size x size pixels from there, with zeros outside the image: pad the image,
    #      or use F.pad with negative padding, which crops. torch.stack the patches.
    raise NotImplementedError("top_activating_patches")
