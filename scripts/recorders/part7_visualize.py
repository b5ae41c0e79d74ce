"""Part 7's recorded expectations: receptive fields of hand-made stacks of layers, top patches of planted images.

The public tests (``autograder/test_part7_visualize.py``) build the same
inputs from what is recorded here (layers as dicts, images from their
seeded generator) and compare the student's results with the solution's.
Each case also records the *fingerprints* of the catalogued mistakes of
``tests/mutants/part7_visualize.py``: what each mutant returns on the same
inputs, with the sentence a student who made that mistake reads. Mutants
that give the same result share one fingerprint, their sentences joined.

The fields of the hand-made stacks were also worked out by hand: the
recorder refuses to write a solution's field that differs from them.
"""

from __future__ import annotations

import torch
from torch import nn

from autograder import test_part7_visualize as public
from autograder.examples import noise
from tests.mutants.part7_visualize import MUTANTS

# What a student who made each catalogued mistake reads, by mutant name.
FIELD_MISTAKES = {
    "receptive field ignores padding": "the field ignores padding: padding adds rows and columns before the image, "
    "so it moves the field of unit (0, 0) up and left, by the padding in steps of the layer's input",
    "receptive field ignores stride": "the field ignores the strides: jump is the product of the strides of all the "
    "layers so far (pooling layers' too), and one step in a later layer's input is jump pixels of the image",
    "receptive field ignores dilation": "the field ignores dilation: a kernel of size k with dilation d spans "
    "(k - 1) * d + 1 input positions",
    "size grows without the jump": "the size grows without multiplying by the jump: after a stride, one step in a "
    "layer's input is jump pixels of the image",
    "start moves without the jump": "start moves without multiplying by the jump: after a stride, one step in a "
    "layer's input is jump pixels of the image, for the centre as for the size",
    "jump multiplied before the layer's growth": "the jump is multiplied by the layer's stride before the layer's own "
    "growth: a layer's kernel steps over its input, whose units are the jump of the layers *before* it apart",
    "pooling layers ignored": "the field ignores the pooling layers: MaxPool2d and AvgPool2d have a kernel, a stride "
    "and padding like a convolution, and change the field the same way",
    "start at the field's corner": "start is the field's top-left corner; it must be its centre, corner + (size - 1) / 2",
    "start rounded down": "start is rounded down (// 2 instead of / 2): with an even size, start is a half-integer "
    "such as 0.5",
    "start begins as an int": "start begins as the int 0: it is a Python float, 0.0 with no layers",
    "dilation read from AvgPool2d": "the dilation is read from every pooling layer, but nn.AvgPool2d has none: "
    "its dilation is 1",
    "ReceptiveField with a field renamed": "a field of ReceptiveField is renamed: its fields are given, size, jump, "
    "start, in that order",
}
PATCH_MISTAKES = {
    "patch cut from the field's centre as its corner": "the crop starts at the centre of the unit's field, "
    "start + y * jump. That is its centre; its first row is start + y * jump - (size - 1) / 2",
    "patch cut without the field's offset": "the crop starts at y * jump, without the field's offset. The field of "
    "unit (y, x) starts at row start + y * jump - (size - 1) / 2, which depends on padding",
    "patch corner half a field too far": "the crop starts up and left of the field by about half the field: its first "
    "row is start + y * jump - (size - 1) / 2 with start the *centre* of unit 0's field; subtracting (size - 1) / 2 "
    "from the field's corner, or twice, goes too far",
    "window moved inside the image at the border": "the patch was moved inside the image at the border: keep the "
    "field where it is and fill its part outside the image with zeros",
    "largest value over all channels": "these are the largest values over all channels: select the channel first, "
    "output[:, channel]",
    "top k in increasing order": "the right values in the wrong order: sort them in decreasing order, the strongest "
    "first",
    "k weakest images": "the k weakest images: take the k largest values (torch.topk takes the largest by default)",
    "activations of the layer before": "these are the activations of the layer before, model[layer - 1]: "
    "model[:layer] leaves out the layer itself; take the output of model[: layer + 1] (or hook model[layer] itself)",
    "activations of the layer after": "these are the activations of the layer after, model[layer + 1]: take the "
    "output of model[layer], that is of model[: layer + 1]",
    "several patches from one image": "several patches from one image: the k largest values over all positions of "
    "all images. Take each image's largest value first, then the k images where it is largest",
    "flat position unravelled with the map's height": "the flat position is unravelled with the map's height: in an "
    "h x w map flattened row by row, position p is row p // w and column p % w (w, the map's width)",
    "image's width taken for its height": "the patch's height is computed from the image's width: images are "
    "(N, C, H, W), and H and W may differ",
    "patch cut from the image of its rank": "patch i is cut from images[i]: the rank of the patch is not the index of "
    "its image. Cut patch i from the image that gave activations[i]",
    "patches allocated as float32 zeros": "the patches are float32 whatever the images' dtype: a tensor made with "
    "torch.zeros(...) is float32 unless given dtype=images.dtype",
    "model put in eval mode": "the model was put in eval mode: run it as given",
    "model frozen instead of no_grad": "the model's parameters were frozen: compute under torch.no_grad() instead",
    "every parameter unfrozen after the call": "every parameter's requires_grad was set to True: leave it as it was",
    "top patches leaving the model in train mode": "the model was left in train mode: run it as given",
    "top patches restoring only the model's own mode": "every layer was put in the model's own mode: leave each "
    "layer's mode as it was",
}


