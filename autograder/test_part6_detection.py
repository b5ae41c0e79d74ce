"""Part 6: the Mask R-CNN building blocks (``detection.box_iou``, ``nms``, ``roi_align``, ``replace_predictors``).

``box_iou``, ``nms`` and ``roi_align`` are compared with ``torchvision.ops`` on
hand-made cases and on random ones (hypothesis), while torchvision's own
versions of them are patched to raise: the student's code must compute them.
``replace_predictors`` is checked on ``maskrcnn_resnet50_fpn`` built on the
``meta`` device (no weights in memory) and on a small Mask R-CNN that takes a
training step.
"""

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import torchvision
from hypothesis import Phase, assume, given, settings
from hypothesis import strategies as st
from torch import nn
from torchvision.models.detection import MaskRCNN, maskrcnn_resnet50_fpn
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor

from autograder.checks import check_tensor, check_type, fail, kind_of
from autograder.forbidden_calls import ForbiddenCall, forbidden_uses, forbidding

# torchvision's versions of what the student writes, as found in torchvision/ops/*.py: the public functions, the
# pure-PyTorch fallbacks and helpers behind them, the nn.Modules that wrap them, and the compiled operators.
TORCHVISION_FUNCTIONS = {
    "torchvision.ops.boxes": (
        "box_iou", "_box_inter_union", "box_area", "generalized_box_iou", "distance_box_iou", "complete_box_iou",
        "_box_diou_iou", "nms", "batched_nms", "_batched_nms_coordinate_trick", "_batched_nms_vanilla",
    ),
    "torchvision.ops._utils": ("_loss_inter_union", "convert_boxes_to_roi_format"),
    "torchvision.ops.roi_align": ("roi_align", "_roi_align", "_bilinear_interpolate", "RoIAlign"),
    "torchvision.ops.roi_pool": ("roi_pool", "RoIPool"),
    "torchvision.ops.poolers": ("MultiScaleRoIAlign", "_multiscale_roi_align"),
}
TORCHVISION_OPERATORS = {"torchvision": ("nms", "roi_align", "roi_pool")}
# What detection.py may not import or name: torchvision.ops and those functions (box_ops: roi_heads' alias).
FORBIDDEN_NAMES = frozenset(name for names in TORCHVISION_FUNCTIONS.values() for name in names) | {"ops", "box_ops"}

IOU_TOLERANCE = 1e-5  # IoU lies in [0, 1]; float32 rounding in another order of operations stays below 1e-6
ROI_TOLERANCE = 1e-4  # features of size ~1 to 100, averaged: absolute plus relative tolerance
THRESHOLDS = (0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 1.0)  # exact in float32, so IoU == threshold is exact too


# hypothesis runs a fixed list of examples (derandomize) and does not shrink: deterministic and quick.
def property_settings(examples: int):
    return settings(
        max_examples=examples, deadline=None, derandomize=True, database=None, phases=[Phase.explicit, Phase.generate]
    )


# ---------------------------------------------------------------- calling the student's functions


def call(submission, name: str, *args, **kwargs):
    """``detection.<name>(*args, **kwargs)``, with torchvision's own versions patched to raise while it runs."""
    function = submission.get(f"detection.{name}")
    with forbidding(TORCHVISION_FUNCTIONS, TORCHVISION_OPERATORS) as calls:
        try:
            result = function(*args, **kwargs)
        except ForbiddenCall:
            pass  # recorded in calls; reported below, outside the handler
    if calls:
        fail(
            f"detection.{name} to compute its result from tensor operations",
            f"a call to {calls[0]}",
            f"do not call torchvision's {name} (or its helpers) in detection.py: the exercise is to write it; "
            "the autograder compares your result with torchvision's",
        )
    return result


def show(values: torch.Tensor) -> str:
    """A tensor's values for a message, to 4 decimals, whole numbers without ``.0``."""

    def tidy(value):
        if isinstance(value, list):
            return [tidy(item) for item in value]
        value = round(value, 4)
        return int(value) if math.isfinite(value) and value == int(value) else value

    return str(tidy(values.detach().cpu().tolist()))


def close(found: torch.Tensor, expected: torch.Tensor, tolerance: float) -> bool:
    """Same shape, and values within ``tolerance`` absolute plus ``tolerance`` relative (equal infinities and NaNs
    match: a mistake's output can hold them where the student's does)."""
    return found.shape == expected.shape and bool(
        torch.isclose(found.double(), expected.double(), rtol=tolerance, atol=tolerance, equal_nan=True).all()
    )


def likely_mistakes(candidates, matches, otherwise: str) -> str:
    """The messages of the ``(wrong output, message)`` candidates that ``matches``; ``otherwise`` if none does.

    Several matching mistakes (a small example can hide the difference) are all listed.
    """
    found = list(dict.fromkeys(message for wrong, message in candidates if matches(wrong)))
    if not found:
        return otherwise
    if len(found) == 1:
        return found[0]
    return "one of these mistakes: " + "; or ".join(f"({number}) {message}" for number, message in enumerate(found, 1))


def random_boxes(generator: torch.Generator, count: int, low: int, high: int, longest: int, step: float = 0.5):
    """``count`` boxes with corners on a grid of ``step`` in ``[low, high)`` and sides of 1 to ``longest`` steps."""
    corners = torch.randint(int(low / step), int(high / step), (count, 2), generator=generator) * step
    sides = torch.randint(1, int(longest / step) + 1, (count, 2), generator=generator) * step
    return torch.cat([corners, corners + sides], dim=1).float()


def flatten_some(boxes: torch.Tensor, generator: torch.Generator, at_most: int | None = None) -> torch.Tensor:
    """``boxes`` with some of them (about a third, at most ``at_most``) given zero width or zero height."""
    boxes = boxes.clone()
    chosen = torch.nonzero(torch.rand(len(boxes), generator=generator) < 0.35).flatten()[:at_most]
    for index in chosen.tolist():
        axis = int(torch.randint(0, 2, (), generator=generator))
        boxes[index, 2 + axis] = boxes[index, axis]
    return boxes


# ---------------------------------------------------------------- box_iou


