"""Accuracy tests: what each one measures, its threshold, and what its calibration must show.

A part's test module declares one :class:`AccuracyTest` per accuracy test
(``ACCURACY_TESTS = [...]``) and its test calls :meth:`AccuracyTest.measure`
and compares with :attr:`AccuracyTest.threshold`. ``scripts/calibrate.py``
finds the same objects in the test modules, so a calibration record measures
exactly what the test measures, with the threshold the test uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Callable

import torch

from autograder.checks import check_float, fail
from autograder.training_loop import LOCAL_NOTE, is_graders


@dataclass(frozen=True)
class AccuracyTest:
    test: str  # the autograder test's function name
    module: str  # the student module it grades ("network", "training", ...)
    threshold: float  # the least accuracy that passes
    seed: int  # the one seed the test runs with
    # (the student's module, the training loop, seed, device) -> accuracy; shared by the test and the calibration.
    # The loop is Part 2's train_one_epoch and evaluate: the grader's own, or in the handout the student's.
    measure: Callable[[ModuleType, ModuleType | None, int, torch.device], float]
    record: str  # the calibration record's file name in autograder/calibration/
    must_fail: tuple[str, ...] = ()  # mutants (tests/mutants) whose accuracy must fall below the threshold
    context: tuple[str, ...] = ()  # other mutants and correct variants, recorded over fewer seeds
    note: str = ""  # why the threshold is where it is, written into the calibration record
    # Further runs, at seed + 1, seed + 2, ..., while every run so far fell below the threshold (the best counts):
    # for a training run that a correct network can, rarely, lose to an unlucky start (see the record's note).
    retries: int = 0

    def run(self, student: ModuleType, loop: ModuleType | None, device: torch.device) -> float:
        """The graded measurement: :meth:`measure` at :attr:`seed`, retried at the next seeds while below the
        threshold (:attr:`retries` more at most); the best run."""
        runs = [self.measure(student, loop, self.seed, device)]
        for seed in range(self.seed + 1, self.seed + 1 + self.retries):
            if any(accuracy >= self.threshold for accuracy in runs):
                break
            runs.append(self.measure(student, loop, seed, device))
        return max(runs, key=lambda accuracy: accuracy if accuracy == accuracy else -math.inf)  # NaN counts least

    def judge(self, accuracy, expected: str, likely: str, loop: ModuleType | None) -> None:
        """Fail unless ``accuracy`` reaches the threshold; hand the number to the harness either way.

        The harness checks the number again in its own process, where no
        student code ran (:meth:`confirm`), so a test that passes only
        because its threshold or its checks were rewritten still fails.
        ``loop`` is the training loop that trained (None if none did): when
        it is the student's own (in the handout), a failure says so.
        """
        accuracy = check_float(accuracy, "the measured accuracy")
        MEASURED[self.test] = accuracy
        if accuracy < self.threshold:
            if loop is not None and not is_graders(loop):
                likely += f". {LOCAL_NOTE}"
            fail(expected, f"{accuracy:.1%}", likely)

    def confirm(self, measured: dict) -> str | None:
        """In the harness: why a pass reported for this test cannot stand, or None if it can."""
        value = measured.get(self.test) if type(measured) is dict else None
        if type(value) is not float:
            return "the test reported a pass without its measured accuracy"
        if not value >= self.threshold:
            return f"the test reported a pass with an accuracy of {value:.1%}, below the threshold {self.threshold:.0%}"
        return None


# Accuracies measured in this process by AccuracyTest.judge, by test name: sent to the harness with the verdict.
MEASURED: dict[str, float] = {}
