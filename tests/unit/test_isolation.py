"""Where student code was when its test's process was stopped, read from a stack dump (autograder.grading.isolation)."""

import faulthandler
import importlib.util
import threading
from pathlib import Path

import pytest

from autograder.grading.isolation import definition_at, describe_running, where_it_was

DUMP = """\
Thread 0x00007f00000000aa (most recent call first):
  File "/usr/lib/python3.11/threading.py", line 320 in wait
  File "/submission/helper.py", line 7 in worker
  File "/usr/lib/python3.11/threading.py", line 975 in run

Current thread 0x00007f00000000bb (most recent call first):
  File "/venv/lib/python3.11/site-packages/torch/nn/modules/module.py", line 1520 in _call_impl
  File "/submission/network.py", line 12 in forward
  File "/submission/network.py", line 30 in train
  File "/grader/test_part1_network.py", line 8 in test_training
  File "/venv/lib/python3.11/site-packages/_pytest/python.py", line 157 in pytest_pyfunc_call
"""

SOURCE = '''\
LIMIT = 10


def top(a):
    def inner():
        return a

    return inner()


class Network:
    def forward(self, x):
        return x

    class Head:
        def go(self):
            while True:
                pass


for step in range(LIMIT):
    pass
'''


def in_submission(filename):
    return filename.startswith("/submission/")


@pytest.fixture
def source_file(tmp_path):
    path = tmp_path / "network.py"
    path.write_text(SOURCE)
    return str(path)


# ------------------------------------------------------------------------------------------- where_it_was


def test_the_innermost_student_frame_of_the_current_thread_is_where_it_was():
    assert where_it_was(DUMP, None, in_submission) == ("/submission/network.py", 12, "forward")


def test_the_main_thread_named_by_the_child_is_read_rather_than_the_current_one():
    assert where_it_was(DUMP, "0x00007F00000000AA", in_submission) == ("/submission/helper.py", 7, "worker")


def test_an_unknown_main_thread_falls_back_to_the_current_thread():
    assert where_it_was(DUMP, "0x00007f00000000cc", in_submission) == ("/submission/network.py", 12, "forward")


def test_a_dump_without_student_frames_gives_nothing():
    assert where_it_was(DUMP, None, lambda filename: False) is None


def test_an_empty_dump_gives_nothing():
    assert where_it_was("", None, in_submission) is None


def test_a_real_faulthandler_dump_points_at_the_student_function(tmp_path):
    student = tmp_path / "stuck.py"
    student.write_text("import faulthandler\n\n\ndef spin(file):\n    faulthandler.dump_traceback(file, all_threads=True)\n")
    spec = importlib.util.spec_from_file_location("unit_isolation_stuck", student)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dump_path = tmp_path / "stack.txt"
    with open(dump_path, "w") as file:
        module.spin(file)
    main_thread = f"0x{threading.get_ident():016x}"
    found = where_it_was(dump_path.read_text(), main_thread, lambda filename: Path(filename).parent == tmp_path)
    assert found == (str(student), 5, "spin")


# ------------------------------------------------------------------------------------------ definition_at


@pytest.mark.parametrize(
    ("line", "definition"),
    [
        (4, "top"),
        (6, "top"),
        (8, "top"),
        (12, "Network.forward"),
        (13, "Network.forward"),
        (17, "Network.Head.go"),
        (18, "Network.Head.go"),
    ],
)
def test_a_line_inside_a_function_gives_its_outermost_function_with_its_classes(source_file, line, definition):
    assert definition_at(source_file, line) == definition


@pytest.mark.parametrize("line", [1, 11, 21, 22])
def test_a_line_outside_any_function_gives_none(source_file, line):
    assert definition_at(source_file, line) is None


def test_a_missing_file_gives_none(tmp_path):
    assert definition_at(str(tmp_path / "gone.py"), 1) is None


def test_a_file_that_does_not_parse_gives_none(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def broken(:\n    pass\n")
    assert definition_at(str(path), 2) is None


# --------------------------------------------------------------------------------------- describe_running


def test_nothing_running_is_described_as_nothing():
    assert describe_running(None) is None


def test_a_function_running_is_described_by_module_qualified_name_file_and_line(source_file):
    assert describe_running((source_file, 13, "forward")) == "network.Network.forward (network.py, line 13)"


def test_code_at_the_top_level_is_described_as_running_at_import(source_file):
    assert describe_running((source_file, 22, "<module>")) == (
        "the top level of network.py (code that runs at import) (network.py, line 22)"
    )
