"""Part 6 (detection.py, the Mask R-CNN building blocks): realistic mistakes and correct variants."""

from tests.mutants import Mutant, Variant

IMPORTS = "import math\n"
AREAS = (
    "    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])\n"
    "    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])\n"
)
SIDES = "    sides = (bottom_right - top_left).clamp(min=0)\n"
ORDER = "    order = torch.argsort(scores, descending=True)\n"
IOU = "intersection / (area1[:, None] + area2[None, :] - intersection)"
KEPT = "    return order[torch.tensor(kept, dtype=torch.int64, device=boxes.device)]\n"
OFFSET = "    offset = 0.5 if aligned else 0.0\n"
STRETCH = "        if not aligned:\n            width, height = width.clamp(min=1.0), height.clamp(min=1.0)\n"
SKIP_SUPPRESSED = "        if suppressed[position]:\n            continue\n        kept.append(position)\n"
BOX_COORDINATES = "        x1, y1, x2, y2 = box[1:] * spatial_scale - offset\n"
IMAGE = "        image = features[int(box[0])]\n"
BOX_PREDICTOR = "FastRCNNPredictor(heads.box_predictor.cls_score.in_features, num_classes)"
MASK_PREDICTOR = (
    "    mask_channels = heads.mask_predictor.conv5_mask.in_channels\n"
    "    heads.mask_predictor = MaskRCNNPredictor(mask_channels, heads.mask_predictor.conv5_mask.out_channels, num_classes)\n"
)

# The solution's roi_align from the loop over boxes to the end of its helper, which the variants replace.
ROI_ALIGN_LOOP = '''    grids = []
    for box in boxes:
        image = features[int(box[0])]
        x1, y1, x2, y2 = box[1:] * spatial_scale - offset
        width, height = x2 - x1, y2 - y1
        if not aligned:
            width, height = width.clamp(min=1.0), height.clamp(min=1.0)
        # The bin's average as matrix products: rows (out_h, H) and columns (out_w, W) of interpolation weights.
        rows, gy = _bin_weights(y1, height, out_h, sampling_ratio, image.shape[1])
        columns, gx = _bin_weights(x1, width, out_w, sampling_ratio, image.shape[2])
        grids.append(rows @ image @ columns.T / max(gy * gx, 1))
    if not grids:
        return features.new_zeros(0, features.shape[1], out_h, out_w)
    return torch.stack(grids)


def _bin_weights(start: torch.Tensor, length: torch.Tensor, bins: int, sampling_ratio: int, size: int):
    """The summed interpolation weights of each bin's sampling points along one axis, and the points per bin.

    Returns a ``(bins, size)`` matrix whose row ``i`` adds up, over bin ``i``'s
    sampling points, the weights that linear interpolation gives the ``size``
    cells of this axis; and the number of points per bin. Bilinear
    interpolation is linear interpolation along y times along x, so a bin's sum
    over its grid of points is ``rows @ feature_map @ columns.T``.
    """
    bin_size = length / bins
    points = sampling_ratio if sampling_ratio > 0 else math.ceil(bin_size.item())
    offsets = (torch.arange(points, dtype=start.dtype, device=start.device) + 0.5) * bin_size / points
    where = start + torch.arange(bins, dtype=start.dtype, device=start.device)[:, None] * bin_size + offsets  # (bins, points)
    where = where.flatten()
    inside = (where >= -1) & (where <= size)  # farther than one cell off the map: value 0
    where = where.clamp(0, size - 1)
    low = where.floor()
    high_weight = where - low
    low = low.long()
    high = (low + 1).clamp(max=size - 1)
    weights = torch.zeros(len(where), size, dtype=start.dtype, device=start.device)
    weights.scatter_add_(1, low[:, None], (1 - high_weight)[:, None])
    weights.scatter_add_(1, high[:, None], high_weight[:, None])
    weights = weights * inside[:, None]
    return weights.view(bins, points, size).sum(dim=1), points
'''

