"""Part 6: the building blocks of Mask R-CNN.

From R-CNN to Mask R-CNN, a detector proposes many boxes, scores them, keeps
the best of each cluster of overlapping boxes, cuts a fixed-size grid of
features out of the feature map for every box, and predicts a class, a
refined box and a 28 x 28 mask from that grid. You write four of its pieces:

- :func:`box_iou`: how much two boxes overlap, intersection over union;
- :func:`nms`: non-maximum suppression, which keeps one box per object;
- :func:`roi_align`: the grid of features under each box, sampled by
  bilinear interpolation;
- :func:`replace_predictors`: torchvision's Mask R-CNN, given a new number
  of classes, as torchvision's own fine-tuning tutorial does.

**Boxes** are ``(x1, y1, x2, y2)``: the top-left and bottom-right corners in
*continuous* coordinates, with ``x1 <= x2`` and ``y1 <= y2``. A box's width is
``x2 - x1`` and its area ``(x2 - x1) * (y2 - y1)``, with no ``+ 1``: the box
``(0, 0, 2, 2)`` has area 4. (Some older detectors counted pixels and added
1 to every width and height; torchvision, and this homework, do not.) A box
may have zero width or height, and so zero area.

**Write box_iou, nms and roi_align from tensor operations** (``torch.maximum``,
``clamp``, ``argsort``, indexing, matrix products, ...). Do not import or call
``torchvision.ops`` (``box_iou``, ``nms``, ``roi_align``, ``roi_pool`` and the
rest) in this file: the autograder compares your functions with those, and
fails a function that calls them.

**Why RoIAlign, not RoIPool.** Fast R-CNN's RoIPool *quantises* twice: it
rounds the box to whole feature-map cells (``round(x1 * spatial_scale)``), then
splits it into bins whose edges are rounded again, and max-pools each bin. On a
feature map 16 times smaller than the image, rounding moves a box by up to 8
image pixels: harmless for a class score, ruinous for a 28 x 28 mask that
must line up with the object. RoIAlign (Mask R-CNN) rounds nothing: it keeps
the box's real-valued coordinates, places a few sampling points in each bin,
reads the feature map at each point by bilinear interpolation of its four
neighbouring cells, and averages them. You do not write RoIPool; a
:func:`roi_align` that rounds coordinates the way RoIPool does fails the tests.
"""

import math

import torch
from torch import nn
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
from torchvision.models.detection.mask_rcnn import MaskRCNNPredictor


