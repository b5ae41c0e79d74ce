"""Graded examples drawn by the project's own seeded generator: the same on every machine and every version.

A test that grades many examples (random boxes, image sizes, layer stacks)
draws them here rather than from hypothesis or torch's random generator,
whose sequences may change with a new release of either, or of Python, and
would then grade a submission on other inputs than the calibrated ones.
:class:`Draw` is SplitMix64 over Python integers; :func:`noise` hashes a
tensor's indices. Both depend on nothing but their seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

import torch

T = TypeVar("T")
MASK = 2**64 - 1


class Draw:
    """A seeded stream of numbers: ``integer``, ``uniform``, ``choice``, ``boolean``."""

    def __init__(self, seed: int):
        self.state = seed & MASK

    def _next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def integer(self, low: int, high: int) -> int:
        """An integer in ``[low, high]``, both included."""
        return low + self._next() % (high - low + 1)

    def uniform(self, low: float, high: float) -> float:
        """A float in ``[low, high)``."""
        return low + (high - low) * (self._next() >> 11) / 2**53

    def choice(self, options: Sequence[T]) -> T:
        return options[self.integer(0, len(options) - 1)]

    def boolean(self, probability: float = 0.5) -> bool:
        return self.uniform(0.0, 1.0) < probability


def examples(count: int, seed: int, make: Callable[[Draw], T]) -> list[T]:
    """``count`` examples, the i-th made by ``make`` from its own stream (seeded by ``seed`` and i)."""
    return [make(Draw(seed * 1_000_003 + number)) for number in range(count)]


def noise(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Pseudo-random float32 values in [-1, 1) of ``shape``, the same on every machine and PyTorch version.

    An integer hash of each value's index and ``seed`` (not torch's random
    generator, whose numbers may change between versions).
    """
    index = torch.arange(math.prod(shape), dtype=torch.int64) + seed * 1_000_003
    bits = (index * 2_654_435_761 + 12_345) % 2**32
    bits = ((bits ^ (bits >> 16)) * 0x45D9F3B) % 2**32
    bits = bits ^ (bits >> 16)
    return (bits.double() / 2**31 - 1).float().reshape(shape)
