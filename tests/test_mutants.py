"""Every mistake in tests/mutants/ is caught by the test meant for it, naming it; every correct variant keeps full marks.

Parts are graded independently, so one grader run can grade a mutant of
``network.py`` and a mutant of ``training.py`` side by side: the mutants are
run in batches holding at most one edit of each module (as many batches as
the part with the most mutants has), which spares a grader start-up per
mutant. A mutant's run selects only the test meant for it; a variant's runs
its whole part.
"""

from __future__ import annotations

import pytest

from tests.grader_run import GraderRun, batches, node_of, part_test_files, run_batches
from tests.mutants import MUTANTS, VARIANTS, Variant

# The first mutant test and the first variant test each grade the whole catalogue in their fixture's setup
# (over 180 mutants in about 45 grader runs; about 47 variants in 9 runs of whole parts): longer than the
# project's default limit per test on a busy machine.
pytestmark = pytest.mark.timeout(2700)


def selected(request, parameter: str) -> list[Variant]:
    """The edits whose tests this session runs (all of them, unless ``-k`` or node ids chose some)."""
    chosen = [item.callspec.params[parameter] for item in request.session.items
              if hasattr(item, "callspec") and parameter in item.callspec.params]
    return list(dict.fromkeys(chosen))


@pytest.fixture(scope="module")
def mutant_runs(request, tmp_path_factory) -> dict[Variant, GraderRun]:
    return run_batches(selected(request, "mutant"), tmp_path_factory.mktemp("mutants"),
                       lambda batch: [node_of(m.module, m.caught_by) for m in batch])


@pytest.fixture(scope="module")
def variant_runs(request, tmp_path_factory) -> dict[Variant, GraderRun]:
    return run_batches(selected(request, "variant"), tmp_path_factory.mktemp("variants"),
                       lambda batch: [f for v in batch for f in part_test_files(v.module)])


def test_batches_hold_one_edit_of_each_module():
    for batch in batches(MUTANTS) + batches(VARIANTS):
        assert len({edit.module for edit in batch}) == len(batch)
    assert sum(map(len, batches(MUTANTS))) == len(MUTANTS)


@pytest.mark.parametrize("mutant", MUTANTS, ids=[f"{m.module}: {m.name}" for m in MUTANTS])
def test_mutant_is_caught_by_its_test(mutant, mutant_runs):
    outcome = mutant_runs[mutant].test(mutant.caught_by, module=mutant.module)
    assert outcome["status"] == "failed", f"{mutant.caught_by} passed the mutant {mutant.name!r}"
    assert mutant.message_names in outcome["output"], (
        f"{mutant.caught_by} failed the mutant {mutant.name!r} without naming it; its message was:\n{outcome['output']}"
    )


@pytest.mark.parametrize("variant", VARIANTS, ids=[f"{v.module}: {v.name}" for v in VARIANTS])
def test_correct_variant_keeps_full_marks(variant, variant_runs):
    tests = [t for t in variant_runs[variant].results["tests"] if t["tags"][0].endswith(f" {variant.module}")]
    failed = [f"{t['name']}: {t['output']}" for t in tests if t["status"] != "passed"]
    assert tests and not failed, "\n".join(failed)