def iou_variant(boxes1, boxes2, plus_one=False, subtract=True, clamp=True, over_smaller=False) -> torch.Tensor:
    """IoU computed right, or with one of the usual mistakes (for naming the student's)."""
    extra = 1.0 if plus_one else 0.0
    area1 = (boxes1[:, 2] - boxes1[:, 0] + extra) * (boxes1[:, 3] - boxes1[:, 1] + extra)
    area2 = (boxes2[:, 2] - boxes2[:, 0] + extra) * (boxes2[:, 3] - boxes2[:, 1] + extra)
    sides = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:]) - torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])
    sides = sides + extra
    if clamp:
        sides = sides.clamp(min=0)
    intersection = sides[..., 0] * sides[..., 1]
    if over_smaller:
        return intersection / torch.minimum(area1[:, None], area2[None, :])
    union = area1[:, None] + area2[None, :] - (intersection if subtract else 0)
    return intersection / union


IOU_MISTAKES = (
    (
        dict(plus_one=True),
        "widths and heights computed with + 1 (x2 - x1 + 1), the pixel-counting convention of older detectors: "
        "here coordinates are continuous, a box's width is x2 - x1 and its area (x2 - x1) * (y2 - y1)",
    ),
    (
        dict(subtract=False),
        "the union must subtract the intersection: area1 + area2 - intersection (area1 + area2 counts the "
        "overlap twice)",
    ),
    (
        dict(clamp=False),
        "boxes that do not overlap get a non-zero intersection: clamp the intersection's width and height at 0 "
        "before multiplying them (two negative sides multiply to a positive area)",
    ),
    (dict(over_smaller=True), "divided by the smaller box's area instead of the union's"),
)


def iou_mistake(boxes1, boxes2, found: torch.Tensor) -> str:
    expected = torchvision.ops.box_iou(boxes1, boxes2)
    candidates = [(iou_variant(boxes1, boxes2, **options), mistake) for options, mistake in IOU_MISTAKES]
    return likely_mistakes(
        candidates,
        lambda wrong: close(found, wrong, IOU_TOLERANCE) and not close(wrong, expected, IOU_TOLERANCE),
        "entry [i, j] must be the IoU of boxes1[i] and boxes2[j]: intersection / (area1 + area2 - intersection), "
        "with the intersection's sides clamped at 0 and no + 1",
    )


def check_shape(value, shape: tuple, what: str, likely: str, dtype: torch.dtype | None = None) -> None:
    """Type, shape and dtype of a returned tensor, not its values (``meta`` tensors have none to check)."""
    check_type(value, torch.Tensor, what, likely)
    if tuple(value.shape) != shape:
        fail(f"{what} of shape {shape}", f"shape {tuple(value.shape)}", likely)
    if dtype is not None and value.dtype != dtype:
        fail(f"{what} of dtype {dtype}", f"dtype {value.dtype}", likely)


def check_iou(submission, boxes1: torch.Tensor, boxes2: torch.Tensor) -> None:
    found = call(submission, "box_iou", boxes1, boxes2)
    n, m = len(boxes1), len(boxes2)
    likely = "one row per box of boxes1, one column per box of boxes2, in the boxes' dtype"
    if type(found) is torch.Tensor and tuple(found.shape) == (m, n) and n != m:
        likely = "rows and columns swapped: entry [i, j] is the IoU of boxes1[i] with boxes2[j], an (N, M) tensor"
    # No check for finite values here: the comparison below names the mistakes that divide by zero.
    check_shape(found, (n, m), f"box_iou of {n} and {m} boxes", likely, dtype=boxes1.dtype)
    expected = torchvision.ops.box_iou(boxes1, boxes2)
    if not close(found, expected, IOU_TOLERANCE):
        fail(
            f"box_iou(boxes1, boxes2) = {show(expected)} for boxes1 = {show(boxes1)} and boxes2 = {show(boxes2)}",
            show(found),
            iou_mistake(boxes1, boxes2, found),
        )


@pytest.mark.points(2)
def test_box_iou_known_values(submission):
    # Rows: two overlapping squares, a square holding a smaller one, a square far from the rest.
    boxes1 = torch.tensor([[0.0, 0, 2, 2], [0, 0, 4, 4], [10, 10, 12, 12]])
    # Columns: overlapping, identical, touching along an edge, nested, and a flat box (zero height).
    boxes2 = torch.tensor([[1.0, 1, 3, 3], [0, 0, 2, 2], [2, 0, 4, 2], [1, 1, 2, 2], [5, 6, 9, 6]])
    check_iou(submission, boxes1, boxes2)


@pytest.mark.points(1)
def test_box_iou_of_empty_box_sets(submission):
    boxes = torch.tensor([[0.0, 0, 2, 2], [1, 1, 3, 3]])
    empty = torch.zeros(0, 4)
    for first, second in ((empty, boxes), (boxes, empty), (empty, empty)):
        found = call(submission, "box_iou", first, second)
        check_tensor(
            found,
            f"box_iou of {len(first)} and {len(second)} boxes",
            shape=(len(first), len(second)),
            dtype=torch.float32,
            likely="with no boxes on one side, return an empty (N, M) tensor: broadcasting handles N = 0 or M = 0 "
            "without a special case",
        )


@pytest.mark.points(2)
def test_box_iou_matches_torchvision(submission):
    check_iou(submission, torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([[0.0, 0, 1, 1]]))  # a TODO fails here

    @property_settings(30)
    @given(
        n=st.integers(0, 6),
        m=st.integers(0, 6),
        flat=st.sampled_from(["none", "boxes1", "boxes2"]),  # zero-area boxes on one side only: never 0 / 0
        seed=st.integers(0, 2**16),
    )
    def check(n, m, flat, seed):
        generator = torch.Generator().manual_seed(seed)
        boxes1 = random_boxes(generator, n, -4, 12, 8)
        boxes2 = random_boxes(generator, m, -4, 12, 8)
        if flat == "boxes1":
            boxes1 = flatten_some(boxes1, generator)
        if flat == "boxes2":
            boxes2 = flatten_some(boxes2, generator)
        check_iou(submission, boxes1, boxes2)

    check()


# ---------------------------------------------------------------- nms


def greedy_nms(boxes, scores, threshold, order, at_threshold=False, suppressed_suppress=False) -> list[int]:
    """Greedy NMS over ``order``: right, or with one of the usual mistakes (for naming the student's)."""
    overlaps = torchvision.ops.box_iou(boxes, boxes)
    overlapping = overlaps >= threshold if at_threshold else overlaps > threshold
    kept, suppressed = [], torch.zeros(len(boxes), dtype=torch.bool)
    for index in order:
        if not suppressed[index]:
            kept.append(index)
        if not suppressed[index] or suppressed_suppress:
            suppressed |= overlapping[index]
    return kept


