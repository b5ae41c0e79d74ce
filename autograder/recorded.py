"""Recorded expectations: the inputs of the public checks and the outputs they must give, as data.

A public test never computes the right answer: it reads it from
``autograder/recorded/<part>.json``, written from ``solutions/`` by
``python scripts/record_expectations.py`` (``--check`` says whether the
files are current). Each file maps a case's name to its inputs, the
solution's output, and *fingerprints*: the outputs that catalogued mistakes
give on the same inputs, each with the sentence a student who made it should
read. A test that finds an output equal to a fingerprint names that mistake.

Tensors are stored as ``{"tensor": nested lists, "dtype": "float32"}``,
exactly (a float32 written as a Python float reads back bit for bit), so the
files are plain text that any version of PyTorch reads the same way. A
tensor of thousands of numbers (an image) may be recorded as :class:`Packed`
instead: ``{"base64": its little-endian bytes, "dtype": ..., "shape": ...}``,
in a dtype as small as its test's tolerance allows.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

RECORDED_DIR = Path(__file__).resolve().parent / "recorded"


@dataclass(frozen=True)
class Packed:
    """A tensor to record as the base64 of its bytes in ``dtype``, for one too large for readable lists."""

    tensor: torch.Tensor
    dtype: torch.dtype


def decode(value):
    """JSON data back into Python: tensors where ``encode`` wrote them, lists and dicts otherwise."""
    if isinstance(value, dict):
        if set(value) == {"tensor", "dtype"}:
            return torch.tensor(value["tensor"], dtype=getattr(torch, value["dtype"]))
        if set(value) == {"base64", "dtype", "shape"}:
            data = bytearray(base64.b64decode(value["base64"]))
            return torch.frombuffer(data, dtype=getattr(torch, value["dtype"])).reshape(value["shape"]).clone()
        return {key: decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item) for item in value]
    return value


def encode(value):
    """Python data (tensors, tuples, lists, dicts, numbers, strings) as JSON data."""
    if isinstance(value, torch.Tensor):
        return {"tensor": value.detach().cpu().tolist(), "dtype": str(value.dtype).removeprefix("torch.")}
    if isinstance(value, Packed):
        array = value.tensor.detach().cpu().to(value.dtype).contiguous().numpy()
        data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        return {"base64": base64.b64encode(data).decode("ascii"), "dtype": str(value.dtype).removeprefix("torch."),
                "shape": list(value.tensor.shape)}
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(item) for item in value]
    return value


def load(part: str) -> dict:
    """The recorded cases of ``part`` (``"part6_detection"``), tensors decoded."""
    return decode(json.loads((RECORDED_DIR / f"{part}.json").read_text()))


def recorded_mistake(found, fingerprints: list[dict], same: Callable[[object, object], bool]) -> str | None:
    """The sentence of the first fingerprint whose output is ``same`` as ``found``, or None."""
    for fingerprint in fingerprints:
        try:
            if same(found, fingerprint["output"]):
                return fingerprint["mistake"]
        except (RuntimeError, TypeError, ValueError):  # a shape or type that cannot be compared: not this one
            continue
    return None
