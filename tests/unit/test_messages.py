"""What a student reads when their code, not a check, ends a test (autograder.grading.messages)."""

import importlib.util
from pathlib import Path

import pytest

from autograder.grading.messages import (
    MEMORY_NOTE,
    MESSAGE_CHARACTERS,
    NotRunAgain,
    explain,
    process_ended_message,
    safe_str,
    shorten,
    time_limit_message,
)

STUDENT_SOURCE = '''\
import sys

import pytest


def double(x):
    return 2 * x


def nothing():
    return None


def divide(a, b):
    return a / b


def train(a):
    return divide(a, 0)


def leave(code):
    sys.exit(code)


def interrupt():
    raise KeyboardInterrupt


def stop_the_run():
    pytest.exit("bye")


def allocate():
    raise MemoryError("can't allocate memory: you tried to allocate 1000000000000 bytes")


class Network:
    def forward(self, x):
        raise NotImplementedError("TODO")
'''


@pytest.fixture
def student(tmp_path):
    """A student's module, written to tmp_path and imported from there."""
    path = tmp_path / "network.py"
    path.write_text(STUDENT_SOURCE)
    spec = importlib.util.spec_from_file_location("unit_messages_network", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def owns(tmp_path):
    folder = tmp_path.resolve()
    return lambda filename: Path(filename).resolve().parent == folder


def raised(call):
    """The exception ``call`` raises and its traceback, as the harness catches them."""
    try:
        call()
    except BaseException as error:  # SystemExit, KeyboardInterrupt and pytest.exit too
        return error, error.__traceback__
    pytest.fail("the call did not raise")


class UnreadableError(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


class NonStringError(Exception):
    def __str__(self):
        return 42


class SneakyText(str):
    pass


class SubclassMessageError(Exception):
    def __str__(self):
        return SneakyText("looks fine")


# ------------------------------------------------------------------------------------------------ shorten


def test_shorten_keeps_a_text_within_the_limit_unchanged():
    assert shorten("x" * 100, limit=100) == "x" * 100


def test_shorten_cuts_a_long_text_in_the_middle_and_says_how_much():
    text = "A" * 500 + "B" * 9000 + "C" * 500
    short = shorten(text, limit=1000)
    assert short.startswith("A" * 500 + "\n")
    assert short.endswith("\n" + "C" * 500)
    assert "[... 9,000 characters cut ...]" in short
    assert "B" not in short


def test_shorten_defaults_to_the_message_limit():
    short = shorten("x" * (10 * MESSAGE_CHARACTERS))
    assert len(short) < MESSAGE_CHARACTERS + 100


# ----------------------------------------------------------------------------------------------- safe_str


def test_safe_str_gives_an_exceptions_message():
    assert safe_str(ValueError("bad shape")) == "bad shape"


def test_safe_str_shortens_a_huge_message():
    text = safe_str(ValueError("x" * 1_000_000))
    assert len(text) < MESSAGE_CHARACTERS
    assert "characters cut" in text


def test_safe_str_survives_a_str_method_that_raises():
    text = safe_str(UnreadableError())
    assert "UnreadableError" in text and "could not be read" in text


def test_safe_str_refuses_a_str_method_that_returns_no_string():
    assert "could not be read" in safe_str(NonStringError())


def test_safe_str_refuses_a_message_of_a_str_subclass():
    text = safe_str(SubclassMessageError())
    assert type(text) is str
    assert "could not be read" in text


# ------------------------------------------------------------------------------------------------ explain


def test_a_todo_left_in_a_method_names_the_method(student, owns):
    error, tb = raised(lambda: student.Network().forward(1))
    assert explain(error, tb, owns) == "not implemented yet: network.Network.forward"


def test_a_student_exception_shows_its_type_message_and_the_students_lines(student, owns):
    error, tb = raised(lambda: student.train(1))
    message = explain(error, tb, owns)
    lines = message.splitlines()
    assert lines[0] == "your code raised ZeroDivisionError: division by zero"
    assert "network.py, line" in lines[1] and "in train: return divide(a, 0)" in lines[1]
    assert "network.py, line" in lines[2] and "in divide: return a / b" in lines[2]
    assert len(lines) == 3


def test_a_student_exception_leaves_out_the_graders_frames(student, owns):
    error, tb = raised(lambda: student.train(1))
    assert "test_messages.py" not in explain(error, tb, owns)


def test_sys_exit_in_student_code_is_explained_as_ending_the_program(student, owns):
    error, tb = raised(lambda: student.leave(3))
    message = explain(error, tb, owns)
    assert message.startswith("your code called sys.exit(3)")
    assert "must return a value instead" in message
    assert "in leave: sys.exit(code)" in message


def test_keyboard_interrupt_in_student_code_is_explained(student, owns):
    error, tb = raised(student.interrupt)
    assert explain(error, tb, owns).startswith("your code raised KeyboardInterrupt")


def test_pytest_exit_in_student_code_is_explained(student, owns):
    error, tb = raised(student.stop_the_run)
    assert explain(error, tb, owns).startswith("your code called pytest.exit('bye')")


def test_a_function_that_ran_out_of_time_before_gives_its_own_message(owns):
    def stopped():
        raise NotRunAgain("network.train", "test_training")

    error, tb = raised(stopped)
    message = explain(error, tb, owns)
    assert message.startswith("not run again: network.train ran past its time limit in test_training")


def test_the_graders_own_assertion_is_left_to_its_own_message(owns):
    def check():
        assert 1 == 2, "the check's own words"

    error, tb = raised(check)
    assert explain(error, tb, owns) is None


def test_the_graders_pytest_fail_is_left_to_its_own_message(owns):
    error, tb = raised(lambda: pytest.fail("wrong shape", pytrace=False))
    assert explain(error, tb, owns) is None


def test_calling_a_student_function_with_the_wrong_parameters_names_the_function(student, owns):
    error, tb = raised(lambda: student.double(1, 2))
    message = explain(error, tb, owns)
    assert message.startswith("the grader could not call your double: double() takes 1 positional argument")
    assert "Keep the parameters" in message


def test_a_grader_error_on_a_returned_value_says_where_it_happened(student, owns):
    error, tb = raised(lambda: student.nothing().shape)
    message = explain(error, tb, owns)
    assert message.startswith("the test stopped with AttributeError:")
    assert "raised in test_messages.py, line" in message
    assert "while the grader used what your code returned" in message


def test_running_out_of_memory_in_student_code_says_so_first(student, owns):
    error, tb = raised(student.allocate)
    message = explain(error, tb, owns)
    assert message.splitlines()[0] == MEMORY_NOTE
    assert "your code raised MemoryError" in message


def test_running_out_of_memory_in_the_grader_says_so(owns):
    def allocate():
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 10 bytes")

    error, tb = raised(allocate)
    message = explain(error, tb, owns)
    assert message.startswith(MEMORY_NOTE)
    assert "RuntimeError: DefaultCPUAllocator" in message


def test_an_exception_with_an_unreadable_message_is_still_explained(tmp_path, owns):
    path = tmp_path / "evil.py"
    path.write_text(
        "class Evil(Exception):\n    def __str__(self):\n        raise SystemExit(1)\n\n\ndef go():\n    raise Evil()\n"
    )
    spec = importlib.util.spec_from_file_location("unit_messages_evil", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    error, tb = raised(module.go)
    message = explain(error, tb, owns)
    assert message.startswith("your code raised Evil: <Evil whose message could not be read")


# ------------------------------------------------------------------------------- time_limit_message


def test_a_cpu_limit_message_gives_the_seconds_and_the_scale_option():
    message = time_limit_message("cpu", 60.4, None, "--time-limit-scale")
    assert message.startswith("time limit exceeded: this test was stopped after 60 s of computing (CPU time).")
    assert "--time-limit-scale 2" in message
    assert "\n" not in message


def test_a_wall_clock_limit_message_speaks_of_a_busy_computer():
    message = time_limit_message("wall", 180, None, "--scale")
    assert "180 s of wall-clock time" in message
    assert "a computer busy with other work" in message
    assert "--scale 2" in message


def test_an_idle_limit_message_speaks_of_waiting_without_computing():
    message = time_limit_message("idle", 20, None, "--time-limit-scale")
    assert "20 s in which your code waited without computing" in message
    assert "--time-limit-scale" not in message


def test_a_memory_limit_message_gives_the_megabytes_reached():
    message = time_limit_message("memory", 412.7, None, "--time-limit-scale")
    assert message.startswith(MEMORY_NOTE)
    assert "stopped at 413 MB of new memory" in message


def test_a_limit_message_says_what_was_running_when_known():
    message = time_limit_message("cpu", 60, "network.train (network.py, line 12)", "--time-limit-scale")
    assert message.endswith("\nIt was running network.train (network.py, line 12) when it was stopped.")


# ---------------------------------------------------------------------------- process_ended_message


def test_a_process_killed_by_signal_9_is_blamed_on_memory_with_the_limit():
    message = process_ended_message(None, 9, None, 400)
    assert "killed, most likely for using more memory" in message
    assert "400 MB" in message


def test_a_crash_names_its_signal():
    message = process_ended_message(None, 11, None, 400)
    assert "crashed (segmentation fault, signal 11)" in message


def test_a_crash_by_an_unnamed_signal_gives_its_number():
    message = process_ended_message(None, 31, None, 400)
    assert "crashed (signal 31)" in message


def test_an_exit_without_a_signal_gives_the_exit_status():
    message = process_ended_message(3, None, None, 400)
    assert "ended the test's process with exit status 3" in message
    assert "must return a value instead" in message


def test_an_ended_process_message_says_what_was_running_when_known():
    message = process_ended_message(0, None, "network.train (network.py, line 4)", 400)
    assert message.endswith("\nIt was running network.train (network.py, line 4).")
