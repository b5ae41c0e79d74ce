"""Part 3: data augmentation (``augmentation.train_transform``, ``augmentation.test_transform``).

The test transform's right outputs are not computed here: they were recorded
from the reference solution (``autograder/recorded/part3_augmentation.json``)
for a few images, which the tests compare your outputs with.
"""


import pytest
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from PIL import Image

from autograder import shifted_digits
from autograder.accuracy import AccuracyTest
from autograder.checks import check_tensor, fail
from autograder.examples import Draw, examples, noise
from autograder.recorded import load
from autograder.training_loop import training_loop
from dlcv.data import MNIST_MEAN, MNIST_STD, mnist_split
from dlcv.device import pick_device, seed_everything

LOW = (0 - MNIST_MEAN[0]) / MNIST_STD[0]  # black after normalisation: -0.4242
HIGH = (1 - MNIST_MEAN[0]) / MNIST_STD[0]  # white after normalisation: 2.8215
THE_STEPS = (
    "the documented steps: resized to image_size x image_size (bilinear), three channels, scaled to [0, 1], "
    "normalised with MNIST_MEAN and MNIST_STD"
)

# Differences of a few grey levels are allowed (another resize implementation), in normalised units.
VALUE_TOLERANCE = 4 / 255 / MNIST_STD[0]
PROBE_SIZE = 32  # the probes' transforms output 32 x 32 images: enough to see a shape, and fast
SAMPLES = 100  # augmented copies per probe
# A copy whose best match with any flip, turn or lean of the probe is below this has lost part of its shape.
# Measured over 100 copies each: the solution and five other correct augmentations never below 0.75 (q10 >= 0.89);
# shifts of 45% of the side, heavy erasing, crops of 10-40% of the area: 15 to 66 copies below 0.7.
RECOGNISABLE = 0.7

# The grader's SmallCNN trained with the student's train transform: see autograder/calibration/part3_augmentation.md.
SHIFTED_DIGITS = AccuracyTest(
    test="test_augmentation_helps_on_shifted_digits",
    module="augmentation",
    threshold=0.50,
    seed=0,
    measure=lambda student, loop, seed, device: shifted_digits.accuracy_after_training(
        loop, student.train_transform(64), seed, device
    ),
    record="part3_augmentation.md",
    must_fail=("train transform without augmentation", "colour casting only"),
    context=(
        "shifts only, by a padded random crop",
        "rotation and shifts without colour casting",
        "mild random resized crop, rotation and colour jitter",
        "affine with shear and brightness",
        "perspective and shifts",
        "small erased patches",
        "rotation, padded crop and strong colour casting",
        "horizontal flip",
        "vertical flip",
        "the lecture's flips and quarter turns",
        "rotations up to 180 degrees",
        "colour jitter so strong the digit vanishes",
        "heavy erasing",
        "shifts so large the digit leaves the picture",
        "a random crop as large as the image",
        "train transform not normalised",
        "train transform normalised with ImageNet statistics",
        "torchvision v2 transforms on tensor images",
    ),
    note=(
        "The threshold was 0.55 until a mild but correct augmentation (RandomResizedCrop keeping 75% or more "
        "of the area, RandomRotation(15), ColorJitter) scored 0.544 at the graded seed (0.512 to 0.580 over "
        "seeds 0-9, median 0.547). At 0.50 it passes, while no augmentation and colour casting alone stay below "
        "on all 20 seeds (best 0.479 and 0.480): both margins are small (about 1 and 2 points) and are the price "
        "of accepting mild augmentations. They are the mistakes this test is aimed at, pushed below by its design "
        "(the test digits are shifted, which only an augmentation that moves the digit teaches): no other test "
        "charges colour casting alone, and a train transform without augmentation is also charged by "
        "test_train_transform_is_random. Flips and large rotations are charged only by "
        "test_no_flips_or_large_rotations (flips pass here; quarter turns and 180-degree rotations fail here too, "
        "far below), a colour jitter that hides the digit only by test_digit_stays_visible. "
        "The test retrains once at the next seed when its first run falls short: heavy erasing (charged by "
        "test_no_flips_or_large_rotations) lands at 0.491 to 0.501 at seed 0 depending on the kernel, at 0.58 "
        "to 0.65 on seeds 1 and 2 (below) and at 0.51 to 0.65 on seeds 1-9 (measured apart, every kernel), so "
        "without the retry its verdict here would depend on the grading machine's CPU; the must-fail mistakes stay "
        "below on every seed, so a retry cannot rescue them."
    ),
    retries=1,
)
ACCURACY_TESTS = [SHIFTED_DIGITS]



