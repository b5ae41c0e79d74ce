"""Mutant of solutions/augmentation.py: colour casting only: no shifts, no rotations.

Caught by test_augmentation_helps_on_shifted_digits ("shifted digits").
"""

from torchvision import transforms

from dlcv.data import MNIST_MEAN, MNIST_STD


def train_transform(image_size=64):
    return transforms.Compose(
        [
            transforms.Resize((image_size, image_size)),
            transforms.Lambda(lambda image: image.convert("RGB")),
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
