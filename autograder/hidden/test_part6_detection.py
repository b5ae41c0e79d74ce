"""Part 6, the thorough tests (Gradescope only): ``box_iou``, ``nms`` and ``roi_align`` against ``torchvision.ops``.

On random boxes and feature maps (a fixed list of examples drawn by
``autograder.examples``, the same under any version of PyTorch, hypothesis or
Python), in float32 and float64, while torchvision's own versions are patched
to raise: the student's code must compute them. The NMS tests give the
student's ``nms`` the grader's IoU in place of the student's ``box_iou``, so a
mistake in ``box_iou`` costs the ``box_iou`` test only. A failure names the likely mistake by computing the
outputs of the usual mistakes on the same inputs (``iou_variant``,
``greedy_nms``, ``roi_align_candidates``): these helpers compute answers, so
they live here, never in the student handout. The public tests of this part
(``autograder/test_part6_detection.py``) check the same functions on
hand-made cases against recorded outputs.
"""

import contextlib
import math

import pytest
import torch
import torch.nn.functional as F
import torchvision

from autograder.checks import check_tensor, fail
from autograder.examples import Draw, examples, noise
from autograder.test_part6_detection import (
    IOU_TOLERANCE,
    ROI_TOLERANCE,
    STEPS,
    call,
    check_shape,
    close,
    show,
)

THRESHOLDS = (0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 1.0)  # exact in float32, so IoU == threshold is exact too


# ---------------------------------------------------------------- calling the student's functions


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


DTYPES = (torch.float32, torch.float64)


def random_boxes(draw: Draw, count: int, low: int, high: int, longest: int, step: float = 0.5) -> list[list[float]]:
    """``count`` boxes with corners on a grid of ``step`` in ``[low, high)`` and sides of 1 to ``longest`` steps."""
    boxes = []
    for _ in range(count):
        x, y = (draw.integer(int(low / step), int(high / step) - 1) * step for _ in range(2))
        width, height = (draw.integer(1, int(longest / step)) * step for _ in range(2))
        boxes.append([x, y, x + width, y + height])
    return boxes


def flatten_some(draw: Draw, boxes: list[list[float]], at_most: int | None = None) -> list[list[float]]:
    """``boxes`` with some of them (about a third, at most ``at_most``) given zero width or zero height."""
    boxes = [list(box) for box in boxes]
    flattened = 0
    for box in boxes:
        if draw.boolean(0.35) and (at_most is None or flattened < at_most):
            axis = draw.integer(0, 1)
            box[2 + axis] = box[axis]
            flattened += 1
    return boxes