def sentence(name: str, about_patches: bool) -> str:
    """What the mutant called ``name`` tells a student, in a check of fields or of patches."""
    if name in FIELD_MISTAKES:
        if about_patches:
            return f"receptive_field is wrong, and the patches follow its field (see its tests): {FIELD_MISTAKES[name]}"
        return FIELD_MISTAKES[name]
    return PATCH_MISTAKES[name]


# ---------------------------------------------------------------------------------------------
# Layers as recorded data
# ---------------------------------------------------------------------------------------------


def conv(kernel_size, stride=1, padding=0, dilation=1, channels=1) -> dict:
    spec = {"kind": "Conv2d", "in_channels": channels, "out_channels": channels, "kernel_size": kernel_size}
    spec |= {key: value for key, value, default in (("stride", stride, 1), ("padding", padding, 0), ("dilation", dilation, 1)) if value != default}
    return spec


def pool(kind: str, kernel_size, stride=None, padding=0, dilation=1) -> dict:
    spec = {"kind": kind, "kernel_size": kernel_size}
    spec |= {key: value for key, value, default in (("stride", stride, None), ("padding", padding, 0), ("dilation", dilation, 1)) if value != default}
    return spec


def layer(kind: str, **settings) -> dict:
    return {"kind": kind, **settings}


RELU = layer("ReLU")

# (recorded name, [(layers, in an nn.Sequential?, the field worked out by hand)])
FIELD_CASES = {
    "one convolution": [([conv(3, channels=3) | {"out_channels": 8}], False, (3, 1, 1.0))],
    "pixel-wise layers": [
        ([], False, (1, 1, 0.0)),
        ([RELU, layer("BatchNorm2d", num_features=1), layer("Dropout", p=0.5)], False, (1, 1, 0.0)),
        ([conv(5, stride=2), layer("BatchNorm2d", num_features=1), layer("ReLU", inplace=True), layer("Dropout2d", p=0.1)], True, (5, 2, 2.0)),
        ([layer("Identity"), layer("LeakyReLU", negative_slope=0.1), layer("Sigmoid"), layer("Tanh")], False, (1, 1, 0.0)),
    ],
    "padding": [
        ([conv(3, padding=1)], False, (3, 1, 0.0)),
        ([conv(3, padding=2)], False, (3, 1, -1.0)),
        ([conv(5, stride=2, padding=2), RELU, conv(3, padding=1)], False, (9, 2, 0.0)),
        ([conv(5, stride=2, padding=1), RELU, conv(3, padding=2)], False, (9, 2, -1.0)),
    ],
    "strides": [
        ([conv(3, stride=2)], False, (3, 2, 1.0)),
        ([conv(3, stride=2), conv(3, stride=2)], False, (7, 4, 3.0)),
        ([conv(3, stride=2), conv(3, stride=2), conv(3)], False, (15, 4, 7.0)),
        ([conv(4, stride=3), RELU, conv(2, stride=2), conv(3)], False, (19, 6, 9.0)),
    ],
    "dilation": [
        ([conv(3, dilation=2)], False, (5, 1, 2.0)),
        ([conv(3, stride=2), conv(3, padding=2, dilation=2)], False, (11, 2, 1.0)),
        ([pool("MaxPool2d", 3, stride=1, dilation=2)], False, (5, 1, 2.0)),
        ([conv(3, dilation=3), pool("MaxPool2d", 2, dilation=2)], False, (9, 2, 4.0)),
    ],
    "pooling": [
        ([pool("MaxPool2d", 2)], False, (2, 2, 0.5)),
        ([pool("AvgPool2d", 3, stride=2, padding=1)], False, (3, 2, 0.0)),
        ([conv(3, padding=1), pool("MaxPool2d", 2), conv(3, padding=1), pool("MaxPool2d", 2)], False, (10, 4, 1.5)),
        ([conv(3), pool("AvgPool2d", 2), conv(3), pool("MaxPool2d", 3, stride=2)], False, (12, 4, 5.5)),
        # The docstring's example: conv 3 (size 3, jump 2, start 0.0), then a 2 x 2 pooling (5, 4, 0.0 + 0.5 * 2).
        ([conv(3, stride=2, padding=1, channels=3) | {"out_channels": 8}, pool("MaxPool2d", 2)], False, (5, 4, 1.0)),
    ],
    "tuple settings": [
        ([pool("MaxPool2d", (3, 3), stride=(2, 2), padding=(1, 1))], False, (3, 2, 0.0)),
        (
            [pool("MaxPool2d", (3, 3), stride=(2, 2), padding=(1, 1)), pool("AvgPool2d", (2, 2)), conv((3, 3), dilation=(2, 2))],
            False,
            (21, 4, 9.0),
        ),
        ([pool("MaxPool2d", 2, stride=(1, 1), dilation=(3, 3))], False, (4, 1, 1.5)),
    ],
}

