"""Checks that stop at the first difference and say what was expected, found, and likely wrong.

Each check fails the test with pytest's own failure (no traceback shown), so
the student reads the message alone, never the grader's traceback.

Values that student code returns are checked for their *exact* type
(``type(x) is torch.Tensor``, not ``isinstance``) before anything compares
them: a tensor subclass whose comparisons always agree, an object whose
``__eq__`` is always true, or one whose ``__class__`` claims to be something
else fails here with a message, and earns nothing. The failure exception and
the comparison functions are taken when this module is imported, before any
student code runs, so a submission that replaces ``pytest.fail`` or
``torch.allclose`` changes nothing here.
"""

from __future__ import annotations

import math

import pytest
import torch
from torchvision import tv_tensors

from autograder.grading.target import MODULE_PREFIX

# Taken before any student code runs (see the module docstring).
_FAILED = pytest.fail.Exception
_isclose = math.isclose
_isfinite = math.isfinite
_tensor_isfinite = torch.isfinite
TENSOR = torch.Tensor
# torchvision's own data types (v2 transforms return tv_tensors.Image): plain data over a tensor, whose
# comparisons are torch's. Only these exact classes, taken now: a student's subclass of one is refused.
TV_TENSORS = frozenset(
    kind for kind in vars(tv_tensors).values()
    if isinstance(kind, type) and issubclass(kind, TENSOR) and kind is not tv_tensors.TVTensor
)


def fail(expected: str, found: str, likely: str = "") -> None:
    """Fail the test: ``expected ..., found ...`` and, if given, the likely mistake."""
    message = f"expected {expected}, found {found}."
    if likely:
        message += f"\nLikely mistake: {likely}"
    raise _FAILED(message, pytrace=False)


def type_name(kind: type) -> str:
    """``float``, ``torch.Tensor``, ``torch.optim.adamw.AdamW``: a type's name with its module."""
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__.removeprefix(MODULE_PREFIX + '.')}.{kind.__qualname__}"


def kind_of(value) -> str:
    """The name of ``value``'s real type (``type()``, which ``__class__`` cannot fake)."""
    return type_name(type(value))


def check_type(value, expected: type | tuple[type, ...], what: str, likely: str = ""):
    """``value`` is exactly of type ``expected`` (or one of them): no subclass, no look-alike; returns it.

    Where a ``torch.Tensor`` is expected, torchvision's own ``tv_tensors`` (``Image``, ``Mask``, ...) are
    right answers too: they are returned as the plain tensor they wrap, which loses nothing.
    """
    allowed = expected if isinstance(expected, tuple) else (expected,)
    if TENSOR in allowed and type(value) in TV_TENSORS:
        return value.as_subclass(TENSOR)
    if type(value) not in allowed:
        names = " or ".join(type_name(kind) for kind in allowed)
        found = kind_of(value)
        if any(isinstance(value, kind) for kind in allowed):
            found += f", a subclass of {names}: return a plain {names}"
        fail(f"{what} to be a {names}", found, likely)
    return value


def check_tensor(value, what: str, shape: tuple | None = None, dtype: torch.dtype | None = None, likely: str = "") -> torch.Tensor:
    """``value`` is a plain tensor of ``shape`` and ``dtype`` with finite values; checked in that order; returns it
    (a torchvision ``tv_tensors`` type as the plain tensor it wraps)."""
    value = check_type(value, TENSOR, what, likely)
    if shape is not None and tuple(value.shape) != tuple(shape):
        fail(f"{what} of shape {tuple(shape)}", f"shape {tuple(value.shape)}", likely)
    if dtype is not None and value.dtype != dtype:
        fail(f"{what} of dtype {dtype}", f"dtype {value.dtype}", likely)
    if value.is_floating_point() and not _tensor_isfinite(value).all():
        fail(f"{what} to hold finite numbers", "NaN or infinity", likely)
    return value


def check_float(value, what: str, likely: str = "") -> float:
    """``value`` is a finite Python float (not a tensor, not a NumPy number, not a look-alike)."""
    if type(value) is TENSOR:
        fail(
            f"{what} to be a Python float",
            f"a torch.Tensor of shape {tuple(value.shape)}",
            likely or "return a number with .item() (a tensor can keep its autograd graph alive)",
        )
    check_type(value, float, f"{what}", likely)
    if not _isfinite(value):
        fail(f"{what} to be finite", repr(value), likely)
    return value


def check_close(found: float, expected: float, what: str, likely: str = "", rel: float = 1e-4, abs_: float = 1e-6) -> None:
    """``found`` (a checked float) equals ``expected`` within the given tolerances."""
    if not _isclose(found, expected, rel_tol=rel, abs_tol=abs_):
        fail(f"{what} = {expected:.6g}", f"{found:.6g}", likely)


def gradient_problem(parameter: torch.Tensor) -> str | None:
    """What is wrong with ``parameter``'s gradient after a backward pass: "none", "NaN or infinity",
    "all zeros", or None for a finite, non-zero gradient."""
    if parameter.grad is None:
        return "none"
    if not _tensor_isfinite(parameter.grad).all():
        return "NaN or infinity"
    if parameter.grad.abs().sum() == 0:
        return "all zeros"
    return None
