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
]