# Shared by both roi_align variants: the loop over boxes, given a way to read the map at a grid of points.
SAMPLED_LOOP = '''    grids = []
    for box in boxes:
        image = features[int(box[0])]
        x1, y1, x2, y2 = box[1:] * spatial_scale - offset
        width, height = x2 - x1, y2 - y1
        if not aligned:
            width, height = width.clamp(min=1.0), height.clamp(min=1.0)
        ys, gy = _sampling_points(y1, height, out_h, sampling_ratio)
        xs, gx = _sampling_points(x1, width, out_w, sampling_ratio)
        if gy * gx == 0:  # an adaptive grid of no point: the bins are 0
            grids.append(image.new_zeros(image.shape[0], out_h, out_w))
            continue
        values = _read(image, ys, xs)  # (C, out_h * gy, out_w * gx)
        grids.append(values.view(image.shape[0], out_h, gy, out_w, gx).sum(dim=(2, 4)) / (gy * gx))
    if not grids:
        return features.new_zeros(0, features.shape[1], out_h, out_w)
    return torch.stack(grids)


def _sampling_points(start, length, bins, sampling_ratio):
    """Every bin's sampling coordinates along one axis, bin after bin, and the number per bin."""
    bin_size = length / bins
    points = sampling_ratio if sampling_ratio > 0 else math.ceil(bin_size.item())
    offsets = (torch.arange(points, dtype=start.dtype) + 0.5) * bin_size / points
    return (start + torch.arange(bins, dtype=start.dtype)[:, None] * bin_size + offsets).flatten(), points
'''

GRID_SAMPLE = SAMPLED_LOOP + '''

def _read(image, ys, xs):
    """The (C, H, W) map at every (y, x) of ys times xs, by grid_sample; 0 farther than one cell outside."""
    height, width = image.shape[1:]
    inside = ((ys >= -1) & (ys <= height))[:, None] & ((xs >= -1) & (xs <= width))[None, :]
    # align_corners=False puts cell i at (2 i + 1) / size - 1; border padding clamps onto the map.
    gx, gy = torch.broadcast_tensors(((2 * xs + 1) / width - 1)[None, :], ((2 * ys + 1) / height - 1)[:, None])
    grid = torch.stack([gx, gy], dim=-1)[None]
    values = torch.nn.functional.grid_sample(image[None], grid, mode="bilinear", padding_mode="border", align_corners=False)
    return values[0] * inside
'''

FOUR_NEIGHBOURS = SAMPLED_LOOP + '''

def _read(image, ys, xs):
    """The (C, H, W) map at every (y, x) of ys times xs: the four neighbouring cells, weighted; 0 farther out."""
    height, width = image.shape[1:]
    y, x = torch.broadcast_tensors(ys[:, None], xs[None, :])
    inside = (y >= -1) & (y <= height) & (x >= -1) & (x <= width)
    y, x = y.clamp(0, height - 1), x.clamp(0, width - 1)
    y0, x0 = y.floor().long(), x.floor().long()
    y1, x1 = (y0 + 1).clamp(max=height - 1), (x0 + 1).clamp(max=width - 1)
    dy, dx = y - y0, x - x0
    values = (
        image[:, y0, x0] * (1 - dy) * (1 - dx)
        + image[:, y0, x1] * (1 - dy) * dx
        + image[:, y1, x0] * dy * (1 - dx)
        + image[:, y1, x1] * dy * dx
    )
    return values * inside
'''

NMS_LOOP = '''    order = torch.argsort(scores, descending=True)
    overlaps = box_iou(boxes[order], boxes[order])
    suppressed = torch.zeros(len(order), dtype=torch.bool, device=boxes.device)
    kept = []
    for position in range(len(order)):
        if suppressed[position]:
            continue
        kept.append(position)
        suppressed |= overlaps[position] > iou_threshold
    return order[torch.tensor(kept, dtype=torch.int64, device=boxes.device)]
'''

NMS_SHRINKING = '''    order = torch.argsort(scores, descending=True)
    kept = []
    while len(order) > 0:
        best, rest = order[0], order[1:]
        kept.append(best)
        overlaps = box_iou(boxes[best][None], boxes[rest])[0]
        order = rest[~(overlaps > iou_threshold)]  # not "<=": a NaN IoU suppresses nothing
    return torch.stack(kept) if kept else torch.zeros(0, dtype=torch.int64, device=boxes.device)
'''