def contract_example(draw: Draw) -> dict:
    """An input of the transforms' contract: a random image's size and mode, an output size, a seed."""
    return {
        "height": draw.integer(8, 100),  # input height and width
        "width": draw.integer(8, 100),
        "size": draw.integer(28, 96),  # image_size: from MNIST's own 28 (ElasticTransform needs more than 20)
        "mode": draw.choice(["L", "RGB"]),
        "seed": draw.integer(0, 2**16),
    }


# A fixed list of examples from the project's own generator: the same on every machine and every version.
CONTRACT_EXAMPLES = examples(25, seed=3, make=contract_example)


def random_image(mode: str, height: int, width: int, seed: int) -> Image.Image:
    """Uniformly random pixels 0 .. 255 (from :func:`autograder.examples.noise`, the same on every version)."""
    shape = (height, width) if mode == "L" else (height, width, 3)
    pixels = ((noise(shape, seed) + 1) * 128).floor().clamp(0, 255).to(torch.uint8)
    return Image.fromarray(pixels.numpy(), mode=mode)


# Written from the solution by scripts/record_expectations.py, read here before any student code runs: the
# test transform's outputs for a few images, and (at PROBE_SIZE) for the probe "P" and the sample digits.
RECORDED = load("part3_augmentation")
TEST_TRANSFORM_CASES = [
    (Image.fromarray(case["image"].numpy(), mode=case["mode"]), case["size"], case["expected"].float())
    for case in RECORDED["test_transform"]
]
PROBE_OUTPUT = RECORDED["probe"]["expected"].float()  # the test transform's output for probe_p()
DIGIT_CONTRAST = RECORDED["digit_contrast"]["expected"]  # its contrast for each of sample_digits()


def describe(image: Image.Image) -> str:
    return f"an image of {image.width} x {image.height} pixels in mode {image.mode}"


def probe_p() -> Image.Image:
    """A 28 x 28 white 'P' on black (recorded): its mirror images and quarter turns are all different shapes."""
    return Image.fromarray(RECORDED["probe"]["image"].numpy(), mode="L")


def sample_digits() -> list[Image.Image]:
    """The first test image of each digit (recorded indices), as DigitDataset gives them to a transform."""
    test = mnist_split()[1]
    return [Image.fromarray(test.images[i].numpy(), mode="L") for i in RECORDED["digit_contrast"]["indices"]]


def build(submission, name: str, image_size: int):
    transform = submission.get(f"augmentation.{name}")(image_size)
    if not callable(transform):
        fail(
            f"{name}({image_size}) to return a transform (a callable such as transforms.Compose([...]))",
            type(transform).__name__,
            "return the transform itself, not the result of applying it",
        )
    return transform


