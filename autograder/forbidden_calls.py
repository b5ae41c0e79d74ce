"""Library functions that a student's function must not call: the ones it was asked to write.

Two checks, because each misses what the other sees:

- :func:`forbidding` patches every binding of the named functions (in the
  library's modules, its re-exports, and the student's own module, found by
  identity) and the named ``torch.ops`` operators, so that a call raises
  :class:`ForbiddenCall` while student code runs, and records it;
- :func:`forbidden_uses` reads the student's source file (``ast``) for imports
  of the library's module and for the functions' names, which catches a
  reference stored where patching cannot reach (a dict, a default argument).
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import sys
from unittest import mock

import torch

from autograder.grading.target import MODULE_PREFIX


class ForbiddenCall(BaseException):
    """Raised by a forbidden function; a ``BaseException``, so that ``except Exception`` in student code lets it through."""


class _Forbidden:
    """Stands in for a forbidden function: a call (or ``.default(...)`` on an operator) records it and raises."""

    def __init__(self, name: str, calls: list[str]):
        self._name = name
        self._calls = calls

    def __call__(self, *args, **kwargs):
        self._calls.append(self._name)
        raise ForbiddenCall(f"{self._name} is not allowed here")

    def __getattr__(self, attribute: str):  # torch.ops.torchvision.nms.default(...)
        return self


def _bindings(functions: dict[str, tuple[str, ...]], operators: dict[str, tuple[str, ...]]):
    """``(namespace, attribute, qualified name)`` of every place where a forbidden function is bound.

    In the library's modules, under its own name (re-exports keep it); in the
    student's modules, under any name. Names missing from the installed
    library version are skipped.
    """
    originals = {}
    for module_name, names in functions.items():
        module = importlib.import_module(module_name)
        for name in names:
            if hasattr(module, name):
                originals[id(getattr(module, name))] = f"{module_name}.{name}"
    libraries = tuple({name.split(".")[0] for name in functions})
    names = {name for module_names in functions.values() for name in module_names}
    found = []
    for module_name, module in list(sys.modules.items()):
        if module is None:
            continue
        if module_name.startswith(MODULE_PREFIX):  # the student's modules: under any name (import ... as ...)
            candidates = list(vars(module).items())
        elif module_name.startswith(libraries):  # the library re-exports them under their own names
            namespace = vars(module)
            candidates = [(name, namespace[name]) for name in names if name in namespace]
        else:
            continue
        for attribute, value in candidates:
            if id(value) in originals:
                found.append((module, attribute, originals[id(value)]))
    for namespace_name, names in operators.items():  # {"torchvision": ("nms", ...)}: torch.ops.torchvision.nms
        namespace = getattr(torch.ops, namespace_name)
        for name in names:
            if hasattr(namespace, name):
                found.append((namespace, name, f"torch.ops.{namespace_name}.{name}"))
    return found


@contextlib.contextmanager
def forbidding(functions: dict[str, tuple[str, ...]], operators: dict[str, tuple[str, ...]]):
    """Within the block, every binding of ``functions`` (``{module: names}``) and ``torch.ops`` ``operators``
    raises :class:`ForbiddenCall`; yields the list of the qualified names called, in order."""
    calls: list[str] = []
    with contextlib.ExitStack() as patches:
        for namespace, attribute, name in _bindings(functions, operators):
            patches.enter_context(mock.patch.object(namespace, attribute, _Forbidden(name, calls)))
        yield calls


def forbidden_uses(source: str, modules: tuple[str, ...], names: frozenset[str]) -> list[str]:
    """``"line N: <code>"`` for each import of ``modules`` (or their submodules) and each use of ``names``.

    ``names`` are caught as imported names (``from anywhere import nms``) and
    as attributes (``torchvision.ops.nms``, ``torch.ops``): include the last
    part of each module name (``"ops"``) to catch ``from torchvision import ops``.
    """
    def is_forbidden_module(name: str) -> bool:
        return any(name == module or name.startswith(module + ".") for module in modules)

    lines = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            bad = any(is_forbidden_module(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            bad = is_forbidden_module(node.module or "") or any(alias.name in names for alias in node.names)
        elif isinstance(node, ast.Attribute):
            bad = node.attr in names
        else:
            continue
        if bad and node.lineno not in lines:
            lines[node.lineno] = source.splitlines()[node.lineno - 1].strip()
    return [f"line {number}: {code}" for number, code in sorted(lines.items())]
