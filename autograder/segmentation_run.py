"""Part 5's accuracy test: a student's UNet trained on digit canvases, scored by mean IoU.

:func:`mean_iou_after_training` builds ``UNet(1, NUM_CLASSES,
base_channels=BASE_CHANNELS, depth=DEPTH)``, trains it with
:func:`dlcv.segmentation.train_segmentation` on ``TRAIN_CANVASES`` training
canvases for ``EPOCHS`` epochs, and returns its mean IoU on ``TEST_CANVASES``
held-out canvases (digits it never saw). ``scripts/calibrate.py`` calls the
same function: these settings are the ones the record in
``autograder/calibration/part5_unet.md`` was measured with; change them only
with a new calibration.
"""

from __future__ import annotations

import torch

from dlcv.device import seed_everything
from dlcv.segmentation import NUM_CLASSES, mean_iou, predict, segmentation_split, train_segmentation

BASE_CHANNELS = 8
DEPTH = 3
TRAIN_CANVASES = 1000
TEST_CANVASES = 300
EPOCHS = 6
LEARNING_RATE = 1e-2
BATCH_SIZE = 16


def describe() -> str:
    return (
        f"UNet(1, {NUM_CLASSES}, base_channels={BASE_CHANNELS}, depth={DEPTH}), {EPOCHS} epochs "
        f"of {TRAIN_CANVASES} canvases"
    )


def mean_iou_after_training(make_unet, seed: int, device: torch.device) -> float:
    """The held-out mean IoU of ``make_unet(...)`` after the grader's training run, all seeded by ``seed``."""
    seed_everything(seed)
    model = make_unet(1, NUM_CLASSES, base_channels=BASE_CHANNELS, depth=DEPTH)
    train, test = segmentation_split(TRAIN_CANVASES, TEST_CANVASES)
    train_segmentation(model, train, EPOCHS, seed, device, lr=LEARNING_RATE, batch_size=BATCH_SIZE)
    return mean_iou(predict(model, test.images, device), test.labels)