def nms_mistake(boxes, scores, threshold, found: list[int]) -> str:
    """The likely mistake behind ``found`` for boxes of distinct scores (where NMS has one right answer)."""
    by_score = torch.argsort(scores, descending=True).tolist()
    right = greedy_nms(boxes, scores, threshold, by_score)
    candidates = (
        (
            sorted(right),
            "the kept indices are in index order: return them by decreasing score (sort the boxes by score first, "
            "and return them in the order NMS keeps them)",
        ),
        (
            greedy_nms(boxes, scores, threshold, by_score, at_threshold=True),
            "a box whose IoU with a kept box equals iou_threshold was suppressed: suppress only the boxes whose IoU "
            "is greater than iou_threshold (torchvision's rule), not greater or equal",
        ),
        (
            greedy_nms(boxes, scores, threshold, range(len(boxes))),
            "boxes taken in index order, not by decreasing score: sort by score first "
            "(torch.argsort(scores, descending=True)), so that each step keeps the best box left",
        ),
        (
            greedy_nms(boxes, scores, threshold, by_score[::-1]),
            "boxes taken by increasing score: sort with descending=True, so the best box is kept and those "
            "overlapping it are suppressed",
        ),
        (
            greedy_nms(boxes, scores, threshold, by_score, suppressed_suppress=True),
            "a suppressed box suppressed other boxes: skip the boxes already suppressed; only a kept box suppresses",
        ),
        (
            by_score,
            "boxes that overlap a kept box by more than iou_threshold were kept: a suppressed box must be left out "
            "of the result (and skipped when its turn comes)",
        ),
        (
            [by_score.index(index) for index in right],
            "positions in the score-sorted order were returned: return indices into boxes (order[kept])",
        ),
    )
    return likely_mistakes(
        candidates,
        lambda wrong: found == list(wrong) != right,
        "keep the best box left, suppress the boxes whose IoU with it is > iou_threshold, repeat; return the kept "
        "indices into boxes, best first",
    )


def kept_indices(submission, boxes, scores, threshold) -> list[int]:
    found = call(submission, "nms", boxes, scores, threshold)
    check_tensor(
        found,
        f"nms of {len(boxes)} boxes",
        dtype=torch.int64,
        likely="return the kept indices as a 1-D torch.int64 tensor (torch.tensor(kept, dtype=torch.int64)), "
        "not a boolean mask or a list",
    )
    if found.dim() != 1:
        fail("nms to return a 1-D tensor of indices", f"shape {tuple(found.shape)}", "flatten the kept indices")
    indices = found.tolist()
    if any(not 0 <= index < len(boxes) for index in indices) or len(set(indices)) != len(indices):
        fail(
            f"distinct indices in [0, {len(boxes)}) for {len(boxes)} boxes",
            str(indices),
            "return each kept box's index into boxes once",
        )
    return indices


def describe_nms(boxes, scores, threshold) -> str:
    return f"boxes {show(boxes)} with scores {show(scores)} and iou_threshold {threshold}"


def check_nms(submission, boxes, scores, threshold) -> None:
    """The student's nms equals torchvision's (scores all different: one right answer)."""
    found = kept_indices(submission, boxes, scores, threshold)
    expected = torchvision.ops.nms(boxes, scores, threshold).tolist()
    if found != expected:
        fail(
            f"nms to keep {expected} for {describe_nms(boxes, scores, threshold)}",
            str(found),
            nms_mistake(boxes, scores, threshold, found),
        )


def clustered_boxes(generator: torch.Generator, count: int) -> torch.Tensor:
    """``count`` boxes with whole-number corners around one to three centres, so that many of them overlap."""
    centres = torch.randint(0, 16, (3, 2), generator=generator)[torch.randint(0, 3, (count,), generator=generator)]
    corners = centres + torch.randint(-3, 4, (count, 2), generator=generator)
    sides = torch.randint(2, 9, (count, 2), generator=generator)
    return torch.cat([corners, corners + sides], dim=1).float()


@pytest.mark.points(1)
def test_nms_keeps_the_best_box_of_each_cluster(submission):
    # Two clusters of three overlapping boxes and a box on its own; the scores are in no particular order.
    boxes = torch.tensor(
        [[0.0, 0, 10, 10], [20, 20, 30, 30], [1, 1, 11, 11], [40, 0, 45, 5], [21, 19, 31, 29], [0, 1, 10, 11], [19, 21, 29, 31]]
    )
    scores = torch.tensor([0.6, 0.95, 0.9, 0.3, 0.7, 0.5, 0.8])
    check_nms(submission, boxes, scores, 0.5)


@pytest.mark.points(1)
def test_nms_takes_boxes_by_decreasing_score(submission):
    # Box 0 comes first but scores less than box 1, which overlaps it: box 1 must be kept, box 0 suppressed.
    boxes = torch.tensor([[0.0, 0, 10, 10], [1, 0, 11, 10], [30, 30, 40, 40]])
    check_nms(submission, boxes, torch.tensor([0.2, 0.9, 0.5]), 0.5)


