"""Part 2: optimizer, schedule, training loop, evaluation and fit (``training.*``)."""

import collections
import contextlib
import io
import math
import re

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from autograder import reference
from autograder.accuracy import AccuracyTest
from autograder.checks import check_close, check_float, check_type, fail, kind_of
from autograder.recorded import load, recorded_mistake
from autograder.training_loop import training_loop
from autograder.training_probes import (
    CountingSGD,
    GradientRecorder,
    GraphWatchingLoss,
    ModeRecorder,
    MoveWatchingLoss,
    StepCountingScheduler,
    UnmovedBatches,
)
from dlcv.device import pick_device

CPU = torch.device("cpu")
SCHEDULES = [(4, 0.5), (3, 0.1)]  # (step_size, gamma) of the schedule test

# Inputs, expected outputs and mistakes' fingerprints, written from the solution by scripts/record_expectations.py.
# Read here, in the grader, before any student code runs.
RECORDED = load("part2_training")

# The student's fit trains the grader's SmallCNN: see autograder/calibration/part2_training.md.
FIT = AccuracyTest(
    test="test_fit_trains_the_grader_model_to_accuracy_threshold",
    module="training",
    threshold=0.88,
    seed=0,
    measure=lambda student, loop, seed, device: reference.fit_accuracy(
        loop, student.make_optimizer, student.make_scheduler, student.fit, seed, device
    ),
    record="part2_training.md",
    must_fail=("zero_grad missing", "optimizer step missing"),
    context=(
        "zero_grad between backward and step",
        "scheduler stepped every batch",
        "scheduler never stepped",
        "mean over batches, model.zero_grad, inference_mode, dataset length",
    ),
    note=(
        "The test trains with a constant learning rate (the scheduler's gamma is 1), so it measures the training "
        "loop alone: when fit steps the scheduler is charged only by test_fit_steps_the_scheduler_once_per_epoch. "
        "With gamma 0.3 every 2 epochs, a fit that stepped the scheduler every batch trained for one epoch in "
        "effect and reached 0.817 to 0.865 over 20 seeds, 1.5 points from this threshold of 0.88: a verdict "
        "another CPU could flip, on a mistake that its own test already charges. The mistakes this test is aimed "
        "at (no zero_grad, no optimizer step, zero_grad between backward and step) stay far below."
    ),
)
ACCURACY_TESTS = [FIT]


def tiny_data(examples: int = 32, batch_size: int = 8, seed: int = 0) -> DataLoader:
    """Random ``(3, 4, 4)`` images with labels 0-4, in a fixed order."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(examples, 3, 4, 4, generator=generator)
    labels = torch.randint(0, 5, (examples,), generator=generator)
    return DataLoader(TensorDataset(images, labels), batch_size=batch_size, shuffle=False)


def tiny_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(48, 16), nn.ReLU(), nn.Linear(16, 5))


def probe_model(probe: dict) -> nn.Module:
    """The recorded probe: a linear model from a ``(3, 2, 2)`` image to 3 scores, with the recorded weights."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    with torch.no_grad():
        model[1].weight.copy_(probe["weight"])
        model[1].bias.copy_(probe["bias"])
    return model


def probe_loader(probe: dict, split: str) -> DataLoader:
    """The recorded probe's ``"train"`` (16 images) or ``"test"`` (12 images) split, in batches of 4, in order."""
    return DataLoader(TensorDataset(probe[f"{split}_images"], probe[f"{split}_labels"]), batch_size=4, shuffle=False)


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(
        type(x) is torch.Tensor and x.shape == y.shape and torch.allclose(x, y, rtol=1e-4, atol=1e-6) for x, y in zip(a, b)
    )


# ---------------------------------------------------------------- optimizer and schedule


@pytest.mark.points(1)
def test_make_optimizer_is_adamw_with_the_given_lr(submission):
    model = tiny_model()
    optimizer = submission.get("training.make_optimizer")(model, lr=0.0123)
    # type(), not isinstance: an object cannot claim to be an AdamW by its __class__.
    decoupled = type(optimizer) is torch.optim.Adam and optimizer.defaults.get("decoupled_weight_decay", False)
    if not (type(optimizer) is torch.optim.AdamW or decoupled):
        fail("a torch.optim.AdamW optimizer", kind_of(optimizer), "Adam adds weight decay to the gradient; AdamW decouples it")
    rates = {group["lr"] for group in optimizer.param_groups}
    if rates != {0.0123}:
        fail("learning rate 0.0123 (the lr argument)", f"{sorted(rates)}", "pass lr=lr instead of a fixed number")
    given = {id(p) for group in optimizer.param_groups for p in group["params"]}
    missing = [name for name, p in model.named_parameters() if id(p) not in given]
    if missing:
        fail("every parameter of the model in the optimizer", f"{missing} missing", "pass model.parameters()")


