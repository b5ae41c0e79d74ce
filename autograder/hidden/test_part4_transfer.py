"""Part 4: transfer learning (``transfer.*``), the thorough tests: graded on Gradescope only.

The public tests (``autograder/test_part4_transfer.py``) compare
``extract_features`` and ``train_linear_classifier`` with recorded numbers;
these compare them with the grader's own computation of the answer, on more
images, another architecture and other arguments, and say mistake by mistake
what a wrong answer matches.
"""

from copy import deepcopy

import pytest
import torch
import torchvision
from torch import nn

from autograder.checks import check_tensor, fail, kind_of
from autograder.test_part4_transfer import CPU
from dlcv.backbone import pretrained_backbone
from dlcv.data import Split, make_loader
from dlcv.digit_tasks import target_task

TOLERANCE = {"rtol": 1e-4, "atol": 1e-4}

# ---------------------------------------------------------------- extract_features


def digits_loader(per_digit: int, batch_size: int):
    """The first ``per_digit`` test digits of each of 5-9, in batches of ``batch_size``, in a fixed order."""
    test = target_task(5)[1]
    keep = torch.cat([torch.arange(digit * 100, digit * 100 + per_digit) for digit in range(5)])
    return make_loader(Split(test.images[keep], test.labels[keep]), batch_size=batch_size)


def penultimate(model: nn.Module, loader, train_mode: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """What ``model.fc`` reads for every image of ``loader`` (a copy of ``model`` in eval mode unless ``train_mode``)."""
    copy = deepcopy(model).train(train_mode)
    seen, labels = [], []
    handle = copy.fc.register_forward_pre_hook(lambda module, args: seen.append(torch.flatten(args[0], 1)))
    with torch.no_grad():
        for images, batch_labels in loader:
            copy(images)
            labels.append(batch_labels)
    handle.remove()
    return torch.cat(seen), torch.cat(labels)


def resnet18(seed: int = 0) -> nn.Module:
    """torchvision's ResNet-18 with random weights (seeded) and non-trivial batch-norm statistics, in train mode."""
    torch.manual_seed(seed)
    model = torchvision.models.resnet18(weights=None, num_classes=7)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 2.0)
    return model.train()


