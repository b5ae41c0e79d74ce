"""The static audit of submitted files lists what a homework has no need for (autograder.grading.audit)."""

import pytest

from autograder.grading.audit import audit_folder, audit_source

HARMLESS = '''\
"""A solved part: nothing here for the instructor to look at."""

import math

import torch
from torch import nn
import torch.nn.functional as F


class Network(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(4, 2)

    def forward(self, x):
        return F.relu(self.layer(x)) * math.sqrt(2.0)


def read_notes(path):
    with open(path) as file:
        return file.read()


def outputs(model, x):
    with torch.no_grad():
        return model(x).argmax(dim=1)
'''


def test_a_harmless_module_gives_no_findings():
    assert audit_source(HARMLESS, "network.py") == []


@pytest.mark.parametrize(
    ("source", "finding"),
    [
        ("import subprocess\n", "imports subprocess: starting processes"),
        ("import autograder.checks\n", "imports autograder.checks: the grader itself"),
        ("from _pytest import outcomes\n", "imports _pytest: pytest's internals"),
        ("import ctypes as c\n", "imports ctypes: native code (ctypes)"),
        ("from solutions import network\n", "imports solutions: the course's solutions"),
        ("import gc\n", "imports gc: the garbage collector's view of every object"),
        ("from os import _exit\n", "imports os._exit: ends the process"),
    ],
)
def test_an_import_of_a_listed_module_is_flagged(source, finding):
    assert audit_source(source, "network.py") == [f"network.py, line 1: {finding}"]


@pytest.mark.parametrize(
    ("source", "finding"),
    [
        ("import os\nos._exit(0)\n", "calls os._exit: ends the process"),
        ("import os as o\no.system('ls')\n", "calls os.system: runs shell commands"),
        ("import sys\nsys.exit(1)\n", "calls sys.exit: ends the program"),
        (
            "import torch\ntorch.set_default_dtype(torch.float64)\n",
            "calls torch.set_default_dtype: changes PyTorch's default dtype for everything after it",
        ),
        ("import torch as t\nt.save({}, 'model.pt')\n", "calls torch.save: writes a file"),
        (
            "from torch import set_grad_enabled\nset_grad_enabled(False)\n",
            "calls torch.set_grad_enabled: switches gradients on or off for everything after it",
        ),
        ("x = 1\nexec('x = 2')\n", "calls exec: runs code from a string"),
        ("x = 1\nm = __import__('os')\n", "calls __import__: imports by name"),
    ],
)
def test_a_call_of_a_listed_function_is_flagged_on_its_line(source, finding):
    assert f"network.py, line 2: {finding}" in audit_source(source, "network.py")


def test_replacing_an_attribute_of_an_imported_module_is_flagged():
    findings = audit_source("import torch\ntorch.equal = lambda a, b: True\n", "network.py")
    assert findings == ["network.py, line 2: replaces torch.equal, an attribute of an imported module"]


def test_replacing_an_attribute_through_an_alias_names_the_real_module():
    findings = audit_source("import math as m\nm.isclose = max\n", "network.py")
    assert findings == ["network.py, line 2: replaces math.isclose, an attribute of an imported module"]


def test_setting_an_attribute_of_ones_own_object_is_not_flagged():
    assert audit_source("class A:\n    def __init__(self):\n        self.equal = 1\n", "network.py") == []


@pytest.mark.parametrize(
    "source",
    ["open('out.txt', 'w')\n", "open('out.txt', mode='a')\n", "open('out.txt', 'r+')\n", "import io\nio.open('out.txt', 'xb')\n"],
)
def test_opening_a_file_for_writing_is_flagged(source):
    assert any(finding.endswith("opens a file for writing") for finding in audit_source(source, "network.py"))


def test_opening_a_file_for_reading_is_not_flagged():
    assert audit_source("open('in.txt')\nopen('in.txt', 'rb')\n", "network.py") == []


def test_writing_a_file_by_path_is_flagged():
    findings = audit_source("from pathlib import Path\nPath('x').write_text('hi')\n", "network.py")
    assert findings == ["network.py, line 2: writes a file (write_text)"]


def test_the_loaded_modules_table_and_builtins_are_flagged():
    findings = audit_source("import sys\nmods = sys.modules\nb = __builtins__\n", "network.py")
    assert findings == [
        "network.py, line 2: uses sys.modules: the table of loaded modules",
        "network.py, line 3: uses __builtins__: Python's built-in functions",
    ]


@pytest.mark.parametrize(
    ("text", "word"),
    [("'../solutions/network.py'", "solutions"), ("'results.json'", "results.json"), ("'/autograder/source'", "/autograder")],
)
def test_a_string_naming_the_solutions_or_the_results_is_flagged(text, word):
    assert audit_source(f"path = {text}\n", "network.py") == [f"network.py, line 1: refers to {word!r} in a string"]


def test_a_relative_import_is_flagged():
    findings = audit_source("from . import helper\n", "network.py")
    assert findings == ["network.py, line 1: a relative import: the file is graded alone, so it imports the grader's neighbours"]


def test_findings_are_in_line_order_without_repeats():
    source = "import os\n\nos.kill(1, 9)\nimport signal\nos.kill(1, 9); os.kill(1, 9)\n"
    assert audit_source(source, "network.py") == [
        "network.py, line 3: calls os.kill: sends signals",
        "network.py, line 4: imports signal: signal handling",
        "network.py, line 5: calls os.kill: sends signals",
    ]


def test_a_file_that_does_not_parse_is_reported_not_audited():
    findings = audit_source("def broken(:\n", "network.py")
    assert findings == ["network.py: could not be parsed (SyntaxError), so it was not audited"]


def test_a_file_with_a_null_byte_is_reported_not_audited():
    findings = audit_source("import socket\0\n", "network.py")
    assert len(findings) == 1
    assert findings[0].startswith("network.py: could not be parsed (")
    assert findings[0].endswith("), so it was not audited")


def test_audit_folder_audits_each_python_file_directly_in_the_folder(tmp_path):
    (tmp_path / "network.py").write_text(HARMLESS)
    (tmp_path / "training.py").write_text("import socket\n")
    (tmp_path / "notes.txt").write_text("import socket\n")
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "helper.py").write_text("import socket\n")
    assert audit_folder(tmp_path) == ["training.py, line 1: imports socket: the network"]
