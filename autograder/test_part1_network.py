"""Part 1: the AlexNet-style network (``network.Network``)."""

import pytest
import torch
from torch import nn

from autograder import reference
from autograder.accuracy import AccuracyTest
from autograder.checks import check_tensor, fail, gradient_problem, kind_of
from autograder.grading.messages import safe_str
from autograder.training_loop import training_loop
from dlcv.device import pick_device

# (kind, in, out, kernel, stride, padding) of the handout's convolutions, in order.
EXPECTED_CONVOLUTIONS = [
    (3, 16, 11, 4, 2),
    (16, 48, 5, 1, 2),
    (48, 96, 3, 1, 1),
    (96, 64, 3, 1, 1),
    (64, 64, 3, 1, 1),
]
EXPECTED_LINEARS = [(576, 256), (256, 256), (256, 10)]
EXPECTED_PARAMETERS = 375_002

# The student's Network trained by the grader's own loop: see autograder/calibration/part1_network.md.
TRAINED_NETWORK = AccuracyTest(
    test="test_trained_network_reaches_accuracy_threshold",
    module="network",
    threshold=0.89,
    seed=0,
    measure=lambda student, loop, seed, device: reference.network_accuracy(loop, student.Network, seed, device),
    record="part1_network.md",
    must_fail=("features detached from the gradient",),
    context=("softmax in forward", "no relu at all", "dropout on in eval mode", "functional relu and dropout in forward"),
    note=(
        "A forward that ends in a softmax is charged only by test_forward_returns_logits_not_probabilities: this "
        "test reads the network's outputs through reference.LogitsOf (the log of probabilities, which are logits "
        "of the same distribution), so such a network trains as the solution does. Read as logits, it trained "
        "slowly by an amount that moved with the seed and the CPU kernel: 0.739 to 0.861 over 5 seeds on one "
        "machine, 0.888 at seed 0 on another, against this threshold of 0.89. No ReLU and dropout left on in "
        "eval mode pass here and are charged by their own tests. The mistake this test is aimed at, features "
        "detached from the gradient (only the classifier learns), stays far below on every seed and kernel."
    ),
)
ACCURACY_TESTS = [TRAINED_NETWORK]


