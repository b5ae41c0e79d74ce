"""Part 2 (training.py): the recorded cases of the public tests of the optimizer, the schedule, the loop and fit.

Every case runs on the same small probe: a linear model (12 inputs, 3
classes; weight and bias recorded) and 16 training images ``(3, 2, 2)`` in
4 batches of 4, and 12 test images in 3 batches of 4, all recorded.

- ``make_optimizer``: the solution's optimizer settings other than the
  learning rate (PyTorch's defaults);
- ``make_scheduler``: the learning rate of 12 epochs for two schedules;
- ``train_one_epoch``: with an optimizer that records each step's gradients
  and moves nothing, the gradient of every batch at its step, and the mean
  loss returned; the fingerprint is the gradients of "zero_grad missing";
- ``evaluate``: the mean loss of the scripted predictions of the public test
  (10 examples in batches of 5);
- ``fit``: 2 epochs at a learning rate of 0 (nothing changes): the
  history's losses and accuracies; the fingerprint is "fit evaluates on the
  training loader".
"""

from __future__ import annotations

import contextlib
import io

import torch
from torch import nn

from torch.utils.data import DataLoader, TensorDataset

from autograder.training_probes import GradientRecorder

CPU = torch.device("cpu")
SCHEDULES = [(4, 0.5), (3, 0.1)]  # as SCHEDULES in the test file
OPTIMIZER_SETTINGS = ("betas", "eps", "weight_decay", "amsgrad", "maximize")
FIT_EPOCHS = 2


def probe_inputs() -> dict:
    generator = torch.Generator().manual_seed(0)
    return {
        "weight": torch.randn(3, 12, generator=generator) * 0.3,
        "bias": torch.randn(3, generator=generator) * 0.1,
        "train_images": torch.randn(16, 3, 2, 2, generator=generator),
        "train_labels": torch.randint(0, 3, (16,), generator=generator),
        "test_images": torch.randn(12, 3, 2, 2, generator=generator),
        "test_labels": torch.randint(0, 3, (12,), generator=generator),
    }


# The probe's model and loaders, and the scripted predictions, built as the test file builds them.


def probe_model(probe: dict) -> nn.Module:
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    with torch.no_grad():
        model[1].weight.copy_(probe["weight"])
        model[1].bias.copy_(probe["bias"])
    return model


def probe_loader(probe: dict, split: str) -> DataLoader:
    return DataLoader(TensorDataset(probe[f"{split}_images"], probe[f"{split}_labels"]), batch_size=4, shuffle=False)


def scripted_predictions(correct: list[bool], batch_size: int) -> tuple[nn.Module, DataLoader]:
    labels = torch.arange(len(correct)) % 5
    logits = torch.full((len(correct), 5), -2.0)
    predictions = torch.where(torch.tensor(correct), labels, (labels + 1) % 5)
    logits[torch.arange(len(correct)), predictions] = 3.0
    model = nn.Sequential(nn.Flatten(), nn.Identity())
    model.register_parameter("unused", nn.Parameter(torch.zeros(1)))
    return model, DataLoader(TensorDataset(logits, labels), batch_size=batch_size, shuffle=False)


def optimizer_settings(module, probe: dict) -> dict:
    optimizer = module.make_optimizer(probe_model(probe), lr=0.0123)
    group = optimizer.param_groups[0]
    return {key: group.get(key, optimizer.defaults.get(key)) for key in OPTIMIZER_SETTINGS}


def lr_trace(module, probe: dict, step_size: int, gamma: float) -> list[float]:
    optimizer = torch.optim.SGD(probe_model(probe).parameters(), lr=0.1)
    scheduler = module.make_scheduler(optimizer, step_size=step_size, gamma=gamma)
    trace = []
    for _ in range(12):
        trace.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return trace


def one_epoch(module, probe: dict) -> tuple[list[list[torch.Tensor]], float]:
    model = probe_model(probe)
    optimizer = GradientRecorder(model.parameters())
    loss = module.train_one_epoch(probe_loader(probe, "train"), model, nn.CrossEntropyLoss(), optimizer, CPU)
    return optimizer.recorded, loss


def fit_history(module, probe: dict) -> dict:
    model = probe_model(probe)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    with contextlib.redirect_stderr(io.StringIO()):  # the progress bar
        history = module.fit(
            model, probe_loader(probe, "train"), probe_loader(probe, "test"), nn.CrossEntropyLoss(),
            optimizer, scheduler, FIT_EPOCHS, CPU,
        )
    return {key: list(history[key]) for key in ("train_loss", "test_loss", "test_accuracy")}


def record(solution, mistake) -> dict:
    probe = probe_inputs()
    gradients, mean_loss = one_epoch(solution, probe)
    never_zeroed, _ = one_epoch(mistake("zero_grad missing"), probe)
    history = fit_history(solution, probe)
    on_train = fit_history(mistake("fit evaluates on the training loader"), probe)
    model, loader = scripted_predictions([True, False] * 5, batch_size=5)
    evaluate_loss, _ = solution.evaluate(loader, model, nn.CrossEntropyLoss(), CPU)
    return {
        "probe": probe,
        "make_optimizer": {"lr": 0.0123, "expected": optimizer_settings(solution, probe)},
        "make_scheduler": {
            f"{step_size}-{gamma}": lr_trace(solution, probe, step_size, gamma) for step_size, gamma in SCHEDULES
        },
        "train_one_epoch": {
            "gradients": gradients,
            "mean_loss": mean_loss,
            "fingerprints": [{
                "mistake": "gradients are never zeroed: they add up in .grad from batch to batch unless cleared "
                "before each backward pass (optimizer.zero_grad() at the start of every step)",
                "output": never_zeroed,
            }],
        },
        "evaluate": {"correct": [True, False] * 5, "batch_size": 5, "mean_loss": evaluate_loss},
        "fit": {
            "epochs": FIT_EPOCHS,
            "expected": history,
            "fingerprints": [{"mistake": "fit evaluates on the training loader: pass test_loader to evaluate", "output": on_train}],
        },
    }
