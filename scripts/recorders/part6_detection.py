"""Part 6 (detection.py): the recorded cases of the public tests of ``box_iou``, ``nms`` and ``roi_align``.

Every case holds its inputs (hand-made boxes; feature maps that are a ramp,
``10 r + c`` at cell ``(r, c)``, or small random whole numbers, so that the
file stays short and exact), the solution's output (checked here against
``torchvision.ops``), and the fingerprints: the outputs of the catalogued
mistakes of ``tests/mutants/part6_detection.py`` on the same inputs, each
with the sentence a student who made it reads. Only the mistakes whose
output differs from the solution's are recorded; mistakes that give the same
wrong output on a case share one fingerprint, whose sentence names them all.

Every NMS case also records the IoU matrix of its boxes (``iou``): the NMS
tests give the student's ``nms`` a lookup of it in place of the student's
``box_iou``, so that a wrong IoU costs the ``box_iou`` tests only.

The case for tied scores records every answer that some order of the tied
boxes gives (NMS may take equal scores in either order), computed by the
solution with the ties broken each possible way.

    {"box_iou": {"known_values": [case]},
     "nms": {"best_box_of_each_cluster": [case], ...},
     "roi_align": {"output_shape": [case, case, case], ...}}

Tensors with no element lose their shape in the file: a case records the
shape of its output (``shape``), and the tests reshape empty boxes to
``(0, 4)`` or ``(0, 5)``.
"""

from __future__ import annotations

import itertools

import torch
import torchvision

IOU_TOLERANCE = 1e-5  # as in the tests
ROI_TOLERANCE = 1e-4

IOU_MISTAKES = {
    "IoU with + 1 in widths and heights": (
        "widths and heights computed with + 1 (x2 - x1 + 1), the pixel-counting convention of older detectors: "
        "here coordinates are continuous, a box's width is x2 - x1 and its area (x2 - x1) * (y2 - y1)"
    ),
    "union not subtracting the intersection": (
        "the union must subtract the intersection: area1 + area2 - intersection (area1 + area2 counts the "
        "overlap twice)"
    ),
    "IoU without clamping the intersection's sides": (
        "boxes that do not overlap get a non-zero intersection: clamp the intersection's width and height at 0 "
        "before multiplying them (two negative sides multiply to a positive area)"
    ),
    "IoU over the smaller box's area": "divided by the smaller box's area instead of the union's",
}

NMS_MISTAKES = {
    "NMS returning the kept indices in index order": (
        "the kept indices are in index order: return them by decreasing score, in the order NMS keeps them"
    ),
    "NMS suppressing at IoU >= threshold": (
        "a box whose IoU with a kept box equals iou_threshold was suppressed: suppress only the boxes whose IoU "
        "is greater than iou_threshold (torchvision's rule), not greater or equal"
    ),
    "NMS not sorting by score": (
        "boxes taken in index order, not by decreasing score: sort the boxes by decreasing score first, so that "
        "each step keeps the best box left"
    ),
    "NMS taking boxes by increasing score": (
        "boxes taken by increasing score: sort them by decreasing score, so that the best box is kept and those "
        "overlapping it are suppressed"
    ),
    "NMS letting suppressed boxes suppress others": (
        "a suppressed box suppressed other boxes: skip the boxes already suppressed; only a kept box suppresses"
    ),
    "NMS keeping suppressed boxes": (
        "boxes that overlap a kept box by more than iou_threshold were kept: a suppressed box must be left out "
        "of the result (and skipped when its turn comes)"
    ),
    "NMS returning positions in the score-sorted order": (
        "positions in the score-sorted order were returned: return indices into boxes"
    ),
}


