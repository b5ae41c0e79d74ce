"""Mutant of solutions/augmentation.py: rotations by any angle up to 180 degrees.

Caught by test_no_flips_or_large_rotations ("rotates images by").
"""

from torchvision import transforms

from dlcv.data import MNIST_MEAN, MNIST_STD


def train_transform(image_size=64):
    return transforms.Compose(
        [
            transforms.Resize((image_size, image_size)),
            transforms.Lambda(lambda image: image.convert("RGB")),
            transforms.RandomRotation(180),
            transforms.ColorJitter(brightness=0.3, contrast=0.3),
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
