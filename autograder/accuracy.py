"""Accuracy tests: what each one measures, its threshold, and what its calibration must show.

A part's test module declares one :class:`AccuracyTest` per accuracy test
(``ACCURACY_TESTS = [...]``) and its test calls :meth:`AccuracyTest.measure`
and compares with :attr:`AccuracyTest.threshold`. ``scripts/calibrate.py``
finds the same objects in the test modules, so a calibration record measures
exactly what the test measures, with the threshold the test uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Callable

import torch


@dataclass(frozen=True)
class AccuracyTest:
    test: str  # the autograder test's function name
    module: str  # the student module it grades ("network", "training", ...)
    threshold: float  # the least accuracy that passes
    seed: int  # the one seed the test runs with
    # (the student's module, seed, device) -> accuracy; shared by the test and the calibration
    measure: Callable[[ModuleType, int, torch.device], float]
    record: str  # the calibration record's file name in autograder/calibration/
    must_fail: tuple[str, ...] = ()  # mutants (tests/mutants) whose accuracy must fall below the threshold
    context: tuple[str, ...] = ()  # other mutants and correct variants, recorded over fewer seeds