def roi_align_mistakes(spatial_scale: float, sampling_ratio: int) -> dict[str, str]:
    return {
        "RoIAlign rounding coordinates like RoIPool": (
            "the box coordinates were rounded to whole feature-map cells, as RoIPool does: RoIAlign keeps them "
            "real-valued (x1 * spatial_scale - offset, no round, floor or int) and interpolates"
        ),
        "RoIAlign ignoring spatial_scale": (
            f"spatial_scale ({spatial_scale}) was not applied: the boxes are in image coordinates; multiply them "
            "by spatial_scale to get feature-map coordinates"
        ),
        "RoIAlign missing the half-pixel offset": (
            "the half-pixel offset is missing: with aligned=True, subtract 0.5 from every coordinate after "
            "scaling (x1 * spatial_scale - 0.5)"
        ),
        "RoIAlign half-pixel offset with the wrong sign": (
            "the half-pixel offset has the wrong sign: with aligned=True, subtract 0.5 (x1 * spatial_scale - 0.5)"
        ),
        "RoIAlign half-pixel offset also when not aligned": (
            "the half-pixel offset was applied with aligned=False: subtract 0.5 only when aligned=True"
        ),
        "RoIAlign not stretching boxes smaller than a cell when not aligned": (
            "with aligned=False, a box's width and height are at least 1 cell (max(width, 1)): the legacy "
            "RoIAlign stretches smaller boxes"
        ),
        "RoIAlign with a fixed sampling grid": (
            "a fixed number of sampling points per bin (2 x 2?) where sampling_ratio <= 0 asks for an adaptive "
            "number: ceil(box_height / output_height) along y, ceil(box_width / output_width) along x, for each box"
        ),
        "RoIAlign ignoring sampling_ratio": (
            f"sampling_ratio = {sampling_ratio} was ignored: use exactly sampling_ratio x sampling_ratio points "
            "per bin when it is > 0"
        ),
        "RoIAlign reading every point off the map as 0": (
            "points off the map were read as 0: only points outside the feature map by more than one cell "
            "(y < -1 or y > H, x < -1 or x > W) are 0; a point within one cell of it is first clamped onto the "
            "map (y to [0, H - 1], x to [0, W - 1]) and takes the border's value"
        ),
        "RoIAlign cutting every box from image 0": (
            "every box was cut from image 0: take each box from its own image (the first column of a (K, 5) "
            "tensor, or the box's position in the list)"
        ),
        "RoIAlign reading boxes as (y1, x1, y2, x2)": (
            "x and y swapped: a box is (x1, y1, x2, y2); x runs along the width (the last dimension of the "
            "features), y along the height"
        ),
        "RoIAlign with bilinear weights swapped between x and y": (
            "bilinear weights swapped between x and y: the cells at floor(y) and floor(y) + 1 are weighted by y's "
            "fractional part (1 - dy and dy), those at floor(x) and floor(x) + 1 by x's (1 - dx and dx)"
        ),
        "RoIAlign taking the maximum of a bin's samples": (
            "the maximum of the bin's sampling points was taken (RoIPool's max pooling): RoIAlign's bin is the "
            "average of its gy * gx points (step 5)"
        ),
        "RoIAlign sampling at the corners of sub-cells": (
            "sampling points at the corners of the sub-cells: they sit at the centres of the sub-cells, "
            "y1 + i * bin_height + (iy + 0.5) * bin_height / gy (step 3)"
        ),
        "RoIAlign with the adaptive grid counted in image coordinates": (
            "the adaptive number of sampling points was counted in image coordinates: ceil(box_height / "
            "output_height) with the box's size in feature-map cells, after spatial_scale (step 2)"
        ),
        "RoIAlign applying the half-pixel offset before the scale": (
            "the half-pixel offset was subtracted before scaling: subtract 0.5 (half a feature-map cell) after "
            "scaling, x1 * spatial_scale - 0.5, not (x1 - 0.5) * spatial_scale"
        ),
        "RoIAlign dividing by zero points in a bin": (
            "a bin with no sampling point (an adaptive grid for a box of zero width or height when aligned) "
            "must output 0: divide the bin's sum by max(gy * gx, 1), not by 0"
        ),
        "RoIAlign zeroing points exactly on the map's edge": (
            "points exactly one cell outside the map (y = -1 or y = H, x = -1 or x = W) were read as 0: they are "
            "within one cell of it, so they are clamped onto the map and take the border's value, not zeroed; "
            "only y < -1 or y > H (x < -1 or x > W) is 0, strict inequalities (torchvision's rule)"
        ),
        "RoIAlign bounds of the map with height and width swapped": (
            "the feature map's height and width swapped in step 4: y is compared with -1 and H and clamped to "
            "[0, H - 1] (H = features.shape[-2]), x with -1 and W and clamped to [0, W - 1] (W = features.shape[-1])"
        ),
    }


# ---------------------------------------------------------------- fingerprints


def combined(sentences: list[str]) -> str:
    if len(sentences) == 1:
        return sentences[0]
    return "one of these mistakes: " + "; or ".join(f"({number}) {s}" for number, s in enumerate(sentences, 1))


