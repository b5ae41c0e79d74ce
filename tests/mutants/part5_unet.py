"""Part 5 (unet.py, the U-Net): realistic mistakes and correct variants."""

from tests.mutants import Mutant, Variant

CONCATENATE = "return self.conv(torch.cat([skip, x], dim=1))"
UP_CONV = "self.conv = DoubleConv(in_channels + out_channels, out_channels)"
UPSAMPLE = 'self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)'
PAD = (
    "        # Pooling rounded an odd size down: pad the missing row or column so the sizes match.\n"
    "        rows, columns = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]\n"
    "        x = F.pad(x, [columns // 2, columns - columns // 2, rows // 2, rows - rows // 2])\n"
)
DOWNS = "Down(channels[level - 1], channels[level]) for level in range(1, depth + 1)"
UPS = "Up(channels[level + 1], channels[level]) for level in reversed(range(depth))"
DECODER = "        for up, skip in zip(self.ups, reversed(skips)):\n"
FIRST_RELU = "nn.BatchNorm2d(out_channels),\n            nn.ReLU(inplace=True),\n            nn.Conv2d(out_channels"
DOUBLE_CONV_LAYERS = (
    "            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),\n"
    "            nn.BatchNorm2d(out_channels),\n"
    "            nn.ReLU(inplace=True),\n"
    "            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),\n"
    "            nn.BatchNorm2d(out_channels),\n"
    "            nn.ReLU(inplace=True),\n"
)
DOUBLE_CONV_FORWARD = "        return self.double_conv(x)\n"
DOWN_FORWARD = "        return self.maxpool_conv(x)\n"
OUT_CONV_FORWARD = "        return self.conv(x)\n\n\nclass UNet"
UNET_RETURN = "        return self.outc(x)\n"
MODULE_LISTS = f"        self.downs = nn.ModuleList({DOWNS})\n        self.ups = nn.ModuleList({UPS})\n"
DOWN_LAYERS = "self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))"
ONE_CONVOLUTION = (  # convolution => BN => ReLU once: half a DoubleConv ({} is the input channel count)
    "nn.Conv2d({}, out_channels, kernel_size=3, padding=1, bias=False), nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)"
)
FORWARD_LOOPS = (
    "        x = self.inc(x)\n"
    "        skips = []\n"
    "        for down in self.downs:\n"
    "            skips.append(x)\n"
    "            x = down(x)\n"
    + DECODER
    + "            x = up(x, skip)\n"
)

