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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append((self.training, torch.is_grad_enabled()))
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
    """SGD that counts its steps."""

    def __init__(self, params, lr: float):
        super().__init__(params, lr=lr)
        self.steps_taken = 0

    def step(self, closure=None):
        self.steps_taken += 1
        return super().step(closure)


class StepCountingScheduler(torch.optim.lr_scheduler.StepLR):
    """StepLR over a :class:`CountingSGD` that records, at each of its steps, how many optimizer steps came before."""

    def __init__(self, optimizer: CountingSGD, step_size: int, gamma: float):
        self.optimizer_steps_at_step: list[int] | None = None  # StepLR's constructor steps once; not counted
        super().__init__(optimizer, step_size=step_size, gamma=gamma)
        self.optimizer_steps_at_step = []

    def step(self, *args, **kwargs):
        if self.optimizer_steps_at_step is not None:
            self.optimizer_steps_at_step.append(self.optimizer.steps_taken)
        return super().step(*args, **kwargs)
