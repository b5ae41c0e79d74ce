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
    Mutant(
        "start begins as an int",
        "visualize",
        (("    size, jump, start = 1, 1, 0.0\n", "    size, jump, start = 1, 1, 0\n"),),
        "test_receptive_field_pixelwise_layers_change_nothing",
        "begin with start = 0.0, not 0",
    ),
    Mutant(
        "dilation read from AvgPool2d",
        "visualize",
        (('_side(getattr(layer, "dilation", 1))', "_side(layer.dilation)"),),
        "test_receptive_field_of_pooling_layers",
        "'AvgPool2d' object has no attribute 'dilation'",
    ),
    Mutant(
        "flat position unravelled with the map's height",
        "visualize",
        (("divmod(where[n].item(), maps.shape[2])", "divmod(where[n].item(), maps.shape[1])"),),
        "test_top_patches_of_non_square_images",
        "unravelled with the map's height",
    ),
    Mutant(
        "image's width taken for its height",
        "visualize",
        (("    height, width = images.shape[2:]\n", "    height = width = images.shape[3]\n"),),
        "test_top_patches_of_non_square_images",
        "the patch's height is computed from the image's width",
    ),
    Mutant(
        "patch cut from the image of its rank",
        "visualize",
        (
            ("    for n in order.tolist():\n", "    for i, n in enumerate(order.tolist()):\n"),
            ("patches.append(F.pad(images[n],", "patches.append(F.pad(images[i],"),
        ),
        "test_top_patches_show_the_planted_pattern",
        "the rank of the patch is not the index of its image",
    ),
    Mutant(
        "patches allocated as float32 zeros",
        "visualize",
        (
            (
                "    patches = []\n    for n in order.tolist():\n",
                (
                    "    patches = torch.zeros(k, images.shape[1], field.size, field.size)\n"
                    "    for i, n in enumerate(order.tolist()):\n"
                ),
            ),
            (
                CROP_LOOP.split("        # Negative padding crops")[1].split("\n", 1)[1],
                (
                    "        patches[i] = F.pad(images[n], (-left, left + field.size - width, -top, top + field.size - height))\n"
                    "    return patches, activations\n"
                ),
            ),
        ),
        "test_top_patches_keep_the_images_dtype",
        "is float32 unless given dtype=images.dtype",
    ),
    Mutant(
        "model put in eval mode",
        "visualize",
        ((SLICE, "    layers = model[: layer + 1].eval()\n"),),
        "test_top_patches_leave_the_model_as_given",
        "do not call model.eval() or model.train()",
    ),
    Mutant(
        "model frozen instead of no_grad",
        "visualize",
        (("    with torch.no_grad():\n" + MAPS, "    model.requires_grad_(False)\n" + MAPS[4:]),),
        "test_top_patches_leave_the_model_as_given",
        "compute the activations under torch.no_grad() instead",
    ),
    Mutant(
        "every parameter unfrozen after the call",
        "visualize",
        (
            (
                "    with torch.no_grad():\n" + MAPS,
                "    model.requires_grad_(False)\n" + MAPS[4:] + "    model.requires_grad_(True)\n",
            ),
        ),
        "test_top_patches_leave_the_model_as_given",
        "requires_grad=False",
    ),
    Mutant(
        # Put in eval mode for the activations, then "restored" to train mode whatever mode the caller had chosen.
        "top patches leaving the model in train mode",
        "visualize",
        (
            (SLICE, "    layers = model[: layer + 1].eval()\n"),
            (MAPS, MAPS + "    model.train()  # back to training\n"),
        ),
        "test_top_patches_leave_the_model_as_given",
        "the model was left in train mode",
    ),
    Mutant(
        # The model's own flag restored: right for a model in one mode, wrong for a layer the caller set apart.
        "top patches restoring only the model's own mode",
        "visualize",
        (
            (SLICE, "    was_training = model.training\n    model.eval()\n" + SLICE),
            (MAPS, MAPS + "    model.train(was_training)\n"),
        ),
        "test_top_patches_leave_the_model_as_given",
        "does not restore a layer the caller put in another mode",
    ),
    Mutant(
        # A field of the given class renamed, and the student's own code reading it under the new name.
        "ReceptiveField with a field renamed",
        "visualize",
        (("    size: int\n", "    width: int\n"), ("field.size", "field.width")),
        "test_receptive_field_of_one_convolution",
        "ReceptiveField's fields are given",
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
    Variant(
        # The field's first row tracked instead of its centre; the centre worked out once, at the end.
        "receptive field tracked by its first pixel",
        "visualize",
        (
            (
                RECURRENCE,
                """    size, jump, first = 1, 1, 0  # first: the first row (and column) of unit 0's field
    for layer in layers:
        if not isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            continue
        kernel, stride, padding = (_side(getattr(layer, name)) for name in ("kernel_size", "stride", "padding"))
        dilation = 1 if isinstance(layer, nn.AvgPool2d) else _side(layer.dilation)
        first -= padding * jump
        size += (kernel - 1) * dilation * jump
        jump *= stride
    return ReceptiveField(size, jump, first + (size - 1) / 2)
""",
            ),
        ),
    ),
    Variant(
        # One layer's update as a function of the field before it, folded over the layers.
        "receptive field folded with functools.reduce",
        "visualize",
        (
            (
                RECURRENCE,
                """    from functools import reduce

    def through(field: ReceptiveField, layer) -> ReceptiveField:
        if not isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            return field
        span = (_side(layer.kernel_size) - 1) * _side(getattr(layer, "dilation", 1))
        return ReceptiveField(
            field.size + span * field.jump,
            field.jump * _side(layer.stride),
            field.start + (span / 2 - _side(layer.padding)) * field.jump,
        )

    return reduce(through, layers, ReceptiveField(1, 1, 0.0))
""",
            ),
        ),
    ),
    Variant(
        # All the patches at once: row and column index grids, clamped into the image, zeros where they leave it.
        "patches gathered with index grids",
        "visualize",
        (
            (
                CROP_LOOP,
                """    height, width = images.shape[2:]
    corner = round(field.start - (field.size - 1) / 2)
    rows, columns = where[order] // maps.shape[2], where[order] % maps.shape[2]
    offsets = torch.arange(field.size)
    r = corner + rows[:, None] * field.jump + offsets  # (k, size): each patch's image rows
    c = corner + columns[:, None] * field.jump + offsets
    inside = ((r >= 0) & (r < height))[:, :, None] & ((c >= 0) & (c < width))[:, None, :]  # (k, size, size)
    picked = images[order[:, None, None], :, r.clamp(0, height - 1)[:, :, None], c.clamp(0, width - 1)[:, None, :]]
    patches = torch.where(inside[:, None], picked.permute(0, 3, 1, 2), 0)  # (k, C, size, size)
    return patches, activations
""",
            ),
        ),
    ),
    Variant(
        # argmax and gather per image, a full sort cut to k, and torch.unravel_index for (y, x).
        "strongest units by argmax, sort and unravel_index",
        "visualize",
        (
            (
                BEST + TOP_K,
                """    flat = maps.reshape(len(maps), -1)
    where = flat.argmax(dim=1)
    best = flat.gather(1, where[:, None]).squeeze(1)
    activations, order = torch.sort(best, descending=True)
    activations, order = activations[:k], order[:k]
""",
            ),
            (
                "        y, x = divmod(where[n].item(), maps.shape[2])\n",
                "        y, x = (int(i) for i in torch.unravel_index(where[n], maps.shape[1:]))\n",
            ),
        ),
    ),
    Variant(
        # A zero canvas of the images' dtype, and the part of each field inside its image copied in.
        "patches copied into a zero canvas",
        "visualize",
        (
            (
                CROP_LOOP,
                """    height, width = images.shape[2:]
    corner = round(field.start - (field.size - 1) / 2)
    patches = images.new_zeros(k, images.shape[1], field.size, field.size)
    for i, n in enumerate(order.tolist()):
        y, x = divmod(where[n].item(), maps.shape[2])
        top, left = corner + y * field.jump, corner + x * field.jump
        r0, r1 = max(top, 0), min(top + field.size, height)  # the rows of the field inside the image
        c0, c1 = max(left, 0), min(left + field.size, width)
        patches[i, :, r0 - top : r1 - top, c0 - left : c1 - left] = images[n, :, r0:r1, c0:c1]
    return patches, activations
""",
            ),
        ),
    ),
]
