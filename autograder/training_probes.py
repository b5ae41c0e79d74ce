"""Stand-ins that watch a student's training code from the outside.

Each looks like the real thing to the student's code (an optimizer, a model,
a loss, a scheduler) and records what that code did with it, so a test can
say precisely which step of the loop is missing or misplaced.
"""

from __future__ import annotations

import gc
import weakref

import torch
from torch import nn


class GradientRecorder(torch.optim.Optimizer):
    """An optimizer whose ``step`` records every parameter's gradient and changes nothing.

    Because the parameters never move, the gradient each batch *should* give is
    known in advance, and a recorded gradient equal to the sum of several
    batches' gradients shows that gradients were never zeroed.
    """

    def __init__(self, params):
        super().__init__(params, defaults={"lr": 0.0})
        self.recorded: list[list[torch.Tensor | None]] = []

    @torch.no_grad()
    def step(self, closure=None):
        self.recorded.append(
            [None if p.grad is None else p.grad.detach().clone() for g in self.param_groups for p in g["params"]]
        )


class ModeRecorder(nn.Module):
    """Wraps a model and records, for every forward call, its train/eval mode and whether grad was enabled."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.calls: list[tuple[bool, bool]] = []  # (training, grad enabled)
        self.moved: list[bool] = []  # whether each input had been moved to the device (see Unmoved)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append((self.training, torch.is_grad_enabled()))
        self.moved.append(type(x) is not Unmoved)
        return self.model(x)


class _Sentinel:
    """Lives exactly as long as the autograd graph it is stored in."""


class _MarkGraph(torch.autograd.Function):
    @staticmethod
    def forward(ctx, loss, sentinel):
        ctx.sentinel = sentinel  # kept by the graph node, freed with it
        return loss.view_as(loss)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class GraphWatchingLoss:
    """Cross-entropy that notices when the graph of an earlier batch's loss is still alive.

    When batch ``k`` starts, the student's ``loss`` variable may still hold
    batch ``k - 1``'s loss; any older graph still alive was kept on purpose,
    by a list of loss tensors or a running total that is a tensor.
    """

    def __init__(self):
        self.graphs: list[weakref.ref] = []
        self.kept_alive: tuple[int, int] | None = None  # (old batch, batch at which it was alive)

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        batch = len(self.graphs)
        if self.kept_alive is None and any(ref() is not None for ref in self.graphs[: batch - 1]):
            gc.collect()  # rule out garbage that is merely waiting for the cycle collector
            alive = [index for index, ref in enumerate(self.graphs[: batch - 1]) if ref() is not None]
            if alive:
                self.kept_alive = (alive[0], batch)
        sentinel = _Sentinel()
        self.graphs.append(weakref.ref(sentinel))
        return _MarkGraph.apply(nn.functional.cross_entropy(logits, labels), sentinel)


class CountingSGD(torch.optim.SGD):
    """SGD that counts its steps and records the learning rate each step used."""

    def __init__(self, params, lr: float):
        super().__init__(params, lr=lr)
        self.steps_taken = 0
        self.lr_at_step: list[float] = []

    def step(self, closure=None):
        self.steps_taken += 1
        self.lr_at_step.append(self.param_groups[0]["lr"])
        return super().step(closure)


class StepCountingScheduler(torch.optim.lr_scheduler.StepLR):
    """StepLR over a :class:`CountingSGD` that records, at each of its steps, how many optimizer steps came
    before, and whether it was given an argument (``scheduler.step(loss)``)."""

    def __init__(self, optimizer: CountingSGD, step_size: int, gamma: float):
        self.optimizer_steps_at_step: list[int] | None = None  # StepLR's constructor steps once; not counted
        self.given_arguments = False
        super().__init__(optimizer, step_size=step_size, gamma=gamma)
        self.optimizer_steps_at_step = []

    def step(self, *args, **kwargs):
        if self.optimizer_steps_at_step is not None:
            self.optimizer_steps_at_step.append(self.optimizer.steps_taken)
            self.given_arguments = self.given_arguments or bool(args or kwargs)
        return super().step(*args, **kwargs)


MOVES = {torch.Tensor.to, torch.Tensor.cuda, torch.Tensor.cpu}


class Unmoved(torch.Tensor):
    """A batch as the loader gives it; moving it (``.to(device)``, ``.cuda()``, ``.cpu()``) makes it a plain tensor.

    A model or loss that receives an ``Unmoved`` tensor was given a batch
    that was never moved to the device: on a GPU, that is a device mismatch.
    """

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        result = super().__torch_function__(func, types, args, kwargs or {})
        if func in MOVES and isinstance(result, torch.Tensor):
            with torch._C.DisableTorchFunctionSubclass():
                return result.as_subclass(torch.Tensor)
        return result


class UnmovedBatches:
    """The batches of ``loader`` as :class:`Unmoved` tensors; ``len()`` and ``.dataset`` as the loader's."""

    def __init__(self, loader):
        self.loader = loader
        self.dataset = loader.dataset

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for images, labels in self.loader:
            yield images.as_subclass(Unmoved), labels.as_subclass(Unmoved)


class MoveWatchingLoss:
    """Cross-entropy that records, per batch, whether the logits and labels it got were moved to the device."""

    def __init__(self):
        self.moved: list[tuple[bool, bool]] = []  # (logits, labels)

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        self.moved.append((type(logits) is not Unmoved, type(labels) is not Unmoved))
        with torch._C.DisableTorchFunctionSubclass():
            return nn.functional.cross_entropy(logits.as_subclass(torch.Tensor), labels.as_subclass(torch.Tensor))
