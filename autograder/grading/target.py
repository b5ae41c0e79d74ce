"""Which student files are graded, and the one way tests load student code.

A *target* is a folder holding the part modules (``network.py``,
``training.py``, ...): ``assignment`` (the default), ``solutions``, or any
path. It is chosen with ``--target`` or, where no option can be passed (on
Gradescope), with the ``DLCV_TARGET`` environment variable.

Tests never import student modules themselves: they ask the ``submission``
fixture, whose :class:`Submission` loads each file under a private module
name and turns a missing file, a syntax error or an import that fails into a
readable test failure. Student code runs only through objects handed out
here, which keeps it apart from the plugin that scores it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NAMED_TARGETS = {"assignment": REPO_ROOT / "assignment", "solutions": REPO_ROOT / "solutions"}
TARGET_ENV = "DLCV_TARGET"
MODULE_PREFIX = "dlcv_submission"


def resolve_target(option: str | None) -> Path:
    """The folder named by ``--target``, else by ``$DLCV_TARGET``, else ``assignment/``."""
    name = option or os.environ.get(TARGET_ENV) or "assignment"
    folder = NAMED_TARGETS.get(name, Path(name)).resolve()
    if not folder.is_dir():
        raise pytest.UsageError(
            f"--target {name!r}: no such folder ({folder}); "
            "use 'assignment', 'solutions' or the path of a folder of submitted .py files"
        )
    return folder


class Submission:
    """The student's modules in one target folder, loaded on first use."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._modules: dict[str, ModuleType] = {}

    def module(self, name: str) -> ModuleType:
        """Import ``<folder>/<name>.py``; fail the calling test with a clear message if it cannot."""
        if name in self._modules:
            return self._modules[name]
        path = self.folder / f"{name}.py"
        if not path.is_file():
            pytest.fail(
                f"missing file: {name}.py was not found in {self.folder}. "
                f"Upload {name}.py with this exact name.",
                pytrace=False,
            )
        qualified = f"{MODULE_PREFIX}.{name}"
        spec = importlib.util.spec_from_file_location(qualified, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[qualified] = module
        try:
            spec.loader.exec_module(module)
            problem = None
        except Exception as error:  # any import-time failure of student code
            problem = f"{type(error).__name__}: {error}"
        if problem is not None:  # failed outside the except block, so no chained traceback is shown
            del sys.modules[qualified]
            pytest.fail(
                f"could not import {name}.py: {problem}\n"
                "Fix this first: no test of this part can run until the file imports.",
                pytrace=False,
            )
        self._modules[name] = module
        return module

    def get(self, dotted: str):
        """The object named ``"module.attribute"`` (for example ``"network.Network"``)."""
        module_name, _, attribute = dotted.partition(".")
        module = self.module(module_name)
        if not hasattr(module, attribute):
            pytest.fail(
                f"missing: {dotted}. {module_name}.py must define {attribute!r} "
                "with the name given in the handout (names are case-sensitive).",
                pytrace=False,
            )
        return getattr(module, attribute)

    def owns(self, filename: str) -> bool:
        """Whether a source file (from a traceback frame) is one of the student's files."""
        try:
            return Path(filename).resolve().parent == self.folder
        except OSError:
            return False
