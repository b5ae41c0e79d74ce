"""Part 7: what the CNN learns (``visualize.receptive_field``, ``visualize.top_activating_patches``).

Receptive fields are checked on small stacks of layers, one requirement of
the docstring at a time, and on Part 1's network (built here from the
handout's layer list, never from the student's ``network.py``). The patches
are checked on a model with planted detectors: channels that fire on one
5 x 5 pattern, planted at known places in noise images; the activations on a
model with fixed pseudo-random weights.

The expected results are *recorded*: written once from the reference solution
into ``autograder/recorded/part7_visualize.json``, with the inputs they are
for. Nothing here computes them. When a result is wrong, the likely mistake
is named from the same file's *fingerprints*: what each catalogued mistake
returns on the same inputs. Gradescope also grades thorough tests that are
not in the handout (fields measured with gradients on random stacks of
layers, patches of other images).
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from autograder.checks import check_tensor, check_type, fail
from autograder.examples import noise
from autograder.recorded import load, recorded_mistake

GEOMETRIC = (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)


try:  # read now: the tests run where the grader's files cannot be read
    RECORDED = load("part7_visualize")
except FileNotFoundError:  # only while scripts/record_expectations.py writes it the first time (it uses this module)
    RECORDED = None


def recorded() -> dict:
    """The recorded cases of this part (``autograder/recorded/part7_visualize.json``)."""
    if RECORDED is None:
        raise FileNotFoundError("autograder/recorded/part7_visualize.json is missing")
    return RECORDED


# ---------------------------------------------------------------------------------------------
# Receptive fields
# ---------------------------------------------------------------------------------------------

# The layers a recorded stack may hold, by name. A recorded layer is a dict such as
# {"kind": "Conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": 3, "stride": 2}.
LAYER_KINDS = {
    kind.__name__: kind
    for kind in (
        nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ReLU, nn.BatchNorm2d, nn.Dropout, nn.Dropout2d, nn.Identity,
        nn.LeakyReLU, nn.Sigmoid, nn.Tanh,
    )
}


def build_layer(spec: dict) -> nn.Module:
    """The layer a recorded dict describes; lists (JSON's pairs) become tuples, as a student would write them."""
    settings = {key: tuple(value) if isinstance(value, list) else value for key, value in spec.items() if key != "kind"}
    return LAYER_KINDS[spec["kind"]](**settings)


def build_stack(case: dict):
    """A recorded stack of layers: a list, or an ``nn.Sequential`` where the case says so."""
    layers = [build_layer(spec) for spec in case["layers"]]
    return nn.Sequential(*layers) if case.get("sequential") else layers


def side(value) -> int:
    """One side of a square layer's setting (int or pair)."""
    return value[0] if isinstance(value, tuple) else value


def describe(layers) -> str:
    """``[Conv2d(kernel_size=3, stride=2, padding=1), ReLU, MaxPool2d(kernel_size=2)]``: settings that differ from the defaults."""
    shown = []
    for layer in layers:
        name = type(layer).__name__
        if isinstance(layer, GEOMETRIC):
            kernel = side(layer.kernel_size)
            defaults = {"stride": 1 if isinstance(layer, nn.Conv2d) else kernel, "padding": 0, "dilation": 1}
            shown_settings = [f"kernel_size={kernel}"] + [
                f"{key}={side(getattr(layer, key))}"
                for key, default in defaults.items()
                if hasattr(layer, key) and side(getattr(layer, key)) != default
            ]
            name += f"({', '.join(shown_settings)})"
        shown.append(name)
    return "[" + ", ".join(shown) + "]"


def show(field) -> str:
    size, jump, start = field
    return f"ReceptiveField(size={size}, jump={jump}, start={float(start)!r})"


# ReceptiveField's fields, as the handout gives them: read by name, so a renamed or reordered field is named.
FIELD_NAMES = ("size", "jump", "start")


def student_field(submission, layers) -> tuple[int, int, float]:
    """``receptive_field(layers)``, checked to be a ReceptiveField of an int, an int and a number, read by name."""
    result = submission.get("visualize.receptive_field")(layers)
    what = f"receptive_field({describe(layers)})"
    check_type(result, submission.get("visualize.ReceptiveField"), what, "return ReceptiveField(size, jump, start)")
    fields = tuple(getattr(type(result), "_fields", ()))
    if fields != FIELD_NAMES:
        fail(
            f"{what} to be a ReceptiveField with the fields ({', '.join(FIELD_NAMES)})",
            f"a ReceptiveField with the fields ({', '.join(map(str, fields))})" if fields else
            "a ReceptiveField without named fields",
            "ReceptiveField's fields are given (its docstring: do not change it): size, jump, start, in that "
            "order. The grader reads them by name (field.size, field.jump, field.start): keep the class as handed "
            "out, and name your own variables as you like",
        )  # fmt: skip
    size, jump, start = result.size, result.jump, result.start
    check_type(size, int, f"the size of {what}", "size is a whole number of pixels: a Python int")
    check_type(jump, int, f"the jump of {what}", "jump is the product of the strides: a Python int")
    check_type(
        start, float, f"the start of {what}",
        "start is a Python float, also when it is a whole number (ReceptiveField(1, 1, 0.0) with no layers): "
        "begin with start = 0.0, not 0",
    )  # fmt: skip
    return size, jump, start


def same_field(found, expected) -> bool:
    return tuple(found[:2]) == tuple(expected[:2]) and abs(found[2] - expected[2]) < 1e-9


def same_fields(found: list, expected: list) -> bool:
    return len(found) == len(expected) and all(map(same_field, found, expected))


def field_hint(found, expected) -> str:
    """What differs between a field and the recorded one, when no catalogued mistake gives it."""
    if found[1] != expected[1]:
        return "jump is the product of the strides of all the layers so far, convolutions' and pooling layers'"
    if found[0] != expected[0]:
        return (
            "the size is wrong: each convolution or pooling layer widens the field by what its kernel spans "
            "(dilation included), counted in steps of its input, and a step is jump pixels of the image"
        )
    return (
        "start is wrong: it is the centre of unit (0, 0)'s field, which each layer moves by where its kernel's "
        "centre lies, less its padding, in steps of its input"
    )


def check_recorded_fields(submission, name: str) -> None:
    """The recorded case ``name``: ``receptive_field`` of each of its stacks is the recorded field.

    A catalogued mistake is named when it gives the fields found for *all* the
    stacks of the case.
    """
    case = recorded()[name]
    if "network" in case:  # one network, its field after each stage
        network = nn.Sequential(*map(build_layer, case["network"]))
        stacks = [network[:stop] for stop, _ in case["stages"]]
        whats = [f"the field of Part 1's network after {stage}" for _, stage in case["stages"]]
    else:
        stacks = [build_stack(stack) for stack in case["stacks"]]
        whats = [f"receptive_field({describe(layers)})" for layers in stacks]
    found = [student_field(submission, layers) for layers in stacks]
    if same_fields(found, case["expected"]):
        return
    likely = recorded_mistake(found, case["fingerprints"], same_fields)
    for field, expected, what in zip(found, case["expected"], whats):
        if not same_field(field, expected):
            fail(f"{what} = {show(expected)}", show(field), likely or field_hint(field, expected))


@pytest.mark.points(1)
def test_receptive_field_of_one_convolution(submission):
    # A 3 x 3 kernel without padding: unit 0 sees pixels 0, 1, 2, centred on pixel 1.
    check_recorded_fields(submission, "one convolution")


@pytest.mark.points(1)
def test_receptive_field_pixelwise_layers_change_nothing(submission):
    # No layer at all, ReLU, BatchNorm2d, Dropout, Dropout2d, Identity, LeakyReLU, Sigmoid and Tanh, in a list and in an
    # nn.Sequential.
    check_recorded_fields(submission, "pixel-wise layers")


@pytest.mark.points(1)
def test_receptive_field_padding_moves_the_start(submission):
    # With padding, unit 0 can be centred on pixel 0, or even outside the image.
    check_recorded_fields(submission, "padding")


@pytest.mark.points(1)
def test_receptive_field_strides_multiply_the_jump(submission):
    check_recorded_fields(submission, "strides")


@pytest.mark.points(1)
def test_receptive_field_dilation_spreads_the_kernel(submission):
    # Dilated convolutions and a dilated max pooling.
    check_recorded_fields(submission, "dilation")


@pytest.mark.points(1)
def test_receptive_field_of_pooling_layers(submission):
    # MaxPool2d and AvgPool2d, alone and between convolutions; a pooling layer's stride defaults to its kernel size.
    check_recorded_fields(submission, "pooling")


@pytest.mark.points(1)
def test_receptive_field_takes_tuple_settings(submission):
    # kernel_size, stride, padding and dilation given as pairs of equal ints.
    check_recorded_fields(submission, "tuple settings")


@pytest.mark.points(2)
def test_receptive_field_of_part1_network(submission):
    # Part 1's features as its docstring lists them, cut after each stage (an nn.Sequential slice).
    check_recorded_fields(submission, "part 1 network")


# ---------------------------------------------------------------------------------------------
# Top activating patches
# ---------------------------------------------------------------------------------------------

# Two 5 x 5 patterns: an 'F' and a diamond. Each one's detector responds little to it shifted by 3 pixels or more,
# so only the unit that sees the pattern where it was planted fires strongly.
PATTERNS = torch.tensor(
    [
        [[1, 1, 1, 1, 0], [1, 0, 0, 0, 0], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [1, 0, 0, 0, 0]],
        [[0, 0, 1, 0, 0], [0, 1, 0, 1, 0], [1, 0, 0, 0, 1], [0, 1, 0, 1, 0], [0, 0, 1, 0, 0]],
    ],
    dtype=torch.float32,
)
NAMES = ("an 'F'", "a diamond")
IMAGE_SIZE = 32
LAYER = 4  # the ReLU after the second convolution


def detector_model(seed: int | None = None) -> nn.Sequential:
    """Convolution, ReLU, pooling, convolution, ReLU (``model[:5]``), then one more pooling layer.

    With ``seed``, pseudo-random weights from :func:`noise` (uniform, of
    PyTorch's default scale). Otherwise planted detectors: channel c of the
    first convolution matches ``PATTERNS[c]`` (weights the zero-mean pattern
    on all three input channels); channel c of the second convolution copies
    that channel from the centre of its window, so the unit of ``model[:5]``
    whose field holds the pattern planted at image pixel ``(4 y, 4 x)`` is
    unit ``(y, x)``.
    """
    model = nn.Sequential(
        nn.Conv2d(3, 6, kernel_size=5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 5, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # after the graded layer: the field of model[:5] is not that of the whole model
    )
    with torch.no_grad():
        for number, layer in enumerate((model[0], model[3])):
            if seed is None:
                layer.weight.zero_()
                layer.bias.zero_()
            else:
                bound = 1 / math.sqrt(layer.weight[0].numel())
                layer.weight.copy_(bound * noise(tuple(layer.weight.shape), 10 * seed + 2 * number))
                layer.bias.copy_(bound * noise(tuple(layer.bias.shape), 10 * seed + 2 * number + 1))
        if seed is None:
            for c, pattern in enumerate(PATTERNS):
                model[0].weight[c] = (pattern - pattern.mean()) / 3
                model[3].weight[c, c, 1, 1] = 1.0
    return model.eval()


def planted_images(
    places: list, seed: int, height: int = IMAGE_SIZE, width: int = IMAGE_SIZE, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Noise images with pattern ``c`` times ``amplitude`` at pixel ``(4 y, 4 x)``, one ``(c, y, x, amplitude)`` per image."""
    images = 0.05 * noise((len(places), 3, height, width), seed)
    for image, (c, y, x, amplitude) in zip(images, places):
        image[:, 4 * y : 4 * y + 5, 4 * x : 4 * x + 5] += amplitude * PATTERNS[c]
    return images.to(dtype)


def call_patches(submission, model, layer: int, channel: int, images: torch.Tensor, k: int):
    """``top_activating_patches(...)``: its two return values, and how to name the call in a message."""
    # A copy of the images: the student's code cannot change the grader's own.
    result = submission.get("visualize.top_activating_patches")(model, layer, channel, images.clone(), k)
    what = f"top_activating_patches(model, layer={layer}, channel={channel}, images, k={k})"
    check_type(result, tuple, what, "return a tuple (patches, activations)")
    if len(result) != 2:
        fail(f"{what} to return 2 values (patches, activations)", f"{len(result)}")
    return result, what


def check_no_gradient(value: torch.Tensor, what: str) -> None:
    if value.requires_grad:
        fail(f"{what} to have no gradient", "a tensor that requires grad", "run the model under torch.no_grad()")


def same_activations(found: torch.Tensor, expected: torch.Tensor) -> bool:
    return found.shape == expected.shape and bool(torch.allclose(found, expected, atol=1e-5))


@pytest.mark.points(0.5)
@pytest.mark.parametrize("layer", [0, 2, 3])
def test_top_patches_activations_are_the_recorded_largest_per_image(submission, layer):
    # A model with pseudo-random weights and 12 noise images; the activations of channel 1 after model[layer].
    case = recorded()[f"activations after layer {layer}"]
    channel, k, expected = case["channel"], case["k"], case["expected"]
    model = detector_model(seed=case["model_seed"])
    images = noise((case["images"], 3, IMAGE_SIZE, IMAGE_SIZE), case["images_seed"])
    (_, found), what = call_patches(submission, model, layer, channel, images, k)
    check_tensor(found, f"the activations of {what}", shape=(k,), dtype=torch.float32, likely="one activation per patch")
    check_no_gradient(found, f"the activations of {what}")
    if same_activations(found, expected):
        return
    likely = recorded_mistake(found, case["fingerprints"], same_activations)
    if likely is None and same_activations(found.sort(descending=True).values, expected):
        likely = "the right values in the wrong order: sort them in decreasing order, the strongest first"
    fail(
        f"the activations for layer {layer}, channel {channel}, k={k} to be the {k} largest of each image's "
        f"largest value, in decreasing order: {[round(v, 4) for v in expected.tolist()]}",
        f"{[round(v, 4) for v in found.tolist()]}",
        likely or "for each image take the channel's largest value over all positions; then the k largest of those",
    )


def locate(patch: torch.Tensor, images: torch.Tensor) -> tuple[int, int, int] | None:
    """``(image, top, left)`` where ``patch`` (a found patch) is a crop of the zero-padded images, or None."""
    size = patch.shape[-1]
    padded = nn.functional.pad(images, (size, size, size, size))
    windows = nn.functional.unfold(padded, size)  # (N, C * size * size, positions)
    distance = (windows - patch.reshape(1, -1, 1)).abs().amax(dim=1)
    if distance.min() > 1e-5:
        return None
    n, position = divmod(int(distance.argmin()), distance.shape[1])
    columns = padded.shape[-1] - size + 1
    return n, position // columns - size, position % columns - size


def placement(patches, images: torch.Tensor) -> dict:
    """Where found patches come from: their shape, and each one's ``(image, top, left)`` (None if not a crop)."""
    shape = list(patches.shape)
    square = len(shape) == 4 and shape[1] == images.shape[1] and shape[2] == shape[3] > 0
    positions = [locate(patch, images) for patch in patches.to(images.dtype)] if square else None
    return {"shape": shape, "positions": positions}


def same_placement(found: dict, other: dict) -> bool:
    """The same shape, and every patch from the same place (patches that are no square crops compare by shape)."""
    if list(found["shape"]) != list(other["shape"]) or (found["positions"] is None) != (other["positions"] is None):
        return False
    listed = [[None if p is None else list(p) for p in placed["positions"] or []] for placed in (found, other)]
    return listed[0] == listed[1]


def patch_hint(number: int, where, expected: list, places: list, channel: int, size: int) -> str:
    """What is wrong with patch ``number``, found at ``where``, when no catalogued mistake gives all the patches."""
    if where is None:
        return (
            f"patch {number} is not a {size} x {size} crop of any image with zeros outside it: cut it from its image "
            "with all channels, keep the pixel values, and pad with zeros where the field leaves the image"
        )
    n, found_top, found_left = where
    ranked = [position[0] for position in expected]
    if n != ranked[number]:
        if n == number:
            return (
                f"patch {number} is cut from image {number}, images[{number}]: the rank of the patch is not the "
                f"index of its image; cut patch {number} from the image that gave activations[{number}], "
                f"image {ranked[number]}"
            )
        if n in ranked:
            return (
                f"patch {number} is the patch of rank {ranked.index(n)}: order the patches by decreasing "
                "activation, the strongest first"
            )
        if places[n][0] != channel:
            return (
                f"patch {number} comes from image {n}, where {NAMES[places[n][0]]} is planted, which channel "
                f"{places[n][0]} detects: rank the images by the requested channel alone, output[:, channel]"
            )
        return (
            f"patch {number} comes from image {n}, whose pattern is weaker than in the {len(ranked)} strongest "
            "images: rank the images by the channel's largest value and keep the k largest"
        )
    _, top, left = expected[number]
    shift = (found_top - top, found_left - left)
    if (top < 0 or left < 0) and found_top >= 0 and found_left >= 0:
        return (
            f"patch {number} was moved inside the image by {shift} pixels at the border: keep the field where it is "
            "and fill its part outside the image with zeros"
        )
    if all(abs(s - (size - 1) / 2) <= 0.5 for s in shift):
        return (
            f"patch {number} is shifted by {shift} pixels, about half the field, down and right: the crop starts at "
            "the centre of the unit's field instead of its first row and column (see ReceptiveField)"
        )
    if all(abs(s + (size - 1) / 2) <= 0.5 for s in shift):
        return (
            f"patch {number} is shifted by {shift} pixels, about half the field, up and left: start is the centre of "
            "unit (0, 0)'s field, not its corner (see ReceptiveField)"
        )
    return f"patch {number} is cropped around the wrong centre: shifted by {shift} pixels from the unit's field"


def check_planted_patches(submission, name: str, what: str) -> None:
    """The recorded case ``name``: the top patches of its planted images are the recorded crops, strongest first."""
    case = recorded()[name]
    places, channel, k, size = case["places"], case["channel"], case["k"], case["size"]
    expected = [list(position) for position in case["expected"]]
    height, width = case.get("height", IMAGE_SIZE), case.get("width", IMAGE_SIZE)
    dtype = getattr(torch, case.get("dtype", "float32"))
    model, images = detector_model().to(dtype), planted_images(places, case["seed"], height, width, dtype)
    (patches, _), call = call_patches(submission, model, LAYER, channel, images, k)
    check_tensor(patches, f"the patches of {call}")
    found = placement(patches, images)
    likely = recorded_mistake(found, case["fingerprints"], same_placement)
    check_tensor(
        patches, f"the patches of {call}", shape=(k, images.shape[1], size, size),
        likely=likely or f"each patch is the receptive field of model[:{LAYER + 1}], {size} x {size} pixels, with "
        "every image channel and zeros where the field leaves the image. Another size comes from another field: that "
        "of the whole model instead of the layers up to and including model[layer], or a mistake in receptive_field "
        "(see its tests)",
    )  # fmt: skip
    check_tensor(
        patches, f"the patches of {call}", dtype=images.dtype,
        likely=f"the patches must have the images' dtype ({images.dtype}): a tensor made with torch.zeros(...) or "
        "torch.empty(...) is float32 unless given dtype=images.dtype, and .float() converts; cut the patches out of "
        "the images as they are",
    )  # fmt: skip
    check_no_gradient(patches, f"the patches of {call}")
    for number, (where, (n, top, left)) in enumerate(zip(found["positions"], expected)):
        if where is None or list(where) != [n, top, left]:
            _, y, x, _ = places[n]
            fail(
                f"patch {number} ({what}) to be rows {top} to {top + size - 1} and columns {left} to "
                f"{left + size - 1} of image {n}, zeros outside the image: the field of the unit that fires on "
                f"{NAMES[channel]} planted at rows {4 * y} to {4 * y + 4} and columns {4 * x} to {4 * x + 4}",
                "a patch that is not that crop" if where is None else f"rows {where[1]} to {where[1] + size - 1} and "
                f"columns {where[2]} to {where[2] + size - 1} of image {where[0]}",
                likely or patch_hint(number, where, expected, places, channel, size),
            )  # fmt: skip


@pytest.mark.points(2)
def test_top_patches_show_the_planted_pattern(submission):
    # Channel 0 finds the 'F', planted in five images at different places and strengths; the diamond is in three more.
    check_planted_patches(submission, "planted pattern", "channel 0 fires on the 'F'")


@pytest.mark.points(0.5)
def test_top_patches_rank_by_the_requested_channel(submission):
    # Channel 1 finds the diamond; the 'F' planted in other images is stronger.
    check_planted_patches(submission, "requested channel", "channel 1 fires on the diamond")


@pytest.mark.points(0.5)
def test_top_patches_are_zero_padded_at_the_border(submission):
    # Units in the first row or column: their fields start before the image.
    check_planted_patches(submission, "border", "planted at the top and left borders")


@pytest.mark.points(0.5)
def test_top_patches_of_non_square_images(submission):
    # Images 44 pixels high and 30 wide: maps of 10 x 7 units; fields leave the image at the bottom and the right.
    check_planted_patches(submission, "non-square images", "channel 0 fires on the 'F', in images 44 x 30")


@pytest.mark.points(0.5)
def test_top_patches_keep_the_images_dtype(submission):
    # float64 images and a float64 model: the patches are float64 too.
    check_planted_patches(submission, "float64 images", "float64 images and model")


def model_state(model: nn.Module) -> dict:
    """What the function must leave as it is: each module's mode and each parameter's requires_grad."""
    return {
        "mode": {name or "model": module.training for name, module in model.named_modules()},
        "requires_grad": {name: parameter.requires_grad for name, parameter in model.named_parameters()},
    }


def given_models() -> list[tuple[str, nn.Module]]:
    """Models handed over in train mode, in eval mode and in mixed modes, each described for a message."""
    in_train = detector_model().train()
    in_train[0].weight.requires_grad_(False)
    mixed = detector_model().train()
    mixed[2].eval()  # model.train(True) would put it back in train mode
    mixed_eval = detector_model().eval()
    mixed_eval[3].train()  # model.train(False) (model.eval()) would put it back in eval mode
    return [
        ("a model in train mode, its first convolution's weight frozen", in_train),
        ("a model in eval mode", detector_model().eval()),
        ("a model in train mode whose layer 2 (its pooling layer) is in eval mode", mixed),
        ("a model in eval mode whose layer 3 (its second convolution) is in train mode", mixed_eval),
    ]


def mode_name(training: bool) -> str:
    return "train" if training else "eval"


def module_name(name: str) -> str:
    """``the model itself``, or ``model[2]`` for its layer 2: ``model_state``'s names ``model`` and ``2``, for a message."""
    return "the model itself" if name == "model" else f"model[{name}]" if name.isdigit() else f"model.{name}"


# What a mode hint ends with: the function has no business with the modes.
LEAVE_THE_MODE = (
    "do not call model.eval() or model.train(), on the model or on a slice of it (a slice shares its layers)"
)


def mode_hint(before: dict, after: dict) -> str:
    """What changed the modes ``before`` (module name: training) into ``after``."""
    changed = [name for name in before if after[name] != before[name]]
    if "model" not in changed and all(after[name] == after["model"] for name in changed):
        return (
            f"every layer ended up in the model's own {mode_name(after['model'])} mode: model.train(mode) and "
            "model.eval() set the mode of every layer, so restoring the model's own flag (was_training = "
            "model.training; ...; model.train(was_training)) does not restore a layer the caller put in another "
            "mode. The model's mode is the caller's choice (the docstring: put it in eval mode first): do not call "
            "model.eval() or model.train() at all; torch.no_grad() is all the function needs"
        )
    if all(not after[name] for name in changed):
        return (
            "the model was put in eval mode. The model's mode is the caller's choice (the docstring: put it in eval "
            f"mode first): {LEAVE_THE_MODE}"
        )
    if all(after[name] for name in changed):
        return (
            "the model was left in train mode, though the caller had put it in eval mode: model.train() (also to "
            "undo an .eval()) sets every layer to train mode. The model's mode is the caller's choice: "
            f"{LEAVE_THE_MODE}"
        )
    return (
        f"the model's mode is the caller's choice (the docstring: put it in eval mode first): {LEAVE_THE_MODE}"
    )


@pytest.mark.points(0.5)
def test_top_patches_leave_the_model_as_given(submission):
    # Models in train mode (the first convolution's weight frozen), in eval mode, and in mixed modes: the call
    # changes neither the mode of any layer nor any parameter's requires_grad.
    images = planted_images([(0, 2, 3, 2.0), (1, 1, 1, 2.0)], seed=6)
    for given, model in given_models():
        before = model_state(model)
        call_patches(submission, model, LAYER, 0, images, 1)
        after = model_state(model)
        for name, training in before["mode"].items():
            if after["mode"][name] != training:
                fail(
                    f"top_activating_patches to leave the mode of every layer as it was, for {given}: "
                    f"{module_name(name)} still in {mode_name(training)} mode after the call",
                    f"{module_name(name)} in {mode_name(after['mode'][name])} mode",
                    mode_hint(before["mode"], after["mode"]),
                )
        for name, requires_grad in before["requires_grad"].items():
            if after["requires_grad"][name] != requires_grad:
                fail(
                    f"top_activating_patches to leave requires_grad of every parameter as it was, for {given}: "
                    f"{name} with requires_grad={requires_grad}",
                    f"requires_grad={after['requires_grad'][name]}",
                    "freezing the model (requires_grad_(False)), or unfreezing it afterwards, changes the caller's "
                    "parameters: compute the activations under torch.no_grad() instead, which changes nothing",
                )
