"""Every mistake in tests/mutants.py is caught by the test meant for it, naming it; every correct variant keeps full marks."""

import pytest

from tests.grader_run import PART_FILES, run_autograder
from tests.mutants import MUTANTS, VARIANTS


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


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_correct_variant_keeps_full_marks(variant, tmp_path):
    folder = variant.write(tmp_path / "submission")
    run = run_autograder(tmp_path / "results.json", PART_FILES[variant.module], target=folder)
    failed = [f"{t['name']}: {t['output']}" for t in run.results["tests"] if t["status"] != "passed"]
    assert not failed, "\n".join(failed)