def logits(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """``model(images)``, checked to be a plain tensor of ``(N, num_classes)`` logits."""
    return check_tensor(model(images), f"the output of forward for {len(images)} images", likely="forward must return the classifier's output")


# What every nn.Module keeps in its own __dict__ (_modules, _parameters, _buffers, hooks, ...): not the student's.
MODULE_INTERNALS = frozenset(vars(nn.Module()))


def unregistered_layers(model: nn.Module) -> list[str]:
    """The model's own attributes holding layers in a plain list, tuple or dict, where nn.Module never registers them.

    nn.Module's own bookkeeping (``_modules``, ``_parameters``, ...) is left out: its layers are registered.
    """
    found = []
    for name, value in vars(model).items():
        if name in MODULE_INTERNALS:
            continue
        values = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
        if any(isinstance(v, nn.Module) for v in values):
            found.append(f"self.{name} ({type(value).__name__})")
    return found


UNREGISTERED = (
    "layers kept in a plain Python {kind} are not registered: the model's parameters, .to(device), .train() and "
    ".eval() never see them. Wrap them in nn.Sequential(...) (or nn.ModuleList / nn.ModuleDict)"
)


def layer_name(model: nn.Module, name: str) -> str:
    """``features.6 (Conv2d(48, 96, ...))``: a layer's name and what it is."""
    layer = model.get_submodule(name)
    return f"{name} ({layer!r})" if len(repr(layer)) < 90 else f"{name} ({type(layer).__name__})"


def build(submission, seed: int = 0, **kwargs) -> nn.Module:
    torch.manual_seed(seed)
    model = submission.get("network.Network")(**kwargs)
    if not isinstance(model, nn.Module):
        fail("Network(...) to be an nn.Module", type(model).__name__, "subclass nn.Module and call super().__init__()")
    return model


@pytest.mark.points(2)
@pytest.mark.parametrize("batch_size", [1, 2, 7])
def test_output_shape(submission, batch_size):
    model = build(submission).eval()
    logits = model(torch.randn(batch_size, 3, 64, 64))
    check_tensor(
        logits,
        f"logits for {batch_size} images",
        shape=(batch_size, 10),
        dtype=torch.float32,
        likely="forward must end with the classifier; flatten every dimension but the batch before it, so the batch dimension stays",
    )


@pytest.mark.points(1)
def test_forward_uses_avgpool(submission):
    model = build(submission).eval()
    calls = []
    if not isinstance(getattr(model, "avgpool", None), nn.Module):
        fail("an nn.Module attribute self.avgpool", "none", "name the three stages features, avgpool and classifier")
    model.avgpool.register_forward_hook(lambda module, args, output: calls.append(tuple(output.shape)))
    logits(model, torch.randn(2, 3, 64, 64))
    if len(calls) != 1:
        fail("forward to call self.avgpool once, between features and the flattening", f"{len(calls)} calls",
             "x = self.avgpool(x) is missing from forward: with 64 x 64 inputs the features are 3 x 3 already, "
             "but any other size breaks the classifier")


@pytest.mark.points(1)
@pytest.mark.parametrize("height, width", [(32, 32), (80, 96), (128, 72)])
def test_any_input_size_gives_logits(submission, height, width):
    # The docstring: the adaptive average pool fixes the spatial size, so any input size works.
    model = build(submission).eval()
    expected = f"logits of shape (2, 10) for 2 images of {height} x {width} pixels"
    likely = (
        "forward must pass the features through self.avgpool (nn.AdaptiveAvgPool2d((3, 3))) before flattening, "
        "so that the classifier always receives 64 x 3 x 3 values whatever the image size"
    )
    try:
        output = model(torch.randn(2, 3, height, width))
    except NotImplementedError:
        raise  # a TODO: reported as such
    except Exception as error:  # a shape error inside forward: say what it means here
        fail(expected, f"{type(error).__name__} in forward: {safe_str(error)}", likely)
    check_tensor(output, expected, shape=(2, 10), likely=likely)


@pytest.mark.points(1)
def test_num_classes_sets_the_last_layer(submission):
    model = build(submission, num_classes=7).eval()
    check_tensor(
        model(torch.randn(2, 3, 64, 64)),
        "logits of Network(num_classes=7)",
        shape=(2, 7),
        likely="pass num_classes to the last nn.Linear instead of hard-coding 10",
    )


@pytest.mark.points(1)
def test_stages_are_named_features_avgpool_classifier(submission):
    model = build(submission)
    for name in ("features", "avgpool", "classifier"):
        stage = getattr(model, name, None)
        if not isinstance(stage, nn.Module):
            if isinstance(stage, (list, tuple, dict)):
                fail(f"an nn.Module attribute self.{name}", f"a {type(stage).__name__}", UNREGISTERED.format(kind=type(stage).__name__))
            fail(f"an nn.Module attribute self.{name}", "none" if stage is None else kind_of(stage),
                 "name the three stages features, avgpool and classifier")
    if not isinstance(model.avgpool, nn.AdaptiveAvgPool2d) or model.avgpool.output_size not in ((3, 3), 3):
        fail("avgpool = nn.AdaptiveAvgPool2d((3, 3))", repr(model.avgpool))


@pytest.mark.points(2)
def test_convolutions_match_the_handout(submission):
    convolutions = [m for m in build(submission).features.modules() if isinstance(m, nn.Conv2d)]
    found = [(c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0], c.padding[0]) for c in convolutions]
    if len(found) != len(EXPECTED_CONVOLUTIONS):
        fail(f"{len(EXPECTED_CONVOLUTIONS)} Conv2d layers in features", f"{len(found)}")
    for number, (expected, got) in enumerate(zip(EXPECTED_CONVOLUTIONS, found), start=1):
        if expected != got:
            fail(
                f"convolution {number} as (in, out, kernel, stride, padding) = {expected}",
                f"{got}",
                "copy the channel counts, kernel sizes, strides and paddings from the docstring",
            )
    layers = [m for m in build(submission).features.modules() if isinstance(m, (nn.Conv2d, nn.MaxPool2d))]
    order = ["conv" if isinstance(m, nn.Conv2d) else "pool" for m in layers]
    expected_order = ["conv", "pool", "conv", "pool", "conv", "conv", "conv"]
    if order != expected_order:
        fail(f"features in the order {', '.join(expected_order)} (max pooling after convolutions 1 and 2)",
             ", ".join(order), "a MaxPool2d is missing, extra or in another place")
    for pool in (m for m in layers if isinstance(m, nn.MaxPool2d)):
        size = (pool.kernel_size, pool.stride)
        if size not in ((3, 2), ((3, 3), (2, 2))):
            fail("nn.MaxPool2d(kernel_size=3, stride=2)", repr(pool), "pooling windows of 3 moved by 2, as in AlexNet")


