"""Refuse a handout that answers a TODO: call every function it ships on the graded functions' inputs.

The handout's students read every file, so no function outside ``assignment/``
may compute what a TODO asks, not even a test's diagnosis helper. Comparing
whole files with ``solutions/`` cannot see a helper that returns the answer
from other code, so this check looks at behaviour: in a process of its own,
it imports every module of the staged handout outside ``assignment/``, calls
every module-level function and every method defined there with the inputs
of each graded function (``box_iou``, ``nms``, ``roi_align``,
``receptive_field``, ``top_activating_patches``, ``extract_features``,
``evaluate``), and compares what it returns with what the solution returns.
A function that returns the solution's output for any of them stops the build.

Run as a script by :func:`check_no_answers` (so that the staged handout's own
``autograder`` and ``dlcv`` packages are the ones imported, not this
repository's)::

    python autograder/gradescope/answers.py STAGE SOLUTIONS
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import json
import math
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

SECONDS_PER_CALL = 3  # a helper that needs longer on these small inputs is not answering them
SECONDS_IN_ALL = 600
PROBED_FOLDERS = ("autograder", "dlcv")  # the handout's code outside assignment/


class AnswerError(Exception):
    """A function of the handout returns what a graded function returns, or the check could not run."""


def check_no_answers(stage: Path, solutions: Path | None = None) -> None:
    """Raise :class:`AnswerError` if a function of the handout staged in ``stage`` returns a solution's output."""
    solutions = solutions or Path(__file__).resolve().parents[2] / "solutions"
    with tempfile.TemporaryDirectory(prefix="dlcv-answers-") as scratch:
        try:
            completed = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), str(stage), str(solutions)],
                cwd=scratch, capture_output=True, text=True, timeout=SECONDS_IN_ALL,
                env={"PYTHONPATH": str(stage), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
            )
        except subprocess.TimeoutExpired:
            raise AnswerError(f"the check of the handout's functions took over {SECONDS_IN_ALL} s") from None
    if completed.returncode != 0 or not completed.stdout.strip():
        raise AnswerError(f"the check of the handout's functions could not run:\n{completed.stderr[-3000:]}")
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    if report["answers"]:
        raise AnswerError(
            "refusing to ship a handout whose functions answer a TODO (each returned the solution's output):\n  "
            + "\n  ".join(report["answers"])
        )
    if report["probed"] < 1:
        raise AnswerError("the check of the handout's functions found no function to call")


# ------------------------------------------------------------------------------ in the probing process


class _CallTimedOut(Exception):
    pass


def _load_solution(solutions: Path, name: str):
    import types

    module = types.ModuleType(f"answer_check_solution_{name}")
    path = solutions / f"{name}.py"
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    return module