def fingerprints(run, right, mistakes: dict[str, str], mistake, same) -> list[dict]:
    """``run(module)`` for each mistake whose output differs from ``right``, those with the same output merged."""
    found: list[tuple[object, list[str]]] = []
    for name, sentence in mistakes.items():
        output = run(mistake(name))
        if same(output, right):
            continue
        for earlier, sentences in found:
            if same(output, earlier):
                sentences.append(sentence)
                break
        else:
            found.append((output, [sentence]))
    return [{"mistake": combined(sentences), "output": output} for output, sentences in found]


def first_differences(cases: list[dict]) -> list[dict]:
    """``cases`` (one test's, checked in turn) with each mistake's fingerprint only in the first case it fails.

    The test stops at the first case whose output is wrong: a catalogued mistake is named there, and its
    fingerprints in later cases would never be read.
    """
    named: set[str] = set()
    for case in cases:
        case["fingerprints"] = [f for f in case["fingerprints"] if f["mistake"] not in named]
        named.update(f["mistake"] for f in case["fingerprints"])
    return cases


def close(tolerance: float):
    def same(a, b) -> bool:
        return a.shape == b.shape and bool(
            torch.isclose(a.double(), b.double(), rtol=tolerance, atol=tolerance, equal_nan=True).all()
        )

    return same


def equal(a, b) -> bool:
    return a.tolist() == b.tolist()


# ---------------------------------------------------------------- box_iou


def iou_case(solution, mistake, boxes1, boxes2) -> dict:
    expected = solution.box_iou(boxes1, boxes2)
    assert close(IOU_TOLERANCE)(expected, torchvision.ops.box_iou(boxes1, boxes2))
    return {
        "boxes1": boxes1,
        "boxes2": boxes2,
        "expected": expected,
        "fingerprints": fingerprints(
            lambda module: module.box_iou(boxes1, boxes2), expected, IOU_MISTAKES, mistake, close(IOU_TOLERANCE)
        ),
    }


def box_iou_cases(solution, mistake) -> dict:
    # Rows: two overlapping squares, a square holding a smaller one, a square far from the rest.
    boxes1 = torch.tensor([[0.0, 0, 2, 2], [0, 0, 4, 4], [10, 10, 12, 12]])
    # Columns: overlapping, identical, touching along an edge, nested, and a flat box (zero height).
    boxes2 = torch.tensor([[1.0, 1, 3, 3], [0, 0, 2, 2], [2, 0, 4, 2], [1, 1, 2, 2], [5, 6, 9, 6]])
    return {
        "known_values": [iou_case(solution, mistake, boxes1, boxes2)],
        # The same boxes in float64, with corners that float32 cannot hold exactly: the IoU is float64 too.
        "float64": [iou_case(solution, mistake, (boxes1 + 0.1).double(), (boxes2 + 0.1).double())],
    }


# ---------------------------------------------------------------- nms


def nms_case(solution, mistake, boxes, scores, threshold) -> dict:
    expected = solution.nms(boxes, scores, threshold)
    assert expected.tolist() == torchvision.ops.nms(boxes, scores, threshold).tolist()
    return {
        "boxes": boxes,
        "scores": scores,
        "iou_threshold": threshold,
        "iou": solution.box_iou(boxes, boxes),
        "expected": expected,
        "fingerprints": fingerprints(
            lambda module: module.nms(boxes, scores, threshold), expected, NMS_MISTAKES, mistake, equal
        ),
    }


def tie_orders(scores: torch.Tensor):
    """Every order of the boxes by decreasing score, ties taken each possible way."""
    groups = [torch.nonzero(scores == value).flatten().tolist() for value in sorted(set(scores.tolist()), reverse=True)]
    for choice in itertools.product(*(itertools.permutations(group) for group in groups)):
        yield [index for group in choice for index in group]


def tied_nms_case(solution, mistake, boxes, scores, threshold) -> dict:
    """A case with tied scores: ``accepted`` holds every answer that some order of the tied boxes gives."""
    accepted = []
    for order in tie_orders(scores):
        distinct = torch.empty_like(scores)
        distinct[torch.tensor(order)] = torch.arange(len(order), 0, -1, dtype=scores.dtype)  # that order, no tie
        kept = solution.nms(boxes, distinct, threshold).tolist()
        if kept not in accepted:
            accepted.append(kept)
    wrong = {}
    for name, sentence in NMS_MISTAKES.items():
        output = mistake(name).nms(boxes, scores, threshold)
        if output.tolist() not in accepted:
            wrong.setdefault(tuple(output.tolist()), []).append(sentence)
    return {
        "boxes": boxes,
        "scores": scores,
        "iou_threshold": threshold,
        "iou": solution.box_iou(boxes, boxes),
        "accepted": [torch.tensor(kept, dtype=torch.int64) for kept in sorted(accepted)],
        "fingerprints": [
            {"mistake": combined(sentences), "output": torch.tensor(output, dtype=torch.int64)}
            for output, sentences in wrong.items()
        ],
    }


