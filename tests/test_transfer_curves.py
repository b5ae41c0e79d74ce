"""The learning-curve command of Part 4."""

import csv
import subprocess
import sys

from PIL import Image

from tests.grader_run import REPO_ROOT


def run_curves(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dlcv.transfer_curves", *args], cwd=REPO_ROOT, capture_output=True, text=True
    )


def test_curves_of_the_solution_are_saved(tmp_path):
    output = tmp_path / "curves"
    completed = run_curves("--target", "solutions", "--output", str(output), "--seeds", "1", "--shots", "1", "all", "--steps", "2")
    assert completed.returncode == 0, completed.stderr
    assert "runs: 100%" in completed.stderr  # the progress bar
    with open(output / "results.csv") as file:
        rows = list(csv.DictReader(file))
    assert {(row["method"], row["per_class"]) for row in rows} == {
        (method, size) for method in ("linear probe", "fine-tune", "from scratch") for size in ("1", "400")
    }
    assert all(0.0 <= float(row["accuracy"]) <= 1.0 for row in rows)
    table = (output / "results.md").read_text()
    assert "| examples per class | linear probe | fine-tune | from scratch |" in table
    assert "| 400 |" in table
    with Image.open(output / "curves.png") as image:
        assert image.format == "PNG"


def test_unimplemented_stub_gets_a_message(tmp_path):
    completed = run_curves("--target", "assignment", "--output", str(tmp_path / "curves"), "--steps", "2")
    assert completed.returncode == 1
    assert "not implemented yet: linear_probe (the linear probe runs need transfer.py and Part 2" in completed.stderr
    assert not (tmp_path / "curves").exists()