@pytest.mark.points(1)
def test_make_optimizer_keeps_pytorch_defaults(submission):
    case = RECORDED["make_optimizer"]
    optimizer = submission.get("training.make_optimizer")(tiny_model(), lr=case["lr"])
    check_type(optimizer, (torch.optim.AdamW, torch.optim.Adam), "make_optimizer's result")
    for key, default in case["expected"].items():  # PyTorch's defaults, recorded
        found = optimizer.param_groups[0].get(key, optimizer.defaults.get(key))
        if (list(found) if type(found) is tuple else found) != default:
            shown = tuple(default) if type(default) is list else default
            fail(
                f"AdamW's default {key}={shown!r} (the docstring: keep PyTorch's other defaults)",
                f"{key}={found!r}",
                "give AdamW the parameters and the learning rate only, and leave every other setting at its default",
            )


@pytest.mark.points(2)
@pytest.mark.parametrize("step_size, gamma", SCHEDULES)
def test_make_scheduler_learning_rate_trace_over_12_epochs(submission, step_size, gamma):
    model = tiny_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = submission.get("training.make_scheduler")(optimizer, step_size=step_size, gamma=gamma)
    trace = []
    for _ in range(12):
        trace.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = RECORDED["make_scheduler"][f"{step_size}-{gamma}"]
    if not all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(trace, expected)):
        fail(
            f"learning rates over 12 epochs (StepLR, step_size={step_size}, gamma={gamma}) "
            f"{[round(x, 6) for x in expected]}",
            f"{[round(x, 6) for x in trace]}",
            "pass step_size and gamma through to StepLR instead of fixed numbers",
        )


# ---------------------------------------------------------------- train_one_epoch


@pytest.mark.points(3)
def test_train_one_epoch_zeroes_gradients_every_step(submission):
    # The optimizer records .grad at every step and moves nothing, so each batch's gradient is known (recorded).
    probe, case = RECORDED["probe"], RECORDED["train_one_epoch"]
    model, loader = probe_model(probe), probe_loader(probe, "train")
    expected = case["gradients"]
    optimizer = GradientRecorder(model.parameters())
    submission.get("training.train_one_epoch")(loader, model, nn.CrossEntropyLoss(), optimizer, CPU)
    steps = optimizer.recorded
    if len(steps) != len(expected):
        fail(f"optimizer.step() called once per batch ({len(expected)} batches)", f"{len(steps)} calls")
    for batch, (got, want) in enumerate(zip(steps, expected)):
        if same(got, want):
            continue
        if all(g is None or not g.any() for g in got):
            fail(
                f"the gradient of batch {batch + 1} in .grad when optimizer.step() is called",
                "no gradient (None or zeros)",
                "optimizer.zero_grad() is called after loss.backward() and before optimizer.step(), "
                "or backward() is missing; the order is zero_grad, forward, loss, backward, step",
            )
        mistake = recorded_mistake(got, [{**f, "output": f["output"][batch]} for f in case["fingerprints"]], same)
        if mistake:
            fail(
                f"the gradient of batch {batch + 1} alone when optimizer.step() is called",
                f"the sum of the gradients of batches 1 to {batch + 1}",
                mistake,
            )
        fail(f"the gradient of batch {batch + 1} when optimizer.step() is called", "a different gradient")


@pytest.mark.points(2)
def test_train_one_epoch_uses_train_mode(submission):
    model = ModeRecorder(tiny_model()).eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    submission.get("training.train_one_epoch")(tiny_data(), model, nn.CrossEntropyLoss(), optimizer, CPU)
    if not model.calls:
        fail("the model to be called on every batch", "no call")
    if not all(training for training, _ in model.calls):
        fail(
            "the model in train mode during training",
            "eval mode (the model was left in eval mode, e.g. by the previous evaluation)",
            "call model.train() at the start of train_one_epoch, so dropout is active",
        )


def check_moved(model: ModeRecorder, loss: MoveWatchingLoss, function: str) -> None:
    """Every batch given to the model and the loss had been moved to the device first."""
    if not model.moved:
        fail(f"{function} to call the model on every batch", "no call")
    if not all(model.moved) or not all(labels for _, labels in loss.moved):
        what = "the images" if not all(model.moved) else "the labels"
        fail(
            f"{function} to move each batch to the device (images.to(device), labels.to(device)) before using it",
            f"{what} given to the {'model' if what == 'the images' else 'loss'} as they came from the loader",
            "move both images and labels: on a GPU, a model's weights and a batch left on the CPU cannot meet",
        )


