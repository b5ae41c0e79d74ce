"""Refuse to hand out stubs that are no longer stubs.

A stub's TODOs raise ``NotImplementedError`` (the README's "For students"). An
instructor who tried a solution in ``assignment/`` and forgot to undo it
would hand the answer to every student, so the handout build checks twice:

- :func:`check_stub_sources`, by reading each module: it must still have
  TODOs, and every function or method with a TODO must raise
  ``NotImplementedError``;
- :func:`check_stubs_score_zero`, by grading them with the handout's own
  grader: every test must fail with ``not implemented yet: ...``. This also
  catches a solved function whose TODO comment went with it.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

NOT_IMPLEMENTED = re.compile(r"not implemented yet: \w+\.[\w.]+")


class StubError(Exception):
    """An assignment module gives away more than a stub should."""


def _functions(node: ast.AST, prefix: str = ""):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + child.name, child
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")


def _raises_not_implemented(function: ast.AST) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Raise) and node.exc is not None:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(raised, ast.Name) and raised.id == "NotImplementedError":
                return True
    return False


def check_stub_sources(folder: Path) -> None:
    """Every module in ``folder`` has TODOs, and each function with a TODO raises NotImplementedError."""
    problems = []
    modules = sorted(folder.glob("*.py"))
    if not modules:
        problems.append(f"{folder}: no assignment modules")
    for path in modules:
        source = path.read_text()
        if "TODO" not in source:
            problems.append(f"{path.name}: no TODO left: this is not a stub")
        for name, function in _functions(ast.parse(source, str(path))):
            if "TODO" in ast.get_source_segment(source, function) and not _raises_not_implemented(function):
                problems.append(f"{path.name}: {name} has a TODO but no longer raises NotImplementedError")
    if problems:
        raise StubError("refusing to build a handout that may contain solutions:\n  " + "\n  ".join(problems))


def check_stubs_score_zero(root: Path) -> None:
    """Grade ``root/assignment`` with ``root``'s grader: every test must fail as not implemented yet."""
    with tempfile.TemporaryDirectory(prefix="dlcv-stubs-") as scratch:
        results = Path(scratch) / "results.json"
        command = [sys.executable, "-m", "pytest", "autograder/", "-q", "-p", "no:cacheprovider",
                   "--target", str(root / "assignment"), "--results", str(results)]
        environment = {key: value for key, value in os.environ.items() if key != "DLCV_TARGET"}
        environment.update(PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1")
        completed = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True)
        if not results.exists():
            raise StubError(f"grading the stubs wrote no results:\n{completed.stdout}\n{completed.stderr}")
        tests = json.loads(results.read_text())["tests"]
    wrong = [f"{t['name']}: {t['status']}: {t['output'][:200]}" for t in tests
             if t["status"] != "failed" or not NOT_IMPLEMENTED.fullmatch(t["output"])]
    if not tests or wrong:
        raise StubError(
            "refusing to build a handout whose stubs do not score zero as 'not implemented yet':\n  "
            + ("\n  ".join(wrong) or "no test ran")
        )
