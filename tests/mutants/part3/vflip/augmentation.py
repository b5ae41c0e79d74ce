"""Mutant of solutions/augmentation.py: the train transform flips digits upside down.

Caught by test_no_flips_or_large_rotations ("flips images vertically").
"""

from torchvision import transforms

from dlcv.data import MNIST_MEAN, MNIST_STD


def train_transform(image_size=64):
    return transforms.Compose(
        [
            transforms.Resize((image_size, image_size)),
            transforms.Lambda(lambda image: image.convert("RGB")),
            transforms.RandomAffine(degrees=20, translate=(0.15, 0.15), scale=(0.9, 1.1)),
            transforms.ColorJitter(brightness=0.3, contrast=0.3),
            transforms.RandomVerticalFlip(),
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
