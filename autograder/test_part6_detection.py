"""Part 6: the Mask R-CNN building blocks (``detection.box_iou``, ``nms``, ``roi_align``, ``replace_predictors``).

``box_iou``, ``nms`` and ``roi_align`` run on hand-made inputs and must give
the outputs recorded in ``autograder/recorded/part6_detection.json`` (those
of ``torchvision.ops``), while torchvision's own versions are patched to
raise: your code must compute them. Where your output is one that a common
mistake gives on the same inputs (also recorded), the message names that
mistake. The NMS tests give your ``nms`` the recorded IoU of their boxes in
place of your ``box_iou``, so that a mistake in ``box_iou`` costs the
``box_iou`` tests only. More tests, on random inputs, are graded on
Gradescope only.
``replace_predictors`` is checked on ``maskrcnn_resnet50_fpn`` built on the
``meta`` device (no weights in memory) and on a small Mask R-CNN that takes a
training step.
"""

import contextlib
import math
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models.detection import MaskRCNN, maskrcnn_resnet50_fpn
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor

from autograder.checks import check_tensor, check_type, fail, kind_of
from autograder.forbidden_calls import ForbiddenCall, forbidden_uses, forbidding
from autograder.recorded import load, recorded_mistake

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

RECORDED = load("part6_detection")  # written from the solution by scripts/record_expectations.py


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


def show(values) -> str:
    """A tensor's values (or a list of tensors') for a message, to 4 decimals, whole numbers without ``.0``."""
    if isinstance(values, list):
        return "[" + ", ".join(show(item) for item in values) + "]"

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
        torch.isclose(found.detach().double(), expected.double(), rtol=tolerance, atol=tolerance, equal_nan=True).all()
    )


def check_shape(value, shape: tuple, what: str, likely: str, dtype: torch.dtype | None = None) -> None:
    """Type, shape and dtype of a returned tensor, not its values (``meta`` tensors have none to check)."""
    check_type(value, torch.Tensor, what, likely)
    if tuple(value.shape) != shape:
        fail(f"{what} of shape {shape}", f"shape {tuple(value.shape)}", likely)
    if dtype is not None and value.dtype != dtype:
        fail(f"{what} of dtype {dtype}", f"dtype {value.dtype}", likely)


# ---------------------------------------------------------------- box_iou


DTYPE_OF_BOXES = (
    "the IoU must have the boxes' dtype (float64 boxes give a float64 IoU): compute it from the boxes with "
    "tensor operations, without .float() or new tensors of the default dtype (torch.zeros(...) without dtype=)"
)


def check_iou(submission, case: dict) -> None:
    """The student's box_iou on a recorded case gives the recorded IoU (a message names a recorded mistake)."""
    boxes1, boxes2, expected = case["boxes1"], case["boxes2"], case["expected"]
    found = call(submission, "box_iou", boxes1.clone(), boxes2.clone())
    n, m = len(boxes1), len(boxes2)
    likely = "one row per box of boxes1, one column per box of boxes2, in the boxes' dtype"
    if type(found) is torch.Tensor and tuple(found.shape) == (m, n) and n != m:
        likely = "rows and columns swapped: entry [i, j] is the IoU of boxes1[i] with boxes2[j], an (N, M) tensor"
    elif type(found) is torch.Tensor and tuple(found.shape) == (n, m):
        likely = DTYPE_OF_BOXES
    # No check for finite values here: the comparison below names the mistakes that divide by zero.
    check_shape(found, (n, m), f"box_iou of {n} and {m} boxes", likely, dtype=boxes1.dtype)
    if not close(found, expected, IOU_TOLERANCE):
        fail(
            f"box_iou(boxes1, boxes2) = {show(expected)} for boxes1 = {show(boxes1)} and boxes2 = {show(boxes2)}",
            show(found),
            recorded_mistake(found, case["fingerprints"], lambda a, b: close(a, b, IOU_TOLERANCE))
            or "entry [i, j] must be the IoU of boxes1[i] and boxes2[j]: the area of their intersection over the "
            "area of their union (see the docstring)",
        )