@pytest.mark.points(1)
def test_nms_keeps_a_box_at_exactly_the_threshold(submission):
    # The IoU of these boxes is 1 / 2 exactly (areas 2 and 1, intersection 1); and 1 / 3 for the second pair.
    boxes = torch.tensor([[0.0, 0, 2, 1], [0, 0, 1, 1], [10, 0, 13, 1], [11, 0, 12, 1]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    check_nms(submission, boxes, scores, 0.5)
    check_nms(submission, boxes, scores, 0.25)


@pytest.mark.points(1)
def test_nms_suppressed_box_does_not_suppress_others(submission):
    # A chain: box 0 overlaps box 1, box 1 overlaps box 2, box 0 only touches box 2. Box 1 is suppressed by
    # box 0, so box 2, which only box 1 overlaps, is kept.
    boxes = torch.tensor([[0.0, 0, 10, 10], [5, 0, 15, 10], [10, 0, 20, 10]])
    check_nms(submission, boxes, torch.tensor([0.9, 0.8, 0.7]), 0.25)


@pytest.mark.points(1)
def test_nms_returns_indices_by_decreasing_score(submission):
    boxes = torch.tensor([[0.0, 0, 1, 1], [10, 0, 11, 1], [20, 0, 21, 1], [30, 0, 31, 1], [40, 0, 41, 1]])
    check_nms(submission, boxes, torch.tensor([0.1, 0.9, 0.3, 0.7, 0.5]), 0.5)  # no overlaps: all kept


@pytest.mark.points(1)
def test_nms_of_no_box_and_of_one_box(submission):
    found = kept_indices(submission, torch.zeros(0, 4), torch.zeros(0), 0.5)
    if found:
        fail("nms of no boxes to return an empty tensor", str(found))
    found = kept_indices(submission, torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([0.5]), 0.5)
    if found != [0]:
        fail("nms of one box to keep it: [0]", str(found), "a box is never suppressed by itself")


@pytest.mark.points(2)
def test_nms_matches_torchvision(submission):
    check_nms(submission, torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([1.0]), 0.5)  # a TODO fails here

    @property_settings(40)
    @given(
        count=st.integers(1, 12),  # no box: test_nms_of_no_box_and_of_one_box
        threshold=st.sampled_from(THRESHOLDS),
        flat=st.booleans(),  # one box of zero area (two would have an IoU of 0 / 0)
        seed=st.integers(0, 2**16),
    )
    def check(count, threshold, flat, seed):
        generator = torch.Generator().manual_seed(seed)
        boxes = clustered_boxes(generator, count)
        if flat:
            boxes = flatten_some(boxes, generator, at_most=1)
        scores = (torch.randperm(count, generator=generator).float() + 1) / (count + 1)  # all different
        check_nms(submission, boxes, scores, threshold)

    check()


def left_out_mistake(box: int, kept: list[int], overlaps: torch.Tensor, scores: torch.Tensor, threshold: float) -> str:
    """Why ``box`` may have been left out although no kept box of at least its score overlaps it enough."""
    if any(overlaps[box, k] == threshold for k in kept):
        return (
            f"its IoU with a kept box equals iou_threshold ({threshold}): suppress only the boxes whose IoU is "
            "greater than iou_threshold (torchvision's rule), not greater or equal"
        )
    if any(overlaps[box, k] > threshold and scores[k] < scores[box] for k in kept):
        return "a box of lower score suppressed it: take the boxes by decreasing score (torch.argsort(scores, descending=True))"
    if any(overlaps[box, other] > threshold for other in range(len(scores)) if other != box and other not in kept):
        return "a suppressed box suppressed it: skip the boxes already suppressed; only a kept box suppresses"
    return "keep the best box left, suppress the boxes whose IoU with it is > iou_threshold, repeat"


@pytest.mark.points(2)
def test_nms_with_tied_scores(submission):
    kept_indices(submission, torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([1.0]), 0.5)  # a TODO fails here

    # With ties, NMS may take equal scores in either order, so there may be several right answers (torchvision
    # itself does not promise one). An answer is right if some order of the tied boxes gives it, that is, if
    # the kept boxes are sorted by score, no two of them overlap by more than the threshold, and every other
    # box overlaps by more than the threshold a kept box of at least its score.
    @property_settings(40)
    @given(count=st.integers(2, 10), threshold=st.sampled_from(THRESHOLDS), seed=st.integers(0, 2**16))
    def check(count, threshold, seed):
        generator = torch.Generator().manual_seed(seed)
        boxes = clustered_boxes(generator, count)
        scores = torch.randint(1, 4, (count,), generator=generator).float() / 4
        found = kept_indices(submission, boxes, scores, threshold)
        overlapping = torchvision.ops.box_iou(boxes, boxes) > threshold
        situation = describe_nms(boxes, scores, threshold)
        kept_scores = scores[found].tolist()
        if kept_scores != sorted(kept_scores, reverse=True):
            fail(f"the kept indices sorted by decreasing score for {situation}", str(found),
                 "take the boxes by decreasing score (torch.argsort(scores, descending=True)) and return the kept "
                 "ones in the order NMS keeps them, best first")
        for a in found:
            for b in found:
                if a != b and overlapping[a, b]:
                    fail(
                        f"no two kept boxes with IoU > {threshold} for {situation}",
                        f"kept {found}, with boxes {a} and {b} overlapping that much",
                        "suppress every box whose IoU with a kept box is > iou_threshold",
                    )
        overlaps = torchvision.ops.box_iou(boxes, boxes)
        for box in sorted(set(range(count)) - set(found)):
            if not any(overlapping[box, k] and scores[k] >= scores[box] for k in found):
                fail(
                    f"each box left out to overlap, by IoU > {threshold}, a kept box of at least its score, for "
                    f"{situation}",
                    f"kept {found}: box {box} overlaps none of them that much",
                    left_out_mistake(box, found, overlaps, scores, threshold),
                )

    check()


# ---------------------------------------------------------------- roi_align


def ramp(images: int = 1, channels: int = 1, height: int = 8, width: int = 8) -> torch.Tensor:
    """Feature maps whose value at cell ``(r, c)`` is ``10 r + c`` (plus 100 per channel and 1000 per image).

    Bilinear interpolation of a linear function is exact: RoIAlign of a ramp is
    the ramp at the mean of each bin's sampling points, which a message can show.
    """
    rows = torch.arange(height, dtype=torch.float32)[:, None] * 10
    columns = torch.arange(width, dtype=torch.float32)[None, :]
    offsets = torch.arange(images)[:, None] * 1000 + torch.arange(channels)[None, :] * 100
    return (rows + columns) + offsets[:, :, None, None].float()


def random_features(seed: int, images: int, channels: int, height: int, width: int) -> torch.Tensor:
    return torch.randn(images, channels, height, width, generator=torch.Generator().manual_seed(seed))


def as_rois(boxes) -> torch.Tensor:
    """A list of per-image boxes as one ``(K, 5)`` tensor with image indices (torchvision's own format)."""
    if isinstance(boxes, torch.Tensor):
        return boxes
    return torch.cat([torch.cat([torch.full((len(b), 1), float(i)), b], dim=1) for i, b in enumerate(boxes)])


def pair(output_size) -> tuple[int, int]:
    return (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)


def sampling_points(rois, length: int, bins: int, spatial_scale, sampling_ratio, aligned, axis: int):
    """Every box's sampling coordinates along one axis (0: x, 1: y), as the docstring's steps 1-3 put them."""
    points = []
    for box in rois.double().tolist():
        start, end = box[1 + axis] * spatial_scale, box[3 + axis] * spatial_scale
        if aligned:
            start, end = start - 0.5, end - 0.5
        size = end - start if aligned else max(end - start, 1.0)
        grid = sampling_ratio if sampling_ratio > 0 else math.ceil(size / bins)
        points += [start + (i + (j + 0.5) / grid) * size / bins for i in range(bins) for j in range(grid)]
    return points


def near_an_edge(features, rois, output_size, spatial_scale, sampling_ratio, aligned) -> bool:
    """Whether a sampling point lies within 1e-3 of -1, H or W, where it goes from counted to 0.

    There, rounding errors of a different (correct) order of operations could
    flip a point in or out: random examples with such points are skipped.
    """
    height, width = features.shape[-2:]
    out_h, out_w = pair(output_size)
    ys = sampling_points(rois, height, out_h, spatial_scale, sampling_ratio, aligned, axis=1)
    xs = sampling_points(rois, width, out_w, spatial_scale, sampling_ratio, aligned, axis=0)
    return any(abs(y + 1) < 1e-3 or abs(y - height) < 1e-3 for y in ys) or any(
        abs(x + 1) < 1e-3 or abs(x - width) < 1e-3 for x in xs
    )


def roi_align_candidates(features, rois, output_size, spatial_scale, sampling_ratio, aligned):
    """``(output, mistake)`` for the usual mistakes, each computed with torchvision on changed inputs."""
    align = torchvision.ops.roi_align
    coordinates, index = rois[:, 1:], rois[:, :1]
    offset = 0.5 if aligned else 0.0
    shift = 0.5 / spatial_scale  # half a feature-map cell, in image coordinates
    rounded = (
        "the box coordinates were rounded to whole feature-map cells, as RoIPool does: RoIAlign keeps them "
        "real-valued (x1 * spatial_scale - offset, no round, floor or int) and interpolates"
    )
    yield align(features, torch.cat([index, (coordinates * spatial_scale).round()], 1), output_size, 1.0, sampling_ratio, aligned), rounded
    yield align(features, torch.cat([index, (coordinates * spatial_scale - offset).round() + offset], 1), output_size, 1.0, sampling_ratio, aligned), rounded
    if spatial_scale != 1:
        yield align(features, rois, output_size, 1.0, sampling_ratio, aligned), (
            f"spatial_scale ({spatial_scale}) was not applied: the boxes are in image coordinates; multiply them "
            "by spatial_scale to get feature-map coordinates"
        )
    if aligned:
        yield align(features, torch.cat([index, coordinates + shift], 1), output_size, spatial_scale, sampling_ratio, True), (
            "the half-pixel offset is missing: with aligned=True, subtract 0.5 from every coordinate after "
            "scaling (x1 * spatial_scale - 0.5)"
        )
        yield align(features, torch.cat([index, coordinates - shift], 1), output_size, spatial_scale, sampling_ratio, True), (
            "the half-pixel offset has the wrong sign: with aligned=True, subtract 0.5 (x1 * spatial_scale - 0.5)"
        )
        yield align(features, torch.cat([index, coordinates], 1), output_size, spatial_scale, sampling_ratio, False), (
            "aligned=True was ignored: shift by half a cell (- 0.5 after scaling), and do not stretch small boxes "
            "to one cell (that is the legacy aligned=False)"
        )
    else:
        yield align(features, torch.cat([index, coordinates - shift], 1), output_size, spatial_scale, sampling_ratio, False), (
            "the half-pixel offset was applied with aligned=False: subtract 0.5 only when aligned=True"
        )
        yield align(features, torch.cat([index, coordinates + shift], 1), output_size, spatial_scale, sampling_ratio, True), (
            "with aligned=False, a box's width and height are at least 1 cell (max(width, 1)): the legacy "
            "RoIAlign stretches smaller boxes"
        )
    if sampling_ratio <= 0:
        for fixed in (1, 2, 4):
            yield align(features, rois, output_size, spatial_scale, fixed, aligned), (
                f"a fixed number of sampling points per bin ({fixed} x {fixed}?) where sampling_ratio <= 0 asks "
                "for an adaptive number: ceil(box_height / output_height) along y, ceil(box_width / output_width) "
                "along x, for each box"
            )
    else:
        yield align(features, rois, output_size, spatial_scale, -1, aligned), (
            f"sampling_ratio = {sampling_ratio} was ignored: use exactly sampling_ratio x sampling_ratio points per "
            "bin when it is > 0"
        )
    if bool((index != 0).any()):
        yield align(features, torch.cat([torch.zeros_like(index), coordinates], 1), output_size, spatial_scale, sampling_ratio, aligned), (
            "every box was cut from image 0: take each box from its own image, features[image index] (the first "
            "column of a (K, 5) tensor, or the box's position in the list)"
        )
    out_h, out_w = pair(output_size)
    swapped = align(features.transpose(2, 3), rois[:, [0, 2, 1, 4, 3]], (out_w, out_h), spatial_scale, sampling_ratio, aligned)
    yield swapped.transpose(2, 3), "x and y swapped: x (x1, x2) runs along the width, the last dimension; y along the height"
    margin = 8  # zero cells around the map: points outside it then interpolate towards 0 instead of the border
    padded = F.pad(features, (margin, margin, margin, margin))
    yield align(padded, torch.cat([index, coordinates + margin / spatial_scale], 1), output_size, spatial_scale, sampling_ratio, aligned), (
        "points outside the feature map were read as 0 (zero padding): a point within one cell of the map "
        "(-1 <= y <= H, -1 <= x <= W) is first clamped onto it and takes the border's value"
    )


STEPS = (
    "follow the docstring's steps 1-5: box coordinates times spatial_scale (minus 0.5 if aligned), bins of equal "
    "size, a grid of sampling points at the centres of equal sub-cells of each bin, bilinear interpolation "
    "(points more than one cell outside the map are 0, the others clamped onto it), the average over each bin"
)
OUTSIDE_RULES = (
    "the rules for points outside the feature map (steps 4 and 5): a point more than one cell outside "
    "(y < -1 or y > H, x < -1 or x > W) has value 0; any other point is clamped onto the map (y to [0, H - 1], "
    "x to [0, W - 1]) and takes the border's values; every point, outside or not, counts in the bin's average"
)


def roi_align_mistake(features, boxes, output_size, spatial_scale, sampling_ratio, aligned, found, otherwise=STEPS) -> str:
    """The usual mistakes that give ``found``, else ``otherwise``."""
    rois = as_rois(boxes)
    expected = torchvision.ops.roi_align(features, rois, output_size, spatial_scale, sampling_ratio, aligned)
    return likely_mistakes(
        roi_align_candidates(features, rois, output_size, spatial_scale, sampling_ratio, aligned),
        lambda wrong: close(found, wrong, ROI_TOLERANCE) and not close(wrong, expected, ROI_TOLERANCE),
        otherwise,
    )


def check_roi_align(
    submission, features, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False, otherwise=STEPS
):
    """The student's roi_align equals torchvision's (a message names the likely mistake, else ``otherwise``);
    returns the student's output."""
    found = call(submission, "roi_align", features, boxes, output_size, spatial_scale, sampling_ratio, aligned)
    expected = torchvision.ops.roi_align(features.detach(), boxes, output_size, spatial_scale, sampling_ratio, aligned)
    arguments = (
        f"output_size={output_size}, spatial_scale={spatial_scale}, sampling_ratio={sampling_ratio}, "
        f"aligned={aligned}"
    )
    form = "a list of per-image box tensors" if isinstance(boxes, list) else f"a ({len(boxes)}, 5) tensor"
    situation = (
        f"features of shape {tuple(features.shape)}, boxes as {form} {show(as_rois(boxes))} (rows: image, x1, y1, "
        f"x2, y2), {arguments}"
    )
    check_tensor(
        found,
        f"roi_align's output for {situation}",
        shape=tuple(expected.shape),
        dtype=features.dtype,
        likely="one (C, output_height, output_width) grid per box, stacked: (K, C, output_height, output_width); "
        "output_size may be an int (a square) or a (height, width) pair; a bin with no sampling point is 0 "
        "(divide by max(points, 1))",
    )
    if not close(found, expected, ROI_TOLERANCE):
        difference = (found - expected).abs()
        box = int(difference.flatten(1).amax(1).argmax())
        fail(
            f"roi_align to equal torchvision.ops.roi_align for {situation}; for box {box}, channel 0: {show(expected[box, 0])}",
            f"{show(found[box, 0])} (differences up to {difference.max().item():.4g})",
            roi_align_mistake(features, boxes, output_size, spatial_scale, sampling_ratio, aligned, found, otherwise),
        )
    return found


@pytest.mark.points(1)
def test_roi_align_output_shape(submission):
    features = ramp(images=2, channels=3)
    boxes = torch.tensor([[0.0, 1, 1, 5, 6], [1, 0, 0, 7, 7], [0, 2.5, 3.5, 4.5, 6.5]])
    check_roi_align(submission, features, boxes, 2)
    check_roi_align(submission, features, boxes, (2, 3))
    check_roi_align(submission, features, boxes[:0], (2, 3))  # no box: an empty (0, C, 2, 3) tensor


@pytest.mark.points(1)
def test_roi_align_does_not_round_box_coordinates(submission):
    # Box corners between cells: RoIPool would round them to whole cells, RoIAlign keeps them.
    features = ramp()
    boxes = torch.tensor([[0.0, 1.25, 2.5, 5.75, 6.25], [0, 0.4, 0.3, 3.6, 2.8]])
    check_roi_align(submission, features, boxes, 2, sampling_ratio=2)


@pytest.mark.points(1)
def test_roi_align_uses_spatial_scale(submission):
    # Boxes in the coordinates of an image 4 (then 2) times larger than the feature map.
    features = ramp()
    boxes = torch.tensor([[0.0, 4, 6, 20, 26], [0, 10, 2, 30, 14]])
    check_roi_align(submission, features, boxes, 2, spatial_scale=0.25, sampling_ratio=2)
    check_roi_align(submission, features, boxes / 2, 2, spatial_scale=0.5, sampling_ratio=2)


@pytest.mark.points(1)
def test_roi_align_half_pixel_offset_when_aligned(submission):
    features = ramp()
    boxes = torch.tensor([[0.0, 1, 1, 5, 4], [0, 2.25, 0.5, 6.75, 6.5]])
    check_roi_align(submission, features, boxes, 2, sampling_ratio=2, aligned=True)
    check_roi_align(submission, features, boxes, 2, sampling_ratio=2, aligned=False)


@pytest.mark.points(1)
def test_roi_align_sampling_points_per_bin(submission):
    # Random features (on a ramp, any number of points averages to the same value); boxes with adaptive grids
    # of 5 x 5 and 1 x 3 points per bin.
    features = random_features(0, 1, 2, 10, 10)
    boxes = torch.tensor([[0.0, 0.5, 1.25, 8.75, 9.5], [0, 2, 2, 3, 7]])
    for sampling_ratio in (-1, 0, 1, 3):
        check_roi_align(submission, features, boxes, 2, sampling_ratio=sampling_ratio)
    check_roi_align(submission, features, boxes, (3, 2), sampling_ratio=-1, aligned=True)


@pytest.mark.points(1)
def test_roi_align_boxes_partly_outside_the_feature_map(submission):
    # Boxes across each border of a 6 x 6 map, with sampling points more than one cell outside (value 0),
    # within one cell of the border (clamped onto it) and inside.
    features = random_features(1, 1, 2, 6, 6)
    boxes = torch.tensor([[0.0, -3, -2.5, 2.5, 3], [0, 3.5, 4, 8.25, 7.5], [0, -1.5, 2, 1, 4]])
    for aligned in (False, True):
        check_roi_align(submission, features, boxes, 3, sampling_ratio=2, aligned=aligned, otherwise=OUTSIDE_RULES)


@pytest.mark.points(1)
def test_roi_align_boxes_on_several_images(submission):
    features = random_features(2, 3, 2, 6, 6)
    boxes = torch.tensor([[2.0, 0.5, 1, 4.5, 5], [0, 1, 0.5, 5, 3.5], [1, 0.5, 1, 4.5, 5], [2, 2, 2, 3, 3]])
    check_roi_align(submission, features, boxes, 2, sampling_ratio=2)


@pytest.mark.points(1)
def test_roi_align_accepts_a_list_of_boxes_per_image(submission):
    features = random_features(3, 3, 2, 6, 6)
    boxes = [torch.tensor([[0.5, 1, 4.5, 5], [1, 0.5, 5, 3.5]]), torch.zeros(0, 4), torch.tensor([[2.0, 2, 3, 3]])]
    check_roi_align(submission, features, boxes, 2, sampling_ratio=2)


@pytest.mark.points(1)
def test_roi_align_gradient_reaches_the_features(submission):
    features = random_features(4, 2, 2, 6, 6).requires_grad_()
    boxes = torch.tensor([[0.0, 0.5, 1, 4.5, 5], [1, -1, 0.5, 5, 3.5]])
    found = check_roi_align(submission, features, boxes, 2, sampling_ratio=2, aligned=True)  # right values first
    if found.grad_fn is None:
        fail(
            "roi_align's output to be differentiable with respect to the features (Mask R-CNN trains through it)",
            "an output with no gradient (no grad_fn)",
            "the computation left autograd: build the output from the features with tensor operations, not "
            "through .item(), .tolist(), .numpy(), torch.tensor(...) of values, .detach() or torch.no_grad()",
        )
    weights = torch.randn(found.shape, generator=torch.Generator().manual_seed(5))
    (found * weights).sum().backward()
    reference = features.detach().clone().requires_grad_()
    (torchvision.ops.roi_align(reference, boxes, 2, 1.0, 2, True) * weights).sum().backward()
    if features.grad is None or not close(features.grad, reference.grad, ROI_TOLERANCE):
        fail(
            "the gradient with respect to the features to equal torchvision.ops.roi_align's",
            "no gradient" if features.grad is None else f"a gradient that differs by up to "
            f"{(features.grad - reference.grad).abs().max().item():.4g}",
            "a part of the computation was detached from the features (.detach(), .item(), torch.no_grad(), or "
            "values copied into a new tensor): each output must be a weighted sum of feature cells, computed with "
            "tensor operations on the features",
        )


@pytest.mark.points(3)
def test_roi_align_matches_torchvision(submission):
    check_roi_align(submission, ramp(), torch.tensor([[0.0, 1, 1, 5, 5]]), 2)  # a TODO fails here

    @property_settings(50)
    @given(
        images=st.integers(1, 3),
        channels=st.integers(1, 3),
        height=st.integers(1, 10),
        width=st.integers(1, 10),
        count=st.integers(1, 6),  # no box: test_roi_align_output_shape
        output_size=st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4))),
        spatial_scale=st.sampled_from([1.0, 0.5, 0.25]),
        sampling_ratio=st.sampled_from([-1, 0, 1, 2, 3]),
        aligned=st.booleans(),
        as_list=st.booleans(),
        seed=st.integers(0, 2**16),
    )
    def check(images, channels, height, width, count, output_size, spatial_scale, sampling_ratio, aligned, as_list, seed):
        generator = torch.Generator().manual_seed(seed)
        features = torch.randn(images, channels, height, width, generator=generator)
        # Corners on a grid of quarter cells (exact in float32), from 2 cells before the map to 1 after it;
        # some boxes of zero width or height.
        corners = torch.randint(-8, 4 * max(height, width) + 4, (count, 2), generator=generator) / 4
        sides = torch.randint(1, 4 * max(height, width) + 8, (count, 2), generator=generator) / 4
        in_map = flatten_some(torch.cat([corners, corners + sides], dim=1), generator)
        index = torch.randint(0, images, (count, 1), generator=generator).float()
        rois = torch.cat([index, in_map / spatial_scale], dim=1)
        assume(not near_an_edge(features, rois, output_size, spatial_scale, sampling_ratio, aligned))
        boxes = [rois[rois[:, 0] == i, 1:] for i in range(images)] if as_list else rois
        check_roi_align(submission, features, boxes, output_size, spatial_scale, sampling_ratio, aligned)

    check()