# Part 1's features, as its docstring lists them (ReLU in place, as the solution writes it).
PART1_NETWORK = [
    conv(11, stride=4, padding=2, channels=3) | {"out_channels": 16}, layer("ReLU", inplace=True), pool("MaxPool2d", 3, stride=2),
    conv(5, padding=2, channels=16) | {"out_channels": 48}, layer("ReLU", inplace=True), pool("MaxPool2d", 3, stride=2),
    conv(3, padding=1, channels=48) | {"out_channels": 96}, layer("ReLU", inplace=True),
    conv(3, padding=1, channels=96) | {"out_channels": 64}, layer("ReLU", inplace=True),
    conv(3, padding=1, channels=64), layer("ReLU", inplace=True),
]  # fmt: skip
# After features[:stop], by hand: size += (k - 1) * jump, start += ((k - 1) / 2 - p) * jump, then jump *= s.
PART1_STAGES = [
    (1, "conv1", (11, 4, 3.0)),  # 1 + 10 * 1;  0 + (5 - 2) * 1;  1 * 4
    (2, "conv1 and its ReLU", (11, 4, 3.0)),
    (3, "pool1", (19, 8, 7.0)),  # 11 + 2 * 4;  3 + (1 - 0) * 4;  4 * 2
    (4, "conv2", (51, 8, 7.0)),  # 19 + 4 * 8;  7 + (2 - 2) * 8
    (6, "pool2", (67, 16, 15.0)),  # 51 + 2 * 8;  7 + 1 * 8;  8 * 2
    (7, "conv3", (99, 16, 15.0)),  # 67 + 2 * 16;  15 + (1 - 1) * 16
    (9, "conv4", (131, 16, 15.0)),
    (12, "conv5 (all of features)", (163, 16, 15.0)),
]


def fingerprints(run, solution_output, mistake, same, about_patches: bool) -> list[dict]:
    """The outputs of the mutants that differ from the solution's; mutants with the same output share one."""
    found: list[dict] = []
    # In a check of patches, the mistakes of top_activating_patches itself are named first.
    for mutant in sorted(MUTANTS, key=lambda m: about_patches and m.name in FIELD_MISTAKES):
        try:
            output = run(mistake(mutant.name))
        except (AttributeError, RuntimeError, TypeError, ValueError):  # a mistake that raises names itself
            continue
        if same(output, solution_output):
            continue
        text = sentence(mutant.name, about_patches)
        twin = next((f for f in found if same(output, f["output"])), None)
        if twin is None:
            found.append({"mistake": text, "output": output})
        elif text not in twin["mistake"]:
            twin["mistake"] += f"; or {text}"
    return found


def record_fields(solution, mistake, stacks, hand_fields: list) -> dict:
    """Expected fields of ``stacks`` (functions that build them) and the mistakes' fingerprints."""

    def run(module):
        return [tuple(module.receptive_field(build())) for build in stacks]

    expected = run(solution)
    assert public.same_fields(expected, hand_fields), f"the solution gives {expected}, worked out by hand {hand_fields}"
    return {"expected": expected, "fingerprints": fingerprints(run, expected, mistake, public.same_fields, False)}


# ---------------------------------------------------------------------------------------------
# Top activating patches
# ---------------------------------------------------------------------------------------------

ACTIVATIONS = {"channel": 1, "k": 5, "model_seed": 1, "images": 12, "images_seed": 2}