@pytest.mark.points(2)
def test_box_iou_known_values(submission):
    # Rows: two overlapping squares, a square holding a smaller one, a square far from the rest.
    # Columns: overlapping, identical, touching along an edge, nested, and a flat box (zero height).
    for case in RECORDED["box_iou"]["known_values"]:
        check_iou(submission, case)


@pytest.mark.points(1)
def test_box_iou_keeps_the_boxes_dtype(submission):
    # The known values' boxes in float64 (shifted by 0.1, which float32 cannot hold exactly); then no box.
    for case in RECORDED["box_iou"]["float64"]:
        check_iou(submission, case)
    boxes = RECORDED["box_iou"]["float64"][0]["boxes2"]
    found = call(submission, "box_iou", torch.zeros(0, 4, dtype=torch.float64), boxes.clone())
    check_shape(found, (0, len(boxes)), f"box_iou of 0 and {len(boxes)} float64 boxes", DTYPE_OF_BOXES,
                dtype=torch.float64)


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


# ---------------------------------------------------------------- nms


class RecordedIoU:
    """The grader's ``box_iou`` for the NMS tests: the recorded IoU of the case's boxes, looked up.

    ``nms`` calls ``box_iou``; the NMS tests give it this one instead of the
    student's, so that a mistake in ``box_iou`` costs the ``box_iou`` tests
    only. It answers for the recorded boxes (any of them, in any order) and
    nothing else: a box it was not recorded with raises.
    """

    def __init__(self, boxes: torch.Tensor, iou: torch.Tensor):
        self.boxes, self.iou = boxes.reshape(-1, 4), iou.reshape(len(boxes), len(boxes))

    def rows(self, boxes) -> list[int]:
        if type(boxes) is not torch.Tensor or boxes.dim() != 2 or boxes.shape[1] != 4:
            raise ValueError(f"box_iou takes (N, 4) tensors of boxes; nms gave it {kind_of(boxes)}")
        found = []
        for box in boxes.detach().cpu().double().tolist():
            matches = [i for i, known in enumerate(self.boxes.double().tolist()) if known == box]
            if not matches:
                raise ValueError(f"nms called box_iou with the box {box}, which is not one of its boxes")
            found.append(matches[0])
        return found

    def __call__(self, boxes1, boxes2):
        rows, columns = self.rows(boxes1), self.rows(boxes2)
        iou = self.iou[rows][:, columns] if rows and columns else torch.zeros(len(rows), len(columns))
        return iou.to(dtype=boxes1.dtype, device=boxes1.device)


@contextlib.contextmanager
def grader_box_iou(submission, boxes: torch.Tensor, iou: torch.Tensor):
    """The student's ``detection.box_iou`` replaced by the recorded IoU's lookup while the block runs."""
    module = submission.module("detection")
    missing = object()
    saved = module.__dict__.get("box_iou", missing)
    module.box_iou = RecordedIoU(boxes, iou)
    try:
        yield
    finally:
        if saved is missing:
            del module.box_iou
        else:
            module.box_iou = saved


