"""How many points each mutant loses locally (the handout's public tests) and only on Gradescope (the hidden ones).

    python scripts/mutant_points.py                  # every mutant of tests/mutants/, and the solutions
    python scripts/mutant_points.py --module detection --output points.md
    python scripts/mutant_points.py --variants --scores a.json     # also the correct variants; every test's score
    python scripts/mutant_points.py --compare a.json b.json         # the same scores in two runs?

A student's local score should predict the Gradescope score: a mistake the
public tests cannot see costs points the student only learns about after the
deadline. For the solutions and every mutant (each a realistic mistake, see
``tests/mutants/``), this grades the mutant's part, public and hidden tests
(``autograder/test_part<N>_<name>.py`` and ``autograder/hidden/...``), and
splits the points it loses by the tests' visibility. Mutants are graded in
batches of one edit per module, two runs side by side, as the meta-tests do.

``--scores`` writes every test's score for each graded edit, and ``--compare``
lists the tests whose scores differ between two such files: a verdict must
not depend on the machine, so the same edits graded under another Python,
another set of CPU kernels (``ATEN_CPU_CAPABILITY``) or other library
versions must get the same scores, test for test.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tests.grader_run import GraderRun, part_test_files, run_autograder, run_batches  # noqa: E402
from tests.mutants import MUTANTS, VARIANTS, Variant  # noqa: E402


def part_tests(run: GraderRun, module: str) -> list[dict]:
    """The results entries of ``module``'s part."""
    return [t for t in run.results["tests"] if t["tags"][0].endswith(f" {module}")]


def lost(run: GraderRun, module: str) -> tuple[float, float, float, float]:
    """Points of ``module``'s part lost in visible and in hidden tests, and the points of each."""
    tests = part_tests(run, module)
    visible = [t for t in tests if t.get("visibility", "visible") == "visible"]
    hidden = [t for t in tests if t.get("visibility", "visible") != "visible"]
    missing = lambda group: sum(t["max_score"] - t["score"] for t in group)  # noqa: E731
    total = lambda group: sum(t["max_score"] for t in group)  # noqa: E731
    return missing(visible), missing(hidden), total(visible), total(hidden)


def scores(run: GraderRun, module: str) -> dict[str, float]:
    """Every test's score in ``module``'s part, by test name."""
    return {t["name"]: t["score"] for t in part_tests(run, module)}


def compare(first: Path, second: Path) -> int:
    """Print the tests whose scores differ between two ``--scores`` files; 0 if none does, else 1."""
    a, b = (json.loads(path.read_text()) for path in (first, second))
    differences = [
        f"{edit}: {test}: {a.get(edit, {}).get(test)} vs {b.get(edit, {}).get(test)}"
        for edit in sorted(a.keys() | b.keys())
        for test in sorted(a.get(edit, {}).keys() | b.get(edit, {}).keys())
        if a.get(edit, {}).get(test) != b.get(edit, {}).get(test)
    ]
    tests = sum(len(tests) for tests in a.values())
    print("\n".join(differences) or f"identical: {len(a)} submissions, {tests} test scores")
    return 1 if differences else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--module", action="append", help="only the mutants of this module (repeatable)")
    parser.add_argument("--output", type=Path, help="also write the table to this Markdown file")
    parser.add_argument("--variants", action="store_true", help="also grade the correct variants of tests/mutants/")
    parser.add_argument("--scores", type=Path, help="write every test's score of each graded edit to this JSON file")
    parser.add_argument("--compare", nargs=2, type=Path, metavar="SCORES", help="compare two --scores files and stop")
    options = parser.parse_args()
    if options.compare:
        sys.exit(compare(*options.compare))
    mutants = [m for m in MUTANTS if not options.module or m.module in options.module]
    variants = [v for v in VARIANTS if options.variants and (not options.module or v.module in options.module)]
    modules = sorted({m.module for m in mutants}, key=lambda module: part_test_files(module)[0])
    with tempfile.TemporaryDirectory(prefix="dlcv-mutant-points-") as scratch:
        folder = Path(scratch)
        solutions = run_autograder(folder / "solutions.json", *[f for m in modules for f in part_test_files(m)],
                                   target=REPO_ROOT / "solutions")
        runs: dict[Variant, GraderRun] = run_batches(
            [*mutants, *variants], folder, lambda batch: [f for m in batch for f in part_test_files(m.module)]
        )
    rows = ["| part | edit | lost locally (public tests) | lost only on Gradescope (hidden tests) | caught locally |", "|---|---|---:|---:|---|"]
    for module in modules:
        visible, hidden, visible_total, hidden_total = lost(solutions, module)
        rows.append(f"| {module} | solutions (of {visible_total:g} public + {hidden_total:g} hidden) | {visible:g} | {hidden:g} | |")
    caught_locally = 0
    for mutant in mutants:
        visible, hidden, _, _ = lost(runs[mutant], mutant.module)
        caught_locally += visible > 0
        rows.append(f"| {mutant.module} | {mutant.name} | {visible:g} | {hidden:g} | {'yes' if visible > 0 else 'no'} |")
    for variant in variants:
        visible, hidden, _, _ = lost(runs[variant], variant.module)
        rows.append(f"| {variant.module} | {variant.name} (*correct*) | {visible:g} | {hidden:g} | |")
    rows.append(f"\n{caught_locally} of {len(mutants)} mutants lose points locally; the others only on Gradescope.")
    table = "\n".join(rows)
    print(table)
    if options.output:
        options.output.write_text(table + "\n")
    if options.scores:
        graded = {f"{module}: solutions": scores(solutions, module) for module in modules}
        graded.update({f"{edit.module}: {edit.name}": scores(runs[edit], edit.module) for edit in [*mutants, *variants]})
        options.scores.write_text(json.dumps(graded, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
