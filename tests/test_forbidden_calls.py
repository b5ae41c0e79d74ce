"""autograder/forbidden_calls.py: library functions patched to raise while student code runs, and found in its source."""

import sys
import types

import pytest
import torch
import torchvision

from autograder.forbidden_calls import ForbiddenCall, forbidden_uses, forbidding
from autograder.grading.target import MODULE_PREFIX

FUNCTIONS = {"torchvision.ops.boxes": ("nms", "box_iou", "_box_inter_union")}
OPERATORS = {"torchvision": ("nms",)}
NAMES = frozenset({"nms", "box_iou", "_box_inter_union", "ops"})
BOXES = torch.tensor([[0.0, 0, 2, 2], [1, 1, 3, 3]])


@pytest.mark.parametrize(
    "line",
    [
        "import torchvision.ops",
        "import torchvision.ops.boxes as b",
        "from torchvision.ops import nms",
        "from torchvision.ops.boxes import _box_inter_union",
        "from torchvision import ops",
        "from torchvision.models.detection.roi_heads import box_iou",
        "keep = torchvision.ops.nms(boxes, scores, 0.5)",
        "keep = torch.ops.torchvision.nms(boxes, scores, 0.5)",
        "def f(x, g=tv.ops.box_iou): pass",
    ],
)
def test_forbidden_uses_are_found_with_their_line(line):
    source = f'"""A docstring may mention torchvision.ops.nms."""\nimport torch\n{line}\n'
    assert forbidden_uses(source, ("torchvision.ops",), NAMES) == [f"line 3: {line}"]


def test_allowed_imports_and_text_are_not_flagged():
    source = (
        '"""Not torchvision.ops: this file writes nms itself."""\n'
        "import torch\n"
        "from torchvision.models.detection.faster_rcnn import FastRCNNPredictor\n"
        "def nms(boxes, scores, iou_threshold):  # unlike torchvision.ops.nms\n"
        "    return torch.argsort(scores)\n"
    )
    assert forbidden_uses(source, ("torchvision.ops",), NAMES) == []


def test_forbidden_functions_raise_and_are_recorded_inside_the_block_only():
    student = types.ModuleType(f"{MODULE_PREFIX}.probe")
    student.imported_nms = torchvision.ops.nms  # as `from torchvision.ops import nms` binds it
    sys.modules[student.__name__] = student
    try:
        with forbidding(FUNCTIONS, OPERATORS) as calls:
            for forbidden in (
                lambda: torchvision.ops.nms(BOXES, torch.ones(2), 0.5),
                lambda: student.imported_nms(BOXES, torch.ones(2), 0.5),
                lambda: torch.ops.torchvision.nms(BOXES, torch.ones(2), 0.5),
                lambda: torch.ops.torchvision.nms.default(BOXES, torch.ones(2), 0.5),
                lambda: torchvision.ops.boxes._box_inter_union(BOXES, BOXES),
            ):
                with pytest.raises(ForbiddenCall):
                    forbidden()
            assert torch.equal(torch.argsort(torch.tensor([2.0, 1.0])), torch.tensor([1, 0]))  # torch itself works
        assert calls == [
            "torchvision.ops.boxes.nms",
            "torchvision.ops.boxes.nms",
            "torch.ops.torchvision.nms",
            "torch.ops.torchvision.nms",
            "torchvision.ops.boxes._box_inter_union",
        ]
        # Restored on leaving the block.
        assert torchvision.ops.nms(BOXES, torch.tensor([0.9, 0.8]), 0.5).tolist() == [0, 1]
        assert student.imported_nms is torchvision.ops.nms
        assert torch.ops.torchvision.nms(BOXES, torch.tensor([0.9, 0.8]), 0.1).tolist() == [0]
        assert torchvision.ops.box_iou(BOXES, BOXES).shape == (2, 2)
    finally:
        del sys.modules[student.__name__]


def test_an_exception_handler_in_student_code_does_not_hide_the_call():
    def student_code():
        try:
            return torchvision.ops.box_iou(BOXES, BOXES)
        except Exception:  # ForbiddenCall is a BaseException: not caught here
            return "swallowed"

    with forbidding(FUNCTIONS, OPERATORS) as calls:
        with pytest.raises(ForbiddenCall):
            student_code()
    assert calls == ["torchvision.ops.boxes.box_iou"]
