"""The settings of Parts 1 and 2's accuracy tests: what trains, on what, for how long.

Parts are graded independently: the student's network is trained by the
training loop the test is given (on Gradescope the grader's own, see
:mod:`autograder.training_loop`), so a broken training loop cannot fail
Part 1, and the student's ``fit`` trains the grader's ``SmallCNN``, so a
broken network cannot fail Part 2. The accuracy tests call
:func:`network_accuracy` and :func:`fit_accuracy`, and so does
``scripts/calibrate.py``: the settings here are the ones the records in
``autograder/calibration/`` were measured with; change them only with a new
calibration.
"""

from __future__ import annotations

import torch
from torch import nn

from dlcv.data import Split, make_loader, mnist_split
from dlcv.device import seed_everything
from dlcv.small_cnn import SmallCNN
from dlcv.training_loop import TrainingLoop, accuracy, train_epochs

BATCH_SIZE = 64
EVAL_BATCH_SIZE = 256
LEARNING_RATE = 1e-3

# Part 1's accuracy test: the student's Network trained by train() for NETWORK_EPOCHS epochs.
NETWORK_EPOCHS = 6
# Part 2's accuracy test: SmallCNN trained by the student's fit with these settings.
FIT_EPOCHS = 4
FIT_LR = 2e-3
FIT_STEP_SIZE = 2
FIT_GAMMA = 1.0  # a constant rate: when fit steps the scheduler is charged by its own test, not by accuracy


def train(
    training: TrainingLoop,
    model: nn.Module,
    train_split: Split,
    epochs: int,
    seed: int,
    device: torch.device,
    transform=None,
    lr: float = LEARNING_RATE,
) -> nn.Module:
    """Train ``model`` with AdamW and cross-entropy through ``training``'s loop, seeded by ``seed``."""
    torch.manual_seed(seed)
    model.to(device)
    optimizer = training.make_optimizer(model, lr=lr)
    loader = make_loader(train_split, BATCH_SIZE, shuffle=True, seed=seed, transform=transform)
    return train_epochs(training, model, optimizer, loader, epochs, device)


def mnist_test_loader(transform=None):
    """The fixed MNIST test split, in order."""
    return make_loader(mnist_split()[1], EVAL_BATCH_SIZE, transform=transform)


class LogitsOf(nn.Module):
    """A student's network whose outputs are read as logits: the log of them where they are probabilities.

    A ``forward`` that ends in a softmax is the logits test's mistake, and that
    test charges it. Trained on its probabilities, such a network learns more
    slowly by an amount that varies with the seed and the CPU, so the accuracy
    test would charge it too, on some machines and not others. Trained on
    their log, which are logits of the same distribution (``log_softmax`` is
    unchanged by a second softmax), it learns as the network without the
    softmax does: the accuracy test measures what it is for. Other outputs pass
    through untouched.
    """

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        outputs = self.network(images)
        if type(outputs) is torch.Tensor and outputs.dim() == 2 and _are_probabilities(outputs):
            return outputs.clamp_min(torch.finfo(outputs.dtype).tiny).log()
        return outputs


def _are_probabilities(outputs: torch.Tensor) -> bool:
    """Every row in [0, 1] and adding up to 1: what a softmax returns, and logits never do."""
    with torch.no_grad():
        rows = outputs.sum(dim=1)
        return bool((outputs >= 0).all() and (outputs <= 1).all() and torch.allclose(rows, torch.ones_like(rows), atol=1e-4))


def network_accuracy(training: TrainingLoop, make_network, seed: int, device: torch.device) -> float:
    """Part 1's accuracy test: the test accuracy of ``make_network()`` after :func:`train`, all seeded by ``seed``
    (its outputs read as logits by :class:`LogitsOf`)."""
    seed_everything(seed)
    model = LogitsOf(make_network())
    train(training, model, mnist_split()[0], epochs=NETWORK_EPOCHS, seed=seed, device=device)
    return accuracy(training, model, mnist_test_loader(), device)


def fit_accuracy(training: TrainingLoop, make_optimizer, make_scheduler, fit, seed: int, device: torch.device) -> float:
    """Part 2's accuracy test: the test accuracy of a :class:`SmallCNN` trained by a student's ``fit``, as
    ``training.evaluate`` counts it."""
    seed_everything(seed)
    model = SmallCNN().to(device)
    optimizer = make_optimizer(model, lr=FIT_LR)
    scheduler = make_scheduler(optimizer, step_size=FIT_STEP_SIZE, gamma=FIT_GAMMA)
    train_split, test_split = mnist_split()
    fit(
        model,
        make_loader(train_split, BATCH_SIZE, shuffle=True, seed=seed),
        make_loader(test_split, EVAL_BATCH_SIZE),
        nn.CrossEntropyLoss(),
        optimizer,
        scheduler,
        FIT_EPOCHS,
        device,
    )
    return accuracy(training, model, mnist_test_loader(), device)
