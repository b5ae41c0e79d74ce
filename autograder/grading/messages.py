"""What a student reads when student code, rather than a check, ends a test.

Checks fail with their own message (see :mod:`autograder.checks`). When an
exception escapes student code instead, the student reads one of these short
messages in place of pytest's traceback:

- a TODO left in place: ``not implemented yet: network.Network.forward``;
- any other exception: its type and message, and the student's own lines
  that led to it (file, line, function, source), without the grader's frames;
- ``sys.exit``, ``KeyboardInterrupt``, ``pytest.exit``: what the call does to
  a grader, and that a function must return instead;
- an exception in the grader's own code (or a library it calls) while it
  uses what student code returned, such as ``None`` where a model was due:
  the exception and where it happened, without the traceback.

The isolation layer adds the messages for a test whose process ended badly
(:func:`time_limit_message`, :func:`process_ended_message`). Every message is
built without trusting student objects: an exception whose ``__str__``
raises, or whose message is megabytes long, still gives a short message
(:func:`safe_str`, :func:`shorten`).
"""

from __future__ import annotations

import linecache
import re
import traceback
from pathlib import Path
from types import TracebackType
from typing import Callable

import pytest

MESSAGE_CHARACTERS = 4000  # the most of a message a student reads; the rest is cut from the middle


class NotRunAgain(Exception):
    """Raised in place of a student function that ran out of time in an earlier test."""

    def __init__(self, function: str, test: str):
        super().__init__(
            f"not run again: {function} ran past its time limit in {test}, so later tests do not wait for it "
            "again. Fix that first (look for a loop that never ends)."
        )


def shorten(text: str, limit: int = MESSAGE_CHARACTERS) -> str:
    """``text``, cut in the middle if it is longer than ``limit`` characters."""
    if len(text) <= limit:
        return text
    keep = limit // 2
    return f"{text[:keep]}\n[... {len(text) - 2 * keep:,} characters cut ...]\n{text[-keep:]}"


