"""Build the zips and run the Gradescope scripts for real, as Gradescope would, for the meta-tests."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from autograder.gradescope.submission import part_modules
from tests.gradescope_format import load_results

REPO_ROOT = Path(__file__).resolve().parent.parent
MODULES = list(part_modules(REPO_ROOT / "autograder"))  # ["network.py", "training.py", ...], in part order


def build(kind: str, output: Path, repo: Path = REPO_ROOT) -> Path:
    """``python -m autograder.gradescope.build KIND --output OUTPUT``, run in ``repo``."""
    environment = {**os.environ, "PYTHONPATH": str(repo), "PYTHONDONTWRITEBYTECODE": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "autograder.gradescope.build", kind, "--output", str(output)],
        cwd=repo, env=environment, capture_output=True, text=True,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return output


def unzip(archive: Path, folder: Path) -> Path:
    """Unpack ``archive`` into ``folder``, keeping the executable bits that zipfile drops."""
    with zipfile.ZipFile(archive) as opened:
        opened.extractall(folder)
        for info in opened.infolist():
            mode = info.external_attr >> 16 & 0o777
            if mode:
                (folder / info.filename).chmod(mode)
    return folder


def gradescope_root(archive: Path, root: Path) -> Path:
    """A stand-in for Gradescope's /autograder: the zip in source/, an empty submission/, setup.sh's venv."""
    unzip(archive, root / "source")
    (root / "submission").mkdir()
    (root / "venv").symlink_to(Path(sys.prefix))  # what setup.sh makes: this test run's own environment
    return root


@dataclass(frozen=True)
class ScriptRun:
    returncode: int
    stdout: str
    results: dict


def run_autograder(root: Path, *args: str, env: dict | None = None, timeout: float = 900) -> ScriptRun:
    """Run ``root/source/run_autograder`` with ``root`` as Gradescope's /autograder; its validated results."""
    environment = {**os.environ, "DLCV_AUTOGRADER_ROOT": str(root), **(env or {})}
    environment.pop("DLCV_TARGET", None)
    environment.pop("PYTHONPATH", None)  # the script must find its package by itself, as on Gradescope
    completed = subprocess.run(
        [str(root / "source" / "run_autograder"), *args], cwd=root, env=environment,
        capture_output=True, text=True, timeout=timeout,
    )
    return ScriptRun(completed.returncode, completed.stdout + completed.stderr, load_results(root / "results" / "results.json", allow_no_tests=True))


def submit(folder: Path, source: str | Path, modules=None) -> Path:
    """Put the part modules of ``source`` ("solutions", "assignment" or a folder) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for module in MODULES if modules is None else modules:
        shutil.copy(REPO_ROOT / source / module, folder / module)
    return folder


def cheap_tests(repo: Path = REPO_ROOT) -> str:
    """A ``-k`` expression for the first test of each part that needs no more than the default time limit.

    Read from the test files, so each part (a new one too) is represented by a test that trains nothing.
    """
    names = []
    for path in sorted((repo / "autograder").glob("test_part*_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                markers = [d for d in node.decorator_list if isinstance(d, ast.Call) and ast.unparse(d.func).endswith("mark.points")]
                if markers and not any(k.arg == "time_limit" for k in markers[0].keywords):
                    names.append(node.name)
                    break
    return " or ".join(names)


def part_scores(results: dict) -> dict[str, tuple[float, float]]:
    """``{"1 network": (score, max_score)}`` from a results document."""
    scores: dict[str, tuple[float, float]] = {}
    for test in results["tests"]:
        part = test["tags"][0].removeprefix("part ")
        score, most = scores.get(part, (0.0, 0.0))
        scores[part] = (score + test["score"], most + test["max_score"])
    return scores