@pytest.mark.points(1)
def test_detection_does_not_use_torchvision_ops(submission):
    # Each function first, so that a TODO fails here as "not implemented yet".
    boxes = torch.tensor([[0.0, 0, 2, 2], [1, 1, 3, 3]])
    call(submission, "box_iou", boxes, boxes)
    call(submission, "nms", boxes, torch.tensor([0.9, 0.8]), 0.5)
    call(submission, "roi_align", ramp(), torch.tensor([[0.0, 1, 1, 5, 5]]), 2)
    source = Path(submission.module("detection").__file__).read_text()
    uses = forbidden_uses(source, ("torchvision.ops",), FORBIDDEN_NAMES)
    if uses:
        fail(
            "detection.py to compute box_iou, nms and roi_align from tensor operations, without torchvision.ops",
            "; ".join(uses),
            "remove these imports and uses of torchvision.ops (and of its box_iou, nms, roi_align, roi_pool): the "
            "autograder compares your functions with them",
        )


# ---------------------------------------------------------------- replace_predictors


def small_mask_rcnn() -> MaskRCNN:
    """A Mask R-CNN small enough to train on a CPU in a second, built as torchvision's fine-tuning tutorial builds
    one on a new backbone: 16-channel features at 1/4 scale, a box head of 32 features, a mask head of 16 channels
    (so sizes read from the predictors differ from ``maskrcnn_resnet50_fpn``'s 1024 and 256)."""
    torch.manual_seed(0)
    backbone = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU()
    )
    backbone.out_channels = 16
    return MaskRCNN(
        backbone,
        num_classes=None,  # the predictors below say how many classes
        min_size=64,
        max_size=64,
        rpn_anchor_generator=AnchorGenerator(sizes=((8, 16, 32),), aspect_ratios=((0.5, 1.0, 2.0),)),
        rpn_pre_nms_top_n_train=64,
        rpn_post_nms_top_n_train=32,
        rpn_pre_nms_top_n_test=64,
        rpn_post_nms_top_n_test=32,
        rpn_batch_size_per_image=32,
        box_batch_size_per_image=16,
        box_score_thresh=0.0,  # keep every detection, so that inference runs the mask predictor on each class
        box_roi_pool=torchvision.ops.MultiScaleRoIAlign(["0"], output_size=7, sampling_ratio=2),
        box_head=TwoMLPHead(16 * 7 * 7, 32),
        box_predictor=FastRCNNPredictor(32, 2),
        mask_roi_pool=torchvision.ops.MultiScaleRoIAlign(["0"], output_size=14, sampling_ratio=2),
        mask_head=MaskRCNNHeads(16, (16, 16), 1),
        mask_predictor=MaskRCNNPredictor(16, 16, 2),
    )