def safe_str(error: BaseException) -> str:
    """``str(error)``, short, or a note if its ``__str__`` itself fails."""
    try:
        text = str(error)
        if type(text) is not str:
            raise TypeError("__str__ returned a non-string")
    except BaseException:  # the student's __str__ may raise anything
        return f"<{type(error).__name__} whose message could not be read: its __str__ raised an error>"
    return shorten(text, MESSAGE_CHARACTERS // 2)


# "train_one_epoch() takes 4 positional arguments but 5 were given", "...() got an unexpected keyword argument"
SIGNATURE = re.compile(r"([\w.]+)\(\) (?:takes|missing|got an unexpected|got multiple)")


def _qualname(frame) -> str:
    code = frame.f_code
    return getattr(code, "co_qualname", code.co_name)


def student_frames(tb: TracebackType | None, owns: Callable[[str], bool]):
    """The traceback's frames, outermost first, that run in the student's files."""
    return [(frame, lineno) for frame, lineno in traceback.walk_tb(tb) if owns(frame.f_code.co_filename)]


def where(frame) -> str:
    """``module.Class.method`` for a frame in a student's file."""
    return f"{Path(frame.f_code.co_filename).stem}.{_qualname(frame)}"


def student_lines(frames) -> list[str]:
    lines = []
    for frame, lineno in frames:
        source = linecache.getline(frame.f_code.co_filename, lineno).strip()
        lines.append(f"  {Path(frame.f_code.co_filename).name}, line {lineno}, in {_qualname(frame)}: {source}")
    return lines


MEMORY_NOTE = "the test's process asked for more memory than the grader allows a test (see --memory-limit):"


def out_of_memory(error: BaseException) -> bool:
    return isinstance(error, MemoryError) or "can't allocate memory" in safe_str(error)


def student_error_message(error: BaseException, frames) -> str:
    lines = [f"your code raised {type(error).__name__}: {safe_str(error)}"]
    if out_of_memory(error):
        lines.insert(0, MEMORY_NOTE)
    return "\n".join([*lines, *student_lines(frames)])


def grader_side_message(error: BaseException, tb: TracebackType | None) -> str:
    frame, lineno = list(traceback.walk_tb(tb))[-1]
    return (
        f"the test stopped with {type(error).__name__}: {safe_str(error)}\n"
        f"  raised in {Path(frame.f_code.co_filename).name}, line {lineno}, in {_qualname(frame)}, "
        "while the grader used what your code returned or built.\n"
        "Compare your return values (type, shape, dtype) with the docstring."
    )


def ending_call_message(error: BaseException, frames) -> str:
    """``sys.exit``, ``KeyboardInterrupt`` or ``pytest.exit`` raised while the test ran."""
    if isinstance(error, SystemExit):
        what = f"called sys.exit({safe_str(error)}) (or raised SystemExit)"
    elif isinstance(error, KeyboardInterrupt):
        what = "raised KeyboardInterrupt"
    else:
        what = f"called pytest.exit({safe_str(error)!r})"
    message = (
        f"your code {what}: that ends a whole program, and a graded function must return a value instead. "
        "Remove the call (and any input() or interactive code) from the file you upload."
    )
    return "\n".join([message, *student_lines(frames)])


def explain(error: BaseException, tb: TracebackType | None, owns: Callable[[str], bool]) -> str | None:
    """The student-facing message for ``error``, or None where the error is the grader's own verdict."""
    frames = student_frames(tb, owns)
    if isinstance(error, NotRunAgain):
        return str(error)
    if isinstance(error, (SystemExit, KeyboardInterrupt, pytest.exit.Exception)):
        return ending_call_message(error, frames)
    if not frames:
        if not isinstance(error, Exception) or isinstance(error, AssertionError):
            return None  # the grader's own verdicts (pytest.fail, assert) carry their own messages
        signature = SIGNATURE.search(safe_str(error)) if isinstance(error, TypeError) else None
        if signature is not None:
            return (
                f"the grader could not call your {signature.group(1)}: {safe_str(error)}.\n"
                "Keep the parameters (names, order and defaults) that the docstring gives."
            )
        if out_of_memory(error):
            return f"{MEMORY_NOTE}\n{type(error).__name__}: {safe_str(error)}"
        return grader_side_message(error, tb)
    if isinstance(error, NotImplementedError):
        return f"not implemented yet: {where(frames[-1][0])}"
    return student_error_message(error, frames)


def time_limit_message(reason: str, reached: float, running: str | None, scale_option: str) -> str:
    """A test stopped by its limit: ``reason`` is ``"cpu"``, ``"wall"``, ``"idle"`` or ``"memory"``."""
    if reason == "memory":
        message = f"{MEMORY_NOTE} this test was stopped at {reached:.0f} MB of new memory."
    elif reason == "idle":
        message = (
            f"time limit exceeded: this test was stopped after {reached:.0f} s in which your code waited "
            "without computing (time.sleep, input(), or waiting for a lock, a thread or a process)."
        )
    else:
        spent = "of computing (CPU time)" if reason == "cpu" else "of wall-clock time"
        machine = (
            "a much slower computer than Gradescope's" if reason == "cpu" else "a computer busy with other work"
        )
        message = (
            f"time limit exceeded: this test was stopped after {reached:.0f} s {spent}. Likely causes: a loop "
            "that never ends, training for more epochs or on more data than asked, or a network far larger "
            f"than the handout's. On {machine}, give every test more time with {scale_option} 2."
        )
    if running:
        message += f"\nIt was running {running} when it was stopped."
    return message


SIGNAL_NAMES = {4: "illegal instruction", 6: "abort", 7: "bus error", 8: "floating-point exception", 11: "segmentation fault"}


def process_ended_message(exit_code: int | None, signal_number: int | None, running: str | None, memory_mb: int) -> str:
    """The test's process ended before the test did: ``os._exit``, a crash, or killed for memory."""
    if signal_number == 9:
        message = (
            f"the test's process was killed, most likely for using more memory than the grader allows "
            f"({memory_mb} MB beyond what the grader itself uses). Look for very large tensors, or for results "
            "kept in a list across a long loop."
        )
    elif signal_number is not None:
        name = f"{SIGNAL_NAMES[signal_number]}, " if signal_number in SIGNAL_NAMES else ""
        message = (
            f"the Python process crashed ({name}signal {signal_number}) while running your code: native code "
            "(ctypes, a C extension, or a PyTorch call on invalid memory) failed."
        )
    else:
        message = (
            f"your code ended the test's process with exit status {exit_code} (os._exit, or a similar call) "
            "before the test finished: a graded function must return a value instead."
        )
    if running:
        message += f"\nIt was running {running}."
    return message
