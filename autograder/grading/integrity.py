"""Notice, and undo, student code that rewrites the grader or the functions it compares with.

Student code runs in the same process as the checks of the test that calls
it, so it could replace ``pytest.fail``, a check, a test module's threshold,
``torch.equal`` or ``builtins.isinstance``. Before each test's process is
forked, the harness takes a :class:`Snapshot` of the protected namespaces:
every attribute of the grader's modules (``autograder.*``, ``dlcv.*``,
pytest's outcome and runner modules) and of the functions it relies on
(``builtins``, ``math``, ``torch``, ``torch.Tensor``, ``torch.nn.functional``,
``torch.nn.Module``), down to the code objects of the grader's functions and
the fields of its declared objects (an :class:`~autograder.accuracy.AccuracyTest`).

- Right after a student module is imported, :meth:`Snapshot.restore` puts
  back whatever the import replaced, so a patch made at import changes
  nothing; what it replaced is reported to the instructor.
- After the test, the child sends :meth:`Snapshot.identities` (the ``id`` of
  every protected object now) to the harness, which compares them with its
  own, in a process where no student code ever ran (:meth:`Snapshot.changed`).
  A difference fails the test as tampered with, and flags it to the instructor.

What this cannot stop: code written against this module itself (it runs in
the same process). The static audit (:mod:`autograder.grading.audit`) flags
any submission that imports the grader, pytest, ``gc``, ``inspect`` or
``sys.modules``, which such code would need.
"""

from __future__ import annotations

import builtins
import dataclasses
import math
import os
import sys
import types

import torch

# Modules whose every attribute is protected, by name prefix.
PROTECTED_PREFIXES = ("autograder", "dlcv", "_pytest.outcomes", "_pytest.runner", "_pytest.python", "pytest")
# Namespaces of the libraries the grader compares with.
LIBRARY_NAMESPACES = {
    "builtins": builtins,
    "math": math,
    "torch": torch,
    "torch.Tensor": torch.Tensor,
    "torch.nn.functional": torch.nn.functional,
    "torch.nn.Module": torch.nn.Module,
}
FUNCTION_PARTS = ("__code__", "__defaults__", "__kwdefaults__")
TORCH_FOLDER = os.path.dirname(torch.__file__) + os.sep


def _is_grader_module(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in PROTECTED_PREFIXES)


def _attributes(namespace) -> list[tuple[str, object]]:
    try:
        return list(vars(namespace).items())
    except TypeError:
        return []


class Snapshot:
    """The protected objects as they are now: ``(label, holder, attribute, value)`` per entry."""

    def __init__(self):
        self.entries: list[tuple[str, object, str, object]] = []
        for name, module in sorted(sys.modules.items()):
            if _is_grader_module(name) and isinstance(module, types.ModuleType):
                self.entries.append((f"sys.modules[{name!r}]", sys.modules, name, module))
                self._grader_namespace(name, module)
        for label, namespace in LIBRARY_NAMESPACES.items():
            for attribute, value in _attributes(namespace):
                self.entries.append((f"{label}.{attribute}", namespace, attribute, value))

    def _grader_namespace(self, label: str, namespace) -> None:
        for attribute, value in _attributes(namespace):
            self.entries.append((f"{label}.{attribute}", namespace, attribute, value))
            owner = getattr(value, "__module__", None)
            if not (isinstance(owner, str) and _is_grader_module(owner)):
                continue  # only the grader's own functions, classes and declared objects
            if isinstance(value, types.FunctionType):
                for part in FUNCTION_PARTS:
                    self.entries.append((f"{label}.{attribute}.{part}", value, part, getattr(value, part)))
            elif isinstance(value, type) and namespace is not value:
                for inner, member in _attributes(value):
                    self.entries.append((f"{label}.{attribute}.{inner}", value, inner, member))
                    if isinstance(member, types.FunctionType):
                        for part in FUNCTION_PARTS:
                            self.entries.append((f"{label}.{attribute}.{inner}.{part}", member, part, getattr(member, part)))
            elif dataclasses.is_dataclass(value) and not isinstance(value, type):
                for field in dataclasses.fields(value):
                    self.entries.append((f"{label}.{attribute}.{field.name}", value, field.name, getattr(value, field.name)))

    @staticmethod
    def _current(holder, attribute):
        if holder is sys.modules:
            return sys.modules.get(attribute)
        try:
            return vars(holder)[attribute] if not isinstance(holder, types.FunctionType) else getattr(holder, attribute)
        except (KeyError, TypeError):
            return getattr(holder, attribute, None)

    @staticmethod
    def _same(original, current) -> bool:
        # PyTorch wraps some functions the first time it needs to (torch.manual_seed when torch._dynamo
        # loads, an optimizer class's step() when one is made): a wrapper whose code is PyTorch's own
        # and that wraps the original is no tampering.
        if current is original:
            return True
        code = getattr(current, "__code__", None)
        return (
            getattr(current, "__wrapped__", None) is original
            and code is not None
            and code.co_filename.startswith(TORCH_FOLDER)
        )

    def identities(self) -> list[int]:
        """The ``id`` of each protected object now, in the snapshot's order: plain data for the harness."""
        ids = []
        for _, holder, attribute, value in self.entries:
            current = self._current(holder, attribute)
            ids.append(id(value) if self._same(value, current) else id(current))
        return ids

    def changed(self, identities: list[int]) -> list[str]:
        """The labels of the entries whose object differs between this snapshot and ``identities``."""
        if type(identities) is not list or len(identities) != len(self.entries):
            return ["the report of the grader's own functions (missing or altered)"]
        return [label for (label, _, _, value), now in zip(self.entries, identities) if id(value) != now]

    def restore(self) -> list[str]:
        """Put back every protected object that was replaced; return their labels."""
        replaced = []
        for label, holder, attribute, value in self.entries:
            if self._same(value, self._current(holder, attribute)):
                continue
            replaced.append(label)
            if holder is sys.modules:
                sys.modules[attribute] = value
            elif dataclasses.is_dataclass(holder) and not isinstance(holder, type):
                object.__setattr__(holder, attribute, value)  # frozen dataclasses too
            elif isinstance(holder, type):
                type.__setattr__(holder, attribute, value)
            else:
                setattr(holder, attribute, value)
        return replaced
