"""Part 4: transfer learning, from a network pretrained on another task.

A network trained on a task with plenty of data (the *source* task) has
learned features that help on a related task with little data (the *target*
task). Its last layer, the *head*, maps the features to the source's
classes; everything before it, the *encoder*, computes the features. To
adapt it:

- replace the head with a new layer for the target's classes (``replace_head``);
- **linear probe**: train only the new head, the encoder frozen exactly as
  it was pretrained (``linear_probe``), or, the same model computed once,
  pre-compute the features and fit a linear classifier on them
  (``extract_features``, ``train_linear_classifier``);
- **fine-tune**: train the head and the encoder, the encoder with a smaller
  learning rate so that the pretrained features change slowly
  (``fine_tune_optimizer``), after a *warm start* in which the head trains
  alone (``warm_start``): a new head's random weights would otherwise send
  large, meaningless gradients into the encoder.

Here the source task is digits 0-4 and the target task digits 5-9
(``dlcv.digit_tasks``); the pretrained network is
``dlcv.backbone.pretrained_backbone()``. Where the head is:

==============================================  =========================
model                                           head
==============================================  =========================
the shipped ``DigitBackbone``, ResNets          ``model.fc``
AlexNet, VGG, MobileNet V3, EfficientNet        ``model.classifier[-1]``
==============================================  =========================

The functions that take a model change it in place, except ``extract_features``,
which leaves it as it was.
"""

import torch
from torch import nn


def replace_head(model: nn.Module, num_classes: int) -> nn.Linear:
    """Replace ``model``'s head with a new ``nn.Linear`` for ``num_classes`` classes; return the new layer.

    The new layer reads what the old one read, so its ``in_features`` is the
    old head's ``in_features``; it has ``num_classes`` outputs, and fresh
    weights, on the device and of the dtype of the old head's weights (a
    model may already be on a GPU, or in float64). The rest of the model is
    left as it is: its weights, and which of its parameters require grad
    (a frozen encoder stays frozen, a trainable one trainable). Works for
    every model in the table of the module docstring.

    The lecture replaces a ResNet's head by assigning a new layer to the
    model's ``fc`` attribute. The same assignment on a VGG is the mistake to
    avoid: VGG has no ``fc``, so the assignment adds a layer that
    ``forward`` never calls, and the model still has 1000 outputs. VGG's
    head is the last layer of its ``classifier``, an ``nn.Sequential``,
    whose layers are read and replaced by index, as a list's items are.

    Returns:
        The new head, the same object that is now inside ``model``.
    """
    # TODO: find the head, build the new layer, put it where the old one was; return the new layer.
    # Hints:
    #   1. The table in the module docstring says where the head is. fine_tune_optimizer and
    #      warm_start need the head too: a small helper that finds it is worth writing.
    #   2. Every size of the new layer comes from the old head or from the arguments, never from a
    #      number written in your code: the same function serves a VGG and the shipped backbone.
    raise NotImplementedError("replace_head")


def linear_probe(model: nn.Module, num_classes: int) -> nn.Module:
    """Prepare ``model`` for a linear probe: freeze the encoder, replace the head; return ``model``.

    After this, training ``model`` with any training loop changes only the
    new head: the encoder's ``state_dict`` (its parameters *and* its
    buffers) stays exactly as pretrained, bit for bit, even though the loop
    calls ``model.train()``.

    ``requires_grad = False`` alone is not enough. It stops gradients, so
    the optimizer leaves the frozen weights alone, but a batch-norm layer
    in train mode also updates its *running statistics* (the buffers
    ``running_mean``, ``running_var`` and ``num_batches_tracked``) on every
    forward pass, with no gradient involved. And ``model.train()`` puts
    every layer in train mode. The frozen batch-norm layers must stay in
    eval mode whatever mode the model is put in: then they normalise with
    the pretrained statistics and never change them. (Setting their
    ``momentum`` to 0 is not enough: ``num_batches_tracked`` still counts.)

    What the lecture's linear probe relies on: a parameter with
    ``requires_grad = False`` gets no gradient, so no optimizer changes it,
    and the parameters of a newly built layer require grad. Every parameter
    of the model but the new head's is frozen, not only ``model.features``.

    Returns:
        ``model`` itself, changed in place.
    """
    # TODO: freeze the pretrained parameters, add the new head, keep the frozen batch norm in eval mode.
    # Hints:
    #   1. Mind the order of the steps: which parameters exist, and which should require grad,
    #      when you freeze?
    #   2. model.train() sets the mode of every submodule, batch norm included (nn.BatchNorm1d, 2d
    #      and 3d). Look at what nn.Module lets you attach to a module, or change about its train(),
    #      so that the frozen batch-norm layers are in eval mode whenever they run.
    raise NotImplementedError("linear_probe")