MUTANTS = [
    Mutant(
        "IoU with + 1 in widths and heights",
        "detection",
        (
            (AREAS, AREAS.replace("boxes1[:, 0])", "boxes1[:, 0] + 1)").replace("boxes1[:, 1])", "boxes1[:, 1] + 1)")
             .replace("boxes2[:, 0])", "boxes2[:, 0] + 1)").replace("boxes2[:, 1])", "boxes2[:, 1] + 1)")),
            (SIDES, "    sides = (bottom_right - top_left + 1).clamp(min=0)\n"),
        ),
        "test_box_iou_known_values",
        "with + 1",
    ),
    Mutant(
        "union not subtracting the intersection",
        "detection",
        (("(area1[:, None] + area2[None, :] - intersection)", "(area1[:, None] + area2[None, :])"),),
        "test_box_iou_known_values",
        "subtract the intersection",
    ),
    Mutant(
        "IoU without clamping the intersection's sides",
        "detection",
        ((SIDES, "    sides = bottom_right - top_left\n"),),
        "test_box_iou_known_values",
        "clamp the intersection's width and height at 0",
    ),
    Mutant(
        "IoU over the smaller box's area",
        "detection",
        ((IOU, "intersection / torch.minimum(area1[:, None], area2[None, :])"),),
        "test_box_iou_known_values",
        "smaller box's area",
    ),
    Mutant(
        "IoU with rows and columns swapped",
        "detection",
        ((IOU, f"({IOU}).T"),),
        "test_box_iou_known_values",
        "rows and columns swapped",
    ),
    Mutant(
        "NMS keeping suppressed boxes",
        "detection",
        ((SKIP_SUPPRESSED, "        kept.append(position)\n"),),
        "test_nms_keeps_the_best_box_of_each_cluster",
        "overlap a kept box by more than iou_threshold were kept",
    ),
    Mutant(
        "NMS not sorting by score",
        "detection",
        ((ORDER, "    order = torch.arange(len(scores), device=boxes.device)\n"),),
        "test_nms_takes_boxes_by_decreasing_score",
        "index order, not by decreasing score",
    ),
    Mutant(
        "NMS suppressing at IoU >= threshold",
        "detection",
        (("overlaps[position] > iou_threshold", "overlaps[position] >= iou_threshold"),),
        "test_nms_keeps_a_box_at_exactly_the_threshold",
        "equals iou_threshold was suppressed",
    ),
    Mutant(
        "NMS letting suppressed boxes suppress others",
        "detection",
        ((SKIP_SUPPRESSED, "        if not suppressed[position]:\n            kept.append(position)\n"),),
        "test_nms_suppressed_box_does_not_suppress_others",
        "a suppressed box suppressed other boxes",
    ),
    Mutant(
        "NMS taking boxes by increasing score",
        "detection",
        ((ORDER, "    order = torch.argsort(scores)\n"),),
        "test_nms_keeps_the_best_box_of_each_cluster",
        "by increasing score",
    ),
    Mutant(
        "NMS returning the kept indices in index order",
        "detection",
        ((KEPT, KEPT.replace("]\n", "].sort().values\n")),),
        "test_nms_returns_indices_by_decreasing_score",
        "in index order: return them by decreasing score",
    ),
    Mutant(
        "NMS returning positions in the score-sorted order",
        "detection",
        ((KEPT, "    return torch.tensor(kept, dtype=torch.int64, device=boxes.device)\n"),),
        "test_nms_keeps_the_best_box_of_each_cluster",
        "positions in the score-sorted order",
    ),
    Mutant(
        "nms calling torchvision.ops.nms",
        "detection",
        ((IMPORTS, IMPORTS + "\nimport torchvision\n"), (ORDER, "    return torchvision.ops.nms(boxes, scores, iou_threshold)\n")),
        "test_nms_matches_torchvision",
        "a call to torchvision.ops.boxes.nms",
    ),
    Mutant(
        "RoIAlign rounding coordinates like RoIPool",
        "detection",
        ((BOX_COORDINATES, "        x1, y1, x2, y2 = (box[1:] * spatial_scale).round() - offset\n"),),
        "test_roi_align_does_not_round_box_coordinates",
        "rounded to whole feature-map cells, as RoIPool does",
    ),
    Mutant(
        "RoIAlign ignoring spatial_scale",
        "detection",
        ((BOX_COORDINATES, "        x1, y1, x2, y2 = box[1:] - offset\n"),),
        "test_roi_align_uses_spatial_scale",
        "spatial_scale (0.25) was not applied",
    ),
    Mutant(
        "RoIAlign missing the half-pixel offset",
        "detection",
        (("    offset = 0.5 if aligned else 0.0\n", "    offset = 0.0\n"),),
        "test_roi_align_half_pixel_offset_when_aligned",
        "the half-pixel offset is missing",
    ),
    Mutant(
        "RoIAlign half-pixel offset with the wrong sign",
        "detection",
        ((OFFSET, "    offset = -0.5 if aligned else 0.0\n"),),
        "test_roi_align_half_pixel_offset_when_aligned",
        "wrong sign",
    ),
    Mutant(
        "RoIAlign half-pixel offset also when not aligned",
        "detection",
        ((OFFSET, "    offset = 0.5\n"),),
        "test_roi_align_half_pixel_offset_when_aligned",
        "applied with aligned=False",
    ),
    Mutant(
        "RoIAlign not stretching boxes smaller than a cell when not aligned",
        "detection",
        ((STRETCH, ""),),
        "test_roi_align_half_pixel_offset_when_aligned",
        "at least 1 cell",
    ),
    Mutant(
        "RoIAlign ignoring sampling_ratio",
        "detection",
        (("points = sampling_ratio if sampling_ratio > 0 else math.ceil(", "points = math.ceil("),),
        "test_roi_align_sampling_points_per_bin",
        "was ignored",
    ),
    Mutant(
        "RoIAlign reading boxes as (y1, x1, y2, x2)",
        "detection",
        ((BOX_COORDINATES, "        y1, x1, y2, x2 = box[1:] * spatial_scale - offset\n"),),
        "test_roi_align_output_shape",
        "x and y swapped",
    ),
    Mutant(
        "RoIAlign with a fixed sampling grid",
        "detection",
        (("else math.ceil(bin_size.item())", "else 2"),),
        "test_roi_align_sampling_points_per_bin",
        "adaptive number",
    ),
    Mutant(
        "RoIAlign reading every point off the map as 0",
        "detection",
        (("inside = (where >= -1) & (where <= size)", "inside = (where >= 0) & (where <= size - 1)"),),
        "test_roi_align_boxes_partly_outside_the_feature_map",
        "points outside the feature map",
    ),
    Mutant(
        "RoIAlign cutting every box from image 0",
        "detection",
        ((IMAGE, "        image = features[0]\n"),),
        "test_roi_align_boxes_on_several_images",
        "every box was cut from image 0",
    ),
    Mutant(
        "RoIAlign detached from the features",
        "detection",
        ((IMAGE, "        image = features[int(box[0])].detach()\n"),),
        "test_roi_align_gradient_reaches_the_features",
        "differentiable with respect to the features",
    ),
    Mutant(
        "roi_align through torchvision's private fallback",
        "detection",
        (
            (IMPORTS, IMPORTS + "\nfrom torchvision.ops.roi_align import _roi_align\n"),
            (
                "    if isinstance(boxes, (list, tuple)):\n",
                "    size = (output_size, output_size) if isinstance(output_size, int) else output_size\n"
                "    return _roi_align(features, boxes, spatial_scale, size[0], size[1], sampling_ratio, aligned)\n"
                "    if isinstance(boxes, (list, tuple)):\n",
            ),
        ),
        "test_roi_align_matches_torchvision",
        "a call to torchvision.ops.roi_align._roi_align",
    ),
    Mutant(
        "roi_align through a default argument that patching cannot reach",
        "detection",
        (
            ("    aligned: bool = False,\n) -> torch.Tensor:", "    aligned: bool = False,\n    _align=torch.ops.torchvision.roi_align,\n) -> torch.Tensor:"),
            (
                "    if isinstance(boxes, (list, tuple)):\n",
                "    size = (output_size, output_size) if isinstance(output_size, int) else output_size\n"
                "    return _align(features, boxes, spatial_scale, size[0], size[1], sampling_ratio, aligned)\n"
                "    if isinstance(boxes, (list, tuple)):\n",
            ),
        ),
        "test_detection_does_not_use_torchvision_ops",
        "_align=torch.ops.torchvision.roi_align",
    ),
    Mutant(
        "predictors replaced for boxes only",
        "detection",
        ((MASK_PREDICTOR, ""),),
        "test_replace_predictors_mask_predictor_of_maskrcnn_resnet50_fpn",
        "the mask predictor was not replaced",
    ),
    Mutant(
        "in_features hard-coded for maskrcnn_resnet50_fpn",
        "detection",
        ((BOX_PREDICTOR, "FastRCNNPredictor(1024, num_classes)"),),
        "test_replace_predictors_small_mask_rcnn_takes_a_training_step",
        "instead of hard-coding",
    ),
    Mutant(
        "replace_predictors returning nothing",
        "detection",
        (("    return model\n", ""),),
        "test_replace_predictors_keeps_the_rest_of_the_model",
        "end with return model",
    ),
]

