"""Part 4: transfer learning (``transfer.*``).

The shipped backbone (``dlcv.backbone.pretrained_backbone()``, trained on
digits 0-4) is adapted to digits 5-9. torchvision's large architectures are
only ever built on the ``meta`` device, where shapes propagate and no weight
is allocated: VGG19 alone would be 550 MB.
"""

import copy
import math
from contextlib import nullcontext

import pytest
import torch
import torchvision
from torch import nn

from autograder.accuracy import AccuracyTest
from autograder.checks import check_tensor, check_type, fail, kind_of
from autograder.examples import examples
from autograder.recorded import load, recorded_mistake
from autograder.training_loop import training_loop
from dlcv import adaptation
from dlcv.backbone import pretrained_backbone
from dlcv.data import Split, make_loader
from dlcv.device import pick_device
from dlcv.digit_tasks import target_task

CPU = torch.device("cpu")
META = torch.device("meta")

# Where each architecture's head is (its name in model.named_modules()); the backbone is "backbone".
HEADS = {
    "backbone": "fc",
    "resnet18": "fc",
    "resnet34": "fc",
    "alexnet": "classifier.6",
    "vgg11": "classifier.6",
    "vgg19": "classifier.6",
    "mobilenet_v3_small": "classifier.3",
    "efficientnet_b0": "classifier.1",
}
RECORDED = load("part4_transfer")  # written from the solution by scripts/record_expectations.py
TORCHVISION = sorted(name for name in HEADS if name != "backbone")
FEATURES = 512  # the backbone's fc.in_features
BATCH_NORM_STATISTICS = ("running_mean", "running_var", "num_batches_tracked")
ADAMW_DEFAULTS = {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01, "amsgrad": False}

# The numbers of classes each torchvision architecture's new head is checked with: as many as before (the head
# must still be a new layer), then 4 drawn by the project's own seeded generator (the same on every machine).
HEAD_CLASSES = [1000, *examples(4, 4, lambda draw: draw.integer(1, 5000))]

# Few-shot adaptation to digits 5-9 within one budget: see autograder/calibration/part4_*.md.
SHOTS = 5
FEW_SHOT = adaptation.Budget(epochs=30, lr=1e-2, batch_size=25, frozen_epochs=6)
PROBE = AccuracyTest(
    test="test_linear_probe_accuracy_with_5_examples_per_class",
    module="transfer",
    threshold=0.85,
    seed=0,
    measure=lambda student, loop, seed, device: adaptation.probe_accuracy(
        loop, student.linear_probe, SHOTS, FEW_SHOT, seed, device
    ),
    record="part4_transfer_probe.md",
    must_fail=("trained from scratch",),
    context=(
        "encoder not frozen",
        "batch-norm statistics still updating",
        "requires_grad_ and a new head, groups by name, warm start by requires_grad_",
        "batch norm kept in eval mode by overriding train(), features by a hook, the last Linear as head",
        "torchvision's FrozenBatchNorm2d",
    ),
    note=(
        "With 5 examples per class, training the whole network cannot reach what the pretrained features give: "
        "the network trained from scratch (the mistake this test is aimed at) and a probe whose encoder is not "
        "frozen fall below by the task's design; the unfrozen encoder is also charged by "
        "test_linear_probe_trains_only_the_head. Batch-norm statistics that still update pass here and are charged "
        "only by test_linear_probe_keeps_the_encoder_unchanged_in_train_mode."
    ),
)
FINE_TUNE = AccuracyTest(
    test="test_fine_tuned_accuracy_with_5_examples_per_class",
    module="transfer",
    threshold=0.82,
    seed=0,
    measure=lambda student, loop, seed, device: adaptation.fine_tune_accuracy(loop, student, SHOTS, FEW_SHOT, seed, device),
    record="part4_transfer_fine_tune.md",
    must_fail=("trained from scratch",),
    context=(
        "fine-tune learning rates swapped",
        "warm start never unfreezes",
        "warm start unfreezes one epoch late",
        "requires_grad_ and a new head, groups by name, warm start by requires_grad_",
        "batch norm kept in eval mode by overriding train(), features by a hook, the last Linear as head",
    ),
    note=(
        "The mistake this test is aimed at, a network trained from scratch, falls below by the task's design "
        "(5 examples per class). A warm start that never unfreezes, or unfreezes late, still trains a good "
        "head and passes here: both are charged only by test_warm_start_unfreezes_at_the_right_epoch. Swapped "
        "learning rates (the pretrained encoder trained at the head's rate and the head at the encoder's) fail here as well as in "
        "test_fine_tune_optimizer_parameter_groups."
    ),
)
EXTRACTED_FEATURES = AccuracyTest(
    test="test_classifier_on_extracted_features_accuracy_with_5_examples_per_class",
    module="transfer",
    threshold=0.85,
    seed=0,
    measure=lambda student, loop, seed, device: adaptation.features_probe_accuracy(student, SHOTS, seed, device),
    record="part4_transfer_features.md",
    must_fail=("features taken after the head", "linear classifier trained for one step"),
    context=("batch norm kept in eval mode by overriding train(), features by a hook, the last Linear as head",),
    note=(
        "Both mistakes this test must catch are also charged by the test aimed at them "
        "(test_extract_features_match_the_recorded_features, test_train_linear_classifier_fits_separable_features); "
        "here they show that the accuracy needs the encoder's features and a classifier trained to convergence. "
        "Features taken after the head are the nearer of the two: the head's 10 outputs still separate the "
        "digits a little."
    ),
)
ACCURACY_TESTS = [PROBE, FINE_TUNE, EXTRACTED_FEATURES]