def replaced(submission, model: nn.Module, num_classes: int) -> nn.Module:
    """``replace_predictors(model, num_classes)``, checked to return the model it was given."""
    result = submission.get("detection.replace_predictors")(model, num_classes)
    if result is not model:
        fail(
            "replace_predictors(model, num_classes) to return the model it was given, changed in place",
            "None" if result is None else f"a different object ({kind_of(result)})",
            "end with return model" if result is None else "replace model.roi_heads.box_predictor and "
            "mask_predictor on the model passed in (a new model would lose its trained backbone and heads)",
        )
    return result


def predictor_outputs(predictor, inputs: torch.Tensor, which: str, hard_coded: str):
    """``predictor(inputs)``, failing with a message if the predictor does not take the head's output size."""
    error = None
    try:
        outputs = predictor(inputs)
    except RuntimeError as raised:  # shape mismatch inside the predictor's first layer
        error = raised
    if error is not None:
        fail(
            f"the new {which} to take the {which.split()[0]} head's output, of shape {tuple(inputs.shape)}",
            f"RuntimeError: {error}",
            f"read the input size from the old predictor ({hard_coded}) instead of hard-coding "
            "maskrcnn_resnet50_fpn's: other Mask R-CNNs have other head sizes",
        )
    return outputs




def check_box_predictor(model: nn.Module, num_classes: int, features: int, device) -> None:
    inputs = torch.zeros(2, features, device=device)
    outputs = predictor_outputs(
        model.roi_heads.box_predictor, inputs, "box predictor", "model.roi_heads.box_predictor.cls_score.in_features"
    )
    if not isinstance(outputs, tuple) or len(outputs) != 2:
        fail("the box predictor to return (class scores, box regressions)", kind_of(outputs),
             "use FastRCNNPredictor(in_features, num_classes)")
    scores, regressions = outputs
    found = scores.shape[-1] if isinstance(scores, torch.Tensor) and scores.dim() == 2 else None
    if found == 91:
        likely = "the box predictor was not replaced: model.roi_heads.box_predictor = FastRCNNPredictor(in_features, num_classes)"
    elif found == num_classes + 1:
        likely = "num_classes already includes the background (class 0): FastRCNNPredictor(in_features, num_classes)"
    else:
        likely = "FastRCNNPredictor(in_features, num_classes): one score per class, background included"
    check_shape(scores, (2, num_classes), f"class scores for 2 regions with num_classes={num_classes}", likely)
    check_shape(
        regressions,
        (2, 4 * num_classes),
        f"box regressions for 2 regions with num_classes={num_classes} (4 per class)",
        "FastRCNNPredictor(in_features, num_classes) predicts one box (4 numbers) per class",
    )


