"""The command that shows students what their U-Net segments."""

import subprocess
import sys

from PIL import Image

from dlcv.segmentation import CANVAS_SIZE
from dlcv.segmentation_overlay import GAP, LEGEND_HEIGHT, SCALE
from tests.grader_run import REPO_ROOT


def run_overlay(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dlcv.segmentation_overlay", *args], cwd=REPO_ROOT, capture_output=True, text=True
    )


def test_overlay_of_the_solution_is_saved_as_png(tmp_path):
    output = tmp_path / "overlay.png"
    completed = run_overlay("--target", "solutions", "--output", str(output), "--canvases", "3", "--epochs", "1")
    assert completed.returncode == 0, completed.stderr
    tile = CANVAS_SIZE * SCALE
    with Image.open(output) as image:
        # 3 rows of (input, target, prediction) tiles with gaps, and the legend below.
        assert image.format == "PNG" and image.size == (3 * tile + 4 * GAP, 3 * (tile + GAP) + GAP + LEGEND_HEIGHT)
        # The target column shows class colours: not every pixel is grey.
        red, green, blue = image.convert("RGB").split()
        assert red.tobytes() != green.tobytes()


def test_unimplemented_stub_gets_a_message(tmp_path):
    completed = run_overlay("--target", "assignment", "--output", str(tmp_path / "overlay.png"))
    assert completed.returncode == 1
    assert "not implemented yet: UNet.__init__ (this command trains your UNet with your Part 2" in completed.stderr
    assert not (tmp_path / "overlay.png").exists()
