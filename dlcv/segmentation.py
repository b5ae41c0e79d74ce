"""Segmentation canvases made from the shipped MNIST digits, with a class for every pixel.

A canvas is a ``CANVAS_SIZE x CANVAS_SIZE`` black image holding
``DIGITS_PER_CANVAS`` handwritten digits, each shrunk to ``DIGIT_SIZE x
DIGIT_SIZE`` and put at a random place (their boxes overlap by at most a
quarter of a side, where MNIST's margins are empty). The digits are the four
of ``DIGITS``: 0, 1, 4 and 7. Its label map gives every pixel a class:
``0`` for background, ``1 + DIGITS.index(d)`` for the ink of a digit ``d``
(a pixel at least half white, ``INK_THRESHOLD``). So ``NUM_CLASSES = 5``,
and ``CLASS_NAMES`` says which is which.

The task needs both halves of a U-Net (measured in
``autograder/calibration/part5_unet.md``, its rows with the skips cut
and with the bottleneck bypassed):

- *context*: a stroke's class is its whole digit's, and a short straight
  piece of stroke looks the same in a 1, a 4 and a 7; only features that see
  the whole digit tell them apart (the encoder's deep levels);
- *resolution*: the strokes are one to three pixels wide, so a label map that
  is right to the pixel needs the full-resolution features that the skip
  connections carry (the bottleneck is ``2**depth`` times coarser).

Four digits rather than ten keep the training run short enough for the
autograder (the ten-class task needs several times more epochs to tell all
the classes apart).

Canvases are built in memory from :func:`dlcv.data.mnist_split` with a
seeded generator: the same arguments give the same canvases on every machine.
Training canvases use training digits only, test canvases test digits only.
Building 1,300 canvases takes a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dlcv.data import MNIST_MEAN, MNIST_STD, Split, mnist_split, resize_digits
from dlcv.training_loop import TrainingLoop, train_epochs

DIGITS = (0, 1, 4, 7)  # the digits on the canvases: one round, three made of straight strokes
CANVAS_SIZE = 32
DIGIT_SIZE = 16
DIGITS_PER_CANVAS = 2
INK_THRESHOLD = 128  # a pixel of a digit is ink when at least half white (of 255)
MAX_OVERLAP = 0.25  # digit boxes may overlap by this much of their side (their margins are empty)
PLACEMENT_TRIES = 100  # random placements drawn per canvas; the first that fits is kept
BACKGROUND = 0
NUM_CLASSES = 1 + len(DIGITS)
CLASS_NAMES = ("background", *(f"digit {digit}" for digit in DIGITS))
TRAIN_SEED = 1  # the fixed placement of digits on the training canvases
TEST_SEED = 2  # and on the test canvases

# The standard run: the autograder's accuracy test and the overlay command train
# UNet(1, NUM_CLASSES, base_channels=BASE_CHANNELS, depth=DEPTH) this way. The calibration
# record autograder/calibration/part5_unet.md was measured with these values: change
# them only with a new calibration.
BASE_CHANNELS = 8
DEPTH = 3
TRAIN_CANVASES = 1000
TEST_CANVASES = 300
EPOCHS = 8
LEARNING_RATE = 1e-2  # the peak of the one-cycle schedule
BATCH_SIZE = 16


@dataclass(frozen=True)
class Canvases:
    """Images ``(N, 1, H, W)`` float32, normalised like MNIST, and labels ``(N, H, W)`` int64 in ``[0, NUM_CLASSES)``."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)


def make_canvases(
    split: Split,
    count: int,
    seed: int,
    size: int = CANVAS_SIZE,
    digit_size: int = DIGIT_SIZE,
    digits: int = DIGITS_PER_CANVAS,
) -> Canvases:
    """``count`` canvases of ``digits`` digits drawn from those of ``split`` in ``DIGITS``; fixed by ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    pool = torch.nonzero(torch.isin(split.labels, torch.tensor(DIGITS))).flatten()
    chosen = pool[torch.randint(len(pool), (count, digits), generator=generator)]
    corners = _corners(count, digits, size, digit_size, generator)
    small = resize_digits(split.images[chosen.flatten()], digit_size).view(count, digits, digit_size, digit_size)
    class_of_digit = torch.zeros(10, dtype=torch.int64)
    class_of_digit[list(DIGITS)] = torch.arange(1, NUM_CLASSES)
    classes = class_of_digit[split.labels[chosen]]
    pixels = torch.zeros(count, size, size, dtype=torch.uint8)
    labels = torch.zeros(count, size, size, dtype=torch.int64)
    for canvas in range(count):
        for number, (top, left) in enumerate(corners[canvas].tolist()):
            digit = small[canvas, number]
            window = (canvas, slice(top, top + digit_size), slice(left, left + digit_size))
            pixels[window] = torch.maximum(pixels[window], digit)
            labels[window][digit >= INK_THRESHOLD] = classes[canvas, number]
    return Canvases(_normalise(pixels), labels)


def _corners(count: int, digits: int, size: int, digit_size: int, generator: torch.Generator) -> torch.Tensor:
    """Top-left corners ``(count, digits, 2)`` of digit boxes that overlap by at most ``MAX_OVERLAP`` of a side.

    ``PLACEMENT_TRIES`` random placements are drawn for every canvas at once
    and the first one that fits is kept (one fits with probability 0.2 or
    more at the sizes used here, so all of them failing is rarer than 1e-9).
    """
    tries = torch.randint(size - digit_size + 1, (count, PLACEMENT_TRIES, digits, 2), generator=generator)
    apart = digit_size - int(MAX_OVERLAP * digit_size)  # the least distance between corners along some axis
    fits = torch.ones(count, PLACEMENT_TRIES, dtype=torch.bool)
    for first in range(digits):
        for second in range(first + 1, digits):
            distance = (tries[:, :, first] - tries[:, :, second]).abs()
            fits &= (distance >= apart).any(dim=-1)
    if not fits.any(dim=1).all():
        raise ValueError(f"{digits} digits of {digit_size} pixels rarely fit on a {size}-pixel canvas")
    return tries[torch.arange(count), fits.int().argmax(dim=1)]


def _normalise(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 canvases ``(N, H, W)`` to ``(N, 1, H, W)`` floats normalised with MNIST's mean and std."""
    return ((pixels.float() / 255 - MNIST_MEAN[0]) / MNIST_STD[0])[:, None]


