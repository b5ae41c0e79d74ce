"""Mutant of solutions/augmentation.py: the lecture's MNIST example: a flip and a rotation by 0, 90, 180 or 270 degrees.

Caught by test_no_flips_or_large_rotations ("rotates images by").
"""

from torchvision import transforms

from dlcv.data import MNIST_MEAN, MNIST_STD


def train_transform(image_size=64):
    return transforms.Compose(
        [
            transforms.Resize((image_size, image_size)),
            transforms.Lambda(lambda image: image.convert("RGB")),
            transforms.RandomHorizontalFlip(),
            transforms.RandomChoice([transforms.RandomRotation((angle, angle)) for angle in (0, 90, 180, 270)]),
            transforms.ToTensor(),
            transforms.Normalize(MNIST_MEAN, MNIST_STD),
        ]
    )


def test_transform(image_size=64):
    return transforms.Compose(
        [
            transforms.Resize((image_size, image_size)),
            transforms.Lambda(lambda image: image.convert("RGB")),
            transforms.ToTensor(),
            transforms.Normalize(MNIST_MEAN, MNIST_STD),
        ]
    )