# (recorded name, planted places (pattern, y, x, amplitude), channel, k, noise seed, other settings of the images)
PLANTED_CASES = {
    # The 'F' in five images, at different places and strengths; the strongest image holds a diamond.
    "planted pattern": ([(0, 2, 3, 1.75), (0, 4, 1, 2.25), (0, 1, 2, 1.25), (0, 5, 5, 2.0), (0, 3, 4, 1.0), (1, 3, 2, 2.5), (1, 1, 5, 2.0), (1, 4, 3, 1.5)], 0, 3, 3, {}),
    # Diamonds, weaker than the 'F's of other images.
    "requested channel": ([(0, 2, 2, 2.75), (1, 4, 2, 1.5), (0, 5, 1, 2.25), (1, 2, 5, 2.0), (1, 3, 3, 1.25), (0, 1, 4, 3.0), (1, 5, 4, 1.75)], 1, 3, 4, {}),
    # Units in the first row or column, whose fields start 2 pixels before the image.
    "border": ([(0, 0, 4, 2.0), (0, 3, 0, 2.5), (0, 2, 2, 1.0), (1, 0, 0, 2.25), (0, 0, 0, 1.75)], 0, 3, 5, {}),
    # 44 x 30 images: 10 x 7 units; unit (9, 0)'s field, rows 34 to 43, leaves the image at the bottom, and unit
    # (2, 6)'s, columns 22 to 31, at the right.
    "non-square images": ([(0, 9, 0, 2.5), (0, 2, 6, 2.25), (0, 5, 2, 2.0), (0, 1, 4, 1.0), (1, 3, 5, 2.75)], 0, 3, 7, {"height": 44, "width": 30}),
    # float64 images and model.
    "float64 images": ([(1, 2, 4, 1.5), (0, 3, 1, 2.5), (0, 5, 2, 2.0), (0, 1, 5, 1.25)], 0, 2, 8, {"dtype": "float64"}),
}


def record_activations(solution, mistake, layer: int) -> dict:
    model = public.detector_model(seed=ACTIVATIONS["model_seed"])
    images = noise((ACTIVATIONS["images"], 3, public.IMAGE_SIZE, public.IMAGE_SIZE), ACTIVATIONS["images_seed"])

    def run(module):
        return module.top_activating_patches(model, layer, ACTIVATIONS["channel"], images.clone(), ACTIVATIONS["k"])[1]

    expected = run(solution)
    return ACTIVATIONS | {
        "expected": expected,
        "fingerprints": fingerprints(run, expected, mistake, public.same_activations, True),
    }


def record_planted(solution, mistake, places, channel: int, k: int, seed: int, settings: dict) -> dict:
    dtype = getattr(torch, settings.get("dtype", "float32"))
    height, width = settings.get("height", public.IMAGE_SIZE), settings.get("width", public.IMAGE_SIZE)
    model, images = public.detector_model().to(dtype), public.planted_images(places, seed, height, width, dtype)

    def run(module):
        return public.placement(module.top_activating_patches(model, public.LAYER, channel, images.clone(), k)[0], images)

    expected = run(solution)
    # The solution's patches are the fields of the planted units, the strongest first.
    field = solution.receptive_field(model[: public.LAYER + 1])
    corner = round(field.start - (field.size - 1) / 2)
    strongest = sorted((n for n, place in enumerate(places) if place[0] == channel), key=lambda n: -places[n][3])[:k]
    planted = [(n, corner + places[n][1] * field.jump, corner + places[n][2] * field.jump) for n in strongest]
    assert expected["positions"] == planted, f"the solution's patches are at {expected['positions']}, planted at {planted}"
    return {
        "places": places,
        "channel": channel,
        "k": k,
        "seed": seed,
        **settings,
        "size": field.size,
        "expected": expected["positions"],
        "fingerprints": fingerprints(run, expected, mistake, public.same_placement, True),
    }


def record(solution, mistake) -> dict:
    assert set(FIELD_MISTAKES) | set(PATCH_MISTAKES) == {m.name for m in MUTANTS}, "a mutant without a sentence"
    cases = {}
    for name, stacks in FIELD_CASES.items():
        builds = [
            (lambda layers=layers, sequential=sequential: public.build_stack({"layers": layers, "sequential": sequential}))
            for layers, sequential, _ in stacks
        ]
        cases[name] = {
            "stacks": [{"layers": layers} | ({"sequential": True} if sequential else {}) for layers, sequential, _ in stacks],
            **record_fields(solution, mistake, builds, [field for _, _, field in stacks]),
        }
    network = nn.Sequential(*map(public.build_layer, PART1_NETWORK))
    cases["part 1 network"] = {
        "network": PART1_NETWORK,
        "stages": [(stop, stage) for stop, stage, _ in PART1_STAGES],
        **record_fields(solution, mistake, [lambda stop=stop: network[:stop] for stop, _, _ in PART1_STAGES], [f for _, _, f in PART1_STAGES]),
    }
    for layer in (0, 2, 3):
        cases[f"activations after layer {layer}"] = record_activations(solution, mistake, layer)
    for name, (places, channel, k, seed, settings) in PLANTED_CASES.items():
        cases[name] = record_planted(solution, mistake, places, channel, k, seed, settings)
    return cases