MUTANTS = [
    Mutant(
        "skips cut",
        "unet",
        ((CONCATENATE, "return self.conv(torch.cat([torch.zeros_like(skip), x], dim=1))"),),
        "test_skips_carry_information_without_the_bottleneck",
        "the skip connections are cut",
    ),
    Mutant(
        "no skips: a plain encoder-decoder",
        "unet",
        ((UP_CONV, "self.conv = DoubleConv(in_channels, out_channels)"), (CONCATENATE, "return self.conv(x)")),
        "test_each_up_concatenates_its_skip",
        "the skip is not concatenated",
    ),
    Mutant(
        "skip added instead of concatenated",
        "unet",
        (
            (UPSAMPLE, "self.up = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)"),
            (UP_CONV, "self.conv = DoubleConv(out_channels, out_channels)"),
            (CONCATENATE, "return self.conv(skip + x)"),
        ),
        "test_each_up_concatenates_its_skip",
        "the skip is added to the upsampled features",
    ),
    Mutant(
        "skip concatenated before upsampling",
        "unet",
        (
            (
                "        x = self.up(x)\n" + PAD + "        " + CONCATENATE,
                "        x = self.up(torch.cat([F.adaptive_avg_pool2d(skip, x.shape[-2:]), x], dim=1))\n"
                "        rows, columns = skip.shape[-2] - x.shape[-2], skip.shape[-1] - x.shape[-1]\n"
                "        x = F.pad(x, [columns // 2, columns - columns // 2, rows // 2, rows - rows // 2])\n"
                "        return self.conv(x)",
            ),
        ),
        "test_each_up_concatenates_its_skip",
        "concatenated before upsampling",
    ),
    Mutant(
        "skip from the wrong level",
        "unet",
        ((DECODER, "        for up, skip in zip(self.ups, skips):\n"),),
        "test_skip_of_each_level_enters_the_mirrored_decoder_level",
        "the skip goes to the wrong level",
    ),
    Mutant(
        "upsampling without matching sizes",
        "unet",
        ((PAD, ""),),
        "test_output_shape_for_any_input_size",
        "max pooling rounds it down",
    ),
    Mutant(
        "output at half resolution",
        "unet",
        (
            (UPS, "Up(channels[level + 1], channels[level]) for level in reversed(range(1, depth))"),
            ("self.outc = OutConv(channels[0], num_classes)", "self.outc = OutConv(channels[1], num_classes)"),
        ),
        "test_output_shape_for_any_input_size",
        "the output is at half resolution",
    ),
    Mutant(
        "relu missing after the first convolution",
        "unet",
        ((FIRST_RELU, "nn.BatchNorm2d(out_channels),\n            nn.Conv2d(out_channels"),),
        "test_double_conv_applies_relu_after_each_convolution",
        "a ReLU is missing after the first convolution",
    ),
    Mutant(
        "no batch norm",
        "unet",
        (("            nn.BatchNorm2d(out_channels),\n", ""),),
        "test_double_conv_keeps_the_size_and_sets_the_channels",
        "BatchNorm2d",
    ),
    Mutant(
        "num_classes ignored",
        "unet",
        (("self.outc = OutConv(channels[0], num_classes)", "self.outc = OutConv(channels[0], 2)"),),
        "test_output_shape_for_any_input_size",
        "num_classes is ignored",
    ),
    Mutant(
        # Always one level, whatever depth says: also the calibration's "less context" baseline.
        "depth ignored",
        "unet",
        ((DOWNS, DOWNS.replace("range(1, depth + 1)", "range(1, 2)")), (UPS, UPS.replace("range(depth)", "range(1)"))),
        "test_depth_and_base_channels_set_the_levels",
        "depth is ignored",
    ),
    Mutant(
        "base_channels ignored",
        "unet",
        (("base_channels * 2**level for level", "16 * 2**level for level"),),
        "test_depth_and_base_channels_set_the_levels",
        "base_channels * 2**l channels",
    ),
    Mutant(
        # Every Up drops what comes from below: the output sees the input block's features alone, so it is
        # also the calibration's "no context" baseline (the mirror image of "skips cut").
        "bottleneck bypassed entirely",
        "unet",
        ((CONCATENATE, "return self.conv(torch.cat([skip, torch.zeros_like(x)], dim=1))"),),
        "test_output_depends_on_the_bottleneck",
        "the bottleneck is bypassed",
    ),
    Mutant(
        "skips detached",
        "unet",
        (("skips.append(x)", "skips.append(x.detach())"),),
        "test_gradient_reaches_the_first_block_with_the_bottleneck_cut",
        "the skips carry no gradient",
    ),
    Mutant(
        "3 x 3 output convolution",
        "unet",
        (("nn.Conv2d(in_channels, num_classes, kernel_size=1)", "nn.Conv2d(in_channels, num_classes, kernel_size=3, padding=1)"),),
        "test_out_conv_scores_each_pixel_on_its_own",
        "kernel_size=1",
    ),
    Mutant(
        "average pooling instead of max pooling",
        "unet",
        (("nn.MaxPool2d(2)", "nn.AvgPool2d(2)"),),
        "test_down_keeps_the_largest_value_of_each_2x2_window",
        "average pooling",
    ),
    Mutant(
        # Trains nearly as well (mean IoU 0.868 at seed 0, threshold 0.75): only the logits test sees it.
        "softmax on the logits",
        "unet",
        ((UNET_RETURN, "        return self.outc(x).softmax(dim=1)\n"),),
        "test_outputs_are_logits",
        "a softmax turns the scores into probabilities",
    ),
    Mutant(
        # Also fails the mean-IoU test (0.547 at seed 0): the scores of the classes ruled out tie at zero.
        "ReLU on the logits",
        "unet",
        ((OUT_CONV_FORWARD, "        return torch.relu(self.conv(x))\n\n\nclass UNet"),),
        "test_outputs_are_logits",
        "a ReLU on the logits",
    ),
    Mutant(
        # Also fails the mean-IoU test (0.696 at seed 0): the short training run does not recover from it.
        "dropout inside DoubleConv",
        "unet",
        ((FIRST_RELU, "nn.BatchNorm2d(out_channels),\n            nn.ReLU(inplace=True),\n            nn.Dropout2d(0.2),\n            nn.Conv2d(out_channels"),),
        "test_double_conv_gives_the_same_output_for_the_same_batch",
        "dropout inside DoubleConv",
    ),
    Mutant(
        "batch norm before each convolution",
        "unet",
        (
            (
                DOUBLE_CONV_LAYERS,
                "            nn.BatchNorm2d(in_channels),\n"
                "            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),\n"
                "            nn.ReLU(inplace=True),\n"
                "            nn.BatchNorm2d(out_channels),\n"
                "            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),\n"
                "            nn.ReLU(inplace=True),\n",
            ),
        ),
        "test_double_conv_keeps_the_size_and_sets_the_channels",
        "a batch norm comes before its convolution",
    ),
    Mutant(
        "blocks kept in plain Python lists",
        "unet",
        ((MODULE_LISTS, f"        self.downs = [{DOWNS}]\n        self.ups = [{UPS}]\n"),),
        "test_depth_and_base_channels_set_the_levels",
        "not register them: downs (list of 1 Down), ups (list of 1 Up)",
    ),
    Mutant(
        "Down with a single convolution",
        "unet",
        (
            (
                DOWN_LAYERS,
                f"self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), {ONE_CONVOLUTION.format('in_channels')})",
            ),
        ),
        "test_each_down_and_up_applies_two_3x3_convolutions",
        "Down applies a single convolution after the pooling",
    ),
    Mutant(
        "Up with a single convolution",
        "unet",
        ((UP_CONV, f"self.conv = nn.Sequential({ONE_CONVOLUTION.format('in_channels + out_channels')})"),),
        "test_each_down_and_up_applies_two_3x3_convolutions",
        "Up applies a single convolution after the concatenation",
    ),
]