def apply(transform, image: Image.Image, name: str, size: int) -> torch.Tensor:
    error = None
    try:
        out = transform(image)
    except NotImplementedError:
        raise  # a TODO left in the student's own code: the plugin reports it
    except Exception as raised:  # often inside torchvision, where the plugin finds no student line to show
        error = raised
    if error is not None:
        likely = f"every step of the {name} must accept the previous step's output ({THE_STEPS})"
        if "broadcast shape [3," in str(error):
            likely = (
                "the image has 1 channel where Normalize(MNIST_MEAN, MNIST_STD) expects 3 channels: convert it "
                "first (image.convert('RGB') or Grayscale(num_output_channels=3))"
            )
        fail(f"the {name} to accept {describe(image)}", f"{type(error).__name__}: {error}", likely)
    likely = (
        f"the {name} must end with ToTensor() and Normalize(...) and output three channels "
        f"of image_size x image_size whatever the input ({THE_STEPS})"
    )
    if type(out) is torch.Tensor and out.dim() == 3 and out.shape[0] == 1:
        likely = (
            "convert the image to 3 channels with the given to_rgb (image.convert('RGB')), which repeats a grey "
            "image over the three channels and keeps a colour image's colours"
        )
    if type(out) is torch.Tensor and out.dim() == 3 and out.shape[0] == 3 and out.shape[1:] != (size, size):
        if out.shape[1] == out.shape[2]:
            likely = f"the size is fixed at {out.shape[1]}: resize with Resize((image_size, image_size)), the argument"
        else:
            likely = "resize to a square: Resize((image_size, image_size)); Resize(image_size) keeps the aspect ratio"
    return check_tensor(out, f"the {name} of {describe(image)}", shape=(3, size, size), dtype=torch.float32, likely=likely)


def diagnose_values(found: torch.Tensor, expected: torch.Tensor, image: Image.Image) -> str:
    """The likely mistake behind a test-transform output that differs from the documented one."""
    # found = a * expected + b per channel when only the normalisation differs.
    diagnosis = []
    for channel in range(3):
        e, f = expected[channel].flatten(), found[channel].flatten()
        if e.std() < 1e-3:
            return "the values differ from the documented steps: " + THE_STEPS
        a = ((e - e.mean()) * (f - f.mean())).sum() / ((e - e.mean()) ** 2).sum()
        b = f.mean() - a * e.mean()
        if (f - (a * e + b)).abs().max() > VALUE_TOLERANCE:
            return (
                "the pixels themselves differ, not only their scale: resize with bilinear interpolation to "
                "(image_size, image_size) and add no augmentation. Steps: " + THE_STEPS
            )
        diagnosis.append((float(a), float(b)))
    # expected = (x - m) / s and found = (x - m') / s'  give  s' = s / a  and  m' = m - b * s'.
    stds = [MNIST_STD[c] / a for c, (a, b) in enumerate(diagnosis)]
    means = [MNIST_MEAN[c] - b * stds[c] for c, (a, b) in enumerate(diagnosis)]
    if all(abs(s - 1) < 0.02 and abs(m) < 0.02 for s, m in zip(stds, means)):
        return "the output is not normalised (values in [0, 1]): end with transforms.Normalize(MNIST_MEAN, MNIST_STD)"
    found_mean = ", ".join(f"{m:.3f}" for m in means)
    found_std = ", ".join(f"{s:.3f}" for s in stds)
    return (
        f"normalised with another mean and std: the values fit mean ({found_mean}) and std ({found_std}); "
        f"use transforms.Normalize(MNIST_MEAN, MNIST_STD), mean {MNIST_MEAN[0]} and std {MNIST_STD[0]}"
    )


def calls_differ(transform, image: Image.Image, calls: int = 5) -> bool:
    outputs = []
    for seed in range(calls):
        seed_everything(seed)
        outputs.append(check_tensor(transform(image), f"the transform's output for {describe(image)}"))
    return any(not torch.equal(outputs[0], other) for other in outputs[1:])


def check_test_transform_output(transform, image: Image.Image, size: int, expected: torch.Tensor) -> None:
    """Fail unless ``transform`` (``test_transform(size)``) gives ``expected`` for ``image``, up to a few grey levels."""
    found = apply(transform, image, "test transform", size)
    difference = (found - expected).abs().max().item()
    if difference > VALUE_TOLERANCE:
        likely = diagnose_values(found, expected, image)
        if calls_differ(transform, image):
            likely = "augmentation in the test transform: it gives a different output every call"
        if image.mode == "RGB" and torch.equal(found[0], found[1]) and torch.equal(found[1], found[2]):
            likely = "an RGB image was turned to grey; convert with image.convert('RGB'), which keeps colours"
        fail(
            f"test_transform({size}) of {describe(image)} to equal {THE_STEPS}, "
            f"values in [{LOW:.4f}, {HIGH:.4f}]",
            f"values that differ by up to {difference:.3f}",
            likely,
        )


