"""The digit canvases with per-pixel labels, and the mean IoU that scores them."""

import torch

from dlcv.data import MNIST_MEAN, MNIST_STD, mnist_split
from dlcv.segmentation import (
    BACKGROUND,
    CANVAS_SIZE,
    DIGITS,
    INK_THRESHOLD,
    NUM_CLASSES,
    class_weights,
    make_canvases,
    mean_iou,
    segmentation_split,
)


def test_canvases_are_fixed_by_their_seed():
    train = mnist_split()[0]
    first, again, other = (make_canvases(train, 20, seed) for seed in (5, 5, 6))
    assert torch.equal(first.images, again.images) and torch.equal(first.labels, again.labels)
    assert not torch.equal(first.labels, other.labels)


def test_shapes_types_and_classes():
    train, test = segmentation_split(50, 30)
    assert train.images.shape == (50, 1, CANVAS_SIZE, CANVAS_SIZE) and train.images.dtype == torch.float32
    assert test.labels.shape == (30, CANVAS_SIZE, CANVAS_SIZE) and test.labels.dtype == torch.int64
    assert set(train.labels.unique().tolist()) == set(range(NUM_CLASSES)) == set(range(1 + len(DIGITS)))


def test_labels_mark_the_ink_and_only_the_ink():
    canvases = segmentation_split(100, 1)[0]
    pixels = (canvases.images[:, 0] * MNIST_STD[0] + MNIST_MEAN[0]) * 255
    ink = canvases.labels != BACKGROUND
    assert (pixels[ink] >= INK_THRESHOLD - 0.5).all()
    assert (pixels[~ink] < INK_THRESHOLD + 0.5).all()


def test_each_canvas_holds_two_digits_of_the_four():
    canvases = segmentation_split(200, 1)[0]
    present = torch.stack([torch.stack([(labels == c).any() for c in range(1, NUM_CLASSES)]) for labels in canvases.labels])
    # Two digits a canvas: one class or two (a quarter of canvases draw the same digit twice).
    assert set(present.sum(dim=1).tolist()) == {1, 2}
    assert 0.15 < (present.sum(dim=1) == 1).float().mean() < 0.35


def test_test_canvases_use_test_digits_only():
    train, test = mnist_split()
    digits = make_canvases(test, 40, seed=3, size=28, digit_size=28, digits=1)
    shown = ((digits.images[:, 0] * MNIST_STD[0] + MNIST_MEAN[0]) * 255).round().to(torch.uint8)
    test_rows = {bytes(image.numpy()) for image in test.images}
    train_rows = {bytes(image.numpy()) for image in train.images}
    assert all(bytes(image.numpy()) in test_rows and bytes(image.numpy()) not in train_rows for image in shown)


def test_mean_iou_by_hand():
    labels = torch.tensor([[[0, 0, 1, 1], [0, 0, 2, 2]]])
    predicted = torch.tensor([[[0, 1, 1, 1], [0, 0, 2, 0]]])
    # background 3/5, class 1 2/3, class 2 1/2; classes 3 and 4 appear nowhere and are left out.
    assert abs(mean_iou(predicted, labels) - (3 / 5 + 2 / 3 + 1 / 2) / 3) < 1e-9
    assert mean_iou(labels, labels) == 1.0


def test_class_weights_favour_rare_classes():
    labels = torch.tensor([0] * 90 + [1] * 9 + [2] * 1)
    weights = class_weights(labels, num_classes=3)
    assert weights[0] < weights[1] < weights[2]
    assert torch.allclose(weights[2] / weights[1], torch.tensor(3.0))  # the square root of 9