def extract_features(model: nn.Module, loader, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The features of every image in ``loader``: what ``model``'s head would read, and the labels.

    ``model`` is a network whose children, in order, are the stages its
    ``forward`` runs, the head last (the shipped backbone: ``features``,
    ``avgpool``, ``fc``; ResNets too), already on ``device``. The features
    are the head's input: the output of every stage before it, flattened to
    one row per image. A module can belong to more than one container: a
    new container holding some of ``model``'s children runs those very
    layers, with their weights, and leaves ``model`` as it was.

    Compute them in eval mode (batch norm then uses its stored statistics,
    so an image's features do not depend on the rest of its batch) and
    without gradient tracking (``torch.no_grad()``; tensors made under
    ``torch.inference_mode()`` cannot be trained on afterwards, and
    ``train_linear_classifier`` trains on them). Leave ``model`` itself as
    it was: its head stays in place, and every parameter's
    ``requires_grad`` stays as it was.

    Args:
        loader: yields ``(images, labels)``, images ``(B, C, H, W)``, labels ``(B,)``; read once, in order.

    Returns:
        ``(features, labels)`` on the CPU: features ``(N, D)`` float, with
        ``D`` the head's ``in_features``; labels ``(N,)`` int64, in the
        loader's order, ``N`` the number of images in the loader.
    """
    # TODO: run every stage but the head on each batch and collect the flattened outputs.
    # Hints:
    #   1. model.children() yields the stages in order; the head must stay inside model.
    #   2. Eval mode and no gradient tracking, as the docstring says.
    #   3. Keep one (B, D) tensor per batch, on the CPU, and the batch's labels; join them at the end.
    raise NotImplementedError("extract_features")


def train_linear_classifier(
    features: torch.Tensor, labels: torch.Tensor, num_classes: int, epochs: int = 300, lr: float = 0.01
) -> nn.Linear:
    """Fit a linear classifier to pre-computed features; return it.

    Trains a new ``nn.Linear(D, num_classes)`` with AdamW (learning rate
    ``lr``, PyTorch's other defaults) and cross-entropy, full batch: each of
    the ``epochs`` epochs is one step on all the features at once (they are
    few and small, so no loader is needed). The layer starts from
    ``nn.Linear``'s own random initialisation, and nothing else in the
    function draws random numbers: after ``torch.manual_seed``, the same
    arguments give the same classifier.

    Args:
        features: ``(N, D)`` float features, from ``extract_features``.
        labels: ``(N,)`` int64 class indices in ``0 .. num_classes - 1``.
        num_classes: the number of classes (outputs).
        epochs: full-batch steps (default 300).
        lr: AdamW's learning rate (default 0.01).

    Returns:
        The trained ``nn.Linear`` with ``in_features = D`` and ``out_features
        = num_classes``, on the features' device: ``classifier(features)``
        gives ``(N, num_classes)`` logits.
    """
    # TODO: a new nn.Linear, AdamW, and ``epochs`` full-batch steps of cross-entropy.
    # Hints:
    #   1. D is the width of the features.
    #   2. One epoch is one optimizer step on all the features: Part 2's training step, without a loader.
    raise NotImplementedError("train_linear_classifier")


def fine_tune_optimizer(model: nn.Module, lr: float, encoder_lr_ratio: float = 0.1) -> torch.optim.AdamW:
    """AdamW with two parameter groups: the head at ``lr``, the encoder at ``lr * encoder_lr_ratio``.

    The encoder is every parameter that is not the head's. Every parameter
    of ``model`` is in exactly one group: none left out (it would never
    train), none in two (PyTorch refuses that). A parameter that does not
    require grad right now (see ``warm_start``) still belongs in its group:
    it gets no gradient, and AdamW leaves a parameter without a gradient
    alone. Building the optimizer changes nothing in ``model``: a frozen
    parameter stays frozen. Keep AdamW's other defaults.

    PyTorch's optimizers accept, in place of one iterable of parameters, a
    list of *parameter groups*: dicts, each holding its ``"params"`` and the
    options in which it differs from the optimizer's own, such as ``"lr"``
    (``torch.optim``'s documentation, "Per-parameter options"). The encoder
    is not always ``model.features``: on a VGG, ``classifier`` holds two
    more Linear layers before the head.
    """
    # TODO: split the parameters into the head's and the rest; one group each.
    # Hints:
    #   1. Find the head as in replace_head; the encoder is every other parameter of the model.
    #   2. Tensors compare element by element with ==, so ``in`` on a list of tensors cannot tell
    #      whether a parameter is one of the head's: compare identities.
    #   3. A generator can be read only once.
    raise NotImplementedError("fine_tune_optimizer")


def warm_start(model: nn.Module, epoch: int, frozen_epochs: int) -> None:
    """Freeze or unfreeze the encoder for ``epoch`` (counted from 0); call it before every epoch.

    Epochs ``0 .. frozen_epochs - 1`` train the head alone: every encoder
    parameter has ``requires_grad = False``. From epoch ``frozen_epochs``
    on, every parameter requires grad, and the encoder trains too (with the
    smaller learning rate of ``fine_tune_optimizer``). The head requires
    grad in every epoch. With ``frozen_epochs = 0`` nothing is ever frozen.

    The first epochs matter: a new head starts random, and its gradients
    would push the pretrained features around for nothing. (The lecture's
    other warm start, a learning rate that starts near zero and rises, does
    the same job.) Batch-norm statistics may adapt during the frozen
    epochs: unlike a linear probe, the encoder is about to be trained.
    """
    # TODO: set requires_grad of the encoder's parameters for this epoch; the head always trains.
    # Hints:
    #   1. Frozen while epoch < frozen_epochs (epochs count from 0).
    #   2. Set the flag both ways: an epoch after the frozen ones must turn it back on.
    raise NotImplementedError("warm_start")