def nms_cases(solution, mistake) -> dict:
    case = lambda boxes, scores, threshold: nms_case(solution, mistake, boxes, scores, threshold)
    # Two clusters of three overlapping boxes and a box on its own; the scores are in no particular order.
    clusters = torch.tensor(
        [[0.0, 0, 10, 10], [20, 20, 30, 30], [1, 1, 11, 11], [40, 0, 45, 5], [21, 19, 31, 29], [0, 1, 10, 11],
         [19, 21, 29, 31]]
    )
    # The IoU of the first pair is 1 / 2 exactly (areas 2 and 1, intersection 1); 1 / 3 for the second pair.
    at_threshold = torch.tensor([[0.0, 0, 2, 1], [0, 0, 1, 1], [10, 0, 13, 1], [11, 0, 12, 1]])
    threshold_scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    # Three tied boxes in a chain (IoU 1 / 3 between neighbours, 0 between the ends): taking the middle one first
    # keeps it alone, taking an end first keeps both ends; two tied boxes that overlap much, and one on its own.
    tied = torch.tensor(
        [[0.0, 0, 10, 10], [30, 30, 40, 40], [5, 0, 15, 10], [60, 0, 65, 5], [10, 0, 20, 10], [31, 30, 41, 40]]
    )
    return {
        "best_box_of_each_cluster": [case(clusters, torch.tensor([0.6, 0.95, 0.9, 0.3, 0.7, 0.5, 0.8]), 0.5)],
        # Box 0 comes first but scores less than box 1, which overlaps it: box 1 is kept, box 0 suppressed.
        "boxes_by_decreasing_score": [
            case(torch.tensor([[0.0, 0, 10, 10], [1, 0, 11, 10], [30, 30, 40, 40]]), torch.tensor([0.2, 0.9, 0.5]), 0.5)
        ],
        "box_at_exactly_the_threshold": [
            case(at_threshold, threshold_scores, 0.5),
            case(at_threshold, threshold_scores, 0.25),
        ],
        # A chain: box 0 overlaps box 1, box 1 overlaps box 2, box 0 only touches box 2.
        "suppressed_box_does_not_suppress": [
            case(torch.tensor([[0.0, 0, 10, 10], [5, 0, 15, 10], [10, 0, 20, 10]]), torch.tensor([0.9, 0.8, 0.7]), 0.25)
        ],
        # No overlaps: every box kept, best first.
        "indices_by_decreasing_score": [
            case(
                torch.tensor([[0.0, 0, 1, 1], [10, 0, 11, 1], [20, 0, 21, 1], [30, 0, 31, 1], [40, 0, 41, 1]]),
                torch.tensor([0.1, 0.9, 0.3, 0.7, 0.5]),
                0.5,
            )
        ],
        # One box (a box is never suppressed by itself): the tests' own box_iou needs its IoU with itself.
        "one_box": [{"boxes": torch.tensor([[0.0, 0, 2, 2]]), "iou": solution.box_iou(*[torch.tensor([[0.0, 0, 2, 2]])] * 2)}],
        "tied_scores": [tied_nms_case(solution, mistake, tied, torch.tensor([0.5, 0.75, 0.5, 0.25, 0.5, 0.75]), 0.25)],
    }


# ---------------------------------------------------------------- roi_align


def ramp(images: int = 1, channels: int = 1, height: int = 8, width: int = 8) -> torch.Tensor:
    """Value ``10 r + c`` at cell ``(r, c)``, plus 100 per channel and 1000 per image: messages can show it."""
    rows = torch.arange(height, dtype=torch.float32)[:, None] * 10
    columns = torch.arange(width, dtype=torch.float32)[None, :]
    offsets = torch.arange(images)[:, None] * 1000 + torch.arange(channels)[None, :] * 100
    return (rows + columns) + offsets[:, :, None, None].float()


def whole_numbers(seed: int, *shape: int) -> torch.Tensor:
    """Random whole numbers in [-9, 9]: far from a ramp (the number of sampling points matters), short to record."""
    return torch.randint(-9, 10, shape, generator=torch.Generator().manual_seed(seed)).float()