def as_boxes(boxes: list[list[float]], dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(boxes, dtype=dtype).reshape(-1, 4)


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


def check_iou(submission, boxes1: torch.Tensor, boxes2: torch.Tensor) -> None:
    found = call(submission, "box_iou", boxes1, boxes2)
    n, m = len(boxes1), len(boxes2)
    likely = "one row per box of boxes1, one column per box of boxes2, in the boxes' dtype"
    if type(found) is torch.Tensor and tuple(found.shape) == (m, n) and n != m:
        likely = "rows and columns swapped: entry [i, j] is the IoU of boxes1[i] with boxes2[j], an (N, M) tensor"
    elif type(found) is torch.Tensor and tuple(found.shape) == (n, m):
        likely = (
            "the IoU must have the boxes' dtype (float64 boxes give a float64 IoU): compute it from the boxes with "
            "tensor operations, without .float() or new tensors of the default dtype (torch.zeros(...) without "
            "dtype=)"
        )
    # No check for finite values here: the comparison below names the mistakes that divide by zero.
    check_shape(found, (n, m), f"box_iou of {n} and {m} boxes", likely, dtype=boxes1.dtype)
    expected = torchvision.ops.box_iou(boxes1, boxes2)
    if not close(found, expected, IOU_TOLERANCE):
        fail(
            f"box_iou(boxes1, boxes2) = {show(expected)} for boxes1 = {show(boxes1)} and boxes2 = {show(boxes2)}",
            show(found),
            iou_mistake(boxes1, boxes2, found),
        )


@pytest.mark.points(2, visibility="after_due_date")
def test_box_iou_matches_torchvision(submission):
    check_iou(submission, torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([[0.0, 0, 1, 1]]))  # a TODO fails here

    def make(draw: Draw):
        dtype = draw.choice(DTYPES)
        boxes1 = random_boxes(draw, draw.integer(0, 6), -4, 12, 8)
        boxes2 = random_boxes(draw, draw.integer(0, 6), -4, 12, 8)
        flat = draw.choice(["none", "boxes1", "boxes2"])  # zero-area boxes on one side only: never 0 / 0
        if flat == "boxes1":
            boxes1 = flatten_some(draw, boxes1)
        if flat == "boxes2":
            boxes2 = flatten_some(draw, boxes2)
        return as_boxes(boxes1, dtype), as_boxes(boxes2, dtype)

    for boxes1, boxes2 in examples(30, 6_01, make):
        check_iou(submission, boxes1, boxes2)


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


@contextlib.contextmanager
def grader_box_iou(submission):
    """The student's ``detection.box_iou`` replaced by the grader's (``iou_variant``) while the block runs, so that
    ``nms`` is graded on its own: a wrong IoU costs the ``box_iou`` test, not the NMS tests too."""
    module = submission.module("detection")
    missing = object()
    saved = module.__dict__.get("box_iou", missing)
    module.box_iou = lambda boxes1, boxes2: iou_variant(boxes1, boxes2)
    try:
        yield
    finally:
        if saved is missing:
            del module.box_iou
        else:
            module.box_iou = saved


def kept_indices(submission, boxes, scores, threshold) -> list[int]:
    with grader_box_iou(submission):
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


def clustered_boxes(draw: Draw, count: int) -> list[list[float]]:
    """``count`` boxes with whole-number corners around one to three centres, so that many of them overlap."""
    centres = [(draw.integer(0, 15), draw.integer(0, 15)) for _ in range(3)]
    boxes = []
    for _ in range(count):
        cx, cy = draw.choice(centres)
        x, y = cx + draw.integer(-3, 3), cy + draw.integer(-3, 3)
        boxes.append([float(x), float(y), float(x + draw.integer(2, 8)), float(y + draw.integer(2, 8))])
    return boxes


def permutation(draw: Draw, count: int) -> list[int]:
    """A random order of ``range(count)`` (Fisher-Yates)."""
    order = list(range(count))
    for i in range(count - 1, 0, -1):
        j = draw.integer(0, i)
        order[i], order[j] = order[j], order[i]
    return order


@pytest.mark.points(2, visibility="after_due_date")
def test_nms_matches_torchvision(submission):
    check_nms(submission, torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([1.0]), 0.5)  # a TODO fails here

    def make(draw: Draw):
        count = draw.integer(1, 12)  # no box: test_nms_of_no_box_and_of_one_box
        threshold = draw.choice(THRESHOLDS)
        dtype = draw.choice(DTYPES)
        boxes = clustered_boxes(draw, count)
        if draw.boolean():
            boxes = flatten_some(draw, boxes, at_most=1)  # one box of zero area (two would have an IoU of 0 / 0)
        scores = [(rank + 1) / (count + 1) for rank in permutation(draw, count)]  # all different
        return as_boxes(boxes, dtype), torch.tensor(scores, dtype=dtype), threshold

    for boxes, scores, threshold in examples(40, 6_02, make):
        check_nms(submission, boxes, scores, threshold)


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


@pytest.mark.points(1, visibility="after_due_date")
def test_nms_with_tied_scores(submission):
    kept_indices(submission, torch.tensor([[0.0, 0, 1, 1]]), torch.tensor([1.0]), 0.5)  # a TODO fails here

    # With ties, NMS may take equal scores in either order, so there may be several right answers (torchvision
    # itself does not promise one). An answer is right if some order of the tied boxes gives it, that is, if
    # the kept boxes are sorted by score, no two of them overlap by more than the threshold, and every other
    # box overlaps by more than the threshold a kept box of at least its score.
    def make(draw: Draw):
        count = draw.integer(2, 10)
        threshold = draw.choice(THRESHOLDS)
        boxes = as_boxes(clustered_boxes(draw, count), torch.float32)
        return boxes, torch.tensor([draw.integer(1, 3) / 4 for _ in range(count)]), threshold

    for boxes, scores, threshold in examples(40, 6_03, make):
        count = len(boxes)
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


def as_rois(boxes) -> torch.Tensor:
    """A list of per-image boxes as one ``(K, 5)`` tensor with image indices (torchvision's own format)."""
    if isinstance(boxes, torch.Tensor):
        return boxes
    return torch.cat([torch.cat([torch.full((len(b), 1), float(i)), b], dim=1) for i, b in enumerate(boxes)])


def pair(output_size) -> tuple[int, int]:
    return (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)


def sampling_points(rois, bins: int, spatial_scale, sampling_ratio, aligned, axis: int) -> list[tuple[float, bool]]:
    """Every box's sampling coordinates along one axis (0: x, 1: y), as the docstring's steps 1-3 put them, each
    with whether it is exact: whether every correct order of operations computes it without rounding.

    The examples' box corners are quarter cells in feature-map coordinates
    (half-pixel offset included). When a box's ``bins * grid`` (bins times
    points per bin) is a power of two, its points, and every sum, product and
    quotient on the way to them, are multiples of ``1 / 2^k`` with a few
    bits, which float32 holds exactly, whatever the order of operations.
    """
    points = []
    for box in rois.double().tolist():
        start, end = box[1 + axis] * spatial_scale, box[3 + axis] * spatial_scale
        if aligned:
            start, end = start - 0.5, end - 0.5
        size = end - start if aligned else max(end - start, 1.0)
        grid = sampling_ratio if sampling_ratio > 0 else math.ceil(size / bins)
        exact = (bins * grid) & (bins * grid - 1) == 0
        points += [(start + (i + (j + 0.5) / grid) * size / bins, exact) for i in range(bins) for j in range(grid)]
    return points


def near_an_edge(features, rois, output_size, spatial_scale, sampling_ratio, aligned) -> bool:
    """Whether a sampling point that may carry a rounding error lies within 1e-3 of -1, H or W, where it goes
    from clamped onto the map to 0.

    There, rounding errors of a different (correct) order of operations could
    flip a point in or out: random examples with such points are drawn again.
    Exact points (see ``sampling_points``) stay: one exactly on the edge, at
    ``y = -1``, ``y = H``, ``x = -1`` or ``x = W``, is clamped onto the map
    (the docstring's step 4), which an off-by-one bound (``y <= -1`` or
    ``y >= H`` giving 0) gets wrong; the others are at least 1 / 64 of a
    cell from the edge.
    """
    height, width = features.shape[-2:]
    out_h, out_w = pair(output_size)
    ys = sampling_points(rois, out_h, spatial_scale, sampling_ratio, aligned, axis=1)
    xs = sampling_points(rois, out_w, spatial_scale, sampling_ratio, aligned, axis=0)
    return any(not exact and (abs(y + 1) < 1e-3 or abs(y - height) < 1e-3) for y, exact in ys) or any(
        not exact and (abs(x + 1) < 1e-3 or abs(x - width) < 1e-3) for x, exact in xs
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
        # + 0.5 instead of - 0.5: a shift of a whole cell, which torchvision's own - 0.5 brings back to + 0.5.
        yield align(features, torch.cat([index, coordinates + 2 * shift], 1), output_size, spatial_scale, sampling_ratio, True), (
            "the half-pixel offset has the wrong sign: with aligned=True, subtract 0.5 (x1 * spatial_scale - 0.5)"
        )
        if spatial_scale != 1:
            # (x1 - 0.5) * spatial_scale is torchvision's x1' * spatial_scale - 0.5 for x1' = x1 - 0.5 + shift.
            yield align(features, torch.cat([index, coordinates - 0.5 + shift], 1), output_size, spatial_scale, sampling_ratio, True), (
                "the half-pixel offset was subtracted before scaling: subtract 0.5 (half a feature-map cell) after "
                "scaling, x1 * spatial_scale - 0.5, not (x1 - 0.5) * spatial_scale"
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
    yield align(features, rois[:, [0, 2, 1, 4, 3]], output_size, spatial_scale, sampling_ratio, aligned), (
        "x and y swapped: a box is (x1, y1, x2, y2); x runs along the width (the last dimension of the features), "
        "y along the height"
    )
    margin = 8  # zero cells around the map: points outside it then interpolate towards 0 instead of the border
    padded = F.pad(features, (margin, margin, margin, margin))
    yield align(padded, torch.cat([index, coordinates + margin / spatial_scale], 1), output_size, spatial_scale, sampling_ratio, aligned), (
        "points outside the feature map were read as 0 (zero padding): a point within one cell of the map "
        "(-1 <= y <= H, -1 <= x <= W) is first clamped onto it and takes the border's value"
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
    what = f"roi_align's output for {situation}"
    check_shape(
        found,
        tuple(expected.shape),
        what,
        "one (C, output_height, output_width) grid per box, stacked: (K, C, output_height, output_width); "
        "output_size may be an int (a square) or a (height, width) pair",
    )
    check_shape(
        found,
        tuple(expected.shape),
        what,
        "the output must have the features' dtype (float64 features give a float64 output): build it from the "
        "features with tensor operations, without .float() or new tensors of the default dtype (torch.zeros(...) "
        "without dtype=; features.new_zeros(...) keeps the dtype)",
        dtype=features.dtype,
    )
    if not torch.isfinite(found.detach()).all():
        fail(
            f"{what} to hold finite numbers",
            "NaN or infinity",
            "a bin with no sampling point (an adaptive grid for a box of zero width or height when aligned) "
            "outputs 0; divide a bin's sum by max(points, 1)",
        )
    if not close(found, expected, ROI_TOLERANCE):
        difference = (found.detach() - expected).abs()
        box = int(difference.flatten(1).amax(1).argmax())
        fail(
            f"roi_align to equal torchvision.ops.roi_align for {situation}; for box {box}, channel 0: {show(expected[box, 0])}",
            f"{show(found[box, 0])} (differences up to {difference.max().item():.4g})",
            roi_align_mistake(features, boxes, output_size, spatial_scale, sampling_ratio, aligned, found, otherwise),
        )
    return found


@pytest.mark.points(3, visibility="after_due_date")
def test_roi_align_matches_torchvision(submission):
    check_roi_align(submission, ramp(), torch.tensor([[0.0, 1, 1, 5, 5]]), 2)  # a TODO fails here

    def draw_case(draw: Draw):
        images, channels = draw.integer(1, 3), draw.integer(1, 3)
        height, width = draw.integer(1, 10), draw.integer(1, 10)
        count = draw.integer(1, 6)  # no box: test_roi_align_output_shape
        output_size = draw.integer(1, 4) if draw.boolean() else (draw.integer(1, 4), draw.integer(1, 4))
        spatial_scale = draw.choice([1.0, 0.5, 0.25])
        sampling_ratio = draw.choice([-1, 0, 1, 2, 3])
        aligned, as_list, dtype = draw.boolean(), draw.boolean(), draw.choice(DTYPES)
        features = noise((images, channels, height, width), draw.integer(0, 2**16)).to(dtype) * 2
        # Corners on a grid of quarter cells (exact in float32), from 2 cells before the map to 1 after it;
        # some boxes of zero width or height.
        longest = max(height, width)
        in_map = [
            [x / 4, y / 4, (x + w) / 4, (y + h) / 4]
            for x, y, w, h in (
                (draw.integer(-8, 4 * longest + 3), draw.integer(-8, 4 * longest + 3),
                 draw.integer(1, 4 * longest + 7), draw.integer(1, 4 * longest + 7))
                for _ in range(count)
            )
        ]
        in_map = flatten_some(draw, in_map)
        rows = [[float(draw.integer(0, images - 1))] + [c / spatial_scale for c in box] for box in in_map]
        rois = torch.tensor(rows, dtype=dtype)
        boxes = [rois[rois[:, 0] == i, 1:] for i in range(images)] if as_list else rois
        return features, boxes, rois, output_size, spatial_scale, sampling_ratio, aligned

    def make(draw: Draw):
        # Cases with an inexact sampling point near where it goes from counted to 0 are drawn again (points
        # exactly on the edge stay: see near_an_edge).
        while True:
            features, boxes, rois, output_size, spatial_scale, sampling_ratio, aligned = draw_case(draw)
            if not near_an_edge(features, rois, output_size, spatial_scale, sampling_ratio, aligned):
                return features, boxes, output_size, spatial_scale, sampling_ratio, aligned

    for features, boxes, output_size, spatial_scale, sampling_ratio, aligned in examples(50, 6_04, make):
        check_roi_align(submission, features, boxes, output_size, spatial_scale, sampling_ratio, aligned)