@pytest.mark.points(2)
def test_test_transform_output(submission):
    # Grey and colour images, smaller and larger than the output, square and not: the recorded outputs.
    for image, size, expected in TEST_TRANSFORM_CASES:
        check_test_transform_output(build(submission, "test_transform", size), image, size, expected)


@pytest.mark.points(2)
def test_train_transform_output(submission):
    build(submission, "train_transform", 64)  # a TODO fails here, before the examples
    for example in CONTRACT_EXAMPLES:  # 25 random images, sizes and modes; the first that fails is reported
        height, width, size, mode, seed = (example[key] for key in ("height", "width", "size", "mode", "seed"))
        image = random_image(mode, height, width, seed)
        seed_everything(seed)
        found = apply(build(submission, "train_transform", size), image, "train transform", size)
        low, high = found.min().item(), found.max().item()
        if low < LOW - VALUE_TOLERANCE or high > HIGH + VALUE_TOLERANCE:
            fail(
                f"train_transform({size}) of {describe(image)} to give normalised values in "
                f"[{LOW:.4f}, {HIGH:.4f}] (pixels in [0, 1] after Normalize(MNIST_MEAN, MNIST_STD))",
                f"values in [{low:.4f}, {high:.4f}]",
                "normalise with Normalize(MNIST_MEAN, MNIST_STD) as the test transform does, after ToTensor(); "
                "colour changes made on tensors must keep pixels in [0, 1] (clamp them) before Normalize",
            )


@pytest.mark.points(1)
def test_test_transform_is_deterministic(submission):
    transform = build(submission, "test_transform", PROBE_SIZE)
    for image in sample_digits()[:3]:
        if calls_differ(transform, image):
            fail(
                "the test transform to give the same output every call",
                "different outputs for the same digit",
                "augmentation in the test transform: random crops, rotations or colour changes belong in "
                "train_transform only; the test transform must measure the network on the real images",
            )


@pytest.mark.points(1)
def test_train_transform_is_random(submission):
    transform = build(submission, "train_transform", PROBE_SIZE)
    for image in sample_digits()[:3]:
        if calls_differ(transform, image, calls=10):
            return
    fail(
        "the train transform to give a different random variation of a digit at each call",
        "the same output every call, for 10 calls on 3 digits",
        "no augmentation: add random, label-preserving transforms (RandomAffine, RandomRotation, "
        "RandomCrop with padding, ColorJitter). RandomCrop(image_size) on an image already image_size wide "
        "crops nothing: give it padding",
    )


@pytest.mark.points(1)
def test_train_transform_normalises_like_test_transform(submission):
    train = build(submission, "train_transform", PROBE_SIZE)
    probe = probe_p()  # black and white: the normalised values of black and white are the range
    reference = PROBE_OUTPUT  # the documented test transform's output (recorded)
    seed_everything(0)
    samples = torch.stack([apply(train, probe, "train transform", PROBE_SIZE) for _ in range(30)])
    low, high = samples.min().item(), samples.max().item()
    ref_low, ref_high = reference.min().item(), reference.max().item()
    # Black stays black in some copies, white stays (nearly) white in some: colour casting moves them little.
    if abs(low - ref_low) > 0.15 or abs(high - ref_high) > 0.5:
        if low > -0.05 and high < 1.05:
            likely = "the train transform is not normalised (values in [0, 1]): end it with Normalize(MNIST_MEAN, MNIST_STD)"
        else:
            likely = (
                "the train transform normalises with another mean and std than the test transform; both must end "
                "with Normalize(MNIST_MEAN, MNIST_STD), or the network is tested on inputs scaled unlike its training "
                "inputs. (Or the colour changes never leave black black and white white: keep them moderate.)"
            )
        fail(
            f"the train transform's values for a black-and-white image to span the range of the documented "
            f"normalisation (the test transform's) "
            f"[{ref_low:.3f}, {ref_high:.3f}]",
            f"[{low:.3f}, {high:.3f}] over 30 augmented copies",
            likely,
        )


