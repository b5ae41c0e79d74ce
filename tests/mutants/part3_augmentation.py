"""Part 3 (augmentation.py, data augmentation): realistic mistakes and correct variants."""

from tests.mutants import Mutant, Variant

AFFINE = "            transforms.RandomAffine(degrees=20, translate=(0.15, 0.15), scale=(0.9, 1.1), fill=0),\n"
COLOUR_JITTER = "            transforms.ColorJitter(brightness=0.3, contrast=0.3),\n"
TRAIN_TAIL = "            ColourCast(strength=0.3),\n            transforms.Normalize(MNIST_MEAN, MNIST_STD),\n"
TEST_HEAD = "            transforms.Resize((image_size, image_size)),\n            to_rgb,\n            transforms.ToTensor(),\n"
TEST_TAIL = "            transforms.ToTensor(),\n            transforms.Normalize(MNIST_MEAN, MNIST_STD),\n"

MUTANTS = [
    Mutant(
        "horizontal flip",
        "augmentation",
        ((COLOUR_JITTER, COLOUR_JITTER + "            transforms.RandomHorizontalFlip(),\n"),),
        "test_no_flips_or_large_rotations",
        "flips images horizontally",
    ),
    Mutant(
        "vertical flip",
        "augmentation",
        ((COLOUR_JITTER, COLOUR_JITTER + "            transforms.RandomVerticalFlip(),\n"),),
        "test_no_flips_or_large_rotations",
        "flips images vertically",
    ),
    Mutant(
        "the lecture's flips and quarter turns",
        "augmentation",
        (
            (
                AFFINE,
                "            transforms.RandomHorizontalFlip(),\n"
                "            transforms.RandomChoice([transforms.RandomRotation((a, a)) for a in (0, 90, 180, 270)]),\n",
            ),
        ),
        "test_no_flips_or_large_rotations",
        "rotates images by 90 degrees or more",
    ),
    Mutant(
        "rotations up to 180 degrees",
        "augmentation",
        (("degrees=20", "degrees=180"),),
        "test_no_flips_or_large_rotations",
        "rotates images by 90 degrees or more",
    ),
    Mutant(
        "augmentation in the test transform",
        "augmentation",
        (('every call.\n    """\n    return transforms.Compose(', 'every call.\n    """\n    return train_transform(image_size)\n    return transforms.Compose('),),
        "test_test_transform_is_deterministic",
        "augmentation in the test transform",
    ),
    Mutant(
        "test transform not normalised",
        "augmentation",
        ((TEST_TAIL, "            transforms.ToTensor(),\n"),),
        "test_test_transform_output",
        "not normalised",
    ),
    Mutant(
        "test transform keeps one channel",
        "augmentation",
        ((TEST_HEAD, "            transforms.Resize((image_size, image_size)),\n            transforms.ToTensor(),\n"),),
        "test_test_transform_output",
        "3 channels",
    ),
    Mutant(
        "train transform not normalised",
        "augmentation",
        ((TRAIN_TAIL, "            ColourCast(strength=0.3),\n"),),
        "test_train_transform_normalises_like_test_transform",
        "not normalised",
    ),
    Mutant(
        "train transform normalised with ImageNet statistics",
        "augmentation",
        (
            (
                TRAIN_TAIL,
                "            ColourCast(strength=0.3),\n"
                "            transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),\n",
            ),
        ),
        "test_train_transform_normalises_like_test_transform",
        "another mean and std",
    ),
    Mutant(
        "colour jitter so strong the digit vanishes",
        "augmentation",
        (("transforms.ColorJitter(brightness=0.3, contrast=0.3)", "transforms.ColorJitter(brightness=1.0, contrast=1.0)"),),
        "test_digit_stays_visible",
        "digit may vanish",
    ),
    Mutant(
        "a random crop as large as the image",
        "augmentation",
        (
            (AFFINE, "            transforms.RandomCrop(image_size),\n"),
            (COLOUR_JITTER, ""),
            ("            ColourCast(strength=0.3),\n", ""),
        ),
        "test_train_transform_is_random",
        "no augmentation",
    ),
    Mutant(
        "train transform without augmentation",
        "augmentation",
        ((AFFINE, ""), (COLOUR_JITTER, ""), ("            ColourCast(strength=0.3),\n", "")),
        "test_train_transform_is_random",
        "no augmentation",
    ),
    Mutant(
        "colour casting only",
        "augmentation",
        ((AFFINE, ""),),
        "test_augmentation_helps_on_shifted_digits",
        "shifted digits",
    ),
    Mutant(
        "shifts so large the digit leaves the picture",
        "augmentation",
        ((AFFINE, "            transforms.RandomAffine(degrees=0, translate=(0.45, 0.45)),\n"),),
        "test_no_flips_or_large_rotations",
        "no longer recognisable",
    ),
    Mutant(
        "heavy erasing",
        "augmentation",
        ((TRAIN_TAIL, "            ColourCast(strength=0.3),\n            transforms.RandomErasing(p=1.0, scale=(0.3, 0.5), value=0),\n"
                      "            transforms.Normalize(MNIST_MEAN, MNIST_STD),\n"),),
        "test_no_flips_or_large_rotations",
        "no longer recognisable",
    ),
    Mutant(
        "size hard-coded in the test transform",
        "augmentation",
        ((TEST_HEAD, "            transforms.Resize((64, 64)),\n            to_rgb,\n            transforms.ToTensor(),\n"),),
        "test_test_transform_output",
        "the size is fixed at 64",
    ),

]