@pytest.mark.points(1)
def test_train_one_epoch_moves_each_batch_to_the_device(submission):
    model, loss = ModeRecorder(tiny_model()), MoveWatchingLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    submission.get("training.train_one_epoch")(UnmovedBatches(tiny_data()), model, loss, optimizer, CPU)
    check_moved(model, loss, "train_one_epoch")


@pytest.mark.points(2)
def test_train_one_epoch_returns_mean_loss_as_python_float(submission):
    probe = RECORDED["probe"]
    model, loader = probe_model(probe), probe_loader(probe, "train")  # equal batches: per batch = per example
    optimizer = GradientRecorder(model.parameters())  # parameters stay put, so the mean is known (recorded)
    loss = submission.get("training.train_one_epoch")(loader, model, nn.CrossEntropyLoss(), optimizer, CPU)
    check_float(loss, "the value returned by train_one_epoch")
    check_close(
        loss,
        RECORDED["train_one_epoch"]["mean_loss"],
        "the mean training loss over the epoch",
        "divide the summed loss by the number of batches (or weight by batch size and divide by examples); "
        "return the mean, not the sum or the last batch's loss",
    )


@pytest.mark.points(2)
def test_train_one_epoch_keeps_no_graph_alive(submission):
    model = tiny_model()
    criterion = GraphWatchingLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    submission.get("training.train_one_epoch")(tiny_data(examples=40), model, criterion, optimizer, CPU)
    if criterion.kept_alive is not None:
        old, now = criterion.kept_alive
        fail(
            f"the loss of batch {old + 1} and its autograd graph to be freed before batch {now + 1}",
            "it was still alive",
            "the loss tensor is stored (losses.append(loss)) or added to a tensor total (total += loss); "
            "use loss.item() to keep only the number",
        )


# ---------------------------------------------------------------- evaluate


def scripted_predictions(correct: list[bool], batch_size: int) -> tuple[nn.Module, DataLoader]:
    """A model whose logits are its input, and a loader whose ``i``-th prediction is right iff ``correct[i]``."""
    labels = torch.arange(len(correct)) % 5
    logits = torch.full((len(correct), 5), -2.0)
    predictions = torch.where(torch.tensor(correct), labels, (labels + 1) % 5)
    logits[torch.arange(len(correct)), predictions] = 3.0
    model = nn.Sequential(nn.Flatten(), nn.Identity())
    model.register_parameter("unused", nn.Parameter(torch.zeros(1)))  # so .parameters() is not empty
    return model, DataLoader(TensorDataset(logits, labels), batch_size=batch_size, shuffle=False)


@pytest.mark.points(2)
def test_evaluate_counts_accuracy_over_examples(submission):
    # Batches of 4, 4 and 2: 4/4, 0/4 and 2/2 right. Over examples: 6/10; mean over batches: 2/3.
    model, loader = scripted_predictions([True] * 4 + [False] * 4 + [True] * 2, batch_size=4)
    result = submission.get("training.evaluate")(loader, model, nn.CrossEntropyLoss(), CPU)
    if not isinstance(result, tuple) or len(result) != 2:
        fail("a (loss, accuracy) tuple", repr(result))
    accuracy = check_float(result[1], "the accuracy returned by evaluate")
    if math.isclose(accuracy, 2 / 3, rel_tol=1e-6):
        fail("accuracy 0.6 (6 of 10 examples right)", "0.667, the mean of the per-batch accuracies",
             "the last batch is smaller: count correct predictions and examples over the whole loader")
    if math.isclose(accuracy, 60.0, rel_tol=1e-6):
        fail("accuracy as a fraction, 0.6", "60.0", "do not multiply by 100")
    if math.isclose(accuracy, 2.0, rel_tol=1e-6):
        fail("accuracy 0.6 (6 of 10 examples right)", "2.0: the 6 right predictions divided by the 3 batches",
             "divide the number of right predictions by the number of examples, not of batches")
    if math.isclose(accuracy, 6.0, rel_tol=1e-6):
        fail("accuracy as a fraction, 0.6", "6.0, the number of right predictions",
             "divide the number of right predictions by the number of examples")
    check_close(
        accuracy,
        0.6,
        "accuracy (6 of 10 examples right)",
        "count a prediction as right when logits.argmax(dim=1) equals the label, over every example of the loader, "
        "and divide by the number of examples",
    )


