"""Which student files are graded, and the one way tests load student code.

A *target* is a folder holding the part modules (``network.py``,
``training.py``, ...): ``assignment`` (the default), ``solutions``, or any
path. It is chosen with ``--target`` or, where no option can be passed (on
Gradescope), with the ``DLCV_TARGET`` environment variable.

Tests never import student modules themselves: they ask the ``submission``
fixture, whose :class:`Submission` loads each file under a private module
name and turns a missing file, a syntax error or an import that fails into a
readable test failure. Student code runs only through objects handed out
here, and only in the test's own process (see :mod:`autograder.grading.isolation`),
which keeps it apart from the harness that scores it.

The harness remembers what ran out of time in earlier tests (:class:`Stopped`):
a module whose import never finished is not imported again, and a function
that never returned is replaced by one that fails at once, so one endless
loop costs one test, not every test that calls it.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from autograder.grading.messages import NotRunAgain, safe_str

_fail = pytest.fail  # taken before any student code runs

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


class Stopped:
    """What ran out of time in earlier tests: imports by module, functions by ``(module, qualname)``."""

    def __init__(self):
        self.imports: dict[str, str] = {}  # module -> the test in which its import ran out of time
        self.functions: dict[tuple[str, str], str] = {}  # (module, "Class.method") -> that test

    def neutralise(self, name: str, module: ModuleType) -> None:
        """Replace each function of ``module`` that ran out of time by one that raises :class:`NotRunAgain`."""
        for (module_name, qualname), test in self.functions.items():
            if module_name != name:
                continue
            *owners, attribute = qualname.split(".")
            holder = module
            for owner in owners:
                holder = getattr(holder, owner, None)
            if holder is not None and hasattr(holder, attribute):
                setattr(holder, attribute, _not_run_again(f"{name}.{qualname}", test))


def _not_run_again(function: str, test: str):
    def stopped(*args, **kwargs):
        raise NotRunAgain(function, test)

    return stopped


class Submission:
    """The student's modules in one target folder, loaded on first use."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.stopped = Stopped()
        self.after_import = None  # called as after_import(name) once a student module is imported
        self._modules: dict[str, ModuleType] = {}

    def module(self, name: str) -> ModuleType:
        """Import ``<folder>/<name>.py``; fail the calling test with a clear message if it cannot."""
        if name in self._modules:
            return self._modules[name]
        if name in self.stopped.imports:
            _fail(
                f"could not import {name}.py: importing it ran past the time limit in "
                f"{self.stopped.imports[name]}, so it is not imported again.\n"
                "Fix this first: code at the top level of the file runs at import (a loop, training, input()); "
                "put it in a function or under `if __name__ == \"__main__\":`.",
                pytrace=False,
            )
        path = self.folder / f"{name}.py"
        if not path.is_file():
            _fail(
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
            problem = f"{type(error).__name__}: {safe_str(error)}"
        if problem is not None:  # failed outside the except block, so no chained traceback is shown
            del sys.modules[qualified]
            _fail(
                f"could not import {name}.py: {problem}\n"
                "Fix this first: no test of this part can run until the file imports.",
                pytrace=False,
            )
        if self.after_import is not None:
            self.after_import(name)
        self.stopped.neutralise(name, module)
        self._modules[name] = module
        return module

    def get(self, dotted: str):
        """The object named ``"module.attribute"`` (for example ``"network.Network"``)."""
        module_name, _, attribute = dotted.partition(".")
        module = self.module(module_name)
        if not hasattr(module, attribute):
            _fail(
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