def box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    """Intersection over union of every box in ``boxes1`` with every box in ``boxes2``.

    Args:
        boxes1: ``(N, 4)`` float boxes ``(x1, y1, x2, y2)``; ``N`` may be 0.
        boxes2: ``(M, 4)`` float boxes of the same dtype; ``M`` may be 0.

    Returns:
        ``(N, M)`` tensor of the boxes' dtype: entry ``[i, j]`` is
        ``area(i and j) / area(i or j)``, where the union's area is
        ``area(i) + area(j) - area(i and j)``. Boxes that do not overlap, or
        only touch along an edge, have IoU 0; identical boxes have IoU 1. A box
        of zero area has IoU 0 with every box of positive area. (Two boxes of
        zero area have a union of zero area: their IoU is undefined, 0 / 0, and
        the tests never ask for it.)
    """
    # TODO: aim for every pair at once, with tensor operations rather than a Python loop over the boxes (a loop
    #   earns the same marks, but a detector compares thousands of boxes).
    #   - On paper first: the intersection of two boxes is itself a box. Where are its corners, given the
    #     corners of the two boxes? What do your formulas give for two boxes that do not overlap, and what
    #     must the area of their intersection be then?
    #   - Broadcasting turns "every box of boxes1 with every box of boxes2" into one expression: give the
    #     boxes of boxes1 and those of boxes2 new dimensions of size 1 in different places, and the result
    #     of an operation on both has one entry per pair.
    raise NotImplementedError("box_iou: intersection over union of every pair of boxes")


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Non-maximum suppression: the boxes that survive, best first.

    Greedy, as in the lecture: take the box with the highest score and keep
    it; suppress (drop) every remaining box whose IoU with it is *greater
    than* ``iou_threshold`` (a box at exactly the threshold survives); repeat
    with the best box left, until none is left. A suppressed box suppresses
    nothing. Boxes of equal score may be taken in either order.

    Args:
        boxes: ``(N, 4)`` float boxes ``(x1, y1, x2, y2)``; ``N`` may be 0.
        scores: ``(N,)`` float scores, same dtype.
        iou_threshold: a float in ``[0, 1]``.

    Returns:
        ``(K,)`` ``torch.int64`` tensor: the indices (into ``boxes``) of the
        kept boxes, sorted by decreasing score.
    """
    # TODO: a Python loop is fine here: NMS is sequential, each step depends on the boxes kept before it.
    #   - Whatever the loop needs to look up (the order of the boxes, how much each pair overlaps) can be
    #     computed once, before it, with tensor operations and your box_iou.
    #   - Keep track of which boxes are still in play. Check your loop by hand on three boxes in a chain
    #     (A overlaps B, B overlaps C, A does not overlap C).
    #   - Read "Returns" again before you return: which indices, in which order, of which dtype.
    raise NotImplementedError("nms: keep the best box, suppress the boxes that overlap it, repeat")


def roi_align(
    features: torch.Tensor,
    boxes,
    output_size,
    spatial_scale: float = 1.0,
    sampling_ratio: int = -1,
    aligned: bool = False,
) -> torch.Tensor:
    """RoIAlign (Mask R-CNN): an ``output_size`` grid of features for every box, by bilinear sampling.

    The same computation as ``torchvision.ops.roi_align``, with the same arguments.

    Args:
        features: ``(N, C, H, W)`` float feature maps of ``N`` images.
        boxes: the boxes in *image* coordinates, in either of two forms:
            a ``(K, 5)`` tensor whose rows are ``(image index, x1, y1, x2, y2)``
            (the image index, a whole number stored as a float, says which of the
            ``N`` feature maps the box is on); or a list of ``N`` tensors of shape
            ``(L_i, 4)``, the boxes of image ``i``, taken in that order. Same dtype
            as ``features``; ``K`` (or every ``L_i``) may be 0. Boxes may lie
            partly outside the feature map.
        output_size: ``int`` or ``(output_height, output_width)``: the bins per box.
        spatial_scale: feature-map cells per image pixel (``1 / 16`` for a feature
            map 16 times smaller than the image).
        sampling_ratio: sampling points per bin along each axis; if ``<= 0``, an
            adaptive number: ``ceil(box_height / output_height)`` along y and
            ``ceil(box_width / output_width)`` along x, for each box (box sizes in
            feature-map cells, as in step 2).
        aligned: if True, shift the box by half a cell (step 1), so that a
            feature map's cell ``i`` covers ``[i, i + 1)`` in continuous
            coordinates; if False (the legacy RoIAlign), no shift.

    Returns:
        ``(K, C, output_height, output_width)`` tensor of the features' dtype,
        the boxes in the order given (image 0's first, for a list), and
        differentiable with respect to ``features`` (Mask R-CNN learns through it).

    For each box, on its image's ``(C, H, W)`` feature map:

    1. Box in feature-map coordinates: ``x1 * spatial_scale - offset`` (and
       likewise ``y1``, ``x2``, ``y2``), where ``offset`` is 0.5 if ``aligned``
       else 0. No rounding.
    2. Its width ``x2 - x1`` and height ``y2 - y1`` there; if not ``aligned``,
       at least 1 each (``max(width, 1)``: the legacy RoIAlign treats a box
       smaller than a cell as one cell). Bin size: ``width / output_width``
       by ``height / output_height``.
    3. In bin ``(i, j)``, a grid of ``gy x gx`` sampling points (``sampling_ratio``,
       or the adaptive numbers) at the centres of equal sub-cells:
       ``y = y1 + i * bin_height + (iy + 0.5) * bin_height / gy`` for
       ``iy = 0 .. gy - 1``, and likewise ``x`` with ``j`` and ``ix``.
    4. The feature map's value at each point ``(y, x)``, by bilinear interpolation
       of the cells at ``floor`` and ``floor + 1`` of each coordinate, where cell
       ``(r, c)``'s value sits at the point ``(r, c)``. A point more than one cell
       outside the map (``y < -1`` or ``y > H``, or ``x < -1`` or ``x > W``) has
       value 0; any other point is first moved onto the map (``y`` clamped to
       ``[0, H - 1]``, ``x`` to ``[0, W - 1]``), so it takes the border's values.
    5. The bin's output: the average of its ``gy * gx`` points' values (points
       outside the map count, with value 0). A bin with no point (an adaptive
       grid for a box of zero width or height when ``aligned``) outputs 0.
    """
    # TODO: steps 1-5 above are the whole computation; how you organise it is up to you.
    #   - Bring the two forms of boxes, and of output_size, to one form each first.
    #   - A loop over the boxes is fine; within a box, prefer tensor operations over all of its points.
    #   - Bilinear interpolation is separable: what happens along y does not depend on x, and the reverse.
    #     Work out one axis and you can reuse it for the other.
    #   - Every output must stay a tensor computed from features (no .item() or .tolist() on feature
    #     values), so that gradients reach the features.
    #   - Check step 4 by hand on a tiny map: a point halfway between two cells, a point half a cell
    #     outside the map, a point two cells outside.
    raise NotImplementedError("roi_align: average bilinear samples of the feature map in every bin of every box")


def replace_predictors(model: nn.Module, num_classes: int) -> nn.Module:
    """Give torchvision's Mask R-CNN new box and mask predictors for ``num_classes`` classes.

    Fine-tuning a detector trained on COCO's 91 classes for your own classes
    keeps everything but the last layers of its two heads, as torchvision's
    "Object Detection Finetuning Tutorial" does:

    - the box predictor ``model.roi_heads.box_predictor`` (a ``FastRCNNPredictor``)
      maps the box head's feature vector of each region to ``num_classes``
      class scores and ``4 * num_classes`` box regressions (one box per class);
    - the mask predictor ``model.roi_heads.mask_predictor`` (a ``MaskRCNNPredictor``)
      maps the mask head's ``(C, 14, 14)`` features of each region to
      ``num_classes`` mask logits of ``28 x 28`` (one mask per class).

    Replace both, in place, with new predictors built for ``num_classes``:
    ``FastRCNNPredictor(in_features, num_classes)`` and
    ``MaskRCNNPredictor(in_channels, hidden_channels, num_classes)``, from
    ``torchvision.models.detection.faster_rcnn`` and ``.mask_rcnn``. Read
    ``in_features`` and ``in_channels`` from the old predictors (the box and
    mask heads' output sizes: 1024 and 256 in ``maskrcnn_resnet50_fpn``, other
    sizes in other models); the mask predictor's hidden layer
    ``hidden_channels`` is yours to choose (the tutorial uses 256; the old
    predictor's own size is another good choice). Leave the rest of the model
    (backbone, region proposal network, box and mask heads) as it is: its
    modules and weights, which of its parameters are trainable
    (``requires_grad``: freezing is the training's choice, not this
    function's), and its mode (``model.train()`` or ``model.eval()``).

    Args:
        model: a ``torchvision.models.detection.MaskRCNN``, such as
            ``maskrcnn_resnet50_fpn(...)``; possibly on the ``meta`` device.
        num_classes: the number of classes *including the background*
            (class 0): 2 for one kind of object.

    Returns:
        ``model`` itself, changed in place.
    """
    # TODO: print(model.roi_heads) shows both predictors and the layers inside them: the size a predictor
    #   takes is the size its first layer takes. Build the new predictors from the sizes you read there
    #   (never from constants), and put them where the old ones were.
    raise NotImplementedError("replace_predictors: new box and mask predictors for num_classes")