@pytest.mark.points(2)
def test_classifier_linear_layers(submission):
    linears = [m for m in build(submission).classifier.modules() if isinstance(m, nn.Linear)]
    found = [(m.in_features, m.out_features) for m in linears]
    if len(found) != len(EXPECTED_LINEARS):
        fail(f"{len(EXPECTED_LINEARS)} Linear layers in classifier", f"{len(found)}")
    if found[0] != EXPECTED_LINEARS[0]:
        fail(
            f"the first Linear layer to take in_features=576 (64 channels x 3 x 3 after avgpool)",
            f"in_features={found[0][0]}",
            "in_features must equal channels x height x width of the flattened avgpool output",
        )
    if found != EXPECTED_LINEARS:
        fail(f"Linear layers (in, out) = {EXPECTED_LINEARS}", f"{found}")


@pytest.mark.points(1)
def test_parameter_count(submission):
    model = build(submission)
    count = sum(p.numel() for p in model.parameters())
    if count != EXPECTED_PARAMETERS:
        hidden = unregistered_layers(model)
        fail(
            f"{EXPECTED_PARAMETERS:,} parameters",
            f"{count:,}",
            UNREGISTERED.format(kind="container") + f" ({', '.join(hidden)})" if hidden
            else "a layer's size differs from the docstring, a bias is missing (bias=False), or a layer is extra",
        )


def layer_inputs(model: nn.Module, images: torch.Tensor, kinds: tuple[type, ...], within: nn.Module | None = None):
    """``(layer name, layer, its input)`` for each layer of ``kinds`` (in ``within``), in the order forward calls them."""
    seen: list[tuple[str, nn.Module, torch.Tensor]] = []
    names = {module: name for name, module in model.named_modules()}
    hooks = [
        module.register_forward_pre_hook(lambda module, args: seen.append((names[module], module, args[0].detach())))
        for module in (within or model).modules()
        if isinstance(module, kinds)
    ]
    try:
        model(images)
    finally:
        for hook in hooks:
            hook.remove()
    return seen


@pytest.mark.points(2)
def test_relu_after_every_hidden_layer(submission):
    # Behind a ReLU (and max pooling, average pooling or dropout) every value is >= 0, so every
    # weighted layer but the first must see a non-negative input; nn.ReLU and F.relu both pass.
    model = build(submission).eval()
    torch.manual_seed(2)
    seen = layer_inputs(model, torch.randn(4, 3, 64, 64), (nn.Conv2d, nn.Linear))
    for (previous, _, _), (layer, _, layer_input) in zip(seen, seen[1:]):
        if layer_input.min() < 0:
            fail(
                f"the input of {layer_name(model, layer)} to be >= 0 (it comes after a ReLU)",
                f"negative values (minimum {layer_input.min().item():.3g})",
                f"a ReLU is missing after {layer_name(model, previous)}: without a non-linearity between them, "
                "stacked layers collapse into one linear map",
            )


@pytest.mark.points(2)
def test_dropout_is_active_in_train_mode_and_off_in_eval_mode(submission):
    model = build(submission, dropout=0.5)
    images = torch.randn(4, 3, 64, 64)
    model.train()
    if torch.equal(logits(model, images), logits(model, images)):
        fail("two forward passes in train mode to differ (dropout is random)", "identical outputs",
             "dropout is missing from the classifier")
    model.eval()
    if not torch.equal(logits(model, images), logits(model, images)):
        fail(
            "identical outputs for two forward passes in eval mode",
            "different outputs",
            "dropout stays on in eval mode: use nn.Dropout modules (or F.dropout(x, training=self.training))",
        )
    wrong = [m.p for m in model.modules() if isinstance(m, nn.Dropout) and m.p != 0.5]
    if wrong:
        fail("dropout probability 0.5 for Network(dropout=0.5)", f"nn.Dropout with p={wrong}",
             "pass the dropout argument to nn.Dropout instead of a fixed number")


def dropped_fraction(before: torch.Tensor, after: torch.Tensor) -> float:
    """Of the values that are not zero before dropout, the fraction that are zero after it."""
    alive = before != 0
    return float(((after == 0) & alive).sum() / alive.sum().clamp_min(1))