@pytest.mark.points(1)
def test_evaluate_returns_mean_loss(submission):
    case = RECORDED["evaluate"]
    model, loader = scripted_predictions(case["correct"], batch_size=case["batch_size"])
    loss, _ = submission.get("training.evaluate")(loader, model, nn.CrossEntropyLoss(), CPU)
    check_float(loss, "the loss returned by evaluate")
    check_close(loss, case["mean_loss"], "the mean loss over the loader", "average the batch losses, not sum them")


@pytest.mark.points(1)
def test_evaluate_moves_each_batch_to_the_device(submission):
    model, loss = ModeRecorder(tiny_model()), MoveWatchingLoss()
    submission.get("training.evaluate")(UnmovedBatches(tiny_data()), model, loss, CPU)
    check_moved(model, loss, "evaluate")


@pytest.mark.points(2)
def test_evaluate_uses_eval_mode(submission):
    model = ModeRecorder(tiny_model()).train()
    submission.get("training.evaluate")(tiny_data(), model, nn.CrossEntropyLoss(), CPU)
    if not model.calls or any(training for training, _ in model.calls):
        fail("the model in eval mode during evaluation", "train mode",
             "call model.eval() first: in train mode dropout changes the predictions")


@pytest.mark.points(2)
def test_evaluate_runs_without_gradients(submission):
    model = ModeRecorder(tiny_model())
    submission.get("training.evaluate")(tiny_data(), model, nn.CrossEntropyLoss(), CPU)
    if not model.calls or any(grad for _, grad in model.calls):
        fail("forward passes with gradient tracking off", "gradient tracking on",
             "wrap the loop in torch.no_grad() (or torch.inference_mode()): evaluation needs no graph")


@pytest.mark.points(1)
def test_evaluate_leaves_gradient_tracking_on(submission):
    torch.set_grad_enabled(True)
    submission.get("training.evaluate")(tiny_data(), tiny_model(), nn.CrossEntropyLoss(), CPU)
    if not torch.is_grad_enabled():
        fail(
            "gradient tracking back on after evaluate returns",
            "gradient tracking still off",
            "torch.set_grad_enabled(False) (or torch.no_grad() called as a function) switches gradients off for "
            "everything after it, so the next epoch of training cannot call backward; use `with torch.no_grad():`, "
            "which turns them back on when the block ends",
        )


# ---------------------------------------------------------------- fit


def run_fit(submission, epochs: int = 3):
    model = tiny_model()
    optimizer = CountingSGD(model.parameters(), lr=0.1)
    scheduler = StepCountingScheduler(optimizer, step_size=1, gamma=0.5)
    loader = tiny_data()
    history = submission.get("training.fit")(
        model, loader, tiny_data(seed=1), nn.CrossEntropyLoss(), optimizer, scheduler, epochs, CPU
    )
    return history, scheduler, len(loader)


def check_history(history, epochs: int) -> dict:
    """``history`` is a dict of the four documented lists of ``epochs`` Python floats; returned as a plain dict.

    The standard library's dicts (``defaultdict(list)``, ``OrderedDict``) are dicts too, and their methods
    are the library's own: they are accepted. Other subclasses are not (their methods are the student's).
    """
    check_type(history, (dict, collections.defaultdict, collections.OrderedDict), "the history fit returns")
    history = dict(history)
    for key in ("train_loss", "test_loss", "test_accuracy", "lr"):
        if key not in history:
            fail(f"the key {key!r} in the history", f"keys {sorted(map(str, history))}")
        check_type(history[key], list, f"history[{key!r}]")
        if len(history[key]) != epochs:
            fail(f"{epochs} entries (one per epoch) in history[{key!r}]", f"{len(history[key])}")
        for value in history[key]:
            check_float(value, f"each entry of history[{key!r}]")
    return history


@pytest.mark.points(3)
def test_fit_steps_the_scheduler_once_per_epoch(submission):
    _, scheduler, batches = run_fit(submission, epochs=3)
    steps = scheduler.optimizer_steps_at_step
    if not steps:
        fail("scheduler.step() called once per epoch (3 times)", "no call", "call scheduler.step() after each epoch")
    if len(steps) == 3 * batches:
        fail("scheduler.step() called once per epoch (3 times)", f"{len(steps)} calls, once per batch",
             "move scheduler.step() out of the batch loop: StepLR's step_size counts epochs")
    if len(steps) != 3:
        fail("scheduler.step() called once per epoch (3 times)", f"{len(steps)} calls")
    if steps != [batches, 2 * batches, 3 * batches]:
        fail(f"each scheduler.step() after an epoch's {batches} optimizer steps (after {[batches, 2 * batches, 3 * batches]})",
             f"after {steps}", "call scheduler.step() at the end of the epoch, after training")
    if scheduler.given_arguments:
        fail("scheduler.step() called without an argument", "scheduler.step(...) given a value (a loss or an epoch)",
             "StepLR counts its own epochs: a value passed to step() is taken as the epoch number and sets the "
             "learning rate wrongly (ReduceLROnPlateau is the scheduler that takes a metric)")