VARIANTS = [
    Variant(
        "transposed convolution instead of bilinear upsampling",
        "unet",
        (
            (UPSAMPLE, "self.up = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)"),
            (UP_CONV, "self.conv = DoubleConv(2 * out_channels, out_channels)"),
        ),
    ),
    Variant(
        # milesial/Pytorch-UNet's Up: the transposed convolution halves the channels, and the padding is
        # written with diffY and diffX.
        "transposed convolution to half the channels, as in milesial/Pytorch-UNet",
        "unet",
        (
            (UPSAMPLE, "self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)"),
            (UP_CONV, "self.conv = DoubleConv(in_channels // 2 + out_channels, out_channels)"),
            (
                PAD,
                "        diffY = skip.size()[2] - x.size()[2]\n"
                "        diffX = skip.size()[3] - x.size()[3]\n"
                "        x = F.pad(x, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])\n",
            ),
        ),
    ),
    Variant(
        # The original U-Net's way: round up when pooling, then crop the larger upsampled map to the skip.
        "crop instead of pad",
        "unet",
        (
            ("nn.MaxPool2d(2)", "nn.MaxPool2d(2, ceil_mode=True)"),
            (PAD, "        x = x[..., : skip.shape[-2], : skip.shape[-1]]\n"),
        ),
    ),
    Variant(
        # Also: biases before batch norm, the upsampled map concatenated first, resized rather than padded.
        "named blocks instead of ModuleList loops",
        "unet",
        (
            ("bias=False", "bias=True"),
            ("        x = self.up(x)\n" + PAD, '        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear")\n'),
            (CONCATENATE, "return self.conv(torch.cat([x, skip], dim=1))"),
            (
                f"        self.downs = nn.ModuleList({DOWNS})\n        self.ups = nn.ModuleList({UPS})\n",
                "        self.depth = depth\n"
                "        for level in range(1, depth + 1):\n"
                '            setattr(self, f"down{level}", Down(channels[level - 1], channels[level]))\n'
                '            setattr(self, f"up{level}", Up(channels[level], channels[level - 1]))\n',
            ),
            (
                "        skips = []\n        for down in self.downs:\n            skips.append(x)\n            x = down(x)\n"
                + DECODER
                + "            x = up(x, skip)\n",
                "        skips = [x]\n"
                "        for level in range(1, self.depth + 1):\n"
                '            skips.append(getattr(self, f"down{level}")(skips[-1]))\n'
                "        x = skips.pop()\n"
                "        for level in range(self.depth, 0, -1):\n"
                '            x = getattr(self, f"up{level}")(x, skips.pop())\n',
            ),
        ),
    ),
    Variant(
        # Layers as attributes, the ReLUs and the pooling as functions called in forward.
        "functional ReLU and max pooling called in forward",
        "unet",
        (
            (
                "        self.double_conv = nn.Sequential(\n" + DOUBLE_CONV_LAYERS + "        )\n",
                "        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)\n"
                "        self.norm1 = nn.BatchNorm2d(out_channels)\n"
                "        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)\n"
                "        self.norm2 = nn.BatchNorm2d(out_channels)\n",
            ),
            (
                DOUBLE_CONV_FORWARD,
                "        x = F.relu(self.norm1(self.conv1(x)))\n        return torch.clamp(self.norm2(self.conv2(x)), min=0)\n",
            ),
            (
                "        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))\n",
                "        self.conv = DoubleConv(in_channels, out_channels)\n",
            ),
            (DOWN_FORWARD, "        return self.conv(F.max_pool2d(x, kernel_size=2, stride=2))\n"),
        ),
    ),
    Variant(
        # Nearest-neighbour upsampling; the upsampled map written into a zero canvas of the skip's size, which
        # pads it on the bottom and right; max pooling as the maximum of the four strided sub-grids.
        "nearest upsampling, zero canvas, pooling by strided slices",
        "unet",
        (
            (UPSAMPLE, 'self.up = nn.Upsample(scale_factor=2, mode="nearest")'),
            (
                PAD,
                "        canvas = x.new_zeros(*x.shape[:2], *skip.shape[-2:])\n"
                "        canvas[..., : x.shape[-2], : x.shape[-1]] = x\n"
                "        x = canvas\n",
            ),
            (
                "        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))\n",
                "        self.conv = DoubleConv(in_channels, out_channels)\n",
            ),
            (
                DOWN_FORWARD,
                "        h, w = x.shape[-2] // 2 * 2, x.shape[-1] // 2 * 2\n"
                "        x = torch.stack([x[..., i:h:2, j:w:2] for i in (0, 1) for j in (0, 1)]).amax(dim=0)\n"
                "        return self.conv(x)\n",
            ),
        ),
    ),
    Variant(
        # OutConv as a linear layer applied to each pixel's channel vector (the same map as a 1 x 1 convolution).
        "linear layer over the channels as the 1 x 1 convolution",
        "unet",
        (
            ("self.conv = nn.Conv2d(in_channels, num_classes, kernel_size=1)", "self.linear = nn.Linear(in_channels, num_classes)"),
            (OUT_CONV_FORWARD, "        return self.linear(x.movedim(1, -1)).movedim(-1, 1)\n\n\nclass UNet"),
        ),
    ),
    Variant(
        # The encoder-decoder as a recursion: level l runs its Down, the levels below, then its Up; the blocks
        # in an nn.ModuleDict.
        "recursive forward over an nn.ModuleDict",
        "unet",
        (
            (
                MODULE_LISTS,
                "        self.depth = depth\n"
                "        self.blocks = nn.ModuleDict()\n"
                "        for level in range(1, depth + 1):\n"
                '            self.blocks[f"down{level}"] = Down(channels[level - 1], channels[level])\n'
                "        for level in reversed(range(depth)):\n"
                '            self.blocks[f"up{level}"] = Up(channels[level + 1], channels[level])\n',
            ),
            (
                FORWARD_LOOPS,
                "        x = self.descend(self.inc(x), 0)\n",
            ),
            (
                UNET_RETURN,
                "        return self.outc(x)\n\n"
                "    def descend(self, x: torch.Tensor, level: int) -> torch.Tensor:\n"
                "        if level == self.depth:\n"
                "            return x\n"
                '        below = self.descend(self.blocks[f"down{level + 1}"](x), level + 1)\n'
                '        return self.blocks[f"up{level}"](below, x)\n',
            ),
        ),
    ),
    Variant(
        # Rounding up when pooling, then cropping the upsampled map with negative padding (F.pad crops then).
        "ceil-mode pooling, cropped by negative padding",
        "unet",
        (
            ("nn.MaxPool2d(2)", "nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)"),
            (
                PAD,
                "        x = F.pad(x, [0, skip.shape[-1] - x.shape[-1], 0, skip.shape[-2] - x.shape[-2]])\n",
            ),
        ),
    ),
    Variant(
        # Down's DoubleConv written out as its six layers, with the convolutions' biases (redundant before batch
        # norm, harmless); Up halves the upsampled map's channels with a 1 x 1 convolution (which is not one of
        # the DoubleConv's two 3 x 3 convolutions). Its first training run at seed 0 lands where digit 1 is never
        # predicted (mean IoU 0.707; 0.90 to 0.93 at seeds 1 to 9): the accuracy test's second run passes it.
        "Down's layers written out, a 1 x 1 convolution after bilinear upsampling",
        "unet",
        (
            (
                DOWN_LAYERS,
                "self.maxpool_conv = nn.Sequential(\n"
                "            nn.MaxPool2d(2),\n"
                "            nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),\n"
                "            nn.BatchNorm2d(out_channels),\n"
                "            nn.ReLU(),\n"
                "            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1),\n"
                "            nn.BatchNorm2d(out_channels),\n"
                "            nn.ReLU(),\n"
                "        )",
            ),
            (UPSAMPLE, UPSAMPLE + "\n        self.reduce = nn.Conv2d(in_channels, in_channels // 2, kernel_size=1)"),
            (UP_CONV, "self.conv = DoubleConv(in_channels // 2 + out_channels, out_channels)"),
            ("        x = self.up(x)\n", "        x = self.reduce(self.up(x))\n"),
        ),
    ),
]