def check_mask_predictor(model: nn.Module, num_classes: int, channels: int, device) -> None:
    inputs = torch.zeros(2, channels, 14, 14, device=device)
    logits = predictor_outputs(
        model.roi_heads.mask_predictor, inputs, "mask predictor", "model.roi_heads.mask_predictor.conv5_mask.in_channels"
    )
    found = logits.shape[1] if isinstance(logits, torch.Tensor) and logits.dim() == 4 else None
    if found == 91:
        likely = (
            "the mask predictor was not replaced (only the box predictor was?): model.roi_heads.mask_predictor = "
            "MaskRCNNPredictor(in_channels, hidden_channels, num_classes)"
        )
    elif found == num_classes + 1:
        likely = "num_classes already includes the background (class 0): MaskRCNNPredictor(..., num_classes)"
    else:
        likely = "MaskRCNNPredictor(in_channels, hidden_channels, num_classes): one 28 x 28 mask per class"
    check_shape(logits, (2, num_classes, 28, 28), f"mask logits for 2 regions with num_classes={num_classes}", likely)


@pytest.mark.points(1)
def test_replace_predictors_box_predictor_of_maskrcnn_resnet50_fpn(submission):
    # Built on the meta device: shapes without 170 MB of weights. The new predictors are created there too.
    with torch.device("meta"):
        model = maskrcnn_resnet50_fpn(weights=None, weights_backbone=None)
        replaced(submission, model, 3)
        check_box_predictor(model, 3, 1024, "meta")