def graded_inputs() -> dict[str, list[tuple]]:
    """The inputs each graded function is called with, by ``module.function``; small, seeded, non-trivial."""
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from dlcv.backbone import DigitBackbone
    from dlcv.small_cnn import SmallCNN

    generator = torch.Generator().manual_seed(0)

    def boxes(count: int) -> torch.Tensor:
        corner = torch.rand(count, 2, generator=generator) * 20
        return torch.cat([corner, corner + 2 + torch.rand(count, 2, generator=generator) * 10], dim=1)

    clustered = torch.cat([boxes(3), boxes(3) + 1, boxes(2) + 0.5])
    features = torch.randn(2, 3, 10, 12, generator=generator)
    rois = torch.cat([torch.tensor([[0.0], [1.0], [0.0]]), boxes(3) / 2], dim=1)
    torch.manual_seed(0)
    detector = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 3, 3, padding=1), nn.ReLU()).eval()
    images = torch.randn(6, 1, 20, 20, generator=generator)
    backbone = DigitBackbone(num_classes=5).eval()
    digits = DataLoader(TensorDataset(torch.randn(6, 3, 64, 64, generator=generator), torch.arange(6) % 5), batch_size=4)
    small_cnn = SmallCNN().eval()
    examples = DataLoader(TensorDataset(torch.randn(10, 3, 64, 64, generator=generator), torch.arange(10)), batch_size=4)
    layers = [nn.Conv2d(3, 8, 5, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Conv2d(8, 8, 3, padding=1, dilation=2)]
    return {
        "detection.box_iou": [(boxes(4), boxes(3)), (clustered, clustered)],
        "detection.nms": [(clustered, torch.rand(8, generator=generator), 0.3), (clustered, torch.rand(8, generator=generator), 0.6)],
        "detection.roi_align": [
            (features, rois, (3, 2), 0.5, 2, True),
            (features, rois, (2, 2), 1.0, 0, False),
            (features, [rois[rois[:, 0] == 0, 1:], rois[rois[:, 0] == 1, 1:]], 3, 0.25, -1, True),
        ],
        "visualize.receptive_field": [(layers,), (nn.Sequential(*layers),), (layers[:2],)],
        "visualize.top_activating_patches": [(detector, 4, 1, images, 3), (detector, 1, 2, images, 2)],
        "transfer.extract_features": [(backbone, digits, torch.device("cpu"))],
        "training.evaluate": [(examples, small_cnn, nn.CrossEntropyLoss(), torch.device("cpu"))],
    }


def _same(found, expected) -> bool:
    import torch

    if isinstance(expected, torch.Tensor):
        return (
            isinstance(found, torch.Tensor) and found.shape == expected.shape and expected.numel() > 0
            and bool(torch.allclose(found.detach().double(), expected.detach().double(), atol=1e-5, rtol=1e-5))
        )
    if isinstance(expected, (tuple, list)):
        return isinstance(found, (tuple, list)) and len(found) == len(expected) and all(map(_same, found, expected))
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return isinstance(found, (int, float)) and not isinstance(found, bool) and math.isclose(found, expected, rel_tol=1e-6, abs_tol=1e-9)
    return False


def _copied(arguments: tuple) -> tuple:
    """Fresh copies of tensors and modules, so that a candidate that changes its inputs cannot spoil the next call."""
    import copy

    return copy.deepcopy(arguments)


def _handout_modules(stage: Path):
    for folder in PROBED_FOLDERS:
        for path in sorted((stage / folder).rglob("*.py")):
            relative = path.relative_to(stage).with_suffix("")
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts.pop()
            if parts[-1] in ("__main__", "conftest"):
                continue
            yield ".".join(parts)


def _candidates(module):
    """Functions defined in ``module``: module-level ones and those of its classes (methods, static, class)."""
    for name, value in list(vars(module).items()):
        if inspect.isfunction(value) and value.__module__ == module.__name__:
            yield name, value, False
        elif inspect.isclass(value) and value.__module__ == module.__name__:
            for attribute, member in list(vars(value).items()):
                function = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
                if inspect.isfunction(function):
                    bound = isinstance(member, classmethod) or not isinstance(member, staticmethod)
                    owner = value if isinstance(member, classmethod) else None
                    yield f"{name}.{attribute}", function, (owner if owner is not None else bound)


def _call(function, arguments: tuple, receiver):
    """``function(*arguments)``; for a method, also with an instance (made without __init__) or the class first."""
    attempts = [arguments]
    if receiver is True:
        owner = function.__qualname__.split(".")[0]
        cls = vars(sys.modules[function.__module__]).get(owner)
        if inspect.isclass(cls):
            with contextlib.suppress(Exception):
                attempts.insert(0, (object.__new__(cls), *arguments))
    elif receiver not in (False, None):
        attempts.insert(0, (receiver, *arguments))
    results = []
    for attempt in attempts:
        signal.alarm(SECONDS_PER_CALL)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                results.append(function(*_copied(attempt)))
        except BaseException:  # noqa: BLE001  (SystemExit from a command's argument parser, a time-out, anything)
            pass
        finally:
            signal.alarm(0)
    return results


def _probe(stage: Path, solutions: Path) -> dict:
    import torch

    torch.set_num_threads(1)

    def timed_out(*_):
        raise _CallTimedOut

    signal.signal(signal.SIGALRM, timed_out)
    inputs = graded_inputs()
    expected = {}
    for graded, cases in inputs.items():
        module_name, function_name = graded.split(".")
        solution = getattr(_load_solution(solutions, module_name), function_name)
        expected[graded] = [solution(*_copied(case)) for case in cases]
    answers, probed = [], 0
    for module_name in _handout_modules(stage):
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                module = importlib.import_module(module_name)
        except BaseException as error:  # noqa: BLE001
            answers.append(f"{module_name}: could not be imported to be checked ({type(error).__name__}: {error})")
            continue
        for name, function, receiver in _candidates(module):
            probed += 1
            for graded, cases in inputs.items():
                for number, case in enumerate(cases):
                    if any(_same(found, expected[graded][number]) for found in _call(function, case, receiver)):
                        where = Path(*module_name.split(".")).with_suffix(".py")
                        answers.append(f"{where}: {name} returns what {graded} returns (graded input {number + 1})")
                        break
    return {"answers": list(dict.fromkeys(answers)), "probed": probed}


if __name__ == "__main__":
    stage_folder, solutions_folder = map(Path, sys.argv[1:3])
    sys.path[:] = [str(stage_folder)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    print(json.dumps(_probe(stage_folder, solutions_folder)))