def extracted(submission, model: nn.Module, loader, count: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The student's ``extract_features``, checked to be a pair of tensors of the documented shapes."""
    outputs = model.fc.out_features  # read before student code runs: it might replace the head
    result = submission.get("transfer.extract_features")(model, loader, CPU)
    if type(result) is not tuple or len(result) != 2:
        fail("a (features, labels) tuple", kind_of(result))
    features = check_tensor(result[0], "the features")
    if features.ndim == 2 and features.shape[1] == outputs:
        fail(
            f"features of shape ({count}, {width}): the {width} numbers the head reads",
            f"shape {tuple(features.shape)}: the model's outputs, taken after the head",
            "the features are the head's input: run the stages before the head, not the whole model",
        )
    check_tensor(features, "the features", shape=(count, width), dtype=torch.float32)
    labels = check_tensor(result[1], "the labels", shape=(count,), dtype=torch.int64)
    return features, labels


@pytest.mark.points(1, visibility="after_due_date")
def test_extract_features_match_the_penultimate_activations(submission):
    cases = [
        ("the shipped backbone", pretrained_backbone().train(), digits_loader(per_digit=8, batch_size=16), 512),
        ("torchvision's ResNet-18", resnet18(), digits_loader(per_digit=2, batch_size=3), 512),
    ]
    for name, model, loader, width in cases:
        expected, expected_labels = penultimate(model, loader)
        train_mode = penultimate(model, loader, train_mode=True)[0]
        features, labels = extracted(submission, model, loader, len(expected), width)
        if not torch.equal(labels, expected_labels):
            fail(f"the labels in the loader's order for {name}", "other labels",
                 "append each batch's labels as the loader gives them")
        if torch.allclose(features, expected, **TOLERANCE):
            continue
        if torch.allclose(features, train_mode, **TOLERANCE):
            fail(
                f"the features of {name} computed in eval mode",
                "the features of train mode, where batch norm uses each batch's own statistics",
                "call eval() on the model (or the encoder) before extracting: an image's features must not depend "
                "on its batch",
            )
        fail(
            f"features equal to what the head of {name} reads (tolerance 1e-4), for {len(expected)} test digits",
            f"a largest difference of {(features - expected).abs().max().item():.3g}",
            "run every child of the model but the last, in order, and flatten",
        )


# ---------------------------------------------------------------- train_linear_classifier


def reference_classifier(features, labels, num_classes, epochs=300, lr=0.01, optimizer=torch.optim.AdamW, seed=0):
    """The classifier the docstring describes, from torch's generator seeded with ``seed``."""
    torch.manual_seed(seed)
    classifier = nn.Linear(features.shape[1], num_classes)
    steps = optimizer(classifier.parameters(), lr=lr)
    for _ in range(epochs):
        steps.zero_grad()
        nn.functional.cross_entropy(classifier(features), labels).backward()
        steps.step()
    return classifier


def clusters(count: int, width: int, classes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` non-negative feature vectors of ``classes`` overlapping clusters, as ReLU features are."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(classes).repeat(count // classes + 1)[:count]
    centres = 2.0 * torch.rand(classes, width, generator=generator)
    return (centres[labels] + torch.randn(count, width, generator=generator)).clamp(min=0), labels


def same_layer(found: nn.Linear, expected: nn.Linear) -> bool:
    return all(
        torch.allclose(a.detach(), b.detach(), rtol=1e-3, atol=1e-4)
        for a, b in ((found.weight, expected.weight), (found.bias, expected.bias))
    )


@pytest.mark.points(0.5, visibility="after_due_date")
def test_train_linear_classifier_matches_the_reference_steps(submission):
    train_linear_classifier = submission.get("transfer.train_linear_classifier")
    # (count, width, classes, seed, keyword arguments): the defaults, one step, a few steps at another lr
    for count, width, classes, seed, arguments in (
        (15, 10, 5, 3, {}),
        (20, 8, 4, 4, {"epochs": 1, "lr": 0.05}),
        (30, 5, 3, 5, {"epochs": 25, "lr": 0.003}),
    ):
        features, labels = clusters(count, width, classes, seed)
        torch.manual_seed(seed)
        classifier = train_linear_classifier(features.clone(), labels.clone(), classes, **arguments)
        if not isinstance(classifier, nn.Linear) or not isinstance(classifier.bias, torch.Tensor):
            fail("an nn.Linear with a bias", kind_of(classifier))
        if (classifier.in_features, classifier.out_features) != (width, classes):
            fail(f"nn.Linear({width}, {classes})", f"nn.Linear({classifier.in_features}, {classifier.out_features})")
        epochs, lr = arguments.get("epochs", 300), arguments.get("lr", 0.01)
        told = f"epochs={epochs}, lr={lr}" + (", the defaults" if not arguments else "")
        if same_layer(classifier, reference_classifier(features, labels, classes, epochs, lr, seed=seed)):
            continue
        probes = [
            ("one step: each of the epochs must be one step", {"epochs": 1, "lr": lr}),
            ("Adam: the optimizer must be AdamW", {"epochs": epochs, "lr": lr, "optimizer": torch.optim.Adam}),
            ("AdamW's own default lr (0.001): pass lr to AdamW", {"epochs": epochs, "lr": 1e-3}),
            ("lr=0.01 whatever lr is given: use the lr argument", {"epochs": epochs, "lr": 0.01}),
            ("300 epochs whatever epochs is given: use the epochs argument", {"epochs": 300, "lr": lr}),
        ]
        likely = next(
            (
                sentence
                for sentence, probe in probes
                if (probe["epochs"], probe["lr"], probe.get("optimizer")) != (epochs, lr, None)
                and same_layer(classifier, reference_classifier(features, labels, classes, seed=seed, **probe))
            ),
            "a new nn.Linear(D, num_classes), AdamW at lr with PyTorch's other defaults, cross-entropy, and one "
            "step on all the features per epoch; nothing else that draws random numbers before the layer is made",
        )
        fail(
            f"the weights of {epochs} full-batch AdamW steps ({told}) on {count} features of width {width}",
            f"those of {likely}" if likely in dict(probes) else "other weights",
            "" if likely in dict(probes) else likely,
        )
