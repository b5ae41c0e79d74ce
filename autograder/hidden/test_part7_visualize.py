"""Part 7, thorough tests (Gradescope only): receptive fields measured with gradients, patches of other images.

Never in the student handout: these checks compute the answers. Receptive
fields are *measured* with gradients (the input pixels whose gradient is
non-zero for one unit) in Part 1's network and in random stacks of layers,
and a wrong field is explained by recomputing it as each catalogued mistake
would. The patches are checked on a model with planted detectors, as in the
public tests, but on other noise images, with the expected crops and
activations computed here. The public tests of this part are
``autograder/test_part7_visualize.py``.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from autograder.checks import check_tensor, check_type, fail
from autograder.examples import Draw, examples, noise
from autograder.test_part7_visualize import (
    GEOMETRIC,
    IMAGE_SIZE,
    LAYER,
    NAMES,
    PATTERNS,
    check_no_gradient,
    describe,
    side,
    student_field,
)

# ---------------------------------------------------------------------------------------------
# Receptive fields
# ---------------------------------------------------------------------------------------------


# The mistakes the diagnosis recognises, and what to tell a student who made one.
MISTAKES = {
    "padding": "the field ignores padding: with padding p a layer moves start by "
    "((kernel_size - 1) * dilation / 2 - p) * jump, up and left of where it would be without padding",
    "stride": "the field ignores the strides: jump is the product of the strides of all the layers so far "
    "(pooling layers' too), and each later layer's growth is multiplied by it",
    "dilation": "the field ignores dilation: a kernel of size k with dilation d spans (k - 1) * d + 1 pixels",
    "pooling": "the field ignores the pooling layers: MaxPool2d and AvgPool2d have a kernel, a stride and "
    "padding like a convolution, and change the field the same way",
    "size without jump": "the size grows by (kernel_size - 1) * dilation per layer without multiplying by the jump: "
    "after a stride, one step in the layer's input is jump pixels of the image",
    "jump first": "the jump is multiplied by the layer's stride before the layer's own growth: a layer's kernel "
    "steps over its input, whose units are the jump of the layers before it apart",
    "start without jump": "start moves by ((kernel_size - 1) * dilation / 2 - padding) without multiplying by the jump",
    "corner": "start is the field's top-left corner; it must be its centre, corner + (size - 1) / 2",
    "rounded": "start is rounded down (// 2 instead of / 2): with an even size, start is a half-integer such as 0.5",
}


def field_with(layers, mistake: str | None = None) -> tuple[int, int, float]:
    """``(size, jump, start)`` after ``layers`` by the recurrence, or as the named mistake in MISTAKES computes it."""
    size, jump, start = 1, 1, 0.0
    for layer in layers:
        if not isinstance(layer, nn.Conv2d if mistake == "pooling" else GEOMETRIC):
            continue
        kernel, stride, padding = side(layer.kernel_size), side(layer.stride), side(layer.padding)
        dilation = 1 if mistake == "dilation" else side(getattr(layer, "dilation", 1))
        stride = 1 if mistake == "stride" else stride
        padding = 0 if mistake == "padding" else padding
        step = jump * stride if mistake == "jump first" else jump
        growth = (kernel - 1) * dilation
        size += growth * (1 if mistake == "size without jump" else step)
        half = growth // 2 if mistake == "rounded" else growth / 2
        start += (half - padding) * (1 if mistake == "start without jump" else step)
        jump *= stride
    if mistake == "corner":
        start -= (size - 1) / 2
    return size, jump, start


def show(field: tuple) -> str:
    size, jump, start = field
    return f"ReceptiveField(size={size}, jump={jump}, start={start!r})"


def likely_mistake(cases, expected_fields) -> str:
    """What went wrong, given ``(layers, found)`` cases that the correct fields are ``expected_fields`` for.

    The mistakes in MISTAKES that give every ``found`` (and not every expected
    field) are named, all of them when several fit; otherwise the field that is wrong.
    """
    fits = [
        explanation
        for mistake, explanation in MISTAKES.items()
        if all(field_with(layers, mistake) == tuple(found) for layers, found in cases)
        and [field_with(layers, mistake) for layers, _ in cases] != [tuple(e) for e in expected_fields]
    ]
    if fits:
        return "; or ".join(fits)
    for (layers, found), (size, jump, _) in zip(cases, expected_fields):
        if found[1] != jump:
            return "jump is the product of the strides of the layers (convolutions and pooling)"
        if found[0] != size:
            return "each layer adds (kernel_size - 1) * dilation * jump to the size, with the jump before the layer"
    return "each layer moves start by ((kernel_size - 1) * dilation / 2 - padding) * jump, with the jump before the layer"


def same_field(found: tuple, expected: tuple) -> bool:
    return tuple(found[:2]) == tuple(expected[:2]) and abs(found[2] - expected[2]) < 1e-9


def check_field(found: tuple, expected: tuple, layers, what: str) -> None:
    """``found`` equals ``expected``; otherwise fail, naming the mistake that gives ``found`` if one does."""
    if not same_field(found, expected):
        fail(f"{what} = {show(expected)}", show(found), likely_mistake([(layers, found)], [expected]))


def part1_features() -> nn.Sequential:
    """Part 1's ``features``, as its docstring lists them (ReLU in place, as the solution writes it)."""
    return nn.Sequential(
        nn.Conv2d(3, 16, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(16, 48, kernel_size=5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(48, 96, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(96, 64, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(64, 64, kernel_size=3, padding=1), nn.ReLU(inplace=True),
    )  # fmt: skip


# Part 1's fields by hand, after features[:n]: size += (k - 1) * jump, start += ((k - 1) / 2 - p) * jump, jump *= s.
PART1_FIELDS = [
    (1, "conv1", (11, 4, 3.0)),  # 1 + 10 * 1;  0 + (5 - 2) * 1;  1 * 4
    (2, "conv1 and its ReLU", (11, 4, 3.0)),
    (3, "pool1", (19, 8, 7.0)),  # 11 + 2 * 4;  3 + (1 - 0) * 4;  4 * 2
    (4, "conv2", (51, 8, 7.0)),  # 19 + 4 * 8;  7 + (2 - 2) * 8
    (6, "pool2", (67, 16, 15.0)),  # 51 + 2 * 8;  7 + 1 * 8;  8 * 2
    (7, "conv3", (99, 16, 15.0)),  # 67 + 2 * 16;  15 + (1 - 1) * 16
    (9, "conv4", (131, 16, 15.0)),
    (12, "conv5 (all of features)", (163, 16, 15.0)),
]


def measurable(layers) -> nn.Sequential:
    """``layers`` with the same geometry, made so that every pixel of a unit's field gets a non-zero gradient.

    Convolutions get positive weights and no bias, and the input is positive, so
    every ReLU passes the gradient and no sum can cancel. Max pooling passes the
    gradient to one pixel of each window; average pooling of the same window
    passes it to all of them, so it stands in for max pooling.
    """
    measured = []
    for layer in copy.deepcopy(list(layers)):
        if isinstance(layer, nn.Conv2d):
            layer.bias = None
            nn.init.constant_(layer.weight, 1.0 / layer.weight[0].numel())
        elif isinstance(layer, nn.MaxPool2d):
            layer = nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding)
        measured.append(layer)
    return nn.Sequential(*measured).eval()


def gradient_rows(model: nn.Module, image: torch.Tensor, unit: int) -> tuple[int, int]:
    """First and last row of the pixels whose gradient is non-zero for unit ``(unit, unit)`` of channel 0."""
    image = image.clone().requires_grad_(True)
    model(image)[0, 0, unit, unit].backward()
    rows = torch.nonzero(image.grad[0].abs().sum(dim=(0, 2))).flatten()
    return int(rows[0]), int(rows[-1])


def measured_field(layers, channels: int, height: int) -> tuple[int, int, float]:
    """``(size, jump, start)`` measured from the gradients of two neighbouring units in the middle of the map.

    ``height`` must hold both units' whole fields, away from the border.
    """
    model = measurable(layers)
    image = torch.ones(1, channels, height, height, dtype=torch.float64)
    model.double()
    units = model(image).shape[-1]
    middle = units // 2
    first, last = gradient_rows(model, image, middle)
    next_first, next_last = gradient_rows(model, image, middle + 1)
    assert 0 < first and next_last < height - 1, "the grader's image is too small to measure this field"
    jump = next_first - first
    return last - first + 1, jump, (first + last) / 2 - middle * jump


@pytest.mark.points(2, visibility="after_due_date")
def test_receptive_field_matches_gradients_in_part1_network(submission):
    features = part1_features()
    for stop, stage, _ in PART1_FIELDS:
        layers = features[:stop]
        found = student_field(submission, layers)
        # 200 x 200 images: the middle units' fields (163 pixels after conv5) lie inside the image.
        measured = measured_field(layers, channels=3, height=200)
        check_field(
            found, measured, layers,
            f"the field measured with gradients in Part 1's network after {stage} (the pixels whose gradient "
            "is non-zero for one unit)",
        )  # fmt: skip


def layer_stack(draw: Draw) -> list:
    """A list of 1 to 4 square convolution and pooling layers, with pixel-wise layers between them."""
    layers = []
    for _ in range(draw.integer(1, 4)):
        kind = draw.choice(["conv", "max", "avg"])
        kernel = draw.integer(1, 4)
        stride = draw.integer(1, 3)
        padding = draw.integer(0, kernel // 2)  # PyTorch's pooling allows at most half the kernel
        as_pair = draw.boolean()
        form = (lambda value: (value, value)) if as_pair else (lambda value: value)
        if kind == "conv":
            dilation = draw.integer(1, 2)
            layers.append(nn.Conv2d(1, 1, form(kernel), form(stride), form(padding), form(dilation)))
        elif kind == "max":
            layers.append(nn.MaxPool2d(form(kernel), form(stride), form(padding)))
        else:
            layers.append(nn.AvgPool2d(form(kernel), form(stride), form(padding)))
        pixelwise = draw.choice(["relu", "batch norm", "identity", "leaky relu"])
        layers.append({"relu": nn.ReLU, "batch norm": lambda: nn.BatchNorm2d(1), "identity": nn.Identity,
                       "leaky relu": nn.LeakyReLU}[pixelwise]())  # fmt: skip
    return layers


# 30 stacks from the project's own generator (examples builds fresh layers for each test run).
STACKS = 30
STACKS_SEED = 7


@pytest.mark.points(2, visibility="after_due_date")
def test_receptive_field_matches_gradients_of_random_layer_stacks(submission):
    student_field(submission, [nn.Conv2d(1, 1, 3)])  # a TODO fails here, before the examples
    for layers in examples(STACKS, STACKS_SEED, layer_stack):  # the first that fails is reported
        found = student_field(submission, layers)
        # An image that holds two middle units' whole fields, sized with the grader's own recurrence.
        size, jump, _ = field_with(layers)
        measured = measured_field(layers, channels=1, height=2 * size + 4 * jump + 8)
        check_field(found, measured, layers, f"the field measured with gradients for {describe(layers)}")


# ---------------------------------------------------------------------------------------------
# Top activating patches
# ---------------------------------------------------------------------------------------------

# model[:5]'s field, by hand: conv (5, 1, 2.0); pool (6, 2, 2.5); conv (6 + 2 * 2, 2 * 2, 2.5 + (1 - 1) * 2).
FIELD = (10, 4, 2.5)
CORNER = -2  # first row of unit 0's field: 2.5 - (10 - 1) / 2


def detector_model(seed: int | None = None) -> nn.Sequential:
    """Convolution, ReLU, pooling, convolution, ReLU (``model[:5]``), then one more pooling layer.

    With ``seed``, random weights. Otherwise planted detectors: channel c of the first convolution matches ``PATTERNS[c]`` (weights
    the zero-mean pattern on all three input channels); channel c of the second
    convolution copies that channel from the centre of its window, so unit
    ``(y, x)`` of ``model[:5]`` fires when the pattern's top-left pixel is at
    image pixel ``(4 y, 4 x)``.
    """
    model = nn.Sequential(
        nn.Conv2d(3, 6, kernel_size=5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 5, kernel_size=3, stride=2, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),  # after the graded layer: the field of model[:5] is not that of the whole model
    )
    if seed is not None:  # pseudo-random weights of PyTorch's default scale, the same on every version
        with torch.no_grad():
            for number, layer in enumerate((model[0], model[3])):
                bound = 1 / layer.weight[0].numel() ** 0.5
                layer.weight.copy_(bound * noise(tuple(layer.weight.shape), 100 + 10 * seed + 2 * number))
                layer.bias.copy_(bound * noise(tuple(layer.bias.shape), 101 + 10 * seed + 2 * number))
        return model.eval()
    with torch.no_grad():
        for layer in (model[0], model[3]):
            layer.weight.zero_()
            layer.bias.zero_()
        for c, pattern in enumerate(PATTERNS):
            model[0].weight[c] = (pattern - pattern.mean()) / 3
            model[3].weight[c, c, 1, 1] = 1.0
    return model.eval()


def planted_images(
    places: list[tuple[int, int, int, float]], seed: int = 0, height: int = IMAGE_SIZE, width: int = IMAGE_SIZE
) -> torch.Tensor:
    """Noise images with pattern ``c`` times ``amplitude`` at unit ``(y, x)``, one ``(c, y, x, amplitude)`` per image."""
    images = 0.05 * noise((len(places), 3, height, width), 200 + seed)
    for image, (c, y, x, amplitude) in zip(images, places):
        image[:, 4 * y : 4 * y + 5, 4 * x : 4 * x + 5] += amplitude * PATTERNS[c]
    return images


def crop(image: torch.Tensor, top: int, left: int, size: int) -> torch.Tensor:
    """Rows ``top`` to ``top + size - 1`` and the same columns of ``(C, H, W)`` ``image``, zeros outside it."""
    height, width = image.shape[1:]
    return nn.functional.pad(image, (-left, left + size - width, -top, top + size - height))


def call_patches(submission, model, layer: int, channel: int, images: torch.Tensor, k: int):
    """``top_activating_patches(...)``: its two return values, and how to name the call in a message."""
    # A copy of the images: the expected crops are cut from these, whatever the student's code does to its own.
    result = submission.get("visualize.top_activating_patches")(model, layer, channel, images.clone(), k)
    what = f"top_activating_patches(model, layer={layer}, channel={channel}, images, k={k})"
    check_type(result, tuple, what, "return a tuple (patches, activations)")
    if len(result) != 2:
        fail(f"{what} to return 2 values (patches, activations)", f"{len(result)}")
    return result, what


def maxima(model: nn.Sequential, stop: int, channel: int | None, images: torch.Tensor) -> torch.Tensor:
    """Each image's largest value of ``channel`` (of every channel if None) in ``model[:stop]``'s output."""
    with torch.no_grad():
        output = model[:stop](images)
    return (output if channel is None else output[:, channel]).flatten(1).amax(dim=1)


def diagnose_activations(found, model, layer, channel, images, k) -> str:
    """The likely mistake behind activations that are not the documented ones."""

    def gives(candidate: torch.Tensor) -> bool:
        return candidate.shape == found.shape and torch.allclose(found, candidate, atol=1e-5)

    per_image = maxima(model, layer + 1, channel, images)
    with torch.no_grad():
        every_unit = model[: layer + 1](images)[:, channel].flatten()
    if torch.allclose(found.sort(descending=True).values, per_image.topk(k).values, atol=1e-5):
        return "the right values in the wrong order: sort them in decreasing order, the strongest first"
    if gives(per_image.topk(k, largest=False).values) or gives(per_image.topk(k, largest=False).values.flip(0)):
        return "the k weakest images: take the k largest values (torch.topk takes the largest by default)"
    if gives(maxima(model, layer, channel, images).topk(k).values):
        return (
            "these are the activations of the layer before, model[layer - 1]: model[:layer] leaves out the layer "
            "itself; take the output of model[: layer + 1] (or hook model[layer] itself)"
        )
    if layer + 2 <= len(model) and gives(maxima(model, layer + 2, channel, images).topk(k).values):
        return "these are the activations of the layer after, model[layer + 1]: take the output of model[layer]"
    if gives(maxima(model, layer + 1, None, images).topk(k).values):
        return "these are the largest values over all channels: select the channel first, output[:, channel]"
    if gives(every_unit.topk(k).values):
        return (
            "several patches from one image: the k largest values over all positions of all images. Take each "
            "image's largest value first, then the k images where it is largest"
        )
    return "for each image take the channel's largest value over all positions; then the k largest of those"


@pytest.mark.points(0.5, visibility="after_due_date")
@pytest.mark.parametrize("layer", [0, 2, 3])
def test_top_patches_activations_are_the_largest_per_image_in_decreasing_order(submission, layer):
    model = detector_model(seed=1)
    images = 2 * noise((12, 3, IMAGE_SIZE, IMAGE_SIZE), 300)
    channel, k = 1, 5
    (_, found), what = call_patches(submission, model, layer, channel, images, k)
    check_tensor(found, f"the activations of {what}", shape=(k,), dtype=torch.float32, likely="one activation per patch")
    check_no_gradient(found, f"the activations of {what}")
    expected = maxima(model, layer + 1, channel, images).topk(k).values
    if not torch.allclose(found, expected, atol=1e-5):
        fail(
            f"the activations for layer {layer}, channel {channel}, k={k} to be the {k} largest of each image's "
            f"largest value, in decreasing order: {[round(v, 4) for v in expected.tolist()]}",
            f"{[round(v, 4) for v in found.tolist()]}",
            diagnose_activations(found, model, layer, channel, images, k),
        )


def locate(patch: torch.Tensor, images: torch.Tensor) -> tuple[int, int, int] | None:
    """``(image, top, left)`` where ``patch`` is a crop of the zero-padded images, or None."""
    size = patch.shape[-1]
    padded = nn.functional.pad(images, (size, size, size, size))
    windows = nn.functional.unfold(padded, size)  # (N, C * size * size, positions)
    distance = (windows - patch.reshape(1, -1, 1)).abs().amax(dim=1)
    if distance.min() > 1e-5:
        return None
    n, position = divmod(int(distance.argmin()), distance.shape[1])
    columns = padded.shape[-1] - size + 1
    return n, position // columns - size, position % columns - size


def diagnose_patch(found, number: int, images, places, channel: int, strongest: list[int]) -> str:
    """The likely mistake behind patch ``number``, which should be the planted field in image ``strongest[number]``."""
    size, jump, _ = FIELD
    where = locate(found, images)
    if where is None:
        return (
            f"patch {number} is not a {size} x {size} crop of any image with zeros outside it: cut it from its image "
            "with all channels, keep the pixel values, and pad with zeros where the field leaves the image"
        )
    n, found_top, found_left = where
    if n != strongest[number]:
        if n == number:
            return (
                f"patch {number} is cut from image {number}, images[{number}]: the rank of the patch is not the "
                f"index of its image; cut patch {number} from the image that gave activations[{number}], "
                f"image {strongest[number]}"
            )
        if n in strongest:
            return (
                f"patch {number} is the patch of rank {strongest.index(n)}: order the patches by decreasing "
                "activation, the strongest first"
            )
        if places[n][0] != channel:
            return (
                f"patch {number} comes from image {n}, where {NAMES[places[n][0]]} is planted, which channel "
                f"{places[n][0]} detects: rank the images by the requested channel alone, output[:, channel]"
            )
        return (
            f"patch {number} comes from image {n}, whose pattern is weaker than in the {len(strongest)} strongest "
            "images: rank the images by the channel's largest value and keep the k largest"
        )
    _, y, x, _ = places[n]
    top, left = CORNER + y * jump, CORNER + x * jump
    shift = (found_top - top, found_left - left)
    if all(abs(s - (size - 1) / 2) <= 0.5 for s in shift):
        return (
            f"patch {number} is shifted by {shift} pixels, about half the field: the crop starts at the centre of "
            "the unit's field, start + y * jump. That is its centre; its first row is start + y * jump - (size - 1) / 2"
        )
    if all(abs(s + (size - 1) / 2) <= 0.5 for s in shift):
        return (
            f"patch {number} is shifted by {shift} pixels, up and left by about half the field: its first row is "
            "start + y * jump - (size - 1) / 2 with start the *centre* of unit 0's field; subtracting (size - 1) / 2 "
            "from the field's corner, or twice, goes too far"
        )
    if shift == (-CORNER, -CORNER):
        return (
            f"patch {number} is shifted by {shift} pixels: the crop starts at y * jump, without the field's offset. "
            "The field of unit (y, x) starts at row start + y * jump - (size - 1) / 2, which depends on padding"
        )
    if (top < 0 or left < 0) and found_top >= 0 and found_left >= 0:
        return (
            f"patch {number} was moved inside the image by {shift} pixels at the border: keep the field where it is "
            "and fill its part outside the image with zeros"
        )
    return f"patch {number} is cropped around the wrong centre: shifted by {shift} pixels from the unit's field"


def check_planted_patches(
    submission, places, channel: int, k: int, what: str, height: int = IMAGE_SIZE, width: int = IMAGE_SIZE,
    dtype: torch.dtype = torch.float32,
) -> None:
    """The top ``k`` patches of ``channel`` for images with ``places`` are the planted units' fields, strongest first."""
    model, images = detector_model().to(dtype), planted_images(places, height=height, width=width).to(dtype)
    (patches, _), call = call_patches(submission, model, LAYER, channel, images, k)
    size, jump, _ = FIELD
    check_tensor(
        patches, f"the patches of {call}", shape=(k, 3, size, size),
        likely=f"each patch is the receptive field of model[:{LAYER + 1}], {show(FIELD)}, with every image channel "
        "and zeros where the field leaves the image. Another size comes from another field: that of the whole model "
        "instead of the layers up to and including model[layer], or a mistake in receptive_field (see its tests)",
    )  # fmt: skip
    check_tensor(
        patches, f"the patches of {call}", dtype=images.dtype,
        likely=f"the patches must have the images' dtype ({images.dtype}): a tensor made with torch.zeros(...) or "
        "torch.empty(...) is float32 unless given dtype=images.dtype, and .float() converts",
    )  # fmt: skip
    check_no_gradient(patches, f"the patches of {call}")
    planted = [n for n, place in enumerate(places) if place[0] == channel]
    strongest = sorted(planted, key=lambda n: -places[n][3])[:k]
    for number, n in enumerate(strongest):
        _, y, x, _ = places[n]
        top, left = CORNER + y * jump, CORNER + x * jump
        if not torch.allclose(patches[number], crop(images[n], top, left, size), atol=1e-6):
            fail(
                f"patch {number} ({what}) to be rows {top} to {top + size - 1} and columns {left} to "
                f"{left + size - 1} of image {n}: the field of unit ({y}, {x}), which fires on {NAMES[channel]} "
                f"planted at rows and columns {4 * y - top} to {4 * y - top + 4} of the patch",
                "a patch that is not that crop",
                diagnose_patch(patches[number], number, images, places, channel, strongest),
            )


@pytest.mark.points(1, visibility="after_due_date")
def test_top_patches_contain_the_planted_pattern(submission):
    # Channel 0 finds the 'F' (planted in images 0-4, each at a different place and strength); the diamond is in 5-7.
    places = [(0, 3, 1, 1.6), (0, 2, 5, 2.2), (0, 5, 2, 1.2), (0, 1, 4, 1.9), (0, 4, 4, 1.0), (1, 2, 2, 2.5), (1, 3, 3, 2.0), (1, 1, 1, 1.5)]
    check_planted_patches(submission, places, channel=0, k=3, what="channel 0 fires on the 'F'")


@pytest.mark.points(0.5, visibility="after_due_date")
def test_top_patches_follow_the_requested_channel(submission):
    places = [(0, 3, 1, 2.6), (0, 2, 5, 2.2), (1, 5, 2, 1.2), (1, 1, 4, 1.9), (0, 4, 4, 3.0), (1, 2, 3, 1.5)]
    check_planted_patches(submission, places, channel=1, k=3, what="channel 1 fires on the diamond")


@pytest.mark.points(0.5, visibility="after_due_date")
def test_top_patches_pad_the_border_with_zeros(submission):
    # Units in the first row or column: their fields start 2 pixels before the image.
    places = [(0, 0, 3, 2.0), (0, 2, 0, 2.5), (0, 3, 3, 1.0), (1, 0, 0, 2.0)]
    check_planted_patches(submission, places, channel=0, k=2, what="planted at the top and left borders")


@pytest.mark.points(0.5, visibility="after_due_date")
def test_top_patches_of_tall_non_square_images(submission):
    # Images 42 pixels high and 26 wide: maps of 10 x 6 units; unit (9, 5)'s field leaves the image at the bottom.
    places = [(0, 9, 5, 2.4), (0, 7, 1, 2.0), (1, 4, 4, 2.6), (0, 2, 3, 1.7), (0, 8, 0, 1.1)]
    check_planted_patches(submission, places, channel=0, k=3, what="channel 0 fires on the 'F', in images 42 x 26",
                          height=42, width=26)  # fmt: skip


@pytest.mark.points(0.5, visibility="after_due_date")
def test_top_patches_of_float64_non_square_images(submission):
    places = [(1, 1, 2, 2.2), (0, 3, 6, 2.0), (1, 5, 1, 1.4), (1, 2, 7, 1.8)]
    check_planted_patches(submission, places, channel=1, k=2, what="channel 1 fires on the diamond, float64 images",
                          height=26, width=34, dtype=torch.float64)  # fmt: skip
