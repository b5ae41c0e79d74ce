"""The shipped MNIST subset and its fixed split."""

import hashlib

import torch

from dlcv.data import IMAGE_SIZE, MNIST_FILE, MNIST_MEAN, MNIST_STD, make_loader, mnist_split

SHA256 = "246e0c30eeea57c8d0037d3f38c8e00651ec204cc61b8022563e9aeeb9d756f4"  # as in data/README.md


def test_shipped_file_matches_its_recorded_checksum():
    assert hashlib.sha256(MNIST_FILE.read_bytes()).hexdigest() == SHA256


def test_split_is_fixed_stratified_and_disjoint():
    train, test = mnist_split()
    assert (len(train), len(test)) == (4000, 1000)
    assert train.labels.bincount().tolist() == [400] * 10
    assert test.labels.bincount().tolist() == [100] * 10
    assert train.images.dtype == torch.uint8 and train.images.shape == (4000, 28, 28)
    again_train, again_test = mnist_split()
    assert torch.equal(train.images, again_train.images) and torch.equal(test.labels, again_test.labels)
    train_rows = {bytes(image.numpy()) for image in train.images}
    assert not any(bytes(image.numpy()) in train_rows for image in test.images)


def test_loader_gives_normalised_three_channel_images():
    _, test = mnist_split()
    images, labels = next(iter(make_loader(test, batch_size=100)))
    assert images.shape == (100, 3, IMAGE_SIZE, IMAGE_SIZE) and images.dtype == torch.float32
    assert labels.dtype == torch.int64
    assert torch.equal(images[:, 0], images[:, 2])
    background = (0 - MNIST_MEAN[0]) / MNIST_STD[0]
    assert torch.isclose(images.min(), torch.tensor(background), atol=1e-5)
    assert images.max() <= (1 - MNIST_MEAN[0]) / MNIST_STD[0] + 1e-5


def test_shuffling_is_fixed_by_the_seed():
    train, _ = mnist_split()
    first = [next(iter(make_loader(train, 16, shuffle=True, seed=seed)))[1] for seed in (3, 3, 4)]
    assert torch.equal(first[0], first[1])
    assert not torch.equal(first[0], first[2])