def segmentation_split(train_count: int, test_count: int) -> tuple[Canvases, Canvases]:
    """``(train, test)`` canvases: training digits at ``TRAIN_SEED``'s places, test digits at ``TEST_SEED``'s."""
    train, test = mnist_split()
    return make_canvases(train, train_count, TRAIN_SEED), make_canvases(test, test_count, TEST_SEED)


def mean_iou(predicted: torch.Tensor, labels: torch.Tensor, num_classes: int = NUM_CLASSES) -> float:
    """Mean over classes of intersection over union, counted over all pixels of ``(N, H, W)`` label maps.

    Classes absent from both the prediction and the labels are left out of the mean.
    """
    ious = []
    for cls in range(num_classes):
        predicted_here, labelled_here = predicted == cls, labels == cls
        union = (predicted_here | labelled_here).sum().item()
        if union:
            ious.append((predicted_here & labelled_here).sum().item() / union)
    return sum(ious) / len(ious)


def class_weights(labels: torch.Tensor, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """Loss weights ``(num_classes,)``: the square root of each class's inverse pixel frequency in ``labels``.

    Background is nine pixels in ten and a 1's stroke a fraction of a percent:
    unweighted, a short run can settle on calling the thinnest strokes
    background. Full inverse-frequency weights overshoot the other way (thick,
    blurred digits); the square root sits between the two.
    """
    counts = labels.flatten().bincount(minlength=num_classes).double().clamp_min(1)
    return (counts.sum() / (num_classes * counts)).sqrt().float()


class ShuffledBatches:
    """``(images, labels)`` batches of ``canvases`` in a new order each pass, drawn from a generator seeded once."""

    def __init__(self, canvases: Canvases, batch_size: int, seed: int):
        self.canvases, self.batch_size = canvases, batch_size
        self.generator = torch.Generator().manual_seed(seed)

    def __iter__(self):
        for batch in torch.randperm(len(self.canvases), generator=self.generator).split(self.batch_size):
            yield self.canvases.images[batch], self.canvases.labels[batch]

    def __len__(self) -> int:
        return -(-len(self.canvases) // self.batch_size)


def train_segmentation(
    training: TrainingLoop,
    model: torch.nn.Module,
    canvases: Canvases,
    seed: int,
    device: torch.device,
    epochs: int = EPOCHS,
    lr: float = LEARNING_RATE,
    batch_size: int = BATCH_SIZE,
) -> torch.nn.Module:
    """Train ``model`` on ``canvases`` through ``training``'s loop: AdamW, per-pixel weighted cross-entropy,
    one-cycle schedule.

    The learning rate warms up to ``lr`` and anneals to almost zero over the
    run (``OneCycleLR``, stepped after every optimizer step), so that a run of
    a few epochs ends on a settled model rather than wherever its last large
    step left it. Shuffling is seeded by ``seed``; the model's initial weights
    are the caller's.
    """
    model.to(device)
    batches = ShuffledBatches(canvases, batch_size, seed)
    optimizer = training.make_optimizer(model, lr=lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * len(batches))
    optimizer.register_step_post_hook(lambda *_: scheduler.step())
    criterion = torch.nn.CrossEntropyLoss(weight=class_weights(canvases.labels).to(device))
    return train_epochs(training, model, optimizer, batches, epochs, device, criterion=criterion)


def predict(model: torch.nn.Module, images: torch.Tensor, device: torch.device, batch_size: int = 256) -> torch.Tensor:
    """The most likely class of every pixel, ``(N, H, W)`` int64 on the CPU (eval mode, no grad)."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(part.to(device)).argmax(dim=1).cpu() for part in images.split(batch_size)])