TRAIN_COMPOSE = """    return transforms.Compose(
        [
            transforms.Resize((image_size, image_size)),
            to_rgb,
            # Geometric distortion: a small rotation, a shift of up to 15% of the side, a little zoom.
            # The empty border that a shift or rotation uncovers is filled with black, the background.
""" + AFFINE + """            # Colour casting: lighter or darker, more or less contrast, a tint per channel.
""" + COLOUR_JITTER + "            transforms.ToTensor(),\n" + TRAIN_TAIL + """        ]
    )
"""
TEST_COMPOSE = """    return transforms.Compose(
        [
""" + TEST_HEAD + """            transforms.Normalize(MNIST_MEAN, MNIST_STD),
        ]
    )
"""

VARIANTS = [
    Variant(
        # torchvision's v2 transforms: PIL image to a tv_tensors.Image (uint8), the augmentations on that tensor,
        # then the scaling to [0, 1] and Normalize; v2.RGB for the three channels.
        "torchvision v2 transforms on tensor images",
        "augmentation",
        (
            ("from torchvision import transforms\n", "from torchvision.transforms import v2\n"),
            (
                TRAIN_COMPOSE,
                """    return v2.Compose(
        [
            v2.ToImage(),  # a tv_tensors.Image, uint8, (1 or 3, H, W)
            v2.Resize((image_size, image_size), interpolation=v2.InterpolationMode.BILINEAR, antialias=True),
            v2.RGB(),
            v2.RandomAffine(degrees=20, translate=(0.15, 0.15), scale=(0.9, 1.1), fill=0),
            v2.ColorJitter(brightness=0.3, contrast=0.3),
            v2.ToDtype(torch.float32, scale=True),
            ColourCast(strength=0.3),
            v2.Normalize(MNIST_MEAN, MNIST_STD),
        ]
    )
""",
            ),
            (
                TEST_COMPOSE,
                """    return v2.Compose(
        [
            v2.Resize((image_size, image_size)),  # on the PIL image, as Image.resize(..., BILINEAR) does
            to_rgb,
            v2.ToImage(),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(MNIST_MEAN, MNIST_STD),
        ]
    )
""",
            ),
        ),
    ),
    Variant(
        "shifts only, by a padded random crop",
        "augmentation",
        (
            (AFFINE, "            transforms.RandomCrop(image_size, padding=image_size // 8),\n"),
            (COLOUR_JITTER, ""),
            ("            ColourCast(strength=0.3),\n", ""),
        ),
    ),
    Variant(
        "rotation and shifts without colour casting",
        "augmentation",
        (
            (AFFINE, "            transforms.RandomAffine(15, translate=(0.1, 0.1)),\n"),
            (COLOUR_JITTER, ""),
            ("            ColourCast(strength=0.3),\n", ""),
        ),
    ),
    Variant(
        "mild random resized crop, rotation and colour jitter",
        "augmentation",
        (
            (AFFINE, "            transforms.RandomResizedCrop(image_size, scale=(0.75, 1.0), ratio=(0.9, 1.1)),\n"
                     "            transforms.RandomRotation(15),\n"),
            (COLOUR_JITTER, "            transforms.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4),\n"),
            ("            ColourCast(strength=0.3),\n", ""),
        ),
    ),
    Variant(
        "affine with shear and brightness",
        "augmentation",
        (
            (AFFINE, "            transforms.RandomAffine(degrees=10, translate=(0.1, 0.1), shear=10),\n"),
            (COLOUR_JITTER, "            transforms.ColorJitter(brightness=0.5),\n"),
            ("            ColourCast(strength=0.3),\n", ""),
        ),
    ),
    Variant(
        "perspective and shifts",
        "augmentation",
        (
            (AFFINE, "            transforms.RandomPerspective(distortion_scale=0.2, p=0.5),\n"
                     "            transforms.RandomAffine(degrees=0, translate=(0.1, 0.1)),\n"),
            (COLOUR_JITTER, ""),
            ("            ColourCast(strength=0.3),\n", ""),
        ),
    ),
    Variant(
        "small erased patches",
        "augmentation",
        (
            (AFFINE, "            transforms.RandomAffine(degrees=15, translate=(0.1, 0.1)),\n"),
            (COLOUR_JITTER, ""),
            ("            ColourCast(strength=0.3),\n", "            transforms.RandomErasing(p=0.5, scale=(0.02, 0.1), value=0),\n"),
        ),
    ),
    Variant(
        "rotation, padded crop and strong colour casting",
        "augmentation",
        (
            (AFFINE, "            transforms.RandomRotation(20),\n            transforms.RandomCrop(image_size, padding=image_size // 7),\n"),
            ("            ColourCast(strength=0.3),\n", "            ColourCast(strength=0.5),\n"),
        ),
    ),
]
