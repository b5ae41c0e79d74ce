"""The student handout: built from this repository, unpacked and graded as a student would; what it must not ship."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from autograder.gradescope import inventory
from autograder.gradescope.stubs import StubError, check_stub_sources
from autograder.gradescope.answers import AnswerError, check_no_answers
from autograder.gradescope.visibility import VisibilityError, check_placement, hidden_manifest, is_in_hidden_folder
from autograder.grading.hidden import hidden_points_line
from tests.gradescope_format import load_results
from tests.gradescope_runs import MODULES, REPO_ROOT, build, unzip

HIDDEN_LINE = re.compile(r"^([\d.]+) more points?, not in the total above, (?:is|are) graded only on Gradescope \((\d+) hidden tests?: (.+)\)$", re.MULTILINE)


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    """The handout built from this repository, unpacked into a fresh folder."""
    archive = build("handout", tmp_path_factory.mktemp("dist") / "handout.zip")
    return unzip(archive, tmp_path_factory.mktemp("student")) / "dlcv-homework"


@pytest.fixture(scope="module")
def hidden_tests():
    return [test for test in inventory.collect(REPO_ROOT) if test.visibility != "visible"]


def grade_handout(handout, tmp_path, target="assignment"):
    """``pytest autograder/`` in the handout, as a student runs it; (stdout, results)."""
    environment = {**os.environ, "PYTHONPATH": str(handout), "OMP_NUM_THREADS": "1"}
    environment.pop("DLCV_TARGET", None)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "autograder/", "--target", target, "--results", str(tmp_path / "results.json")],
        cwd=handout, env=environment, capture_output=True, text=True, timeout=900,
    )
    return completed.stdout + completed.stderr, load_results(tmp_path / "results.json")


def test_handout_holds_stubs_library_data_and_public_tests_only(handout):
    assert {path.name for path in handout.iterdir()} == {"README.md", "assignment", "autograder", "dlcv", "data", "pyproject.toml"}
    for module in MODULES:
        assert (handout / "assignment" / module).read_bytes() == (REPO_ROOT / "assignment" / module).read_bytes()
    assert not (handout / "autograder" / "gradescope").exists() and not (handout / "autograder" / "calibration").exists()
    solutions = {path.read_bytes() for path in (REPO_ROOT / "solutions").glob("*.py")}
    assert not any(path.read_bytes() in solutions for path in handout.rglob("*") if path.is_file())
    readme = (handout / "README.md").read_text()
    assert 'pip install -e ".[dev]"' in readme and "pytest autograder/" in readme
    assert ", ".join(f"`{module}`" for module in MODULES) in readme
    assert "$" not in re.sub(r"`[^`]*`", "", readme), "a template placeholder was left unfilled"
    assert 'testpaths = ["autograder"]' in (handout / "pyproject.toml").read_text()


def test_hidden_tests_are_left_out_and_their_points_recorded(handout, hidden_tests):
    assert hidden_tests and all(is_in_hidden_folder(test) for test in hidden_tests)
    assert not (handout / "autograder" / "hidden").exists()
    manifest = json.loads((handout / "autograder" / "hidden_points.json").read_text())
    assert manifest == hidden_manifest(hidden_tests)
    for part, entry in manifest["parts"].items():
        assert entry["points"] == sum(t.points for t in hidden_tests if t.part == part) > 0


def test_handout_ships_no_function_that_answers_a_todo(handout):
    check_no_answers(handout)  # the build ran it too; this names the check that the real handout passes


def test_stubs_score_zero_with_clean_messages(handout, hidden_tests, tmp_path):
    stdout, results = grade_handout(handout, tmp_path)
    assert results["score"] == 0 and results["tests"]
    for test in results["tests"]:
        assert re.fullmatch(r"not implemented yet: \w+\.[\w.]+", test["output"]), f"{test['name']}: {test['output']}"
    assert "Traceback" not in stdout
    line = HIDDEN_LINE.search(stdout)
    assert line, stdout[-2000:]
    assert float(line.group(1)) == sum(t.points for t in hidden_tests) and int(line.group(2)) == len(hidden_tests)
    parts = sorted({t.part for t in hidden_tests}, key=lambda part: int(part.split()[0]))
    assert line.group(3) == ", ".join(f"Part {part} {sum(t.points for t in hidden_tests if t.part == part):g}" for part in parts)


def test_solutions_copied_in_score_full_public_marks(handout, hidden_tests, tmp_path):
    folder = tmp_path / "handout"
    shutil.copytree(handout, folder)
    for module in MODULES:
        shutil.copy(REPO_ROOT / "solutions" / module, folder / "assignment" / module)
    stdout, results = grade_handout(folder, tmp_path)
    failed = [f"{t['name']}: {t['output']}" for t in results["tests"] if t["status"] != "passed"]
    assert not failed, "\n".join(failed)
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0
    assert not any(t["name"].endswith(test.nodeid.split("::")[-1]) for t in results["tests"] for test in hidden_tests)
    assert HIDDEN_LINE.search(stdout), "full public marks must still say that hidden points remain"


def graded(nodeid: str, visibility: str) -> inventory.GradedTest:
    return inventory.GradedTest(nodeid, nodeid.split("::")[-1], "9 demo", 1.0, visibility, 60.0)


def test_placement_keeps_public_tests_on_top_and_the_others_in_the_hidden_folder():
    check_placement([graded("autograder/test_part9_demo.py::test_a", "visible"),
                     graded("autograder/hidden/test_part9_demo.py::test_b", "after_due_date")])
    with pytest.raises(VisibilityError, match="test_c: visibility 'after_published' in a public file"):
        check_placement([graded("autograder/test_part9_demo.py::test_c", "after_published")])
    with pytest.raises(VisibilityError, match="test_d: visibility 'visible' in the hidden folder"):
        check_placement([graded("autograder/hidden/test_part9_demo.py::test_d", "visible")])


# One planted helper per graded pure function: a copy of the solution's module under another name (so that no
# whole file equals a solution), and a method that delegates to it, as a test's diagnosis helper might.
PLANTED = {
    "dlcv/overlap.py": ("detection", ["box_iou", "nms", "roi_align"]),
    "autograder/diagnosis.py": ("visualize", ["receptive_field", "top_activating_patches", "Diagnosis.expected"]),
    "dlcv/features.py": ("transfer", ["extract_features"]),
}
DELEGATE = """

