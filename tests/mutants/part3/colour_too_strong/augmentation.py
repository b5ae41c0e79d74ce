"""Mutant of solutions/augmentation.py: colour jitter so strong that some digits turn black or flat grey.

Caught by test_digit_stays_visible ("vanish").
"""

from torchvision import transforms

from dlcv.data import MNIST_MEAN, MNIST_STD


def train_transform(image_size=64):
    return transforms.Compose(
        [
            transforms.Resize((image_size, image_size)),
            transforms.Lambda(lambda image: image.convert("RGB")),
            transforms.RandomAffine(degrees=20, translate=(0.15, 0.15), scale=(0.9, 1.1)),
            transforms.ColorJitter(brightness=1.0, contrast=1.0),
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