VARIANTS = [
    Variant("roi_align by grid_sample", "detection", ((ROI_ALIGN_LOOP, GRID_SAMPLE),)),
    Variant("roi_align weighing the four neighbouring cells", "detection", ((ROI_ALIGN_LOOP, FOUR_NEIGHBOURS),)),
    Variant("NMS removing overlaps from a shrinking list", "detection", ((NMS_LOOP, NMS_SHRINKING),)),
    Variant(
        "replace_predictors with the tutorial's 256 hidden channels",
        "detection",
        ((MASK_PREDICTOR, MASK_PREDICTOR.replace("heads.mask_predictor.conv5_mask.out_channels", "256")),),
    ),
]

# ---------------------------------------------------------------- mistakes that broke a promise no input exercised

BIN_AVERAGE = ".sum(dim=(2, 4)) / (gy * gx))"
BILINEAR = (
    "        image[:, y0, x0] * (1 - dy) * (1 - dx)\n"
    "        + image[:, y0, x1] * (1 - dy) * dx\n"
    "        + image[:, y1, x0] * dy * (1 - dx)\n"
    "        + image[:, y1, x1] * dy * dx\n"
)
ADAPTIVE_Y = "        rows, gy = _bin_weights(y1, height, out_h, sampling_ratio, image.shape[1])\n"
ADAPTIVE_X = "        columns, gx = _bin_weights(x1, width, out_w, sampling_ratio, image.shape[2])\n"

