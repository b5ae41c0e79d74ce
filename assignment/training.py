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
    # TODO: create and return the optimizer described above. It must update every
    # parameter of ``model``; read the torch.optim documentation for how an optimizer is made.
    raise NotImplementedError("make_optimizer")


def make_scheduler(
    optimizer: torch.optim.Optimizer, step_size: int, gamma: float
) -> torch.optim.lr_scheduler.LRScheduler:
    """StepLR: multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    With lr 0.1, step_size 4 and gamma 0.5 the learning rates of epochs 0..11 are
    0.1 (x4), 0.05 (x4), 0.025 (x4), provided ``scheduler.step()`` is called
    once at the end of every epoch.
    """
    # TODO: create and return the schedule described above, attached to ``optimizer``.
    # torch.optim.lr_scheduler has this schedule ready-made: find it in the documentation.
    raise NotImplementedError("make_scheduler")


def train_one_epoch(loader, model: nn.Module, criterion, optimizer, device) -> float:
    """Train ``model`` for one pass over ``loader``; return the mean training loss.

    What the autograder checks, each from the outside:

    - the model is in training mode (dropout on) for every batch, even if it
      arrives in evaluation mode (as an evaluation leaves it);
    - each batch's images and labels are moved to ``device`` before use;
    - ``optimizer.step()`` runs once per batch, and at that moment the
      parameters' ``.grad`` hold the gradient of that batch's loss alone;
      gradients add up in ``.grad`` until they are cleared, so clear them
      before each backward pass;
    - no batch's loss tensor outlives its step: a stored loss tensor (in a
      list, or in a running total that is a tensor) keeps its whole autograd
      graph alive. Keep only its value, as a Python number.

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
    # TODO: the lecture's training loop, meeting every point above. Think about where
    # in the loop the gradients must be cleared so that each step sees one batch's gradient,
    # and about how to turn a summed loss into a mean per example.
    raise NotImplementedError("train_one_epoch")


def evaluate(loader, model: nn.Module, criterion, device) -> tuple[float, float]:
    """Mean loss per example (or per batch, as in ``train_one_epoch``) and accuracy of ``model`` on ``loader``.

    What the autograder checks:

    - the model is in evaluation mode (dropout off) for every batch;
    - gradient tracking is off during the forward passes (no graph is needed
      to evaluate), and on again once ``evaluate`` returns, so that the next
      epoch of training can call ``backward``;
    - each batch's images and labels are moved to ``device`` before use;
    - a prediction is right when the class with the highest logit is the
      label; the last batch may be smaller than the others.

    Returns:
        ``(loss, accuracy)`` as Python floats; accuracy is the fraction of all
        examples (not the mean of per-batch accuracies) whose highest logit is
        the label, between 0 and 1.
    """
    # TODO: a loop over ``loader`` that meets every point above. Which context manager
    # turns gradient tracking off for a block of code only? Count right predictions and
    # examples over the whole loader, not per batch.
    raise NotImplementedError("evaluate")


def fit(model, train_loader, test_loader, criterion, optimizer, scheduler, epochs: int, device) -> dict:
    """Train for ``epochs`` epochs, evaluating after each; step ``scheduler`` once per epoch.

    Each epoch trains one pass over ``train_loader`` with :func:`train_one_epoch`,
    then evaluates on ``test_loader`` with :func:`evaluate`, then steps the
    scheduler once, without an argument (``StepLR`` counts epochs itself).
    Shows a tqdm progress bar over the epochs.

    Returns:
        A history: a dict of lists with one entry per epoch,
        ``"train_loss"``, ``"test_loss"``, ``"test_accuracy"`` and ``"lr"``
        (the learning rate that epoch trained with, read from
        ``optimizer.param_groups[0]["lr"]`` before the scheduler steps).
    """
    # TODO: the loop over the epochs, with a progress bar, filling the history above.
    # The learning rate an epoch trains with is the one before that epoch's scheduler step.
    raise NotImplementedError("fit")