@pytest.mark.points(2)
def test_fit_returns_the_history(submission):
    history, scheduler, batches = run_fit(submission, epochs=3)
    history = check_history(history, 3)
    if not all(math.isclose(a, b) for a, b in zip(history["lr"], [0.1, 0.05, 0.025])):
        used = scheduler.optimizer.lr_at_step[::batches]  # the rate each epoch's first step trained with
        if all(math.isclose(a, b) for a, b in zip(history["lr"], used)):
            likely = (
                f"history['lr'] does hold the rates the epochs trained with ({used}): the schedule itself is off; "
                "see the scheduler test (scheduler.step() once per epoch, after the epoch, with no argument)"
            )
        else:
            likely = "record optimizer.param_groups[0]['lr'] at the start of each epoch, before training"
        fail("history['lr'] = [0.1, 0.05, 0.025] (read before each epoch's scheduler step)", f"{history['lr']}", likely)
    if not all(0.0 <= a <= 1.0 for a in history["test_accuracy"]):
        fail("test accuracies between 0 and 1", f"{history['test_accuracy']}")


def same_history(found: dict, expected: dict, keys=("test_loss", "test_accuracy")) -> bool:
    """The histories agree on ``keys``, epoch by epoch (losses to 1e-4, accuracies to 1e-6)."""
    return all(
        len(found[key]) == len(expected[key])
        and all(math.isclose(x, y, rel_tol=1e-4, abs_tol=1e-6) for x, y in zip(found[key], expected[key]))
        for key in keys
    )


@pytest.mark.points(2)
def test_fit_evaluates_on_the_test_loader(submission):
    # With a learning rate of 0 the model never changes, so every epoch's losses and accuracy are known (recorded).
    probe, case = RECORDED["probe"], RECORDED["fit"]
    model, expected = probe_model(probe), case["expected"]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    history = check_history(
        submission.get("training.fit")(
            model, probe_loader(probe, "train"), probe_loader(probe, "test"), nn.CrossEntropyLoss(), optimizer,
            scheduler, case["epochs"], CPU,
        ),
        case["epochs"],
    )
    if not same_history(history, expected):
        fail(
            f"history['test_loss'] = {expected['test_loss'][0]:.4f} and history['test_accuracy'] = "
            f"{expected['test_accuracy'][0]:.4f} each epoch (the test loader's, with a learning rate of 0 nothing changes)",
            f"{[round(x, 4) for x in history['test_loss']]} and {[round(x, 4) for x in history['test_accuracy']]}",
            recorded_mistake(history, case["fingerprints"], same_history)
            or "evaluate the model on test_loader after each epoch and record what evaluate returns",
        )
    if not same_history(history, expected, keys=("train_loss",)):
        fail(f"history['train_loss'] = {expected['train_loss'][0]:.4f} each epoch (the training loader's mean loss)",
             f"{[round(x, 4) for x in history['train_loss']]}", "record what train_one_epoch returns on train_loader")


@pytest.mark.points(1)
def test_fit_shows_a_progress_bar_over_the_epochs(submission):
    shown = io.StringIO()
    with contextlib.redirect_stderr(shown):
        run_fit(submission, epochs=3)
    if not re.search(r"\b3/3\b", shown.getvalue()):
        fail(
            "a tqdm progress bar over the 3 epochs (it ends showing 3/3)",
            "none" if not shown.getvalue().strip() else f"other output: {shown.getvalue().strip()[-120:]!r}",
            "wrap the epochs in tqdm: loop over the epochs through tqdm (or its trange), which draws the bar",
        )


@pytest.mark.points(4, time_limit=180)
def test_fit_trains_the_grader_model_to_accuracy_threshold(submission):
    for name in ("make_optimizer", "make_scheduler", "fit"):
        submission.get(f"training.{name}")  # a readable failure for a missing name before training
    loop = training_loop(submission)
    accuracy = FIT.run(submission.module("training"), loop, pick_device())
    FIT.judge(
        accuracy,
        f"test accuracy of at least {FIT.threshold:.0%} for the grader's model trained by your fit",
        "a step of the loop is missing or misplaced (zero_grad, backward, optimizer.step)",
        loop=loop,
    )