MUTANTS += [
    Mutant(
        "IoU in float32 whatever the boxes' dtype",
        "detection",
        ((AREAS, "    boxes1, boxes2 = boxes1.float(), boxes2.float()\n" + AREAS),),
        "test_box_iou_keeps_the_boxes_dtype",
        "the boxes' dtype",
    ),
    Mutant(
        "RoIAlign output in float32 whatever the features' dtype",
        "detection",
        (
            (
                "    return torch.stack(grids)\n",
                "    output = torch.zeros(len(grids), features.shape[1], out_h, out_w)\n"
                "    for k, grid in enumerate(grids):\n"
                "        output[k] = grid\n"
                "    return output\n",
            ),
        ),
        "test_roi_align_keeps_the_features_dtype",
        "the features' dtype",
    ),
    Mutant(
        "RoIAlign with bilinear weights swapped between x and y",
        "detection",
        ((ROI_ALIGN_LOOP, FOUR_NEIGHBOURS.replace(BILINEAR, BILINEAR.replace("dy", "DX").replace("dx", "dy").replace("DX", "dx"))),),
        "test_roi_align_does_not_round_box_coordinates",
        "weights swapped between x and y",
    ),
    Mutant(
        "RoIAlign taking the maximum of a bin's samples",
        "detection",
        ((ROI_ALIGN_LOOP, FOUR_NEIGHBOURS.replace(BIN_AVERAGE, ".amax(dim=(2, 4)))")),),
        "test_roi_align_sampling_points_per_bin",
        "maximum of the bin's sampling points",
    ),
    Mutant(
        "RoIAlign sampling at the corners of sub-cells",
        "detection",
        (("(torch.arange(points, dtype=start.dtype, device=start.device) + 0.5)",
          "torch.arange(points, dtype=start.dtype, device=start.device)"),),
        "test_roi_align_sampling_points_per_bin",
        "centres of the sub-cells",
    ),
    Mutant(
        "RoIAlign with the adaptive grid counted in image coordinates",
        "detection",
        (
            (ADAPTIVE_Y, "        count = lambda size, bins: sampling_ratio if sampling_ratio > 0 else math.ceil(size.item() / bins)\n"
             "        rows, gy = _bin_weights(y1, height, out_h, count(box[4] - box[2], out_h), image.shape[1])\n"),
            (ADAPTIVE_X, "        columns, gx = _bin_weights(x1, width, out_w, count(box[3] - box[1], out_w), image.shape[2])\n"),
        ),
        "test_roi_align_sampling_points_per_bin",
        "in feature-map cells",
    ),
    Mutant(
        "RoIAlign applying the half-pixel offset before the scale",
        "detection",
        ((BOX_COORDINATES, "        x1, y1, x2, y2 = (box[1:] - offset) * spatial_scale\n"),),
        "test_roi_align_half_pixel_offset_when_aligned",
        "after scaling",
    ),
    Mutant(
        "RoIAlign dividing by zero points in a bin",
        "detection",
        (("rows @ image @ columns.T / max(gy * gx, 1)", "rows @ image @ columns.T / (gy * gx)"),),
        "test_roi_align_output_shape",
        "no sampling point",
    ),
    Mutant(
        "RoIAlign bounds of the map with height and width swapped",
        "detection",
        ((ROI_ALIGN_LOOP, FOUR_NEIGHBOURS.replace(
            "inside = (y >= -1) & (y <= height) & (x >= -1) & (x <= width)",
            "inside = (y >= -1) & (y <= width) & (x >= -1) & (x <= height)")),),
        "test_roi_align_boxes_partly_outside_the_feature_map",
        "height and width swapped",
    ),
    Mutant(
        "RoIAlign zeroing points exactly on the map's edge",
        "detection",
        (("inside = (where >= -1) & (where <= size)", "inside = (where > -1) & (where < size)"),),
        "test_roi_align_boxes_partly_outside_the_feature_map",
        "clamped onto the map and take the border's value, not zeroed",
    ),
    Mutant(
        "mask predictor sized by the backbone's out_channels",
        "detection",
        (("    mask_channels = heads.mask_predictor.conv5_mask.in_channels\n",
          "    mask_channels = model.backbone.out_channels\n"),),
        "test_replace_predictors_small_mask_rcnn_takes_a_training_step",
        "not the backbone's out_channels",
    ),
    Mutant(
        "replace_predictors freezing the backbone",
        "detection",
        (("    heads = model.roi_heads\n",
          "    for parameter in model.backbone.parameters():\n        parameter.requires_grad = False\n"
          "    heads = model.roi_heads\n"),),
        "test_replace_predictors_keeps_the_rest_of_the_model",
        "requires_grad",
    ),
    Mutant(
        "replace_predictors making every parameter trainable",
        "detection",
        (("    heads = model.roi_heads\n", "    model.requires_grad_(True)\n    heads = model.roi_heads\n"),),
        "test_replace_predictors_keeps_the_rest_of_the_model",
        "requires_grad",
    ),
    Mutant(
        "replace_predictors switching the model to training mode",
        "detection",
        (("    heads = model.roi_heads\n", "    model.train()\n    heads = model.roi_heads\n"),),
        "test_replace_predictors_keeps_the_rest_of_the_model",
        "put the model in training mode",
    ),
    Mutant(
        "replace_predictors putting the model in eval mode",
        "detection",
        (("    heads = model.roi_heads\n", "    model.eval()\n    heads = model.roi_heads\n"),),
        "test_replace_predictors_keeps_the_rest_of_the_model",
        "put the model in evaluation mode",
    ),
    Mutant(
        "predictors with one more class for the background",
        "detection",
        ((BOX_PREDICTOR, BOX_PREDICTOR.replace("num_classes)", "num_classes + 1)")),),
        "test_replace_predictors_box_predictor_of_maskrcnn_resnet50_fpn",
        "already includes the background",
    ),
]

