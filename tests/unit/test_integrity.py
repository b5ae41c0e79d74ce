"""Snapshots notice, and undo, replacements of the grader's and PyTorch's objects (autograder.grading.integrity)."""

import functools
import math
import sys
import types

import pytest
import torch

from autograder.grading import messages, results, target
from autograder.grading.integrity import Snapshot
from autograder.grading.points import Grading


def test_a_snapshot_of_an_untouched_process_finds_nothing_changed():
    snapshot = Snapshot()
    assert snapshot.changed(snapshot.identities()) == []
    assert snapshot.restore() == []


@pytest.mark.parametrize(
    ("holder", "attribute", "label"),
    [
        (torch, "equal", "torch.equal"),
        (math, "isclose", "math.isclose"),
        (torch.nn.functional, "relu", "torch.nn.functional.relu"),
        (torch.Tensor, "backward", "torch.Tensor.backward"),
        (torch.nn.Module, "zero_grad", "torch.nn.Module.zero_grad"),
        (messages, "MESSAGE_CHARACTERS", "autograder.grading.messages.MESSAGE_CHARACTERS"),
        (target.Submission, "owns", "autograder.grading.target.Submission.owns"),
    ],
)
def test_a_replaced_protected_object_is_named_and_put_back(holder, attribute, label):
    original = vars(holder)[attribute]
    snapshot = Snapshot()
    try:
        setattr(holder, attribute, lambda *args, **kwargs: True)
        assert snapshot.changed(snapshot.identities()) == [label]
        assert snapshot.restore() == [label]
        assert vars(holder)[attribute] is original
        assert snapshot.changed(snapshot.identities()) == []
    finally:
        setattr(holder, attribute, original)


def test_a_grader_functions_code_replaced_in_place_is_named_and_put_back():
    function = results.part_totals
    original = function.__code__
    snapshot = Snapshot()
    try:
        function.__code__ = (lambda outcomes: {"1 network": (99.0, 99.0)}).__code__
        assert snapshot.changed(snapshot.identities()) == ["autograder.grading.results.part_totals.__code__"]
        assert snapshot.restore() == ["autograder.grading.results.part_totals.__code__"]
        assert function.__code__ is original
        assert results.part_totals([]) == {}
    finally:
        function.__code__ = original


def test_a_grader_functions_defaults_replaced_are_named():
    function = results.score_table
    original = function.__defaults__
    snapshot = Snapshot()
    try:
        function.__defaults__ = ({"1 network": 0}, None)
        assert "autograder.grading.results.score_table.__defaults__" in snapshot.changed(snapshot.identities())
        snapshot.restore()
        assert function.__defaults__ is original
    finally:
        function.__defaults__ = original


def test_a_replaced_grader_module_in_sys_modules_is_named_and_put_back():
    name = "autograder.grading.results"
    original = sys.modules[name]
    label = f"sys.modules[{name!r}]"
    snapshot = Snapshot()
    try:
        sys.modules[name] = types.ModuleType(name)
        assert label in snapshot.changed(snapshot.identities())
        assert label in snapshot.restore()
        assert sys.modules[name] is original
    finally:
        sys.modules[name] = original


def test_a_changed_field_of_a_declared_grader_object_is_named_and_put_back():
    name = "autograder.unit_integrity_probe"
    module = types.ModuleType(name)
    module.DECLARED = Grading(points=2.0, visibility="visible", time_limit=60.0, part="1 network")
    sys.modules[name] = module
    try:
        snapshot = Snapshot()
        object.__setattr__(module.DECLARED, "points", 100.0)
        assert snapshot.changed(snapshot.identities()) == [f"{name}.DECLARED.points"]
        assert snapshot.restore() == [f"{name}.DECLARED.points"]
        assert module.DECLARED.points == 2.0
    finally:
        del sys.modules[name]


def test_a_wrapper_from_outside_pytorch_is_still_a_replacement():
    original = torch.equal
    snapshot = Snapshot()
    try:
        torch.equal = functools.wraps(original)(lambda *args, **kwargs: True)
        assert snapshot.changed(snapshot.identities()) == ["torch.equal"]
        assert snapshot.restore() == ["torch.equal"]
        assert torch.equal is original
    finally:
        torch.equal = original


def test_a_module_only_named_like_the_grader_is_not_protected():
    name = "autograder_lookalike"
    module = types.ModuleType(name)
    module.value = 1
    sys.modules[name] = module
    try:
        snapshot = Snapshot()
        module.value = 2
        assert snapshot.changed(snapshot.identities()) == []
    finally:
        del sys.modules[name]


@pytest.mark.parametrize("report", [None, "ids", (), [1, 2, 3]], ids=["none", "text", "tuple", "too-short"])
def test_a_missing_or_malformed_report_counts_as_a_change(report):
    assert Snapshot().changed(report) == ["the report of the grader's own functions (missing or altered)"]


def test_the_reports_identities_are_plain_integers_one_per_entry():
    snapshot = Snapshot()
    identities = snapshot.identities()
    assert type(identities) is list and len(identities) == len(snapshot.entries)
    assert all(type(identity) is int for identity in identities)
