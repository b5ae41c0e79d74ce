"""Every realistic mistake in tests/mutants.py is caught by the test meant for it, with a message that names it."""

import pytest

from tests.grader_run import run_autograder
from tests.mutants import MUTANTS

PART_FILES = {"network": "autograder/test_part1_network.py", "training": "autograder/test_part2_training.py"}


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_caught_by_its_test(mutant, tmp_path):
    folder = mutant.write(tmp_path / "submission")
    # Only the test meant for the mutant runs: the other tests' verdicts are not what this checks.
    test_id = f"{PART_FILES[mutant.module]}::{mutant.caught_by}"
    run = run_autograder(tmp_path / "results.json", test_id, target=folder)
    outcome = run.test(mutant.caught_by)
    assert outcome["status"] == "failed", f"{mutant.caught_by} passed the mutant {mutant.name!r}"
    assert mutant.message_names in outcome["output"], (
        f"{mutant.caught_by} failed the mutant {mutant.name!r} without naming it; its message was:\n{outcome['output']}"
    )
