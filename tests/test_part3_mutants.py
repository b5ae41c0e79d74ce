"""Every Part 3 mutant in tests/mutants/part3 is caught by the test meant for it, with a message that names it.

Each mutant is a whole ``augmentation.py`` (a folder per mutant, graded as a
target folder). Only the test meant for the mutant runs: the other tests'
verdicts are not what this checks.
"""

from pathlib import Path

import pytest

from tests.grader_run import run_autograder

MUTANTS_DIR = Path(__file__).resolve().parent / "mutants" / "part3"
PART_FILE = "autograder/test_part3_augmentation.py"

# folder: (the test that must fail, words its message must contain)
CAUGHT_BY = {
    "hflip": ("test_no_flips_or_large_rotations", "flips images horizontally"),
    "vflip": ("test_no_flips_or_large_rotations", "flips images vertically"),
    "lecture_rotations": ("test_no_flips_or_large_rotations", "rotates images by 90 degrees or more"),
    "rotation_180": ("test_no_flips_or_large_rotations", "rotates images by 90 degrees or more"),
    "test_augmented": ("test_test_transform_is_deterministic", "augmentation in the test transform"),
    "test_not_normalised": ("test_test_transform_output", "not normalised"),
    "test_one_channel": ("test_test_transform_output", "3 channels"),
    "train_not_normalised": ("test_train_transform_normalises_like_test_transform", "not normalised"),
    "train_other_normalisation": ("test_train_transform_normalises_like_test_transform", "another mean and std"),
    "colour_too_strong": ("test_digit_stays_visible", "digit may vanish"),
    "noop_random_crop": ("test_train_transform_is_random", "no augmentation"),
    "colour_only": ("test_augmentation_helps_on_shifted_digits", "shifted digits"),
}


def test_every_mutant_folder_is_listed():
    assert sorted(path.name for path in MUTANTS_DIR.iterdir() if path.is_dir()) == sorted(CAUGHT_BY)


@pytest.mark.parametrize("mutant", sorted(CAUGHT_BY))
def test_mutant_is_caught_by_its_test(mutant, tmp_path):
    test_name, message_names = CAUGHT_BY[mutant]
    run = run_autograder(tmp_path / "results.json", f"{PART_FILE}::{test_name}", target=MUTANTS_DIR / mutant)
    outcome = run.test(test_name)
    assert outcome["status"] == "failed", f"{test_name} passed the mutant {mutant!r}"
    assert message_names in outcome["output"], (
        f"{test_name} failed the mutant {mutant!r} without naming it; its message was:\n{outcome['output']}"
    )