class Diagnosis:
    def expected(self, layers):
        return receptive_field(layers)
"""


def test_answer_check_refuses_planted_answer_helpers(handout, tmp_path):
    stage = tmp_path / "handout"
    shutil.copytree(handout, stage)
    for path, (module, _) in PLANTED.items():
        source = (REPO_ROOT / "solutions" / f"{module}.py").read_text()
        (stage / path).write_text("# a helper for the tests\n" + source + (DELEGATE if module == "visualize" else ""))
    with pytest.raises(AnswerError) as refused:
        check_no_answers(stage)
    for path, (_, functions) in PLANTED.items():
        for function in functions:
            assert f"{path}: {function} returns what" in str(refused.value), str(refused.value)


def test_hidden_points_line(tmp_path):
    manifest = tmp_path / "hidden_points.json"
    assert hidden_points_line(["1 network"], manifest) is None  # no manifest: the instructor's repository
    manifest.write_text(json.dumps({"parts": {"1 network": {"points": 4, "tests": 2}, "3 augmentation": {"points": 8, "tests": 1}}}))
    assert hidden_points_line(["2 training"], manifest) is None
    assert hidden_points_line(["1 network", "2 training", "3 augmentation"], manifest) == (
        "12 more points, not in the total above, are graded only on Gradescope "
        "(3 hidden tests: Part 1 network 4, Part 3 augmentation 8)"
    )


def test_stub_check_refuses_solved_stubs(tmp_path):
    check_stub_sources(REPO_ROOT / "assignment")
    shutil.copy(REPO_ROOT / "solutions" / MODULES[0], tmp_path)
    with pytest.raises(StubError, match="no TODO left"):
        check_stub_sources(tmp_path)
    (tmp_path / MODULES[0]).write_text(
        'def f():\n    # TODO: write f\n    raise NotImplementedError("f")\n\n\ndef g():\n    # TODO: write g\n    return 2\n'
    )
    with pytest.raises(StubError, match="g has a TODO but no longer raises NotImplementedError"):
        check_stub_sources(tmp_path)
