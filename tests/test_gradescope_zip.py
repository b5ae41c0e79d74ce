"""The Gradescope zip end to end: built, unpacked into a stand-in for /autograder, its run_autograder run for real."""

import re
import shutil
import subprocess
import zipfile

import pytest
import torch
import torchvision

from autograder.gradescope.submission import part_modules
from tests.gradescope_runs import MODULES, REPO_ROOT, build, cheap_tests, gradescope_root, part_scores, run_autograder, submit

VERSIONS = REPO_ROOT / "autograder" / "gradescope" / "tested-versions.txt"


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    return build("gradescope", tmp_path_factory.mktemp("dist") / "autograder.zip")


@pytest.fixture
def root(autograder_zip, tmp_path):
    return gradescope_root(autograder_zip, tmp_path / "autograder")


@pytest.fixture(scope="module")
def solutions_run(autograder_zip, tmp_path_factory):
    root = gradescope_root(autograder_zip, tmp_path_factory.mktemp("solutions") / "autograder")
    submit(root / "submission", "solutions")
    return run_autograder(root)


def test_zip_has_the_scripts_at_its_root_and_no_solutions(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        for script in ("setup.sh", "run_autograder"):
            assert infos[script].external_attr >> 16 & 0o111, f"{script} is not executable"
        for path in (REPO_ROOT / "autograder").glob("test_part*_*.py"):  # every test, hidden ones too, unchanged
            assert archive.read(f"autograder/{path.name}") == path.read_bytes()
        solutions = {path.read_bytes() for path in (REPO_ROOT / "solutions").glob("*.py")}
        assert not any(archive.read(name) in solutions for name in infos)
    tops = {name.split("/")[0] for name in infos}
    assert {"autograder", "dlcv", "data", "pyproject.toml", "setup.sh", "run_autograder"} <= tops
    assert not tops & {"solutions", "assignment", "tests", "scripts"}


def test_setup_installs_the_tested_cpu_builds():
    pins = dict(re.findall(r"^(torch|torchvision)==(\S+)$", VERSIONS.read_text(), re.MULTILINE))
    # The pinned versions are the ones this test run uses (without a local label such as +cpu or +cu130).
    assert pins == {"torch": torch.__version__.split("+")[0], "torchvision": torchvision.__version__.split("+")[0]}
    setup = (REPO_ROOT / "autograder" / "gradescope" / "setup.sh").read_text()
    assert "--index-url \"$CPU_INDEX\" -c \"$VERSIONS\" torch torchvision" in setup
    assert 'CPU_INDEX="https://download.pytorch.org/whl/cpu"' in setup
    assert 'VERSIONS="$SOURCE/autograder/gradescope/tested-versions.txt"' in setup
    assert "useradd --system --no-create-home --shell /usr/sbin/nologin dlcv-student" in setup
    assert not re.search(r"torch(vision)?==", setup), "versions belong in tested-versions.txt only"
    for script in ("setup.sh", "run_autograder"):
        completed = subprocess.run(["bash", "-n", str(REPO_ROOT / "autograder" / "gradescope" / script)], capture_output=True, text=True)
        assert completed.returncode == 0, completed.stderr


def test_solutions_score_full_marks(solutions_run):
    results = solutions_run.results
    failed = [f"{t['name']}: {t['output']}" for t in results["tests"] if t["status"] != "passed"]
    assert not failed, "\n".join(failed)
    assert results["score"] == sum(t["max_score"] for t in results["tests"]) > 0
    assert sorted(part.split()[1] + ".py" for part in part_scores(results)) == sorted(MODULES)
    assert results["stdout_visibility"] == "hidden" and results["execution_time"] > 0
    assert re.search(r"^Total +[\d.]+ / [\d.]+$", results["output"], re.MULTILINE)
    assert "Files graded: " + ", ".join(f"{m} (from {m})" for m in MODULES) in results["output"]
    assert [t["number"] for t in results["tests"]][:2] == ["1.1", "1.2"]


def test_stubs_score_zero(root):
    submit(root / "submission", "assignment")
    results = run_autograder(root).results
    assert results["score"] == 0 and results["tests"]
    assert all(re.fullmatch(r"not implemented yet: \w+\.[\w.]+", t["output"]) for t in results["tests"])


def test_zip_with_folders_and_extra_files_is_found(root, tmp_path):
    # Every module but the last, inside a folder inside a zip, among files the grader must ignore.
    upload = submit(tmp_path / "upload" / "hw" / "assignment", "solutions", MODULES[:-1])
    (upload / "notes.txt").write_text("my notes")
    (upload / "__pycache__").mkdir()
    (upload / "__pycache__" / "junk.pyc").write_bytes(b"\0")
    shutil.make_archive(str(root / "submission" / "homework"), "zip", tmp_path / "upload")
    (root / "submission" / "README.md").write_text("extra")
    run = run_autograder(root, "-k", cheap_tests())
    results = run.results
    scores = part_scores(results)
    for module in MODULES[:-1]:
        assert f"{module} (from homework.zip: hw/assignment/{module})" in results["output"]
    missing = MODULES[-1]
    last_part = part_modules(REPO_ROOT / "autograder")[missing]  # "7 visualize": parts need not be numbered 1..N
    assert f"Missing: {missing} (Part {last_part})" in results["output"]
    uploaded = next(line for line in results["output"].splitlines() if line.startswith("Files you uploaded: "))
    assert "README.md" in uploaded and "homework.zip: hw/assignment/notes.txt" in uploaded and "junk" not in uploaded
    assert scores[last_part][0] == 0
    assert all(score == most > 0 for part, (score, most) in scores.items() if part != last_part), scores
    assert all(t["output"].startswith(f"missing file: {missing}") for t in results["tests"] if t["tags"] == [f"part {last_part}"])


def test_a_grader_that_crashes_still_leaves_results(root):
    submit(root / "submission", "solutions")
    (root / "source" / "autograder" / "conftest.py").write_text("raise RuntimeError('broken grader')\n")
    run = run_autograder(root)
    assert run.results["score"] == 0 and run.results["tests"] == []
    assert "Grading stopped before the end" in run.results["output"] and "No test could be graded" in run.results["output"]


def test_a_run_past_its_time_budget_is_stopped_and_reported(root):
    submit(root / "submission", "solutions")
    run = run_autograder(root, env={"DLCV_GRADING_TIMEOUT": "2"})
    assert "Grading was stopped after 2 s" in run.results["output"]


def test_without_python_the_script_still_writes_results(root):
    (root / "venv").unlink()
    run = run_autograder(root)
    assert run.returncode == 0
    assert run.results["tests"] == [] and "The autograder itself failed" in run.results["output"]
