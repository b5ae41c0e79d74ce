"""Part 4 (transfer.py): the recorded cases of the public tests of ``extract_features`` and ``train_linear_classifier``.

``extract_features``: 6 test digits 5-9 of the shipped data (by index), in
batches of 4 and 2, through the shipped pretrained backbone handed over in
train mode (as a training loop leaves it). 512 numbers per image are too many
to record for every image: the case holds every image's feature sum and the
full features of two images, one from each batch (``summary``).

``train_linear_classifier``: 40 small feature vectors (quarters from 0 to 1,
exact in binary) of 3 classes, more than a mini-batch of 32; the weights and
bias of the classifier after 8 steps at lr 0.2, torch's generator seeded
with 0 before the call.

The fingerprints are the same outputs from the catalogued mistakes of
``tests/mutants/part4_transfer.py``; a mistake that gives the same output as
one listed before it (Adam, and AdamW with ``weight_decay=0``) shares its
fingerprint, whose sentence names both.
"""

from __future__ import annotations

import torch

from dlcv.backbone import pretrained_backbone
from dlcv.data import Split, make_loader
from dlcv.digit_tasks import target_task

FEATURE_IMAGES = [0, 100, 200, 300, 400, 150]  # indices into target_task()'s test split: digits 5, 6, 7, 8, 9, 6
FEATURE_BATCH_SIZE = 4  # batches of 4 and 2
FULL_ROWS = [1, 4]  # one image of each batch
FEATURE_MISTAKES = {
    "features in train mode": (
        "the features of train mode, where batch norm normalises with each batch's own statistics: compute the "
        "features in eval mode (the model arrives in train mode, as a training loop leaves it), so that an "
        "image's features do not depend on the rest of its batch"
    ),
    "features taken after the head": (
        "the model's outputs, taken after the head: the features are what the head reads (its input), "
        "not what it gives"
    ),
}

CLASSIFIER_CASE = {"num_classes": 3, "epochs": 8, "lr": 0.2, "seed": 0}
CLASSIFIER_MISTAKES = {
    "linear classifier trained for one step": (
        "the weights after one step, not ``epochs``: the classifier is not trained enough; each of the "
        "``epochs`` epochs is one step on all the features"
    ),
    "linear classifier trained with Adam": (
        "the weights without weight decay: Adam instead of AdamW, or AdamW with weight_decay=0; AdamW's "
        "default decoupled weight decay (0.01) is missing: keep PyTorch's defaults but lr"
    ),
    "linear classifier without weight decay": "",  # the same weights as Adam's: named by its sentence
    "linear classifier's lr ignored": (
        "the weights of AdamW at its default learning rate (0.001), not at lr: the lr argument is ignored; "
        "pass it to the optimizer"
    ),
    "linear classifier trained with SGD": (
        "the weights that plain SGD gives: SGD instead of AdamW; the classifier trains with AdamW at lr"
    ),
    "linear classifier trained on shuffled mini-batches": (
        "the weights of shuffled mini-batches of 32, several steps per epoch: the classifier trains full batch, "
        "one step per epoch on all the features at once, with no loader and no shuffling"
    ),
}


def feature_split() -> Split:
    test = target_task(5)[1]
    keep = torch.tensor(FEATURE_IMAGES)
    return Split(test.images[keep], test.labels[keep])


def summary(features: torch.Tensor) -> dict:
    """What the case keeps of ``(N, D)`` features: each row's sum (in float64), and the rows ``FULL_ROWS`` in full."""
    return {"sums": features.double().sum(dim=1), "rows": features[FULL_ROWS]}


def features_of(module) -> torch.Tensor:
    model = pretrained_backbone().train()
    features, _ = module.extract_features(model, make_loader(feature_split(), batch_size=FEATURE_BATCH_SIZE), torch.device("cpu"))
    return features


def classifier_inputs() -> tuple[torch.Tensor, torch.Tensor]:
    """40 feature vectors of 6 numbers (quarters in 0 .. 1) and their labels 0, 1, 2, 0, 1, 2, ..."""
    generator = torch.Generator().manual_seed(4)
    features = torch.randint(0, 5, (40, 6), generator=generator).float() / 4
    labels = torch.arange(3).repeat(14)[:40]
    return features, labels


def weights_of(module) -> dict:
    features, labels = classifier_inputs()
    torch.manual_seed(CLASSIFIER_CASE["seed"])
    classifier = module.train_linear_classifier(
        features, labels, CLASSIFIER_CASE["num_classes"], epochs=CLASSIFIER_CASE["epochs"], lr=CLASSIFIER_CASE["lr"]
    )
    return {"weight": classifier.weight.detach().clone(), "bias": classifier.bias.detach().clone()}


def differs(a: dict, b: dict) -> bool:
    return a.keys() != b.keys() or any(a[k].shape != b[k].shape or not torch.allclose(a[k], b[k], rtol=1e-4, atol=1e-4) for k in a)


def record(solution, mistake) -> dict:
    expected_features = summary(features_of(solution))
    feature_fingerprints = []
    for name, sentence in FEATURE_MISTAKES.items():
        output = summary(features_of(mistake(name)))
        if differs(output, expected_features):
            feature_fingerprints.append({"mistake": sentence, "output": output})

    expected_weights = weights_of(solution)
    classifier_fingerprints = []
    for name, sentence in CLASSIFIER_MISTAKES.items():
        output = weights_of(mistake(name))
        if not sentence and all(differs(output, seen["output"]) for seen in classifier_fingerprints):
            raise ValueError(f"the mistake {name!r} has no sentence of its own, but no earlier fingerprint matches it")
        if differs(output, expected_weights) and all(differs(output, seen["output"]) for seen in classifier_fingerprints):
            classifier_fingerprints.append({"mistake": sentence, "output": output})
    features, labels = classifier_inputs()

    return {
        "extract_features": {
            "images": FEATURE_IMAGES,  # indices into the test split of dlcv.digit_tasks.target_task
            "batch_size": FEATURE_BATCH_SIZE,
            "full_rows": FULL_ROWS,
            "labels": feature_split().labels,
            "expected": expected_features,
            "fingerprints": feature_fingerprints,
        },
        "train_linear_classifier": {
            "features": features,
            "labels": labels,
            **{key: value for key, value in CLASSIFIER_CASE.items()},
            "expected": expected_weights,
            "fingerprints": classifier_fingerprints,
        },
    }