def as_rois(boxes) -> torch.Tensor:
    if isinstance(boxes, torch.Tensor):
        return boxes
    return torch.cat([torch.cat([torch.full((len(b), 1), float(i)), b], dim=1) for i, b in enumerate(boxes)])


def roi_case(solution, mistake, features, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False) -> dict:
    """One call of roi_align on ``features`` (recorded once per test, not in the case)."""
    arguments = (output_size, spatial_scale, sampling_ratio, aligned)
    expected = solution.roi_align(features, boxes, *arguments)
    reference = torchvision.ops.roi_align(features, as_rois(boxes), *arguments)
    assert close(ROI_TOLERANCE)(expected, reference), "the solution differs from torchvision.ops.roi_align"
    return {
        "boxes": boxes,
        "output_size": output_size,
        "spatial_scale": spatial_scale,
        "sampling_ratio": sampling_ratio,
        "aligned": aligned,
        "expected": expected,
        "shape": list(expected.shape),
        "fingerprints": fingerprints(
            lambda module: module.roi_align(features, boxes, *arguments),
            expected,
            roi_align_mistakes(spatial_scale, sampling_ratio),
            mistake,
            close(ROI_TOLERANCE),
        ),
    }


def roi_test(solution, mistake, features, *calls: tuple) -> dict:
    """A test's feature maps and its cases, one per ``(boxes, output_size, keyword arguments)``."""
    return {
        "features": features,
        "cases": first_differences([roi_case(solution, mistake, features, boxes, size, **options) for boxes, size, options in calls]),
    }


def gradient_test(solution, mistake) -> dict:
    """A roi_align case with the weights of a weighted sum of its output, and that sum's gradient."""
    features = whole_numbers(4, 2, 1, 6, 6)
    boxes = torch.tensor([[0.0, 0.5, 1, 4.5, 5], [1, -1, 0.5, 5, 3.5]])
    test = roi_test(solution, mistake, features, (boxes, 2, dict(sampling_ratio=2, aligned=True)))
    weights = whole_numbers(5, 2, 1, 2, 2)
    leaf = features.clone().requires_grad_()
    (solution.roi_align(leaf, boxes, 2, 1.0, 2, True) * weights).sum().backward()
    reference = features.clone().requires_grad_()
    (torchvision.ops.roi_align(reference, boxes, 2, 1.0, 2, True) * weights).sum().backward()
    assert close(ROI_TOLERANCE)(leaf.grad, reference.grad)
    return {**test, "weights": weights, "gradient": leaf.grad}


def scaled_boxes(boxes: torch.Tensor, factor: float) -> torch.Tensor:
    """``(K, 5)`` boxes with their coordinates (not their image index) times ``factor``."""
    return torch.cat([boxes[:, :1], boxes[:, 1:] * factor], dim=1)


