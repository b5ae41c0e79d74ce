"""The command that shows students what their train transform does."""

import subprocess
import sys

from PIL import Image

from tests.grader_run import REPO_ROOT, committed_stubs


def run_grid(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dlcv.augmentation_grid", *args], cwd=REPO_ROOT, capture_output=True, text=True
    )


def test_grid_of_the_solution_is_saved_as_png(tmp_path):
    output = tmp_path / "grid.png"
    completed = run_grid("--target", "solutions", "--output", str(output), "--digits", "3", "--samples", "4")
    assert completed.returncode == 0, completed.stderr
    with Image.open(output) as image:
        # 3 rows of 1 clean + 4 augmented 64 x 64 tiles, 2-pixel padding around each.
        assert image.format == "PNG" and image.size == (5 * 66 + 2, 3 * 66 + 2)


def test_unimplemented_stub_gets_a_message(tmp_path):
    completed = run_grid("--target", str(committed_stubs(tmp_path / "assignment")), "--output", str(tmp_path / "grid.png"))
    assert completed.returncode == 1
    assert "train_transform is not implemented yet" in completed.stderr
    assert not (tmp_path / "grid.png").exists()
