"""The student handout: built from a copy of the repository in which one test is hidden, unpacked, graded."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from autograder.gradescope import inventory
from autograder.gradescope.stubs import StubError, check_stub_sources
from autograder.gradescope.visibility import VisibilityError, strip_hidden_tests
from autograder.grading.hidden import hidden_points_line
from tests.gradescope_format import load_results
from tests.gradescope_runs import MODULES, REPO_ROOT, build, unzip

HIDDEN_LINE = re.compile(r"^([\d.]+) more points?, not in the total above, (?:is|are) graded only on Gradescope \((\d+) hidden tests?: (.+)\)$", re.MULTILINE)


def hide_first_test(test_file) -> str:
    """Mark the first test of ``test_file`` after_due_date, as an instructor would; its name."""
    source = test_file.read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            marker = next(d for d in node.decorator_list if isinstance(d, ast.Call) and ast.unparse(d.func) == "pytest.mark.points")
            lines = source.splitlines(keepends=True)
            line = lines[marker.end_lineno - 1]
            lines[marker.end_lineno - 1] = line[: marker.end_col_offset - 1] + ', visibility="after_due_date")' + line[marker.end_col_offset :]
            test_file.write_text("".join(lines))
            return node.name
    raise AssertionError(f"no test in {test_file}")


@pytest.fixture(scope="module")
def instructor_repo(tmp_path_factory):
    """A copy of this repository whose first Part 1 test is hidden."""
    copy = tmp_path_factory.mktemp("repo")
    for folder in ("assignment", "solutions", "autograder", "dlcv", "data"):
        shutil.copytree(REPO_ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO_ROOT / name, copy)
    first_file = sorted((copy / "autograder").glob("test_part*_*.py"))[0]
    return copy, first_file.name, hide_first_test(first_file)


@pytest.fixture(scope="module")
def handout(instructor_repo, tmp_path_factory):
    """The handout built from the copy, unpacked into a fresh folder."""
    repo, _, _ = instructor_repo
    archive = build("handout", tmp_path_factory.mktemp("dist") / "handout.zip", repo=repo)
    return unzip(archive, tmp_path_factory.mktemp("student")) / "dlcv-homework"


@pytest.fixture(scope="module")
def hidden_tests(instructor_repo):
    repo, _, _ = instructor_repo
    return [test for test in inventory.collect(repo) if test.visibility != "visible"]


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


def test_hidden_test_is_left_out_and_its_points_recorded(instructor_repo, handout, hidden_tests):
    _, test_file, hidden = instructor_repo
    assert hidden_tests and {test.function for test in hidden_tests} == {hidden}
    original = (REPO_ROOT / "autograder" / test_file).read_text()
    handout_source = (handout / "autograder" / test_file).read_text()
    assert f"def {hidden}(" in original and f"def {hidden}(" not in handout_source
    # Everything else in the file stays: helpers, constants, the other tests.
    kept = {getattr(node, "name", None) for node in ast.parse(original).body} - {hidden, None}
    assert kept <= {getattr(node, "name", None) for node in ast.parse(handout_source).body}
    part = hidden_tests[0].part
    manifest = json.loads((handout / "autograder" / "hidden_points.json").read_text())
    assert manifest == {"parts": {part: {"points": sum(t.points for t in hidden_tests), "tests": len(hidden_tests)}}}


def test_stubs_score_zero_with_clean_messages(handout, hidden_tests, tmp_path):
    stdout, results = grade_handout(handout, tmp_path)
    assert results["score"] == 0 and results["tests"]
    for test in results["tests"]:
        assert re.fullmatch(r"not implemented yet: \w+\.[\w.]+", test["output"]), f"{test['name']}: {test['output']}"
    assert "Traceback" not in stdout
    line = HIDDEN_LINE.search(stdout)
    assert line, stdout[-2000:]
    assert float(line.group(1)) == sum(t.points for t in hidden_tests) and int(line.group(2)) == len(hidden_tests)
    assert line.group(3) == f"Part {hidden_tests[0].part} {sum(t.points for t in hidden_tests):g}"


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


def test_strip_keeps_helpers_and_comments_and_drops_decorated_hidden_tests():
    source = textwrap.dedent('''
        import pytest

        def helper():  # used by the tests
            return 1


        @pytest.mark.points(2)
        def test_visible(submission):
            assert helper()


        # checks the edge case
        @pytest.mark.parametrize("n", [1, 2])
        @pytest.mark.points(3, visibility="hidden", time_limit=120)
        def test_hidden(submission, n):
            assert helper()


        @pytest.mark.points(1, visibility="visible")
        def test_also_visible(submission):
            assert helper()
    ''')
    stripped, removed = strip_hidden_tests(source, "test_part9_demo.py")
    assert removed == ["test_hidden"]
    assert "def helper()" in stripped and "# used by the tests" in stripped and "# checks the edge case" in stripped
    assert "test_visible" in stripped and "test_also_visible" in stripped and "test_hidden" not in stripped
    assert "\n\n\n\n" not in stripped


def test_strip_refuses_a_visibility_it_cannot_read():
    source = 'import pytest\nLATER = "after_due_date"\n\n@pytest.mark.points(2, visibility=LATER)\ndef test_x(submission):\n    pass\n'
    with pytest.raises(VisibilityError, match="string literal"):
        strip_hidden_tests(source, "test_part9_demo.py")


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
