"""Load one of the student's modules from a target folder, for the commands that show what it does."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parent.parent


def load_student_module(target: str, name: str) -> ModuleType:
    """``<target>/<name>.py``, where ``target`` is ``assignment``, ``solutions`` or the path of a folder."""
    folder = REPO_ROOT / target if target in ("assignment", "solutions") else Path(target)
    path = folder / f"{name}.py"
    if not path.is_file():
        raise SystemExit(f"no {name}.py in {folder}")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