def dihedral_views(image: torch.Tensor) -> dict[str, torch.Tensor]:
    """The eight flips and quarter turns of an ``(H, W)`` image."""
    return {
        "original": image,
        "horizontal flip": image.flip(1),
        "vertical flip": image.flip(0),
        "rotation by 90 degrees": image.rot90(1, (0, 1)),
        "rotation by 180 degrees": image.rot90(2, (0, 1)),
        "rotation by 270 degrees": image.rot90(3, (0, 1)),
        "transpose": image.T,
        "anti-transpose": image.rot90(2, (0, 1)).T,
    }


def mistakes_of(counts: dict[str, int]) -> str:
    """What the flipped and turned copies among ``counts`` say about the train transform."""
    often = 0.1 * sum(counts.values())
    mistakes = []
    if counts["horizontal flip"] >= often:
        mistakes.append(
            "the train transform flips images horizontally (RandomHorizontalFlip): a mirrored digit is no longer "
            "the same digit (a mirrored 2, 3, 4 or 7 is no digit at all)"
        )
    if counts["vertical flip"] >= often:
        mistakes.append(
            "the train transform flips images vertically (RandomVerticalFlip): an upside-down digit is another "
            "digit or none (6 and 9)"
        )
    if counts["rotation by 90 degrees"] + counts["rotation by 270 degrees"] >= often:
        mistakes.append(
            "the train transform rotates images by 90 degrees or more: handwriting leans by 20 degrees at most, "
            "and a digit on its side or upside down is another digit or none (6 and 9)"
        )
    elif counts["rotation by 180 degrees"] >= often:
        mistakes.append("the train transform rotates images by 180 degrees: an upside-down 6 is a 9")
    if not mistakes:
        mistakes.append("the train transform flips or rotates images by large angles (by 90 degrees or more)")
    return "; and ".join(mistakes)



def ink(image: torch.Tensor) -> torch.Tensor:
    """An ``(H, W)`` image with its darkest value at 0 and unit norm: comparable whatever its brightness."""
    image = image - image.min()
    return image / image.norm().clamp_min(1e-8)


