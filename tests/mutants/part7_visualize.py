"""Part 7 (visualize.py, receptive fields and top activating patches): realistic mistakes and correct variants."""

from tests.mutants import Mutant, Variant

GEOMETRIC = "if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):"
KERNEL = '_side(layer.kernel_size) - 1) * _side(getattr(layer, "dilation", 1)) + 1'
SIZE = "            size += (kernel - 1) * jump\n"
START = "            start += ((kernel - 1) / 2 - _side(layer.padding)) * jump\n"
JUMP = "            jump *= _side(layer.stride)\n"
SLICE = "    layers = model[: layer + 1]\n"
MAPS = "        maps = layers(images)[:, channel]  # (N, h, w)\n"
BEST = "    best, where = maps.flatten(1).max(dim=1)  # each image's strongest unit\n"
TOP_K = "    activations, order = best.topk(k)  # sorted, largest first\n"
CORNER = "    corner = round(field.start - (field.size - 1) / 2)"
WINDOW = "        top, left = corner + y * field.jump, corner + x * field.jump\n"
CROP_LOOP = """    height, width = images.shape[2:]
    corner = round(field.start - (field.size - 1) / 2)  # first row (and column) of unit (0, 0)'s field
    patches = []
    for n in order.tolist():
        y, x = divmod(where[n].item(), maps.shape[2])
        top, left = corner + y * field.jump, corner + x * field.jump
        # Negative padding crops: this keeps rows top .. top + size - 1, with zeros outside the image.
        patches.append(F.pad(images[n], (-left, left + field.size - width, -top, top + field.size - height)))
    return torch.stack(patches), activations
"""
RECURRENCE = """    size, jump, start = 1, 1, 0.0
    for layer in layers:
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            kernel = (_side(layer.kernel_size) - 1) * _side(getattr(layer, "dilation", 1)) + 1  # dilated kernel
""" + SIZE + START + JUMP + "    return ReceptiveField(size, jump, start)\n"

MUTANTS = [
    Mutant(
        "receptive field ignores padding",
        "visualize",
        ((START, "            start += (kernel - 1) / 2 * jump\n"),),
        "test_receptive_field_padding_moves_the_start",
        "the field ignores padding",
    ),
    Mutant(
        "receptive field ignores stride",
        "visualize",
        ((JUMP, ""),),
        "test_receptive_field_strides_multiply_the_jump",
        "the field ignores the strides",
    ),
    Mutant(
        "receptive field ignores dilation",
        "visualize",
        ((KERNEL, "_side(layer.kernel_size) - 1) + 1"),),
        "test_receptive_field_dilation_spreads_the_kernel",
        "the field ignores dilation",
    ),
    Mutant(
        "size grows without the jump",
        "visualize",
        ((SIZE, "            size += kernel - 1\n"),),
        "test_receptive_field_strides_multiply_the_jump",
        "without multiplying by the jump",
    ),
    Mutant(
        "start moves without the jump",
        "visualize",
        ((START, "            start += (kernel - 1) / 2 - _side(layer.padding)\n"),),
        "test_receptive_field_strides_multiply_the_jump",
        "start moves without multiplying by the jump",
    ),
    Mutant(
        "jump multiplied before the layer's growth",
        "visualize",
        ((SIZE + START + JUMP, JUMP + SIZE + START),),
        "test_receptive_field_strides_multiply_the_jump",
        "the jump is multiplied by the layer's stride before the layer's own growth",
    ),
    Mutant(
        "pooling layers ignored",
        "visualize",
        ((GEOMETRIC, "if isinstance(layer, nn.Conv2d):"),),
        "test_receptive_field_of_pooling_layers",
        "the field ignores the pooling layers",
    ),
    Mutant(
        "start at the field's corner",
        "visualize",
        ((START, "            start -= _side(layer.padding) * jump\n"),),
        "test_receptive_field_of_one_convolution",
        "top-left corner",
    ),
    Mutant(
        "start rounded down",
        "visualize",
        (("start += ((kernel - 1) / 2", "start += ((kernel - 1) // 2"),),
        "test_receptive_field_of_pooling_layers",
        "start is rounded down",
    ),
    Mutant(
        "patch cut from the field's centre as its corner",
        "visualize",
        ((CORNER, "    corner = round(field.start)"),),
        "test_top_patches_show_the_planted_pattern",
        "the crop starts at the centre of the unit's field",
    ),
    Mutant(
        "patch corner half a field too far",
        "visualize",
        ((CORNER, "    corner = round(field.start - (field.size - 1))"),),
        "test_top_patches_show_the_planted_pattern",
        "subtracting (size - 1) / 2",
    ),
    Mutant(
        "patch cut without the field's offset",
        "visualize",
        ((CORNER, "    corner = 0"),),
        "test_top_patches_show_the_planted_pattern",
        "without the field's offset",
    ),
    Mutant(
        "window moved inside the image at the border",
        "visualize",
        ((WINDOW, "        top, left = max(corner + y * field.jump, 0), max(corner + x * field.jump, 0)\n"),),
        "test_top_patches_are_zero_padded_at_the_border",
        "moved inside the image",
    ),
    Mutant(
        "largest value over all channels",
        "visualize",
        ((MAPS, "        maps = layers(images).amax(dim=1)  # (N, h, w)\n"),),
        "test_top_patches_activations_are_the_recorded_largest_per_image[3]",
        "largest values over all channels",
    ),
    Mutant(
        "top k in increasing order",
        "visualize",
        ((TOP_K, "    order = best.argsort()[-k:]\n    activations = best[order]\n"),),
        "test_top_patches_activations_are_the_recorded_largest_per_image[3]",
        "sort them in decreasing order",
    ),
    Mutant(
        "k weakest images",
        "visualize",
        ((TOP_K, "    activations, order = best.topk(k, largest=False)\n"),),
        "test_top_patches_activations_are_the_recorded_largest_per_image[3]",
        "the k weakest images",
    ),
    Mutant(
        "activations of the layer before",
        "visualize",
        ((SLICE, "    layers = model[:layer]\n"),),
        "test_top_patches_activations_are_the_recorded_largest_per_image[3]",
        "activations of the layer before",
    ),
    Mutant(
        "activations of the layer after",
        "visualize",
        ((SLICE, "    layers = model[: layer + 2]\n"),),
        "test_top_patches_activations_are_the_recorded_largest_per_image[2]",
        "activations of the layer after",
    ),
    Mutant(
        "several patches from one image",
        "visualize",
        (
            (BEST + TOP_K, "    activations, flat = maps.flatten().topk(k)\n    order, where = flat // maps[0].numel(), flat % maps[0].numel()\n"),
            ("    for n in order.tolist():\n        y, x = divmod(where[n].item()", "    for i, n in enumerate(order.tolist()):\n        y, x = divmod(where[i].item()"),
        ),
        "test_top_patches_activations_are_the_recorded_largest_per_image[3]",
        "several patches from one image",
    ),
]

