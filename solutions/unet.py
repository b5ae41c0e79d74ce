"""Part 5: U-Net, an encoder-decoder with skip connections, for per-pixel labels.

Segmentation gives every pixel a class. Here the images are canvases of
handwritten digits (0, 1, 4 and 7, built by :mod:`dlcv.segmentation`), and a
pixel's class is background or the digit whose ink it is. The **encoder**
halves the image again and again, so that deep features see a large part of
the picture (*context*: a short straight piece of stroke could belong to a
1, a 4 or a 7, and only the whole digit says which). The **decoder** doubles
the size back to the input's, and a **skip connection** hands each decoder
level the encoder's features of the same size (the *mirrored* level), which
still know exactly where each stroke is: the bottleneck alone is too coarse
to place a boundary to the pixel.

Levels are numbered from the input: level ``l`` has
``base_channels * 2**l`` channels and size ``H / 2**l`` (``depth = 3``,
``base_channels = 8``, a 32 x 32 image)::

    level 0   inc    (8, 32, 32)  --------------- skip --------------->  up #3 (8, 32, 32)  -> outc
    level 1   Down  (16, 16, 16)  -------- skip -------->  up #2 (16, 16, 16)
    level 2   Down  (32,  8,  8)  -- skip -->  up #1 (32, 8, 8)
    level 3   Down  (64,  4,  4)  (the bottleneck)  -----^

Build the blocks in this order: :class:`DoubleConv`, :class:`Down`,
:class:`Up`, :class:`OutConv`, then :class:`UNet`, which only wires them
(as in milesial/Pytorch-UNet).

**Odd sizes.** Max pooling rounds down: a 37-pixel side becomes 18, and
doubling 18 gives 36, one pixel short of the 37-pixel skip. ``torch.cat``
along the channels needs equal heights and widths, so a naive
concatenation fails on odd sizes (and on every size not divisible by
``2**depth``). ``Up`` pads the upsampled map to the skip's size first
(``F.pad``), so that every level keeps its encoder's size and the output the
input's. Resizing the upsampled map to the skip's size works as well, and so
does the original U-Net's way: pooling that rounds up (``ceil_mode=True``),
then cropping the upsampled map, a pixel too large, to the skip's size.
Never crop the skip: the output would lose rows or columns.

The autograder checks the blocks one by one (among other things, that
``Down`` keeps the largest value of each 2 x 2 window and that ``OutConv``'s
scores are logits); the output's shape for any input size; that the blocks
are registered; that each ``Up`` concatenates the skip of its mirrored level;
that the skips and the bottleneck both reach the output (hooks replace or
perturb a block's output); that gradient reaches every parameter; and that
your ``UNet``, trained by the grader's own loop (8 epochs of 1,000 canvases,
about 15 seconds on a CPU), reaches a mean IoU of 0.75 on held-out canvases.
The same network with its skips cut stays near 0.5.

See what your network segments:
``python -m dlcv.segmentation_overlay --target assignment --output overlay.png``.
"""

import torch
import torch.nn.functional as F
from torch import nn


class DoubleConv(nn.Module):
    """(3 x 3 convolution, padding 1 => BatchNorm2d => ReLU) * 2: ``(N, in, H, W)`` to ``(N, out, H, W)``.

    Each batch norm comes right after its convolution, and each ReLU after its
    batch norm; nothing else (no dropout: the same batch gives the same
    output, in training mode too).
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.double_conv(x)


class Down(nn.Module):
    """2 x 2 max pooling, then DoubleConv: ``(N, in, H, W)`` to ``(N, out, H // 2, W // 2)``.

    The pooling keeps the largest value of each 2 x 2 window (stride 2), not
    their mean. An odd side rounds down (the last row or column is dropped), as
    ``nn.MaxPool2d`` does by default; rounding up (``ceil_mode=True``: ``(H + 1) // 2``)
    is accepted as well, if ``Up`` then crops (see "Odd sizes" at the top of the file).
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.maxpool_conv(x)


class Up(nn.Module):
    """Upsample x2, pad to the skip's size, concatenate the skip, DoubleConv: to ``(N, out, *skip size)``.

    ``forward(x, skip)``: ``x`` comes from the level below, ``(N, in_channels, h, w)``;
    ``skip`` from the mirrored encoder level, ``(N, out_channels, H, W)`` with ``H`` and
    ``W`` equal to ``2 * h`` and ``2 * w`` or one more (one less where ``Down`` rounds up).
    The upsampled map is brought to the skip's height and width (padded; cropped where
    ``Down`` rounds up), never the skip to its: the output has the skip's size.
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.conv = DoubleConv(in_channels + out_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(x)
        # Pooling rounded an odd size down: pad the missing row or column so the sizes match.
        rows, columns = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]
        x = F.pad(x, [columns // 2, columns - columns // 2, rows // 2, rows - rows // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class OutConv(nn.Module):
    """1 x 1 convolution to one score per class: ``(N, in, H, W)`` to ``(N, num_classes, H, W)`` logits.

    The convolution's scores are returned as they are: no softmax, sigmoid or ReLU after it.
    """

    def __init__(self, in_channels: int, num_classes: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, num_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class UNet(nn.Module):
    """U-Net: ``(N, in_channels, H, W)`` images to ``(N, num_classes, H, W)`` per-pixel logits.

    Blocks (``C = base_channels``):

    - ``inc = DoubleConv(in_channels, C)``: level 0;
    - ``depth`` Down blocks, ``Down(C * 2**(l - 1), C * 2**l)`` for level ``l = 1 .. depth``
      (the last one's output is the bottleneck);
    - ``depth`` Up blocks, deepest first, ``Up(C * 2**(l + 1), C * 2**l)`` for level
      ``l = depth - 1 .. 0``: each takes the level below and the skip of level ``l``;
    - ``outc = OutConv(C, num_classes)``.

    Any ``H`` and ``W`` of at least ``2**depth`` work, odd ones included. The
    autograder finds the blocks by their classes (DoubleConv, Down, Up, OutConv
    from this file) and the order ``forward`` calls them, not by attribute names:
    keep them in ``nn.ModuleList``s or as named attributes, as you like (not in a
    plain Python list or dict, which does not register them: their parameters
    would never train), but build them from these classes and call each once per
    forward. ``forward`` returns ``OutConv``'s raw scores (logits) as they are, with
    no softmax, sigmoid or ReLU: ``nn.CrossEntropyLoss`` applies the softmax itself.
    """

    def __init__(self, in_channels: int, num_classes: int, base_channels: int = 16, depth: int = 4):
        super().__init__()
        channels = [base_channels * 2**level for level in range(depth + 1)]
        self.inc = DoubleConv(in_channels, channels[0])
        self.downs = nn.ModuleList(Down(channels[level - 1], channels[level]) for level in range(1, depth + 1))
        self.ups = nn.ModuleList(Up(channels[level + 1], channels[level]) for level in reversed(range(depth)))
        self.outc = OutConv(channels[0], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, in_channels, H, W)`` to ``(N, num_classes, H, W)`` logits."""
        x = self.inc(x)
        skips = []
        for down in self.downs:
            skips.append(x)
            x = down(x)
        for up, skip in zip(self.ups, reversed(skips)):
            x = up(x, skip)
        return self.outc(x)
