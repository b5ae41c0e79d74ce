"""Which training loop trains the accuracy tests' networks: the grader's own, or, in the handout, the student's.

On Gradescope (and in the instructor's repository) the accuracy tests train
with the grader's own ``make_optimizer``, ``train_one_epoch`` and ``evaluate``
(``autograder/hidden/reference_training.py``), so that each part is graded on
its own. The student handout does not ship that file, since it is Part 2's
answer: there the accuracy tests train with the student's own Part 2, which,
when it is correct, trains exactly as the grader's does (same batches, same
steps, same numbers).
"""

from __future__ import annotations

from types import ModuleType

# Imported with the grader, before any test's process starts and before student code can hide or replace it.
try:
    from autograder.hidden import reference_training as GRADERS_LOOP
except ModuleNotFoundError as missing:  # the handout: no hidden folder
    if missing.name not in ("autograder.hidden", "autograder.hidden.reference_training"):
        raise
    GRADERS_LOOP = None

LOCAL_NOTE = (
    "Here this check trains with your own Part 2 (make_optimizer, train_one_epoch and evaluate); "
    "Gradescope trains with the grader's loop instead, so make Part 2's tests pass first."
)


def training_loop(submission) -> ModuleType:
    """The grader's loop where it exists (Gradescope, the instructor's repository), else the student's Part 2."""
    return GRADERS_LOOP if GRADERS_LOOP is not None else submission.module("training")


def is_graders(loop: ModuleType) -> bool:
    return loop is GRADERS_LOOP