VARIANTS = [
    Variant(
        "receptive field composed backwards from the unit",
        "visualize",
        (
            (
                RECURRENCE,
                """    # Map units 0 and 1 of the last layer back to input pixels, one layer at a time.
    first, last, next_first = 0, 0, 1
    for layer in reversed(list(layers)):
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            stride, padding = _side(layer.stride), _side(layer.padding)
            span = (_side(layer.kernel_size) - 1) * _side(getattr(layer, "dilation", 1))
            first, last = first * stride - padding, last * stride - padding + span
            next_first = next_first * stride - padding
    return ReceptiveField(last - first + 1, next_first - first, (first + last) / 2)
""",
            ),
        ),
    ),
    Variant(
        "activations caught by a forward hook",
        "visualize",
        (
            (
                SLICE + "    field = receptive_field(layers)\n" + "    with torch.no_grad():\n" + MAPS,
                """    field = receptive_field(model[: layer + 1])
    caught = []
    # A clone: an in-place ReLU after model[layer] would change its output afterwards.
    hook = model[layer].register_forward_hook(lambda module, inputs, output: caught.append(output[:, channel].clone()))
    try:
        with torch.no_grad():
            model(images)
    finally:
        hook.remove()
    maps = caught[0]  # (N, h, w)
""",
            ),
        ),
    ),
    Variant(
        "patches sliced from a zero-padded batch",
        "visualize",
        (
            (
                CROP_LOOP,
                """    # No field sticks out of the image by more than its size plus |start|: pad that much, then slice.
    margin = field.size + int(abs(field.start)) + 1
    padded = F.pad(images[order], (margin, margin, margin, margin))
    rows, columns = where[order] // maps.shape[2], where[order] % maps.shape[2]
    corner = margin + round(field.start - (field.size - 1) / 2)
    tops, lefts = (corner + rows * field.jump).tolist(), (corner + columns * field.jump).tolist()
    patches = [padded[i, :, t : t + field.size, l : l + field.size] for i, (t, l) in enumerate(zip(tops, lefts))]
    return torch.stack(patches), activations
""",
            ),
        ),
    ),
]
