"""Part 2: the training loop, the optimizer and the learning-rate schedule.

One epoch of training repeats, for every batch: zero the gradients, forward,
loss, backward, optimizer step. Evaluation runs the model in eval mode (dropout
off) without building a graph. ``fit`` alternates the two for a number of
epochs and lowers the learning rate with a step schedule after each epoch.
"""

import torch
from torch import nn
from tqdm.auto import tqdm


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    """AdamW over all of ``model``'s parameters with learning rate ``lr``.

    AdamW is Adam with weight decay applied directly to the weights
    ("decoupled"), rather than added to the gradient. Keep PyTorch's other
    defaults (betas, eps, weight_decay).
    """
    # TODO: one line with torch.optim.AdamW.
    raise NotImplementedError("make_optimizer")


def make_scheduler(
    optimizer: torch.optim.Optimizer, step_size: int, gamma: float
) -> torch.optim.lr_scheduler.LRScheduler:
    """StepLR: multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    With lr 0.1, step_size 4 and gamma 0.5 the learning rates of epochs 0..11 are
    0.1 (x4), 0.05 (x4), 0.025 (x4), provided ``scheduler.step()`` is called
    once at the end of every epoch.
    """
    # TODO: one line with torch.optim.lr_scheduler.StepLR.
    raise NotImplementedError("make_scheduler")


def train_one_epoch(loader, model: nn.Module, criterion, optimizer, device) -> float:
    """Train ``model`` for one pass over ``loader``; return the mean training loss.

    Args:
        loader: yields ``(images, labels)``, images ``(B, C, H, W)``, labels ``(B,)``.
        model: maps images to ``(B, num_classes)`` logits.
        criterion: the loss, e.g. ``nn.CrossEntropyLoss()``; returns the batch's mean loss.
        optimizer: updates ``model``'s parameters.
        device: where ``model`` is; move each batch there.

    Returns:
        The mean loss per example over the epoch, as a Python ``float`` (the mean of
        the batches' losses is accepted too: it differs only when the last batch is smaller).
    """
    # TODO: the lecture's loop. Hints:
    #   1. Put the model in training mode once, before the loop (dropout on).
    #   2. For every batch: move images and labels to ``device``; zero the gradients;
    #      forward; loss; backward; optimizer step. Gradients add up in ``.grad``
    #      until they are zeroed.
    #   3. Keep a running total of the loss as a Python number (``loss.item()``):
    #      storing the ``loss`` tensor itself keeps its autograd graph alive.
    raise NotImplementedError("train_one_epoch")


def evaluate(loader, model: nn.Module, criterion, device) -> tuple[float, float]:
    """Mean loss per example (or per batch, as in ``train_one_epoch``) and accuracy of ``model`` on ``loader``.

    Returns:
        ``(loss, accuracy)`` as Python floats; accuracy is the fraction of all
        examples (not the mean of per-batch accuracies) whose highest logit is
        the label, between 0 and 1.
    """
    # TODO: Hints:
    #   1. Put the model in evaluation mode (dropout off).
    #   2. Run the loop under ``torch.no_grad()``: no graph is needed to evaluate.
    #   3. Count correct predictions (``logits.argmax(dim=1) == labels``) and examples
    #      over the whole loader; the last batch may be smaller than the others.
    raise NotImplementedError("evaluate")


def fit(model, train_loader, test_loader, criterion, optimizer, scheduler, epochs: int, device) -> dict:
    """Train for ``epochs`` epochs, evaluating after each; step ``scheduler`` once per epoch.

    Shows a tqdm progress bar over the epochs.

    Returns:
        A history: a dict of lists with one entry per epoch,
        ``"train_loss"``, ``"test_loss"``, ``"test_accuracy"`` and ``"lr"``
        (the learning rate that epoch trained with, read from
        ``optimizer.param_groups[0]["lr"]`` before the scheduler steps).
    """
    # TODO: Hints:
    #   1. For each epoch (wrap ``range(epochs)`` in ``tqdm``): record the current
    #      learning rate, train one epoch, evaluate, record the results.
    #   2. Call ``scheduler.step()`` once per epoch, after the epoch, never per batch.
    raise NotImplementedError("fit")
