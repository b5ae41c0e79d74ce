"""Checks that stop at the first difference and say what was expected, found, and likely wrong.

Each check fails the test with ``pytest.fail(..., pytrace=False)``, so the
student reads the message alone, never the grader's traceback.
"""

from __future__ import annotations

import math

import pytest
import torch


def fail(expected: str, found: str, likely: str = "") -> None:
    """Fail the test: ``expected ..., found ...`` and, if given, the likely mistake."""
    message = f"expected {expected}, found {found}."
    if likely:
        message += f"\nLikely mistake: {likely}"
    pytest.fail(message, pytrace=False)


def check_tensor(value, what: str, shape: tuple | None = None, dtype: torch.dtype | None = None, likely: str = "") -> torch.Tensor:
    """``value`` is a tensor of ``shape`` and ``dtype`` with finite values; checked in that order."""
    if not isinstance(value, torch.Tensor):
        fail(f"{what} to be a torch.Tensor", f"{type(value).__name__}", likely)
    if shape is not None and tuple(value.shape) != tuple(shape):
        fail(f"{what} of shape {tuple(shape)}", f"shape {tuple(value.shape)}", likely)
    if dtype is not None and value.dtype != dtype:
        fail(f"{what} of dtype {dtype}", f"dtype {value.dtype}", likely)
    if value.is_floating_point() and not torch.isfinite(value).all():
        fail(f"{what} to hold finite numbers", "NaN or infinity", likely)
    return value


def check_float(value, what: str, likely: str = "") -> float:
    """``value`` is a finite Python float (not a tensor, not a NumPy number)."""
    if isinstance(value, torch.Tensor):
        fail(
            f"{what} to be a Python float",
            f"a torch.Tensor of shape {tuple(value.shape)}",
            likely or "return a number with .item() (a tensor can keep its autograd graph alive)",
        )
    if not isinstance(value, float):
        fail(f"{what} to be a Python float", type(value).__name__, likely)
    if not math.isfinite(value):
        fail(f"{what} to be finite", repr(value), likely)
    return value


def check_close(found: float, expected: float, what: str, likely: str = "", rel: float = 1e-4, abs_: float = 1e-6) -> None:
    """``found`` equals ``expected`` within the given tolerances."""
    if not math.isclose(found, expected, rel_tol=rel, abs_tol=abs_):
        fail(f"{what} = {expected:.6g}", f"{found:.6g}", likely)
