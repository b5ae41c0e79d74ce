"""The command that shows students the image patches that excite a trained network's channels most."""

import subprocess
import sys

from PIL import Image

from tests.grader_run import REPO_ROOT


def run_top_patches(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dlcv.top_patches", *args], cwd=REPO_ROOT, capture_output=True, text=True
    )


def test_patches_of_the_solution_are_saved_as_png(tmp_path):
    output = tmp_path / "patches.png"
    completed = run_top_patches(
        "--target", "solutions", "--output", str(output), "--epochs", "1", "--channels", "2", "--k", "3"
    )
    assert completed.returncode == 0, completed.stderr
    with Image.open(output) as image:
        # 2 layers x 2 channels = 4 rows of 3 tiles of 45 x 45 pixels, 2-pixel padding around each.
        assert image.format == "PNG" and image.size == (3 * 47 + 2, 4 * 47 + 2)
    assert "rows 1-2: layer 1" in completed.stdout and "rows 3-4: layer 2" in completed.stdout


def test_unimplemented_stub_gets_a_message_before_training(tmp_path):
    completed = run_top_patches("--target", "assignment", "--output", str(tmp_path / "patches.png"))
    assert completed.returncode == 1
    assert "top_activating_patches is not implemented yet" in completed.stderr
    assert not (tmp_path / "patches.png").exists()


def test_unimplemented_training_loop_gets_a_message(tmp_path):
    # visualize.py solved, training.py still a stub: the command trains with the target's own Part 2.
    for module, folder in (("visualize", "solutions"), ("training", "assignment")):
        (tmp_path / f"{module}.py").write_text((REPO_ROOT / folder / f"{module}.py").read_text())
    completed = run_top_patches("--target", str(tmp_path), "--output", str(tmp_path / "patches.png"))
    assert completed.returncode == 1
    assert "not implemented yet: make_optimizer (this command trains the network with your Part 2" in completed.stderr
    assert not (tmp_path / "patches.png").exists()