BOX_IOU_BODY = (
    AREAS
    + "    top_left = torch.maximum(boxes1[:, None, :2], boxes2[None, :, :2])  # (N, M, 2)\n"
    "    bottom_right = torch.minimum(boxes1[:, None, 2:], boxes2[None, :, 2:])\n"
    "    # Boxes apart have bottom_right < top_left: without the clamp, two negative sides multiply to a positive area.\n"
    + SIDES
    + "    intersection = sides[..., 0] * sides[..., 1]\n"
    "    return intersection / (area1[:, None] + area2[None, :] - intersection)\n"
)
LIST_OF_BOXES = (
    "    if isinstance(boxes, (list, tuple)):\n"
    "        boxes = torch.cat([torch.cat([torch.full_like(b[:, :1], i), b], dim=1) for i, b in enumerate(boxes)])\n"
)
PREDICTORS = (
    "    heads = model.roi_heads\n"
    "    heads.box_predictor = FastRCNNPredictor(heads.box_predictor.cls_score.in_features, num_classes)\n"
    + MASK_PREDICTOR
)

VARIANTS += [
    # A different decomposition: the four coordinates unbound, the intersection's width and height apart.
    Variant(
        "box_iou from unbound coordinates",
        "detection",
        (
            (
                BOX_IOU_BODY,
                "    x1, y1, x2, y2 = boxes1.unbind(dim=1)\n"
                "    u1, v1, u2, v2 = boxes2.unbind(dim=1)\n"
                "    width = (torch.minimum(x2[:, None], u2[None, :]) - torch.maximum(x1[:, None], u1[None, :])).clamp(min=0)\n"
                "    height = (torch.minimum(y2[:, None], v2[None, :]) - torch.maximum(y1[:, None], v1[None, :])).clamp(min=0)\n"
                "    intersection = width * height\n"
                "    union = ((x2 - x1) * (y2 - y1))[:, None] + ((u2 - u1) * (v2 - v1))[None, :] - intersection\n"
                "    return intersection / union\n",
            ),
        ),
    ),
    # Other library calls: corners as (N, 2) pairs, areas and intersections by prod.
    Variant(
        "box_iou with areas by prod",
        "detection",
        (
            (
                BOX_IOU_BODY,
                "    top_left = torch.max(boxes1[:, None, :2], boxes2[:, :2])\n"
                "    bottom_right = torch.min(boxes1[:, None, 2:], boxes2[:, 2:])\n"
                "    intersection = torch.clamp(bottom_right - top_left, min=0).prod(dim=2)\n"
                "    area1 = (boxes1[:, 2:] - boxes1[:, :2]).prod(dim=1)\n"
                "    area2 = (boxes2[:, 2:] - boxes2[:, :2]).prod(dim=1)\n"
                "    return intersection / (area1[:, None] + area2 - intersection)\n",
            ),
        ),
    ),
    # Loops instead of tensor bookkeeping: each box, best first, is kept if no kept box overlaps it too much.
    Variant(
        "NMS checking each box against the boxes kept so far",
        "detection",
        (
            (
                NMS_LOOP,
                "    overlaps = box_iou(boxes, boxes)\n"
                "    kept = []\n"
                "    for index in torch.argsort(scores, descending=True).tolist():\n"
                "        if all(not overlaps[index, other] > iou_threshold for other in kept):\n"
                "            kept.append(index)\n"
                "    return torch.tensor(kept, dtype=torch.int64, device=boxes.device)\n",
            ),
        ),
    ),
    # Other library calls: image indices by repeat_interleave, the bin averages by einsum.
    Variant(
        "roi_align by repeat_interleave and einsum",
        "detection",
        (
            (
                LIST_OF_BOXES,
                "    if isinstance(boxes, (list, tuple)):\n"
                "        counts = torch.tensor([len(b) for b in boxes])\n"
                "        index = torch.repeat_interleave(torch.arange(len(boxes)), counts).to(features.dtype)\n"
                "        boxes = torch.cat([index[:, None], torch.cat(list(boxes))], dim=1)\n",
            ),
            (
                "grids.append(rows @ image @ columns.T / max(gy * gx, 1))",
                "grids.append(torch.einsum('yh,chw,xw->cyx', rows, image, columns) / max(gy * gx, 1))",
            ),
        ),
    ),
    # The sizes read from the predictors' weights (a ConvTranspose2d's weight is (in, out, kh, kw)).
    Variant(
        "replace_predictors reading sizes from the predictors' weights",
        "detection",
        (
            (
                PREDICTORS,
                "    heads = model.roi_heads\n"
                "    in_features = heads.box_predictor.cls_score.weight.shape[1]\n"
                "    in_channels, hidden_channels = heads.mask_predictor.conv5_mask.weight.shape[:2]\n"
                "    setattr(heads, 'box_predictor', FastRCNNPredictor(in_features, num_classes))\n"
                "    setattr(heads, 'mask_predictor', MaskRCNNPredictor(in_channels, hidden_channels, num_classes))\n",
            ),
        ),
    ),
]