@pytest.mark.points(3)
def test_no_flips_or_large_rotations(submission):
    train = build(submission, "train_transform", PROBE_SIZE)
    views = dihedral_views(PROBE_OUTPUT.mean(0))  # the probe as the test transform gives it (recorded)
    # Each view also leaning by up to 30 degrees, so that small rotations still match the original best.
    angles = (-30, -15, 0, 15, 30)
    kernels = torch.stack(
        [ink(TF.rotate(view[None], angle, TF.InterpolationMode.BILINEAR)[0]) for view in views.values() for angle in angles]
    )[:, None]
    seed_everything(0)
    counts = dict.fromkeys(views, 0)
    damaged = 0
    for _ in range(SAMPLES):
        sample = ink(apply(train, probe_p(), "train transform", PROBE_SIZE).mean(0))
        # Best match over shifts of up to a quarter of the side (cross-correlation), then over angles.
        scores = F.conv2d(sample[None, None], kernels, padding=PROBE_SIZE // 4).amax(dim=(0, 2, 3))
        per_view = scores.view(len(views), len(angles)).amax(dim=1)
        if per_view.max() < RECOGNISABLE:
            damaged += 1  # matches no view well: part of the shape is gone (cropped out, erased), not flipped
            continue
        counts[list(views)[int(per_view.argmax())]] += 1
    if damaged >= 0.1 * SAMPLES:
        fail(
            "augmented copies of an asymmetric shape (a 'P') to keep the whole shape, moved or leaning a little",
            f"{damaged} of {SAMPLES} copies in which the shape was no longer recognisable (part of it gone)",
            "crops, shifts, zooms or erasing remove part of the digit, which can change its label (a 7 cut in half "
            "is a 1). The docstring's limits: shifts up to about 15% of the side, crops keeping at least 75% of "
            "the area, erased patches up to about 10% of the image.",
        )
    changed = {name: count for name, count in counts.items() if name != "original" and count}
    flagged = [name for name, count in changed.items() if count >= 0.15 * SAMPLES]
    if flagged or sum(changed.values()) >= 0.35 * SAMPLES:
        found = ", ".join(f"{name} {count}" for name, count in sorted(changed.items(), key=lambda kv: -kv[1]))
        fail(
            f"augmented copies of an asymmetric shape (a 'P') to stay the same shape, moved or leaning a little",
            f"{counts['original']} of {SAMPLES} copies that looked like the original; the others looked like "
            f"its {found}",
            mistakes_of(counts)
            + ". The lecture's MNIST example flips and rotates digits by 90, 180 and 270 degrees: that is right "
            "for photos of objects seen from any side, and wrong for digits.",
        )


@pytest.mark.points(1)
def test_digit_stays_visible(submission):
    train = build(submission, "train_transform", PROBE_SIZE)
    seed_everything(0)
    augmented = []
    for image in sample_digits():
        augmented.append(
            torch.stack([apply(train, image, "train transform", PROBE_SIZE) for _ in range(SAMPLES // 10)])
        )
    samples = torch.stack(augmented)  # (10 digits, SAMPLES // 10 copies, 3, H, W)
    # In the documented normalisation, black to white spans HIGH - LOW; rescale so that a train transform
    # normalised otherwise is judged by this test on contrast alone (another test checks normalisation).
    scale = (HIGH - LOW) / (samples.max() - samples.min()).clamp_min(1e-8)
    contrast = samples.std(dim=(3, 4)).amax(dim=2) * scale  # (10, SAMPLES // 10)
    # A clean digit's contrast: the spread of its test-transform pixels, in the channel where it is largest.
    faint = int((contrast < 0.25 * DIGIT_CONTRAST[:, None]).sum())
    if faint >= 0.1 * SAMPLES:
        fail(
            "augmented digits to stay visible: at most 1 in 10 copies with less than a quarter of the "
            "original contrast",
            f"{faint} of {SAMPLES} copies of the ten digits that faint",
            "colour changes so strong that the digit may vanish (ColorJitter brightness or contrast near 1 "
            "draws factors near 0: a black or flat grey image). Keep brightness and contrast at about 0.3-0.5.",
        )


@pytest.mark.points(4, time_limit=120)
def test_augmentation_helps_on_shifted_digits(submission):
    transform = build(submission, "train_transform", 64)
    apply(transform, sample_digits()[0], "train transform", 64)  # a readable failure before training
    loop = training_loop(submission)
    accuracy = SHIFTED_DIGITS.run(submission.module("augmentation"), loop, pick_device())
    SHIFTED_DIGITS.judge(
        accuracy,
        f"the autograder's small network, trained on {shifted_digits.TRAIN_IMAGES} digits with your train "
        f"transform, to classify at least {SHIFTED_DIGITS.threshold:.0%} of the shifted digits (test digits "
        f"shifted by up to 4 pixels of 28, rotated by up to {shifted_digits.MAX_DEGREES:g} degrees and tinted)",
        "the augmentation does not cover how real digits vary. Include small shifts (RandomAffine translate "
        "or RandomCrop with padding, up to about 15% of the side), small rotations (up to about 20 degrees) and "
        "colour casting; without augmentation this network reaches about 45% on these digits",
   
        loop=loop,
    )