@pytest.mark.points(2)
@pytest.mark.parametrize("dropout", [None, 0.2])
def test_dropout_before_the_first_two_linear_layers(submission, dropout):
    # Dropout(p), Linear, ReLU, Dropout(p), Linear, ReLU, Linear: in train mode, a share p of the values
    # entering each of the first two Linear layers is zeroed (and the rest scaled by 1 / (1 - p)); none before
    # the last. Measured from the outside, so nn.Dropout and F.dropout both pass.
    model = build(submission) if dropout is None else build(submission, dropout=dropout)
    p = 0.5 if dropout is None else dropout
    described = "Network()" if dropout is None else f"Network(dropout={dropout})"
    torch.manual_seed(3)
    images = torch.randn(64, 3, 64, 64)
    with torch.no_grad():
        clean = layer_inputs(model.eval(), images, (nn.Linear,), model.classifier)
        torch.manual_seed(4)
        noisy = layer_inputs(model.train(), images, (nn.Linear,), model.classifier)
        if len(noisy) != 3 or len(clean) != 3:
            fail("three nn.Linear layers in classifier, each called once per forward", f"{len(noisy)} calls")
        (_, first, first_in), (_, second, second_in), (_, _, last_in) = noisy
        before = [clean[0][2], torch.relu(first(first_in)), torch.relu(second(second_in))]
    fractions = [dropped_fraction(b, a) for b, a in zip(before, [first_in, second_in, last_in])]
    for number, (fraction, expected) in enumerate(zip(fractions, [p, p, 0.0]), start=1):
        if abs(fraction - expected) > 0.05:
            where = f"the input of the classifier's Linear layer {number}"
            if expected == 0:
                fail(f"no dropout before the last Linear layer ({where})",
                     f"{fraction:.0%} of its inputs zeroed in train mode",
                     "the last layer's input must not be dropped: Dropout comes before the first two Linear layers only")
            likely = (
                f"the dropout before Linear layer {number} is missing" if fraction < 0.02
                else "a dropout probability is hard-coded: pass the dropout argument to every dropout"
            )
            fail(f"dropout with p={p:g} on {where} in train mode for {described}",
                 f"{fraction:.0%} of its inputs zeroed", likely)


@pytest.mark.points(1)
def test_dropout_argument_zero_turns_dropout_off(submission):
    model = build(submission, dropout=0.0).train()
    images = torch.randn(4, 3, 64, 64)
    if not torch.equal(logits(model, images), logits(model, images)):
        fail("identical outputs with Network(dropout=0.0)", "different outputs", "a dropout probability is hard-coded")


@pytest.mark.points(2)
def test_every_parameter_gets_a_finite_nonzero_gradient(submission):
    model = build(submission).train()
    torch.manual_seed(1)
    images, labels = torch.randn(8, 3, 64, 64), torch.arange(8) % 10
    nn.functional.cross_entropy(model(images), labels).backward()
    for name, parameter in model.named_parameters():
        problem = gradient_problem(parameter)
        if problem == "none":
            fail(f"a gradient for parameter {name}", "none",
                 "this layer is not used in forward, or its output is detached (.detach(), torch.no_grad() in forward)")
        if problem == "NaN or infinity":
            fail(f"a finite gradient for {name}", "NaN or infinity")
        if problem == "all zeros":
            fail(f"a non-zero gradient for {name}", "all zeros", "a layer's output is cut off or multiplied by zero")


@pytest.mark.points(2)
def test_forward_returns_logits_not_probabilities(submission):
    model = build(submission).eval()
    outputs = logits(model, torch.randn(6, 3, 64, 64))
    if (outputs >= 0).all() and torch.allclose(outputs.sum(dim=1), torch.ones(6), atol=1e-4):
        fail(
            "raw scores (logits) from forward",
            "rows of non-negative numbers that sum to 1: probabilities",
            "forward applies softmax; remove it: nn.CrossEntropyLoss applies log-softmax itself, "
            "and a softmax before it flattens the gradients and slows training",
        )


@pytest.mark.points(4, time_limit=180)
def test_trained_network_reaches_accuracy_threshold(submission):
    build(submission)  # a readable failure before training
    loop = training_loop(submission)
    accuracy = TRAINED_NETWORK.run(submission.module("network"), loop, pick_device())
    TRAINED_NETWORK.judge(
        accuracy,
        f"test accuracy of at least {TRAINED_NETWORK.threshold:.0%} after {reference.NETWORK_EPOCHS} epochs "
        "of the grader's own training loop",
        "part of the network is cut off from the gradient (a .detach(), or a layer not used in forward), "
        "or forward returns probabilities instead of logits",
   
        loop=loop,
    )