def kept_indices(submission, boxes, scores, threshold, iou=None) -> list[int]:
    """The student's ``nms``, which finds the grader's IoU of ``boxes`` (``iou``, recorded) where it calls
    ``box_iou``."""
    with grader_box_iou(submission, boxes, iou) if iou is not None else contextlib.nullcontext():
        found = call(submission, "nms", boxes.clone(), scores.clone(), threshold)
    check_tensor(
        found,
        f"nms of {len(boxes)} boxes",
        dtype=torch.int64,
        likely="return the kept indices as a 1-D torch.int64 tensor, not a boolean mask or a list",
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


def describe_nms(case: dict) -> str:
    return f"boxes {show(case['boxes'])} with scores {show(case['scores'])} and iou_threshold {case['iou_threshold']}"


NMS_RULES = (
    "keep the best box left, suppress the boxes whose IoU with it is > iou_threshold, repeat; return the kept "
    "indices into boxes, best first"
)


def same_indices(found: list[int], recorded: torch.Tensor) -> bool:
    return found == recorded.tolist()


def check_nms(submission, case: dict) -> None:
    """The student's nms keeps the recorded boxes (scores all different: one right answer)."""
    found = kept_indices(submission, case["boxes"], case["scores"], case["iou_threshold"], case["iou"])
    expected = case["expected"].tolist()
    if found != expected:
        fail(
            f"nms to keep {expected} for {describe_nms(case)}",
            str(found),
            recorded_mistake(found, case["fingerprints"], same_indices) or NMS_RULES,
        )


@pytest.mark.points(1)
def test_nms_keeps_the_best_box_of_each_cluster(submission):
    # Two clusters of three overlapping boxes and a box on its own; the scores are in no particular order.
    for case in RECORDED["nms"]["best_box_of_each_cluster"]:
        check_nms(submission, case)


@pytest.mark.points(1)
def test_nms_takes_boxes_by_decreasing_score(submission):
    # Box 0 comes first but scores less than box 1, which overlaps it: box 1 must be kept, box 0 suppressed.
    for case in RECORDED["nms"]["boxes_by_decreasing_score"]:
        check_nms(submission, case)


@pytest.mark.points(1)
def test_nms_keeps_a_box_at_exactly_the_threshold(submission):
    # The IoU of the first two boxes is 1 / 2 exactly (areas 2 and 1, intersection 1), and 1 / 3 for the other
    # two: at iou_threshold 0.5, then 0.25.
    for case in RECORDED["nms"]["box_at_exactly_the_threshold"]:
        check_nms(submission, case)


@pytest.mark.points(1)
def test_nms_suppressed_box_does_not_suppress_others(submission):
    # A chain: box 0 overlaps box 1, box 1 overlaps box 2, box 0 only touches box 2. Box 1 is suppressed by
    # box 0, so box 2, which only box 1 overlaps, is kept.
    for case in RECORDED["nms"]["suppressed_box_does_not_suppress"]:
        check_nms(submission, case)


@pytest.mark.points(1)
def test_nms_returns_indices_by_decreasing_score(submission):
    # No overlaps: every box is kept, best first.
    for case in RECORDED["nms"]["indices_by_decreasing_score"]:
        check_nms(submission, case)


@pytest.mark.points(1)
def test_nms_of_no_box_and_of_one_box(submission):
    found = kept_indices(submission, torch.zeros(0, 4), torch.zeros(0), 0.5, torch.zeros(0, 0))
    if found:
        fail("nms of no boxes to return an empty tensor", str(found))
    one = RECORDED["nms"]["one_box"][0]
    found = kept_indices(submission, one["boxes"], torch.tensor([0.5]), 0.5, one["iou"])
    if found != [0]:
        fail("nms of one box to keep it: [0]", str(found), "a box is never suppressed by itself")


@pytest.mark.points(1)
def test_nms_with_tied_scores_in_either_order(submission):
    # Three boxes of equal score in a chain (IoU 1 / 3 between neighbours, 0 between the ends, threshold 0.25):
    # taking the middle one first keeps it alone, taking an end first keeps both ends. Two boxes of equal score
    # that overlap much (one of them is kept), and a box on its own. Every answer that some order of the tied
    # boxes gives is right.
    for case in RECORDED["nms"]["tied_scores"]:
        found = kept_indices(submission, case["boxes"], case["scores"], case["iou_threshold"], case["iou"])
        accepted = [answer.tolist() for answer in case["accepted"]]
        if found in accepted:
            continue
        kept_scores = case["scores"][found].tolist()
        if kept_scores != sorted(kept_scores, reverse=True):
            likely = "return the kept indices by decreasing score, in the order NMS keeps them"
        else:
            likely = NMS_RULES + "; boxes of equal score may be taken in either order"
        fail(
            f"nms to keep one of {accepted} for {describe_nms(case)} (each order of the tied boxes gives one of "
            "these)",
            str(found),
            recorded_mistake(found, case["fingerprints"], same_indices) or likely,
        )


# ---------------------------------------------------------------- roi_align


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


DTYPE_OF_FEATURES = (
    "the output must have the features' dtype (float64 features give a float64 output): build it from the "
    "features with tensor operations, without .float() or new tensors of the default dtype (torch.zeros(...) "
    "without dtype=; features.new_zeros(...) keeps the dtype)"
)
NO_POINT = (
    "NaN or infinity in the output: a bin with no sampling point (an adaptive grid for a box of zero width or "
    "height when aligned) outputs 0; divide a bin's sum by max(points, 1)"
)


def recorded_boxes(case: dict):
    """The case's boxes: a ``(K, 5)`` tensor or a list of ``(L_i, 4)`` tensors (the file keeps no empty shape)."""
    boxes = case["boxes"]
    if isinstance(boxes, list):
        return [b.reshape(-1, 4) for b in boxes]
    return boxes.reshape(-1, 5)


def recorded_size(case: dict):
    size = case["output_size"]
    return tuple(size) if isinstance(size, list) else size


def check_roi_align(submission, features: torch.Tensor, case: dict, otherwise: str = STEPS) -> torch.Tensor:
    """The student's roi_align on ``features`` and a recorded case gives the recorded output (a message names a
    recorded mistake, else ``otherwise``); returns the student's output."""
    boxes, output_size = recorded_boxes(case), recorded_size(case)
    spatial_scale, sampling_ratio, aligned = case["spatial_scale"], case["sampling_ratio"], case["aligned"]
    expected = case["expected"].reshape(case["shape"])
    given = [b.clone() for b in boxes] if isinstance(boxes, list) else boxes.clone()
    found = call(submission, "roi_align", features, given, output_size, spatial_scale, sampling_ratio, aligned)
    arguments = (
        f"output_size={output_size}, spatial_scale={spatial_scale}, sampling_ratio={sampling_ratio}, "
        f"aligned={aligned}"
    )
    if isinstance(boxes, list):
        form = f"a list of per-image box tensors {show(boxes)} (rows: x1, y1, x2, y2)"
    else:
        form = f"a ({len(boxes)}, 5) tensor {show(boxes)} (rows: image, x1, y1, x2, y2)"
    situation = f"features of shape {tuple(features.shape)}, boxes as {form}, {arguments}"
    what = f"roi_align's output for {situation}"
    check_shape(
        found,
        tuple(expected.shape),
        what,
        "one (C, output_height, output_width) grid per box, stacked: (K, C, output_height, output_width); "
        "output_size may be an int (a square) or a (height, width) pair",
    )
    check_shape(found, tuple(expected.shape), what, DTYPE_OF_FEATURES, dtype=features.dtype)
    if not close(found, expected, ROI_TOLERANCE):
        difference = (found.detach() - expected).abs()
        box = int(difference.flatten(1).amax(1).argmax())
        fail(
            f"roi_align to equal torchvision.ops.roi_align for {situation}; for box {box}, channel 0: "
            f"{show(expected[box, 0])}",
            f"{show(found[box, 0])} (differences up to {difference.max().item():.4g})",
            recorded_mistake(found, case["fingerprints"], lambda a, b: close(a, b, ROI_TOLERANCE))
            or (NO_POINT if not torch.isfinite(found.detach()).all() else otherwise),
        )
    return found


def check_roi_align_test(submission, name: str, otherwise: str = STEPS) -> None:
    """Every recorded case of the test ``name``, on its feature maps (whole numbers, or a ramp: 10 r + c at cell
    (r, c), plus 100 per channel and 1000 per image)."""
    test = RECORDED["roi_align"][name]
    for case in test["cases"]:
        check_roi_align(submission, test["features"].clone(), case, otherwise)


@pytest.mark.points(1)
def test_roi_align_output_shape(submission):
    # Two images of two channels; output_size 2, then (2, 3), then no box: an empty (0, C, 2, 3) tensor; then a
    # box of zero width and one of zero height with aligned=True, whose adaptive grids have no point (bins 0).
    check_roi_align_test(submission, "output_shape")


@pytest.mark.points(1)
def test_roi_align_does_not_round_box_coordinates(submission):
    # Box corners between cells: RoIPool would round them to whole cells, RoIAlign keeps them.
    check_roi_align_test(submission, "no_rounding")


@pytest.mark.points(1)
def test_roi_align_uses_spatial_scale(submission):
    # Boxes in the coordinates of an image 4 (then 2) times larger than the feature map.
    check_roi_align_test(submission, "spatial_scale")


@pytest.mark.points(1)
def test_roi_align_half_pixel_offset_when_aligned(submission):
    # aligned=True, then False; the third box is half a cell wide. Then aligned=True with spatial_scale 0.5.
    check_roi_align_test(submission, "half_pixel_offset")


@pytest.mark.points(1)
def test_roi_align_sampling_points_per_bin(submission):
    # Adaptive grids (sampling_ratio -1 and 0) of 5 x 5 and 1 x 3 points per bin, then 1 x 1 and 3 x 3 points,
    # then adaptive grids with aligned=True, and with spatial_scale 0.5 (counted in feature-map cells).
    check_roi_align_test(submission, "sampling_points_per_bin")


@pytest.mark.points(1)
def test_roi_align_boxes_partly_outside_the_feature_map(submission):
    # Boxes across each border of a map of 5 rows and 7 columns, with sampling points more than one cell outside
    # (value 0), within one cell of the border (clamped onto it) and inside; aligned=False, then True. Then
    # sampling points exactly one cell outside (y = H = 5 and x = -1 in the first box, x = W = 7 and y = -1 in
    # the second): within one cell of the map, so clamped onto it, not zeroed.
    check_roi_align_test(submission, "partly_outside", otherwise=OUTSIDE_RULES)


@pytest.mark.points(1)
def test_roi_align_boxes_on_several_images(submission):
    check_roi_align_test(submission, "several_images")


@pytest.mark.points(1)
def test_roi_align_accepts_a_list_of_boxes_per_image(submission):
    # Three images (maps of 7 rows and 5 columns): two boxes, none, one.
    check_roi_align_test(submission, "list_of_boxes")


@pytest.mark.points(1)
def test_roi_align_keeps_the_features_dtype(submission):
    # float64 features and boxes (corners that float32 cannot hold exactly) on a map of 4 rows and 6 columns;
    # then no box: an empty float64 (0, C, 2, 3) tensor.
    check_roi_align_test(submission, "float64")


@pytest.mark.points(1)
def test_roi_align_gradient_reaches_the_features(submission):
    test = RECORDED["roi_align"]["gradient"]
    features = test["features"].clone().requires_grad_()
    found = check_roi_align(submission, features, test["cases"][0])  # right values first
    if found.grad_fn is None:
        fail(
            "roi_align's output to be differentiable with respect to the features (Mask R-CNN trains through it)",
            "an output with no gradient (no grad_fn)",
            "the computation left autograd: build the output from the features with tensor operations, not "
            "through .item(), .tolist(), .numpy(), torch.tensor(...) of values, .detach() or torch.no_grad()",
        )
    (found * test["weights"]).sum().backward()
    expected = test["gradient"]
    if features.grad is None or not close(features.grad, expected, ROI_TOLERANCE):
        fail(
            f"the gradient of (output * weights).sum() with respect to the features, for weights "
            f"{show(test['weights'])}, to equal torchvision.ops.roi_align's: {show(expected)}",
            "no gradient" if features.grad is None else f"{show(features.grad)} (differences up to "
            f"{(features.grad - expected).abs().max().item():.4g})",
            "a part of the computation was detached from the features (.detach(), .item(), torch.no_grad(), or "
            "values copied into a new tensor): each output must be a weighted sum of feature cells, computed with "
            "tensor operations on the features",
        )


@pytest.mark.points(1)
def test_detection_does_not_use_torchvision_ops(submission):
    # Each function first, so that a TODO fails here as "not implemented yet".
    boxes = torch.tensor([[0.0, 0, 2, 2], [1, 1, 3, 3]])
    call(submission, "box_iou", boxes, boxes)
    call(submission, "nms", boxes, torch.tensor([0.9, 0.8]), 0.5)
    call(submission, "roi_align", torch.zeros(1, 1, 4, 4), torch.tensor([[0.0, 1, 1, 3, 3]]), 2)
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
    one on a new backbone: 16-channel features at 1/4 scale, a box head of 32 features, a mask head of 24 channels
    (so sizes read from the predictors differ from ``maskrcnn_resnet50_fpn``'s 1024 and 256, and the mask head's
    width from the backbone's ``out_channels``), a mask predictor of 20 hidden channels, and the backbone's first
    layer frozen (``requires_grad`` False), as torchvision freezes the first layers of a pretrained backbone."""
    torch.manual_seed(0)
    backbone = nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU()
    )
    backbone[0].requires_grad_(False)
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
        mask_head=MaskRCNNHeads(16, (24, 24), 1),
        mask_predictor=MaskRCNNPredictor(24, 20, 2),
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


def predictor_outputs(predictor, inputs: torch.Tensor, which: str, likely: str | None = None):
    """``predictor(inputs)``, failing with a message (``likely``, else a general one) if the predictor does not
    take the head's output size."""
    error = None
    try:
        outputs = predictor(inputs)
    except RuntimeError as raised:  # shape mismatch inside the predictor's first layer
        error = raised
    if error is not None:
        fail(
            f"the new {which} to take the {which.split()[0]} head's output, of shape {tuple(inputs.shape)}",
            f"RuntimeError: {error}",
            likely
            or "read the input size from the old predictor (print it: the size its first layer takes) instead of "
            "hard-coding maskrcnn_resnet50_fpn's: other Mask R-CNNs have other head sizes",
        )
    return outputs


def check_box_predictor(model: nn.Module, num_classes: int, features: int, device) -> None:
    inputs = torch.zeros(2, features, device=device)
    outputs = predictor_outputs(model.roi_heads.box_predictor, inputs, "box predictor")
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
    predictor = model.roi_heads.mask_predictor
    taken = getattr(getattr(predictor, "conv5_mask", None), "in_channels", None)
    likely = None
    if taken != channels and taken == getattr(model.backbone, "out_channels", None):
        likely = (
            f"the new mask predictor takes {taken} channels, the backbone's out_channels, but it is given the mask "
            f"head's output ({channels} channels here): read in_channels from the old mask predictor (the size its "
            "first layer takes), not the backbone's out_channels"
        )
    logits = predictor_outputs(predictor, inputs, "mask predictor", likely)
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


def mode(training: bool) -> str:
    return "training mode" if training else "evaluation mode"


def check_keeps_the_rest(submission, model: nn.Module) -> None:
    """``replace_predictors(model, 4)`` replaces both predictors and leaves every other module as it was: the same
    objects, weights, ``requires_grad`` and mode."""
    predictors = {model.roi_heads.box_predictor, model.roi_heads.mask_predictor}
    before = {name: value.clone() for name, value in model.state_dict().items() if "predictor" not in name}
    modules = {name: module for name, module in model.named_modules() if "predictor" not in name}
    trainable = {name: p.requires_grad for name, p in model.named_parameters() if "predictor" not in name}
    modes = {name: module.training for name, module in modules.items()}
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
    parameters = dict(model.named_parameters())
    for name, requires_grad in trainable.items():
        if name in parameters and parameters[name].requires_grad != requires_grad:
            fail(
                f"{name}.requires_grad unchanged ({requires_grad})",
                str(parameters[name].requires_grad),
                "replace only the two predictors and leave the rest as it is, including which parameters are "
                "trainable: replace_predictors freezes nothing and unfreezes nothing (requires_grad is the "
                "training's choice)",
            )
    for name, training in modes.items():
        now_training = modules[name].training
        if now_training != training:
            which, switch = (f"model.{name}" if name else "the model"), ("train" if now_training else "eval")
            fail(
                f"{which} left in {mode(training)}, as it was given",
                mode(now_training),
                f"replace_predictors put {which} in {mode(now_training)} (a call to .{switch}()?): leave the "
                "model's mode as it is, no model.train() or model.eval() in replace_predictors (training mode or "
                "evaluation mode is the choice of the code that trains or evaluates)",
            )


@pytest.mark.points(1)
def test_replace_predictors_keeps_the_rest_of_the_model(submission):
    # The small Mask R-CNN, its backbone's first layer frozen, in evaluation mode, then another in training mode:
    # weights, modules, which parameters are trainable and the mode must all stay as they are.
    check_keeps_the_rest(submission, small_mask_rcnn().eval())
    check_keeps_the_rest(submission, small_mask_rcnn().train())


@pytest.mark.points(2)
def test_replace_predictors_small_mask_rcnn_takes_a_training_step(submission):
    model = small_mask_rcnn()
    replaced(submission, model, 4)
    check_box_predictor(model, 4, 32, "cpu")
    check_mask_predictor(model, 4, 24, "cpu")
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