@pytest.mark.points(1)
def test_replace_predictors_mask_predictor_of_maskrcnn_resnet50_fpn(submission):
    with torch.device("meta"):
        model = maskrcnn_resnet50_fpn(weights=None, weights_backbone=None)
        replaced(submission, model, 3)
        check_mask_predictor(model, 3, 256, "meta")


@pytest.mark.points(1)
def test_replace_predictors_keeps_the_rest_of_the_model(submission):
    model = small_mask_rcnn()
    predictors = {model.roi_heads.box_predictor, model.roi_heads.mask_predictor}
    before = {name: value.clone() for name, value in model.state_dict().items() if "predictor" not in name}
    modules = {name: module for name, module in model.named_modules() if "predictor" not in name}
    replaced(submission, model, 4)
    if {model.roi_heads.box_predictor, model.roi_heads.mask_predictor} & predictors:
        fail("new box and mask predictors", "an old predictor still in place",
             "assign new predictors to model.roi_heads.box_predictor and model.roi_heads.mask_predictor")
    now = dict(model.named_modules())
    for name, module in modules.items():
        if now.get(name) is not module:
            fail(f"model.{name or 'model'} unchanged", "a replaced module",
                 "replace only the two predictors: the backbone, the region proposal network and the heads keep "
                 "what they learnt")
    after = model.state_dict()
    for name, value in before.items():
        if name not in after or not torch.equal(after[name], value):
            fail(f"{name} unchanged", "changed or missing", "replace only the two predictors; change no other weight")


@pytest.mark.points(2)
def test_replace_predictors_small_mask_rcnn_takes_a_training_step(submission):
    model = small_mask_rcnn()
    replaced(submission, model, 4)
    check_box_predictor(model, 4, 32, "cpu")
    check_mask_predictor(model, 4, 16, "cpu")
    # One 64 x 64 image with one object of class 3 (the last of num_classes = 4), its box and its mask.
    image = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(0))
    mask = torch.zeros(1, 64, 64, dtype=torch.uint8)
    mask[0, 16:40, 16:48] = 1
    target = {"boxes": torch.tensor([[16.0, 16, 48, 40]]), "labels": torch.tensor([3]), "masks": mask}
    new_parameters = {
        f"roi_heads.{name}.{p}": parameter
        for name in ("box_predictor", "mask_predictor")
        for p, parameter in getattr(model.roi_heads, name).named_parameters()
    }
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    losses = model([image], [target])
    for name, loss in losses.items():
        check_tensor(loss, f"the training loss {name} of the small Mask R-CNN", shape=())
    sum(losses.values()).backward()
    for name, parameter in new_parameters.items():
        if not parameter.requires_grad or parameter.grad is None or not torch.isfinite(parameter.grad).all():
            fail(f"a finite gradient for {name}", "none", "the new predictors must be trainable (requires_grad)")
    for name in ("box_predictor", "mask_predictor"):
        if all(p.grad.abs().sum() == 0 for n, p in new_parameters.items() if n.startswith(f"roi_heads.{name}.")):
            fail(f"a non-zero gradient in the new {name}", "zero gradients everywhere",
                 f"the model does not use the new {name}: assign it to model.roi_heads.{name}")
    optimizer.step()
    model.eval()
    with torch.no_grad():
        detections = model([image])[0]
    count = len(detections["boxes"])
    check_shape(detections["masks"], (count, 1, 64, 64), "the masks of the detections after the training step",
                "the box and mask predictors must both be built for num_classes")
