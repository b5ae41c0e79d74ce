"""The two tasks of transfer learning (Part 4): digits 0-4, then digits 5-9 from few examples.

The *source task* is telling digits 0-4 apart; the shipped backbone
(:mod:`dlcv.backbone`) was pretrained on it. The *target task* is telling
digits 5-9 apart, with their labels remapped to 0-4 (digit 5 is label 0,
..., digit 9 is label 4), from a few examples of each.

Both come from the fixed split of :func:`dlcv.data.mnist_split` (400
training and 100 test images of each digit) without random numbers:

- :func:`source_task`: the training and test images of digits 0-4
  (2,000 and 500).
- :func:`target_task`: for ``shots`` examples per class, the *first*
  ``shots`` training images of each of digits 5-9, in the file's order;
  ``shots=None`` takes all 400 of each. The sets are nested (the 5-shot set
  holds the 1-shot set, and so on), so a larger set only adds examples. The
  test set is always all 500 test images of digits 5-9.
"""

from __future__ import annotations

import torch

from dlcv.data import Split, mnist_split

SOURCE_DIGITS = (0, 1, 2, 3, 4)
TARGET_DIGITS = (5, 6, 7, 8, 9)
NUM_TASK_CLASSES = 5
SHOTS = (1, 5, 20, 100, None)  # the few-shot training sets of the learning curves; None: all 400 per class


def _digits(split: Split, digits: tuple[int, ...], shots: int | None = None) -> Split:
    """The images of ``digits`` (the first ``shots`` of each, in order), labels remapped to 0, 1, ..."""
    keep = torch.cat([torch.nonzero(split.labels == digit).flatten()[:shots] for digit in digits])
    return Split(split.images[keep], split.labels[keep] - digits[0])


def source_task() -> tuple[Split, Split]:
    """``(train, test)`` of digits 0-4: 2,000 and 500 images, labels 0-4."""
    train, test = mnist_split()
    return _digits(train, SOURCE_DIGITS), _digits(test, SOURCE_DIGITS)


def target_task(shots: int | None = None) -> tuple[Split, Split]:
    """``(train, test)`` of digits 5-9, labels 0-4: ``shots`` training images per class (None: all 400), 500 test images."""
    if shots is not None and not 1 <= shots <= 400:
        raise ValueError(f"shots must be between 1 and 400 (or None for all), not {shots}")
    train, test = mnist_split()
    return _digits(train, TARGET_DIGITS, shots), _digits(test, TARGET_DIGITS)