def roi_align_cases(solution, mistake) -> dict:
    test = lambda features, *calls: roi_test(solution, mistake, features, *calls)
    shape_boxes = torch.tensor([[0.0, 1, 1, 4, 5], [1, 0, 0, 5, 5], [0, 2.5, 3.5, 4.5, 5.5]])
    scaled = torch.tensor([[0.0, 4, 6, 20, 26], [0, 10, 2, 30, 14]])
    # The third box is half a cell wide: without aligned, the legacy RoIAlign stretches it to one cell.
    offset_boxes = torch.tensor([[0.0, 1, 1, 5, 4], [0, 2.25, 0.5, 6.75, 6.5], [0, 3.25, 2.5, 3.75, 5.5]])
    # Adaptive grids of 5 x 5 and 1 x 3 points per bin.
    sampled_boxes = torch.tensor([[0.0, 0.5, 1.25, 8.75, 9.5], [0, 2, 2, 3, 7]])
    # Boxes across each border of a map of 5 rows and 7 columns (not square: H and W are not interchangeable),
    # with sampling points more than one cell outside (value 0), within one cell of the border (clamped onto it)
    # and inside.
    outside_boxes = torch.tensor(
        [[0.0, -3, -2.5, 2.5, 3], [0, 3.5, 2, 8.25, 6.5], [0, -1.5, 2, 1, 4], [0, 4, 0.5, 6.5, 4.5]]
    )
    # Sampling points exactly one cell outside that map (one per bin, exact in float32): y = 3, 4, 5 = H with
    # x = -1, -0.5, 0 in the first box; x = 5, 6, 7 = W with y = -1, 0, 1 in the second. Clamped onto the map,
    # not zeroed: only y < -1 or y > H (x < -1 or x > W) is 0. (x = -0.5 tells this mistake from zeroing every
    # point off the map.)
    edge_boxes = torch.tensor([[0.0, -1.25, 2.5, 0.25, 5.5], [0, 4.5, -1.5, 7.5, 1.5]])
    # A box of zero width and one of zero height: with aligned=True their adaptive grids have no point (bins 0).
    flat_boxes = torch.tensor([[0.0, 2, 1, 2, 4], [1, 1, 3, 4.5, 3]])
    two_by_two = dict(sampling_ratio=2)
    return {
        "output_shape": test(
            ramp(images=2, channels=2, height=6, width=6),
            (shape_boxes, 2, {}),
            (shape_boxes, (2, 3), {}),
            (shape_boxes[:0], (2, 3), {}),  # no box: an empty (0, C, 2, 3) tensor
            (flat_boxes, 2, dict(aligned=True)),
        ),
        # Box corners between cells: RoIPool would round them to whole cells, RoIAlign keeps them.
        "no_rounding": test(ramp(), (torch.tensor([[0.0, 1.25, 2.5, 5.75, 6.25], [0, 0.4, 0.3, 3.6, 2.8]]), 2, two_by_two)),
        # Boxes in the coordinates of an image 4 (then 2) times larger than the feature map.
        "spatial_scale": test(
            ramp(),
            (scaled, 2, dict(spatial_scale=0.25, sampling_ratio=2)),
            (scaled / 2, 2, dict(spatial_scale=0.5, sampling_ratio=2)),
        ),
        "half_pixel_offset": test(
            ramp(),
            (offset_boxes, 2, dict(sampling_ratio=2, aligned=True)),
            (offset_boxes, 2, dict(sampling_ratio=2, aligned=False)),
            # In the coordinates of an image twice as large: the offset is half a feature-map cell, after scaling.
            (scaled_boxes(offset_boxes, 2), 2, dict(spatial_scale=0.5, sampling_ratio=2, aligned=True)),
        ),
        "sampling_points_per_bin": test(
            whole_numbers(0, 1, 1, 10, 10),
            *((sampled_boxes, 2, dict(sampling_ratio=ratio)) for ratio in (-1, 0, 1, 3)),
            (sampled_boxes, (3, 2), dict(sampling_ratio=-1, aligned=True)),
            # In the coordinates of an image twice as large: the adaptive grid counts feature-map cells.
            (scaled_boxes(sampled_boxes, 2), 2, dict(spatial_scale=0.5, sampling_ratio=-1)),
        ),
        "partly_outside": test(
            whole_numbers(1, 1, 1, 5, 7),
            *((outside_boxes, 3, dict(sampling_ratio=2, aligned=aligned)) for aligned in (False, True)),
            (edge_boxes, 3, dict(sampling_ratio=1)),
        ),
        "several_images": test(
            whole_numbers(2, 3, 1, 6, 6),
            (torch.tensor([[2.0, 0.5, 1, 4.5, 5], [0, 1, 0.5, 5, 3.5], [1, 0.5, 1, 4.5, 5], [2, 2, 2, 3, 3]]), 2, two_by_two),
        ),
        "list_of_boxes": test(
            whole_numbers(3, 3, 1, 7, 5),
            (
                [torch.tensor([[0.5, 1, 4.5, 5], [1, 0.5, 5, 3.5]]), torch.zeros(0, 4), torch.tensor([[2.0, 2, 3, 3]])],
                2,
                two_by_two,
            ),
        ),
        "gradient": gradient_test(solution, mistake),
        # float64 features and boxes (corners that float32 cannot hold exactly), on a map of 4 rows and 6 columns;
        # then no box.
        "float64": test(
            whole_numbers(6, 2, 2, 4, 6).double() / 3,
            (torch.tensor([[0.0, 0.1, 0.7, 4.3, 3.1], [1, 1.3, -0.6, 5.9, 2.2]], dtype=torch.float64), 2, two_by_two),
            (torch.zeros(0, 5, dtype=torch.float64), (2, 3), {}),
        ),
    }


def record(solution, mistake) -> dict:
    return {
        "box_iou": box_iou_cases(solution, mistake),
        "nms": nms_cases(solution, mistake),
        "roi_align": roi_align_cases(solution, mistake),
    }
