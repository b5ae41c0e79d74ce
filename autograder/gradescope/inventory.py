"""Every autograder test with its grading (part, points, visibility, time limit), as pytest collects it.

Collected by pytest itself, so parametrized tests count once per parameter,
exactly as they are graded. The build uses it to find the hidden tests and to
check the handout; the project's tests use it to pick tests.

    python -m autograder.gradescope.inventory [FOLDER]     # prints JSON: one object per test
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

from autograder.grading.points import grading_of

OUTPUT_OPTION = "--inventory-output"


@dataclass(frozen=True)
class GradedTest:
    nodeid: str  # "autograder/test_part1_network.py::test_output_shape[1]"
    function: str  # "test_output_shape"
    part: str  # "1 network"
    points: float
    visibility: str
    time_limit: float


# The plugin half: loaded into a collect-only pytest run by ``collect`` below.


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(OUTPUT_OPTION, type=Path, help="write every collected test's grading here as JSON")


def pytest_collection_finish(session: pytest.Session) -> None:
    output = session.config.getoption(OUTPUT_OPTION)
    if output is None:
        return
    tests = []
    for item in session.items:
        grading = grading_of(item)
        function = getattr(item, "originalname", None) or item.name.split("[")[0]
        tests.append(GradedTest(item.nodeid, function, grading.part, grading.points, grading.visibility, grading.time_limit))
    output.write_text(json.dumps([asdict(test) for test in tests], indent=1))


# Loads this file under a name of its own, so that ``autograder`` is the one in the folder being
# collected (a handout has no autograder/gradescope/), then collects with this file as the plugin.
_COLLECT = """
import importlib.util, sys
import pytest
spec = importlib.util.spec_from_file_location("dlcv_inventory", sys.argv[1])
plugin = sys.modules["dlcv_inventory"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plugin)
arguments = ["autograder/", "--collect-only", "-q", "-p", "no:cacheprovider", sys.argv[2], sys.argv[3]]
sys.exit(pytest.main(arguments, plugins=[plugin]))
"""


def collect(root: Path) -> list[GradedTest]:
    """The tests of ``root/autograder`` (``root`` is a repository, a handout or an unpacked zip)."""
    with tempfile.TemporaryDirectory(prefix="dlcv-inventory-") as scratch:
        output = Path(scratch) / "inventory.json"
        command = [sys.executable, "-c", _COLLECT, __file__, OUTPUT_OPTION, str(output)]
        environment = {key: value for key, value in os.environ.items() if key != "DLCV_TARGET"}
        environment.update(PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")
        completed = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True)
        if completed.returncode != 0 or not output.exists():
            raise RuntimeError(f"collecting the tests of {root} failed:\n{completed.stdout}\n{completed.stderr}")
        return [GradedTest(**test) for test in json.loads(output.read_text())]


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
    print(json.dumps([asdict(test) for test in collect(folder)], indent=1))
