"""What a student reads when student code, rather than a check, ends a test.

Checks fail with their own message (``pytest.fail(..., pytrace=False)``).
When an exception escapes student code instead, the plugin replaces pytest's
traceback with one of these short messages:

- a TODO left in place: ``not implemented yet: network.Network.forward``;
- any other exception: its type and message, and the student's own lines
  that led to it (file, line, function, source), without the grader's frames;
- the per-test time limit: what the limit was and the likely causes;
- an exception in the grader's own code (or a library it calls) while it
  uses what student code returned, such as ``None`` where a model was due:
  the exception and where it happened, without the traceback.
"""

from __future__ import annotations

import linecache
import traceback
from pathlib import Path
from types import TracebackType
from typing import Callable


class TimeLimitExceeded(BaseException):
    """Raised inside a test that ran past its time limit.

    A ``BaseException`` so that a student's ``except Exception`` cannot swallow it.
    """

    def __init__(self, seconds: float):
        super().__init__(f"time limit of {seconds:g} s exceeded")
        self.seconds = seconds


def _qualname(frame) -> str:
    code = frame.f_code
    return getattr(code, "co_qualname", code.co_name)


def student_frames(tb: TracebackType | None, owns: Callable[[str], bool]):
    """The traceback's frames, outermost first, that run in the student's files."""
    return [(frame, lineno) for frame, lineno in traceback.walk_tb(tb) if owns(frame.f_code.co_filename)]


def where(frame) -> str:
    """``module.Class.method`` for a frame in a student's file."""
    return f"{Path(frame.f_code.co_filename).stem}.{_qualname(frame)}"


def not_implemented_message(error: NotImplementedError, frames) -> str:
    return f"not implemented yet: {where(frames[-1][0])}"


def student_error_message(error: BaseException, frames) -> str:
    lines = [f"your code raised {type(error).__name__}: {error}"]
    for frame, lineno in frames:
        source = linecache.getline(frame.f_code.co_filename, lineno).strip()
        lines.append(f"  {Path(frame.f_code.co_filename).name}, line {lineno}, in {_qualname(frame)}: {source}")
    return "\n".join(lines)


def grader_side_message(error: BaseException, tb: TracebackType | None) -> str:
    frame, lineno = list(traceback.walk_tb(tb))[-1]
    return (
        f"the test stopped with {type(error).__name__}: {error}\n"
        f"  raised in {Path(frame.f_code.co_filename).name}, line {lineno}, in {_qualname(frame)}, "
        "while the grader used what your code returned or built.\n"
        "Compare your return values (type, shape, dtype) with the docstring."
    )


def time_limit_message(error: TimeLimitExceeded, frames) -> str:
    message = (
        f"time limit exceeded: this test stopped after {error.seconds:g} s. "
        "Likely causes: a loop that never ends, training for more epochs or on more data than asked, "
        "or a network far larger than the handout's."
    )
    if frames:
        message += f"\nIt was running {where(frames[-1][0])} when it was stopped."
    return message


def explain(error: BaseException, tb: TracebackType | None, owns: Callable[[str], bool]) -> str | None:
    """The student-facing message for ``error``, or None to keep pytest's own report."""
    frames = student_frames(tb, owns)
    if isinstance(error, TimeLimitExceeded):
        return time_limit_message(error, frames)
    if not frames:
        if not isinstance(error, Exception) or isinstance(error, AssertionError):
            return None  # the grader's own verdicts (pytest.fail, assert) carry their own messages
        return grader_side_message(error, tb)
    if isinstance(error, NotImplementedError):
        return not_implemented_message(error, frames)
    return student_error_message(error, frames)
