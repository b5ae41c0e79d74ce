"""The shipped backbone checkpoint and the fixed split of digits 5-9 into few-shot training sets."""

import hashlib
import re

import pytest
import torch

from autograder.hidden import reference_training
from dlcv.adaptation import task_accuracy
from dlcv.backbone import CHECKPOINT, DigitBackbone, pretrained_backbone
from dlcv.data import DATA_DIR, mnist_split
from dlcv.digit_tasks import SHOTS, source_task, target_task

README = DATA_DIR / "README.md"


def recorded(field: str) -> str:
    """A field of the checkpoint's training record in data/README.md (``| field | value |``)."""
    section = README.read_text().split("## `digit_backbone.pt`", 1)[1]
    return re.search(rf"^\| {field} \| (.+?) \|$", section, re.MULTILINE).group(1)


def test_checkpoint_matches_its_recorded_checksum_and_size():
    data = CHECKPOINT.read_bytes()
    assert recorded("sha256") == f"`{hashlib.sha256(data).hexdigest()}`"
    assert len(data) <= 10 * 2**20
    assert recorded("size").endswith(f"({len(data):,} bytes)")


def test_pretrained_backbone_has_its_recorded_accuracy_on_digits_0_to_4():
    model = pretrained_backbone()
    assert isinstance(model, DigitBackbone) and not model.training
    assert list(dict(model.named_children())) == ["features", "avgpool", "fc"]
    accuracy = task_accuracy(reference_training, model, source_task()[1], torch.device("cpu"))
    assert recorded("held-out accuracy").startswith(f"{accuracy:.3f}")


def test_tasks_split_the_digits_without_overlap():
    train, test = mnist_split()
    source_train, source_test = source_task()
    target_train, target_test = target_task()
    assert (len(source_train), len(source_test), len(target_train), len(target_test)) == (2000, 500, 2000, 500)
    for split in (source_train, source_test, target_train, target_test):
        assert split.labels.bincount().tolist() == [len(split) // 5] * 5  # labels 0-4, balanced
    assert torch.equal(target_train.images[:400], train.images[train.labels == 5])  # digit 5 is label 0
    assert torch.equal(source_test.images[-100:], test.images[test.labels == 4])


@pytest.mark.parametrize("shots", [s for s in SHOTS if s is not None])
def test_few_shot_sets_are_the_first_examples_of_each_digit_and_nested(shots):
    train, test = target_task(shots)
    assert train.labels.tolist() == [label for label in range(5) for _ in range(shots)]
    everything = target_task()[0]
    first = torch.cat([everything.images[everything.labels == label][:shots] for label in range(5)])
    assert torch.equal(train.images, first)
    assert torch.equal(test.images, target_task()[1].images)
    again = target_task(shots)[0]
    assert torch.equal(again.images, train.images)


def test_shots_out_of_range_are_refused():
    with pytest.raises(ValueError):
        target_task(0)
    with pytest.raises(ValueError):
        target_task(401)