def build(architecture: str) -> nn.Module:
    """The pretrained backbone, or a torchvision architecture on the meta device (no weights), in eval mode."""
    if architecture == "backbone":
        return pretrained_backbone()
    with torch.device(META):
        return getattr(torchvision.models, architecture)(weights=None).eval()


def on_device_of(architecture: str):
    """Where student code runs for ``architecture``: under the meta device for torchvision's models."""
    return nullcontext() if architecture == "backbone" else torch.device(META)


def images_for(architecture: str, count: int = 2) -> torch.Tensor:
    if architecture == "backbone":
        return target_digits(count)[0]
    return torch.empty(count, 3, 224, 224, device=META)


def target_digits(count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``count`` normalised training digits 5-9 of the 5-shot set (labels 0-4), in order."""
    return next(iter(make_loader(target_task(SHOTS)[0], batch_size=count)))


def shown(architecture: str) -> str:
    return "the shipped backbone" if architecture == "backbone" else architecture


def named_head(architecture: str) -> str:
    """The head as the docstring names it: ``model.fc`` or ``model.classifier[-1]``."""
    return "model.fc" if HEADS[architecture] == "fc" else "model.classifier[-1]"


def head_parameter_names(architecture: str) -> set[str]:
    return {f"{HEADS[architecture]}.weight", f"{HEADS[architecture]}.bias"}


def check_new_head(model: nn.Module, architecture: str, old_head: nn.Module, num_classes: int) -> nn.Linear:
    """The layer at the head's place is a new Linear(old in_features, num_classes); returns it."""
    where = named_head(architecture)
    if HEADS[architecture] != "fc" and "fc" in dict(model.named_children()):
        fail(
            f"the new head at {where} ({architecture} has no fc)",
            f"a new model.fc, which {architecture}'s forward never calls, and {where} unchanged",
            "the lecture's model.fc = nn.Linear(...) is for ResNets; on VGG, AlexNet, MobileNet and EfficientNet "
            "the head is model.classifier[-1]: replace that",
        )
    owner_name, _, head_name = HEADS[architecture].rpartition(".")
    if owner_name:
        owner = getattr(model, owner_name, None)
        if not isinstance(owner, nn.Sequential) or head_name not in dict(owner.named_children()):
            fail(
                f"the new head at {where}, the last layer of {architecture}'s classifier (an nn.Sequential)",
                f"model.{owner_name} replaced as a whole by {kind_of(owner)}",
                f"the whole classifier replaced: on {architecture}, model.classifier holds more layers before the "
                "head (they belong to the encoder); replace only its last layer, model.classifier[-1]",
            )
    head = model.get_submodule(HEADS[architecture])
    if head is old_head:
        fail(f"a new layer at {where}", "the old head still there", "assign the new nn.Linear in place of the old head")
    if not isinstance(head, nn.Linear):
        fail(f"an nn.Linear at {where}", kind_of(head))
    if head.in_features != old_head.in_features:
        fail(
            f"in_features = {old_head.in_features} for the new head of {shown(architecture)} (what the old head read)",
            f"in_features = {head.in_features}",
            "take in_features from the old head (old.in_features), not its out_features or a fixed number",
        )
    if head.out_features != num_classes:
        fail(
            f"out_features = {num_classes} (num_classes)",
            f"out_features = {head.out_features}",
            "pass num_classes as the new layer's out_features",
        )
    return head


def check_placement(head: nn.Linear, old_head: nn.Linear, where: str) -> None:
    """The new head's weights are on the old head's device and of its dtype (read before the call)."""
    device, dtype = old_head.weight.device, old_head.weight.dtype
    placed = [(name, value) for name, value in head.named_parameters()]
    if any(value.device != device for _, value in placed):
        fail(
            f"the new head {where} on the device of the old head's weights ({device.type})",
            ", ".join(f"{name} on {value.device.type}" for name, value in placed),
            "the new head is on the default device: make the new layer on the device of the old head's weights "
            "(a model may already be on a GPU); nn.Linear takes a device, as tensor factories do",
        )
    if any(value.dtype != dtype for _, value in placed):
        fail(
            f"the new head {where} of the dtype of the old head's weights ({dtype})",
            ", ".join(f"{name} of {value.dtype}" for name, value in placed),
            "the new head is in the default dtype (float32): make the new layer of the dtype of the old head's "
            "weights (a model may be in float64); nn.Linear takes a dtype, as tensor factories do",
        )


# ---------------------------------------------------------------- replace_head


@pytest.mark.points(2)
def test_replace_head_on_the_backbone(submission):
    model = build("backbone")
    old_head = model.fc
    encoder = {name: value.clone() for name, value in model.state_dict().items() if not name.startswith("fc.")}
    returned = submission.get("transfer.replace_head")(model, 3)
    head = check_new_head(model, "backbone", old_head, 3)
    if returned is not head:
        fail("replace_head to return the new layer (model.fc after the call)", kind_of(returned), "return the new nn.Linear")
    after = model.state_dict()
    changed = sorted(name for name in encoder if name not in after or not torch.equal(after[name], encoder[name]))
    if changed:
        fail("every layer but the head left as it was", f"{', '.join(changed[:3])} changed or gone",
             "replace_head only swaps the head; it does not re-initialise or remove other layers")
    model.eval()
    with torch.no_grad():
        check_tensor(model(target_digits(4)[0]), "the model's output for 4 images", shape=(4, 3))
    # As many classes as the pretrained head has (5): the new layer's weights are still fresh, not the old ones.
    model = build("backbone")
    old_head = model.fc
    submission.get("transfer.replace_head")(model, old_head.out_features)
    head = check_new_head(model, "backbone", old_head, old_head.out_features)
    if torch.equal(head.weight, old_head.weight) or torch.equal(head.bias, old_head.bias):
        fail(
            f"a new head with fresh weights for {old_head.out_features} classes (as many as the pretrained head has)",
            "the pretrained head's weights",
            "the old head's weights were copied (or the old layer deep-copied) because the sizes match: the new "
            "head starts from a fresh nn.Linear whatever its size; its classes are not the source task's",
        )


@pytest.mark.points(0.5)
@pytest.mark.parametrize("architecture", TORCHVISION)
def test_replace_head_on_torchvision_models(submission, architecture):
    # The model's weights are on the meta device, and replace_head runs on the default device (the CPU): the new
    # head must follow the old head's weights.
    replace_head = submission.get("transfer.replace_head")
    built = build(architecture)
    for num_classes in HEAD_CLASSES:
        model = copy.deepcopy(built)
        old_head = model.get_submodule(HEADS[architecture])
        returned = replace_head(model, num_classes)
        head = check_new_head(model, architecture, old_head, num_classes)
        if returned is not head:
            fail(f"replace_head to return the new layer ({named_head(architecture)})", kind_of(returned))
        check_placement(head, old_head, named_head(architecture))
        output = check_type(model(images_for(architecture)), torch.Tensor, "the model's output")
        if tuple(output.shape) != (2, num_classes):
            fail(f"an output of shape (2, {num_classes}) for 2 images", f"shape {tuple(output.shape)}",
                 "forward must end with the new head")


# Half of the backbone's encoder frozen (its first two convolutions and batch norms), the rest trainable.
FROZEN_BACKBONE_PREFIXES = ("features.0.", "features.1.", "features.3.", "features.4.")


@pytest.mark.points(1)
def test_replace_head_on_a_float64_model_with_a_frozen_encoder(submission):
    model = build("backbone").double()
    for name, parameter in model.named_parameters():
        parameter.requires_grad = not name.startswith(FROZEN_BACKBONE_PREFIXES)
    flags = {name: parameter.requires_grad for name, parameter in model.named_parameters() if not name.startswith("fc.")}
    old_head = model.fc
    submission.get("transfer.replace_head")(model, 3)
    head = check_new_head(model, "backbone", old_head, 3)
    check_placement(head, old_head, "model.fc")
    now = dict(model.named_parameters())
    changed = sorted(name for name, flag in flags.items() if name not in now or now[name].requires_grad != flag)
    if changed:
        fail(
            "every encoder parameter's requires_grad as it was (features.0, 1, 3 and 4 frozen, the rest trainable)",
            f"{len(changed)} changed ({', '.join(changed[:3])}{', ...' if len(changed) > 3 else ''})",
            "replace_head freezes or unfreezes the encoder: it only swaps the head; freezing is linear_probe's "
            "and warm_start's job",
        )
    model.eval()
    with torch.no_grad():
        check_tensor(model(target_digits(4)[0].double()), "the model's output for 4 images in float64", shape=(4, 3),
                     dtype=torch.float64)


# ---------------------------------------------------------------- linear_probe


@pytest.mark.points(1)
@pytest.mark.parametrize("architecture", ["backbone", "resnet18", "mobilenet_v3_small"])
def test_linear_probe_trains_only_the_head(submission, architecture):
    model = build(architecture)
    old_head = model.get_submodule(HEADS[architecture])
    with on_device_of(architecture):
        returned = submission.get("transfer.linear_probe")(model, 7)
    if returned is not model:
        fail("linear_probe to return the model it was given, changed in place", kind_of(returned))
    check_new_head(model, architecture, old_head, 7)
    trainable = {name for name, parameter in model.named_parameters() if parameter.requires_grad}
    head = head_parameter_names(architecture)
    if head - trainable:
        fail(
            f"the new head's parameters to require grad ({sorted(head)})",
            f"{sorted(head - trainable)} frozen: the head is frozen too",
            "freeze first, then replace the head: a new layer requires grad, but freezing every parameter "
            "after replace_head freezes the head too",
        )
    if trainable - head:
        names = sorted(trainable - head)
        fail(
            "no parameter but the head's to require grad",
            f"{len(names)} encoder parameters still require grad ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})",
            "the encoder is not frozen: set requires_grad = False on every parameter of the model "
            "(model.parameters(), not only model.features) before adding the new head",
        )


def changed_entries(pretrained: dict, model: nn.Module) -> list[str]:
    """Names of ``pretrained``'s entries that ``model``'s state_dict lacks or holds with other values.

    torchvision's FrozenBatchNorm2d keeps no counter: a missing ``num_batches_tracked`` is no change.
    """
    now = model.state_dict()
    return [
        name for name, value in pretrained.items()
        if (name in now and not torch.equal(now[name], value)) or (name not in now and not name.endswith(".num_batches_tracked"))
    ]


@pytest.mark.points(4)
def test_linear_probe_keeps_the_encoder_unchanged_in_train_mode(submission):
    model = build("backbone")
    pretrained = {name: value.clone() for name, value in model.state_dict().items() if not name.startswith("fc.")}
    torch.manual_seed(0)
    returned = submission.get("transfer.linear_probe")(model, 5)
    if returned is not model:
        fail("linear_probe to return the model it was given, changed in place", kind_of(returned))
    head = model.fc
    if not isinstance(head, nn.Linear) or not any(parameter.requires_grad for parameter in head.parameters()):
        fail("model.fc to be a new nn.Linear that requires grad", f"{kind_of(head)}, frozen or not a Linear",
             "replace the head after freezing the encoder")
    changed = changed_entries(pretrained, model)
    if changed:
        fail("the encoder exactly as pretrained after linear_probe", f"{', '.join(changed[:3])} changed by linear_probe itself",
             "freeze the pretrained layers; do not re-initialise or rebuild them")
    head_before = {name: value.clone() for name, value in head.state_dict().items()}
    images, labels = target_digits(25)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(4):  # as every training loop does, with model.train() before the steps
        model.train()
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    changed = changed_entries(pretrained, model)
    statistics = [name for name in changed if name.endswith(BATCH_NORM_STATISTICS)]
    weights = [name for name in changed if name not in statistics]
    if weights:
        fail(
            "the encoder's weights unchanged, bit for bit, after 4 training steps",
            f"{len(weights)} changed ({', '.join(weights[:3])}{', ...' if len(weights) > 3 else ''})",
            "the encoder is not frozen: set requires_grad = False on every pretrained parameter",
        )
    if statistics and all(name.endswith("num_batches_tracked") for name in statistics):
        fail(
            "the encoder's batch-norm buffers unchanged after 4 training steps in train mode",
            f"running_mean and running_var kept, but num_batches_tracked counted the batches ({statistics[0]})",
            "the batch-norm layers still run in train mode: momentum = 0 keeps the running statistics but "
            "num_batches_tracked still counts; keep the frozen batch-norm layers in eval mode",
        )
    if statistics:
        fail(
            "the encoder's batch-norm running statistics (running_mean, running_var, num_batches_tracked) "
            "unchanged after 4 training steps in train mode",
            f"{len(statistics)} changed ({', '.join(statistics[:3])}{', ...' if len(statistics) > 3 else ''})",
            "requires_grad = False stops gradients, not the batch-norm running statistics: a batch-norm layer in "
            "train mode updates them on every forward pass, and model.train() puts every layer in train mode. "
            "Keep the frozen batch-norm layers in eval mode (a forward pre-hook, or an overridden train())",
        )
    if all(torch.equal(value, head_before[name]) for name, value in head.state_dict().items()):
        fail("the new head's weights to change after 4 training steps", "unchanged",
             "the head must require grad and be the layer that forward uses")


# ---------------------------------------------------------------- pre-computed features


def feature_loader():
    """40 test digits 5-9 (8 of each) in batches of 16, 16 and 8, in a fixed order."""
    test = target_task(SHOTS)[1]
    keep = torch.cat([torch.arange(digit * 100, digit * 100 + 8) for digit in range(5)])
    return make_loader(Split(test.images[keep], test.labels[keep]), batch_size=16)


def recorded_loader(case: dict):
    """The recorded case's test digits 5-9 (indices into the shipped test split), in batches of its batch size."""
    test = target_task(SHOTS)[1]
    keep = torch.tensor(case["images"])
    return make_loader(Split(test.images[keep], test.labels[keep]), batch_size=case["batch_size"])


class ReadOnce:
    """A loader that may be read once, as ``extract_features``' docstring says: a second pass fails the test."""

    def __init__(self, loader):
        self.batches = list(loader)
        self.reads = 0

    def __iter__(self):
        self.reads += 1
        if self.reads > 1:
            fail(
                "the loader read once, in order (extract_features' docstring)",
                "a second pass over the loader: the loader read twice",
                "take each batch's features and labels in the same pass: a loader may give other images (shuffled), "
                "or none, when it is read again",
            )
        return iter(self.batches)


def check_extracted(result, outputs: int, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``extract_features``' result is a (features, labels) pair of the documented shapes and dtypes.

    ``outputs`` is the head's ``out_features``: features that wide were taken after the head.
    """
    if type(result) is not tuple or len(result) != 2:
        fail("a (features, labels) tuple", kind_of(result))
    features = check_tensor(result[0], "the features")
    if features.ndim == 2 and features.shape[1] == outputs:
        fail(
            f"features of shape ({count}, {FEATURES}): the {FEATURES} numbers the head reads",
            f"shape {tuple(features.shape)}: the model's outputs, taken after the head",
            "the features are the head's input: run the stages before the head, not the whole model",
        )
    check_tensor(features, "the features", shape=(count, FEATURES), dtype=torch.float32,
                 likely="one row of D numbers per image: flatten each batch's output, then concatenate the batches")
    labels = check_tensor(result[1], "the labels", shape=(count,), dtype=torch.int64,
                          likely="the labels of every batch, concatenated in the loader's order")
    return features, labels


def extracted(submission, model: nn.Module, loader, count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The student's ``extract_features``, checked to be a pair of tensors of the documented shapes."""
    outputs = model.fc.out_features  # read before student code runs: it might replace the head
    return check_extracted(submission.get("transfer.extract_features")(model, loader, CPU), outputs, count)


def summary(features: torch.Tensor, rows: list[int]) -> dict:
    """What a recorded case keeps of ``(N, D)`` features: each row's sum (in float64), and ``rows`` in full."""
    return {"sums": features.detach().double().sum(dim=1), "rows": features.detach()[rows]}


def same_features(found: torch.Tensor, recorded: dict, rows: list[int]) -> bool:
    """``found`` features agree with a recorded summary, up to another CPU's rounding (1e-4)."""
    if found.ndim != 2 or len(found) != len(recorded["sums"]) or found.shape[1] != recorded["rows"].shape[1]:
        return False
    kept = summary(found, rows)
    return bool(
        torch.allclose(kept["rows"], recorded["rows"], rtol=1e-4, atol=1e-4)
        and torch.allclose(kept["sums"], recorded["sums"], rtol=1e-4, atol=1e-3)
    )


@pytest.mark.points(2)
def test_extract_features_match_the_recorded_features(submission):
    case = RECORDED["extract_features"]
    count, rows = len(case["images"]), case["full_rows"]
    model = pretrained_backbone().train()  # as a training loop leaves it
    outputs = model.fc.out_features
    result = submission.get("transfer.extract_features")(model, ReadOnce(recorded_loader(case)), CPU)
    expected = (
        f"the features of the shipped backbone's head input for {count} test digits in batches of "
        f"{case['batch_size']} (recorded, tolerance 1e-4)"
    )
    if type(result) is tuple and len(result) == 2 and type(result[0]) is torch.Tensor:
        mistake = recorded_mistake(result[0], case["fingerprints"], lambda found, output: same_features(found, output, rows))
        if mistake:
            fail(expected, mistake)
    features, labels = check_extracted(result, outputs, count)
    if not torch.equal(labels, case["labels"]):
        fail(f"the labels in the loader's order ({case['labels'].tolist()})", f"{labels.tolist()}",
             "append each batch's labels as the loader gives them")
    if same_features(features, case["expected"], rows):
        return
    found = summary(features, rows)
    fail(
        expected,
        f"a largest difference of {(found['rows'] - case['expected']['rows']).abs().max().item():.3g} on the "
        f"features of images {rows}, and row sums {[round(x, 3) for x in found['sums'].tolist()]} for "
        f"{[round(x, 3) for x in case['expected']['sums'].tolist()]}",
        "the features are the input of the model's head for each image, computed in eval mode, one row per image "
        "in the loader's order",
    )


@pytest.mark.points(1)
def test_extract_features_without_gradient_tracking(submission):
    model = pretrained_backbone()
    features, _ = extracted(submission, model, feature_loader(), 40)
    if features.requires_grad:
        fail("features without an autograd graph", "features that require grad",
             "compute them under torch.no_grad(): the graph of the encoder is never used and costs memory")
    if features.is_inference():
        fail(
            "features that train_linear_classifier can train on (made under torch.no_grad())",
            "inference tensors, returned from inside torch.inference_mode()",
            "tensors made under torch.inference_mode() cannot be saved for backward, so no classifier trains on "
            "them: use torch.no_grad()",
        )


@pytest.mark.points(1)
def test_extract_features_leave_the_model_unchanged(submission):
    model = pretrained_backbone()
    for name, parameter in model.named_parameters():  # some frozen, most trainable: each must stay as it is
        parameter.requires_grad = not name.startswith(FROZEN_BACKBONE_PREFIXES)
    children = dict(model.named_children())
    flags = {name: parameter.requires_grad for name, parameter in model.named_parameters()}
    extracted(submission, model, feature_loader(), 40)
    for name, child in children.items():
        if getattr(model, name, None) is not child:
            fail(
                f"model.{name} left in place by extract_features",
                f"model.{name} is now a {kind_of(getattr(model, name, None))}",
                "setting model.fc = nn.Identity() removes the head from the model itself: run the stages "
                "before the head without replacing any of the model's layers",
            )
    now = dict(model.named_parameters())
    changed = sorted(name for name, flag in flags.items() if now[name].requires_grad != flag)
    if changed:
        fail(
            "every parameter's requires_grad as it was (features.0, 1, 3 and 4 frozen, the rest trainable)",
            f"{len(changed)} changed ({', '.join(changed[:3])}{', ...' if len(changed) > 3 else ''})",
            "the parameters frozen instead of torch.no_grad(): extract_features leaves the model as it was; "
            "torch.no_grad() stops the tracking without touching requires_grad",
        )


def blobs(per_class: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """4 well-separated Gaussian clusters in 16 dimensions, all positive as ReLU features are."""
    centres = 4.0 * torch.rand(4, 16, generator=torch.Generator().manual_seed(0))
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(4).repeat_interleave(per_class)
    return (centres[labels] + 0.4 * torch.randn(len(labels), 16, generator=generator)).clamp(min=0), labels


def check_classifier(classifier, features: int, classes: int) -> nn.Linear:
    """``train_linear_classifier``'s result is an ``nn.Linear(features, classes)`` with a bias."""
    if not isinstance(classifier, nn.Linear):
        fail("train_linear_classifier to return an nn.Linear", kind_of(classifier), "return the trained layer itself")
    if (classifier.in_features, classifier.out_features) != (features, classes):
        fail(f"nn.Linear({features}, {classes}) for {features} features and {classes} classes",
             f"nn.Linear({classifier.in_features}, {classifier.out_features})")
    if not isinstance(classifier.bias, torch.Tensor):
        fail("an nn.Linear with a bias, as nn.Linear has by default", "no bias")
    return classifier


@pytest.mark.points(1)
def test_train_linear_classifier_fits_separable_features(submission):
    features, labels = blobs(per_class=10, seed=1)
    torch.manual_seed(0)
    classifier = check_classifier(submission.get("transfer.train_linear_classifier")(features, labels, 4), 16, 4)
    held_out, held_out_labels = blobs(per_class=50, seed=2)
    with torch.no_grad():
        logits = check_tensor(classifier(held_out), "the classifier's logits", shape=(200, 4))
    accuracy = (logits.argmax(dim=1) == held_out_labels).float().mean().item()
    if accuracy < 0.95:
        fail(
            "at least 95% accuracy on new points of 4 well-separated clusters",
            f"{accuracy:.0%}",
            "the classifier is not trained enough: each of the ``epochs`` epochs is one AdamW step, at learning "
            "rate ``lr``, on the cross-entropy of all the features",
        )


def weights(classifier: nn.Linear) -> dict:
    return {"weight": classifier.weight.detach(), "bias": classifier.bias.detach()}


def same_weights(found: dict, recorded: dict) -> bool:
    """The same weights and bias, up to another CPU's rounding (1e-4)."""
    return all(
        found[key].shape == recorded[key].shape and torch.allclose(found[key], recorded[key], rtol=1e-4, atol=1e-4)
        for key in ("weight", "bias")
    )


@pytest.mark.points(0.5)
def test_train_linear_classifier_matches_the_recorded_weights(submission):
    case = RECORDED["train_linear_classifier"]
    (count, width), classes = case["features"].shape, case["num_classes"]
    torch.manual_seed(case["seed"])
    classifier = submission.get("transfer.train_linear_classifier")(
        case["features"].clone(), case["labels"].clone(), classes, epochs=case["epochs"], lr=case["lr"]
    )
    found = weights(check_classifier(classifier, width, classes))
    expected = (
        f"the recorded weights of nn.Linear({width}, {classes}) after {case['epochs']} epochs at lr={case['lr']} on "
        f"{count} feature vectors (torch.manual_seed({case['seed']}) just before the call; tolerance 1e-4)"
    )
    mistake = recorded_mistake(found, case["fingerprints"], same_weights)
    if mistake:
        fail(expected, mistake)
    if not same_weights(found, case["expected"]):
        difference = max((found[key] - case["expected"][key]).abs().max().item() for key in found)
        fail(
            expected,
            f"a largest difference of {difference:.3g}",
            "the docstring's steps, and nothing else that draws random numbers: a new nn.Linear(D, num_classes) as "
            "PyTorch initialises it, AdamW at learning rate lr with its other defaults, the cross-entropy, and "
            "epochs steps on all the features at once",
        )


@pytest.mark.points(0.5)
def test_train_linear_classifier_on_the_features_device(submission):
    # Features on the meta device (shapes only), while the default device is the CPU: the classifier follows them.
    features = torch.empty(12, 6, device=META)
    labels = torch.zeros(12, dtype=torch.int64, device=META)
    try:
        classifier = submission.get("transfer.train_linear_classifier")(features, labels, 3, epochs=2)
    except RuntimeError as error:
        if "device" not in str(error):
            raise
        fail("a classifier on the features' device (meta), trained there", f"RuntimeError: {error}",
             "the classifier is on the default device, not the features': make the nn.Linear on the features' "
             "device (nn.Linear takes a device, as tensor factories do)")
    classifier = check_classifier(classifier, 6, 3)
    devices = sorted({parameter.device.type for parameter in classifier.parameters()})
    if devices != ["meta"]:
        fail("the classifier's weights on the features' device (meta)", f"on {', '.join(devices)}",
             "the classifier is on the default device, not the features': make the nn.Linear on the features' device")


# ---------------------------------------------------------------- fine-tuning


@pytest.mark.points(1)
@pytest.mark.parametrize("architecture", ["backbone", "resnet18", "vgg11"])
def test_fine_tune_optimizer_parameter_groups(submission, architecture):
    fine_tune_optimizer = submission.get("transfer.fine_tune_optimizer")
    for ratio, encoder_lr in ((0.25, 0.005), (None, 0.002)):  # None: the default ratio, 0.1
        model = build(architecture)
        optimizer = fine_tune_optimizer(model, 0.02) if ratio is None else fine_tune_optimizer(model, 0.02, ratio)
        if type(optimizer) is not torch.optim.AdamW:
            fail("a torch.optim.AdamW optimizer", kind_of(optimizer))
        for group in optimizer.param_groups:
            changed = {key: group[key] for key, value in ADAMW_DEFAULTS.items() if group.get(key) != value}
            if changed:
                fail(f"AdamW's defaults besides the learning rates ({ADAMW_DEFAULTS})", f"{changed}",
                     "set only each group's lr")
        rates = {}
        for group in optimizer.param_groups:
            for parameter in group["params"]:
                rates[id(parameter)] = group["lr"]
        named = list(model.named_parameters())
        missing = [name for name, parameter in named if id(parameter) not in rates]
        if missing:
            fail(
                f"every parameter of the model in a parameter group ({len(named)} parameters)",
                f"{len(missing)} in no group ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})",
                "the encoder is every parameter but the head's, not only model.features "
                "(on a VGG, classifier[0] and classifier[3] belong to the encoder); the head has a bias too",
            )
        if len(rates) != len(named):
            fail(f"only the model's {len(named)} parameters in the groups", f"{len(rates)} parameters")
        head = head_parameter_names(architecture)
        head_rates = sorted({rates[id(parameter)] for name, parameter in named if name in head})
        encoder_rates = sorted({rates[id(parameter)] for name, parameter in named if name not in head})
        told = f"lr=0.02, encoder_lr_ratio={ratio}" if ratio else "lr=0.02 and the default encoder_lr_ratio=0.1"
        if only(head_rates, encoder_lr) and only(encoder_rates, 0.02):
            fail(f"the head at 0.02 and the encoder at {encoder_lr} ({told})",
                 f"the head at {encoder_lr} and the encoder at 0.02: the learning rates are swapped",
                 "the encoder gets lr * encoder_lr_ratio, the new head the full lr")
        if not (only(head_rates, 0.02) and only(encoder_rates, encoder_lr)):
            fail(f"the head's parameters at 0.02 and every other parameter at {encoder_lr} ({told})",
                 f"the head at {head_rates}, the encoder at {encoder_rates}",
                 "one parameter group for the new head's parameters at lr, one for every other parameter at "
                 "lr * encoder_lr_ratio")
        if len(optimizer.param_groups) != 2:
            fail("two parameter groups: the head's parameters, and every other parameter",
                 f"{len(optimizer.param_groups)} groups (with the right learning rates)",
                 "one group per layer or per parameter: gather the head's parameters in one group and the "
                 "encoder's in the other")


@pytest.mark.points(0.5)
@pytest.mark.parametrize("architecture", ["backbone", "vgg11"])
def test_fine_tune_optimizer_with_the_encoder_frozen(submission, architecture):
    # As warm_start leaves the model in a frozen epoch: the optimizer is built once, before the encoder unfreezes.
    model = build(architecture)
    head = head_parameter_names(architecture)
    for name, parameter in model.named_parameters():
        parameter.requires_grad = name in head
    optimizer = submission.get("transfer.fine_tune_optimizer")(model, 0.02)
    if type(optimizer) is not torch.optim.AdamW:
        fail("a torch.optim.AdamW optimizer", kind_of(optimizer))
    grouped = {id(parameter) for group in optimizer.param_groups for parameter in group["params"]}
    named = list(model.named_parameters())
    missing = [name for name, parameter in named if id(parameter) not in grouped]
    if missing:
        fail(
            f"every parameter of the model in a parameter group, frozen or not ({len(named)} parameters; "
            "every encoder parameter frozen when the optimizer is built)",
            f"{len(missing)} in no group ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})",
            "only the parameters that require grad were kept: a parameter frozen while the optimizer is built "
            "(warm_start's first epochs) still belongs in its group, or it never trains once warm_start unfreezes it",
        )
    changed = sorted(name for name, parameter in named if parameter.requires_grad != (name in head))
    if changed:
        fail(
            "the encoder still frozen after fine_tune_optimizer (building the optimizer changes nothing in the model)",
            f"{len(changed)} parameters' requires_grad changed ({', '.join(changed[:3])}"
            f"{', ...' if len(changed) > 3 else ''})",
            "fine_tune_optimizer unfreezes the encoder: it only builds the optimizer; warm_start decides what trains",
        )


def only(rates: list[float], value: float) -> bool:
    """``rates`` is the single learning rate ``value`` (up to rounding: lr / 10 and lr * 0.1 differ in the last bit)."""
    return len(rates) == 1 and math.isclose(rates[0], value, rel_tol=1e-9)


def epochs_list(flags: list[bool]) -> str:
    return ", ".join(f"{epoch}: {'trains' if trains else 'frozen'}" for epoch, trains in enumerate(flags))


@pytest.mark.points(1.5)
@pytest.mark.parametrize("architecture", ["backbone", "vgg11"])
def test_warm_start_unfreezes_at_the_right_epoch(submission, architecture):
    warm_start = submission.get("transfer.warm_start")
    head = head_parameter_names(architecture)
    for frozen_epochs in (1, 0, 3):
        model = build(architecture)
        arrives_frozen = frozen_epochs == 3  # last: a model that arrives with every parameter frozen, its head too
        if arrives_frozen:
            model.requires_grad_(False)
        trains = []
        for epoch in range(6):
            warm_start(model, epoch, frozen_epochs)
            flags = {name: parameter.requires_grad for name, parameter in model.named_parameters()}
            if not all(flags[name] for name in head):
                arrived = ", the model handed over with every parameter frozen" if arrives_frozen else ""
                fail(f"the head to require grad in every epoch (frozen_epochs={frozen_epochs}{arrived})",
                     f"the head frozen at epoch {epoch}",
                     "the head may arrive frozen: set the head's requires_grad to True in every epoch, not only the "
                     "encoder's flags" if arrives_frozen and epoch == 0 else "freeze every parameter but the head's")
            encoder = {flags[name] for name in flags if name not in head}
            if len(encoder) != 1:
                partly = sorted(name for name in flags if name not in head and flags[name])
                fail(f"the whole encoder frozen or trainable together (epoch {epoch}, frozen_epochs={frozen_epochs})",
                     f"some encoder parameters still require grad ({', '.join(partly[:3])}, ...)",
                     "the encoder is every parameter but the head's, not only model.features")
            trains.append(encoder.pop())
        expected = [epoch >= frozen_epochs for epoch in range(6)]
        if trains == expected:
            continue
        first = trains.index(True) if True in trains else None
        likely = {
            None: "the encoder never unfreezes: set requires_grad back to True once epoch >= frozen_epochs",
            frozen_epochs + 1: "it unfreezes one epoch late: epochs count from 0, so epoch frozen_epochs is the "
            "first to train the encoder (epoch >= frozen_epochs, not epoch > frozen_epochs)",
            frozen_epochs - 1: "it unfreezes one epoch early: the encoder is frozen while epoch < frozen_epochs",
        }.get(first, "frozen while epoch < frozen_epochs, trainable from then on")
        fail(f"with frozen_epochs={frozen_epochs}, epochs {epochs_list(expected)}", epochs_list(trains), likely)


# ---------------------------------------------------------------- accuracy with 5 examples per class


SCRATCH_NOTE = (
    "the network trained from scratch with the same budget gets about 50%: the pretrained weights may have "
    "been lost (layers re-initialised or the model rebuilt)"
)


@pytest.mark.points(3)
def test_linear_probe_accuracy_with_5_examples_per_class(submission):
    submission.get("transfer.linear_probe")  # a readable failure for a missing name before training
    loop = training_loop(submission)
    accuracy = PROBE.run(submission.module("transfer"), loop, pick_device())
    PROBE.judge(
        accuracy,
        f"test accuracy of at least {PROBE.threshold:.0%} on digits 5-9 after a linear probe trained on "
        f"{SHOTS} examples per class ({FEW_SHOT.epochs} epochs, lr {FEW_SHOT.lr})",
        f"{SCRATCH_NOTE}, or the head is not the layer forward uses; the linear_probe tests above say more",
   
        loop=loop,
    )


@pytest.mark.points(3)
def test_fine_tuned_accuracy_with_5_examples_per_class(submission):
    for name in ("replace_head", "fine_tune_optimizer", "warm_start"):
        submission.get(f"transfer.{name}")
    loop = training_loop(submission)
    accuracy = FINE_TUNE.run(submission.module("transfer"), loop, pick_device())
    FINE_TUNE.judge(
        accuracy,
        f"test accuracy of at least {FINE_TUNE.threshold:.0%} on digits 5-9 after fine-tuning on {SHOTS} "
        f"examples per class ({FEW_SHOT.epochs} epochs, head lr {FEW_SHOT.lr}, {FEW_SHOT.frozen_epochs} frozen)",
        f"{SCRATCH_NOTE}; or the encoder trains as fast as the head; the fine_tune_optimizer and warm_start "
        "tests above say more",
   
        loop=loop,
    )


@pytest.mark.points(2)
def test_classifier_on_extracted_features_accuracy_with_5_examples_per_class(submission):
    for name in ("extract_features", "train_linear_classifier"):
        submission.get(f"transfer.{name}")
    loop = None  # no training loop: the classifier is fitted by the student's train_linear_classifier
    accuracy = EXTRACTED_FEATURES.run(submission.module("transfer"), loop, pick_device())
    EXTRACTED_FEATURES.judge(
        accuracy,
        f"test accuracy of at least {EXTRACTED_FEATURES.threshold:.0%} on digits 5-9 for train_linear_classifier "
        f"on the features that extract_features gives of {SHOTS} examples per class",
        "the features are not the head's input (taken after the head: only 5 numbers), or the classifier is "
        "not trained for its epochs; the extract_features and train_linear_classifier tests above say more",
   
        loop=loop,
    )
