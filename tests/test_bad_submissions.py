"""The catalogue of bad submissions: broken, hostile or careless code costs its own tests and nothing else.

Each case is the solutions of Parts 1-3 with one file broken in one way. The
grader runs a cheap selection of every part's tests on it (``SELECTED``, with
every time limit scaled down so hangs are stopped in seconds) and the case
checks, as a student and an instructor would see it:

- the run finished, in bounded time, and wrote a valid results file;
- the tests it breaks failed with a message that names what happened;
- every other selected test, of the broken part and of the others, passed,
  exactly as for the clean solutions (``test_clean_submission_passes_the_selection``);
- plus what the case is about: no forged results, no process left behind, the
  results file small, the instructor told.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.gradescope_format import check_gradescope_results
from tests.grader_run import REPO_ROOT, run_autograder

PARTS = {"network": "1", "training": "2", "augmentation": "3"}
SELECTED = {
    "network": ["test_output_shape[1]", "test_num_classes_sets_the_last_layer", "test_parameter_count"],
    "training": [
        "test_make_optimizer_is_adamw_with_the_given_lr",
        "test_train_one_epoch_returns_mean_loss_as_python_float",
        "test_evaluate_counts_accuracy_over_examples",
    ],
    "augmentation": ["test_test_transform_is_deterministic", "test_train_transform_is_random"],
}
TEST_FILES = {"network": "autograder/test_part1_network.py", "training": "autograder/test_part2_training.py",
              "augmentation": "autograder/test_part3_augmentation.py"}
SCALE = "0.05"  # a 60 s test may compute for 3 s (9 s of wall-clock time) before it is stopped
RUN_SECONDS = 120  # no case may keep the grader longer

# Where code can be put into the solutions: the top of a file (runs at import), or the start of a function.
FORWARD = "        x = self.features(x)\n"
MAKE_OPTIMIZER = "    return torch.optim.AdamW(model.parameters(), lr=lr)\n"
TRAIN_ONE_EPOCH = "    model.train()  # dropout (and batch norm) behave as in training\n"
EVALUATE = "    model.eval()  # dropout off\n"
ALL = "*"  # every selected test of the case's module


def indent(code: str, spaces: int) -> str:
    return "".join(" " * spaces + line + "\n" for line in code.strip("\n").splitlines())


@dataclass(frozen=True)
class Case:
    name: str
    module: str
    top: str = ""  # code put at the top of the module
    inside: tuple[str, str] | None = None  # (line of the solution, code put before it, indented like it)
    source: str | None = None  # the whole file instead
    edits: tuple[tuple[str, str], ...] = ()
    delete: bool = False
    failing: dict[str, str] = field(default_factory=dict)  # selected test (or ALL) -> regex its message must match
    unchecked_module: bool = False  # the case's own module may score anything; the other parts are checked
    flags: str = ""  # regex that the instructor's flags or audit must match
    cwd_results: bool = False  # run from a temporary folder with a relative --results path

    def write(self, folder: Path, mark: str) -> Path:
        folder.mkdir(parents=True)
        for module in PARTS:
            shutil.copy(REPO_ROOT / "solutions" / f"{module}.py", folder)
        path = folder / f"{self.module}.py"
        if self.delete:
            path.unlink()
            return folder
        text = self.source if self.source is not None else path.read_text()
        for old, new in self.edits:
            assert old in text, f"{self.name}: {old!r} not in {self.module}.py"
            text = text.replace(old, new)
        if self.inside is not None:
            line, code = self.inside
            assert line in text, f"{self.name}: {line!r} not in {self.module}.py"
            spaces = len(line) - len(line.lstrip())
            text = text.replace(line, indent(code, spaces) + line, 1)
        text = self.top + text
        path.write_text(text.replace("CASE_MARK", mark))
        return folder


def selection() -> list[str]:
    return [f"{TEST_FILES[module]}::{test}" for module, tests in SELECTED.items() for test in tests]


# Code that finds the grader's results file the way hostile code would: from the harness's command line.
FIND_RESULTS = """
import os as _os
def _results_path():
    arguments = open(f"/proc/{_os.getppid()}/cmdline", "rb").read().split(b"\\0")
    return arguments[arguments.index(b"--results") + 1].decode() if b"--results" in arguments else None
"""
FORGED = '{"score": 1000, "tests": [], "output": "CASE_MARK forged"}'
LATER_WRITER = FIND_RESULTS + f"""
import shlex as _shlex, subprocess as _subprocess
_path = _results_path()
if _path:
    _command = "sleep 2; echo " + _shlex.quote({FORGED!r}) + " > " + _shlex.quote(_path) + "  # CASE_MARK"
    _subprocess.Popen(["sh", "-c", _command], DETACH)
"""

CASES = [
    Case("syntax error", "network", source="class Network(nn.Module:\n    pass\n",
         failing={ALL: r"^could not import network\.py: SyntaxError"}),
    Case("import of a missing package", "training", top="import not_a_real_package_xyz\n",
         failing={ALL: r"^could not import training\.py: ModuleNotFoundError: No module named 'not_a_real_package_xyz'"}),
    Case("missing file", "augmentation", delete=True,
         failing={ALL: r"^missing file: augmentation\.py was not found"}),
    Case("missing function", "network", edits=(("class Network(nn.Module):", "class Net(nn.Module):"),),
         failing={ALL: r"^missing: network\.Network\."}),
    Case("wrong signature", "training",
         edits=(("def train_one_epoch(loader, model: nn.Module, criterion, optimizer, device) -> float:",
                 "def train_one_epoch(loader, model, criterion, optimizer) -> float:"),),
         failing={"test_train_one_epoch_returns_mean_loss_as_python_float":
                  r"could not call your train_one_epoch: .*takes 4 positional arguments but 5 were given"}),
    Case("infinite loop at import", "network", top="while True:\n    pass\n",
         failing={"test_output_shape[1]": r"^time limit exceeded: .*CPU time.*\n.*the top level of network\.py",
                  "test_num_classes_sets_the_last_layer": r"importing it ran past the time limit in test_output_shape\[1\]",
                  "test_parameter_count": r"importing it ran past the time limit"}),
    Case("infinite loop in forward", "network", inside=(FORWARD, "while True:\n    pass"),
         failing={"test_output_shape[1]": r"^time limit exceeded.*\n.*running network\.Network\.forward \(network\.py, line",
                  "test_num_classes_sets_the_last_layer": r"^not run again: network\.Network\.forward ran past its time limit"}),
    Case("time.sleep for hours", "training", inside=(EVALUATE, "import time\ntime.sleep(36000)"),
         failing={"test_evaluate_counts_accuracy_over_examples": r"waited without computing.*\n.*running training\.evaluate"}),
    Case("os._exit(0) at import", "training", top="import os\nos._exit(0)\n",
         failing={ALL: r"^your code ended the test's process with exit status 0"}),
    Case("os._exit(3) in a function", "training", inside=(TRAIN_ONE_EPOCH, "import os\nos._exit(3)"),
         failing={"test_train_one_epoch_returns_mean_loss_as_python_float": r"exit status 3"}),
    Case("sys.exit in a function", "training", inside=(MAKE_OPTIMIZER, "import sys\nsys.exit(2)"),
         failing={"test_make_optimizer_is_adamw_with_the_given_lr": r"^your code called sys\.exit\(2\).*\n.*training\.py, line"}),
    Case("segfault", "network", inside=(FORWARD, "import ctypes\nctypes.string_at(0)"),
         failing={"test_output_shape[1]": r"crashed \(segmentation fault, signal 11\).*\n.*running network\.Network\.forward",
                  "test_num_classes_sets_the_last_layer": r"crashed \(segmentation fault"}),
    Case("50 GB allocation", "network", inside=(FORWARD, "torch.empty(50 * 2**30, dtype=torch.uint8).fill_(1)"),
         failing={"test_output_shape[1]": r"more memory than the grader allows",
                  "test_num_classes_sets_the_last_layer": r"more memory than the grader allows"}),
    Case("100 MB of output", "augmentation", top="import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 2**20 + '\\n')\n"),
    Case("forged results at import", "training", top=FIND_RESULTS + f"open(_results_path(), 'w').write('{FORGED}')\n"),
    Case("forged results by atexit", "training",
         top=FIND_RESULTS + f"import atexit\natexit.register(lambda: open(_results_path(), 'w').write('{FORGED}'))\n"),
    Case("background process that writes later", "augmentation", top=LATER_WRITER.replace("DETACH", "")),
    Case("detached process that writes later", "augmentation", top=LATER_WRITER.replace("DETACH", "start_new_session=True")),
    Case("processes left running", "augmentation",
         top="import subprocess\nfor _ in range(30):\n    subprocess.Popen(['sh', '-c', 'sleep 1000  # CASE_MARK'])\n"),
    Case("processes forked in forward", "network",
         inside=(FORWARD, "import os\nfor _ in range(5):\n    if os.fork() == 0:\n"
                          "        os.execvp('sh', ['sh', '-c', 'sleep 1000  # CASE_MARK'])")),
    Case("non-daemon thread left running", "augmentation",
         top="import threading, time\nthreading.Thread(target=time.sleep, args=(3600,)).start()\n"),
    Case("pytest.fail patched at import", "network", top="import pytest\npytest.fail = lambda *a, **k: None\n",
         edits=(("nn.Linear(256, num_classes)", "nn.Linear(256, 10)"),),
         failing={"test_num_classes_sets_the_last_layer": r"shape \(2, 7\)"}, flags=r"replaced at import.*pytest\.fail"),
    Case("grader's check patched at import", "network",
         top="import sys\nsys.modules['autograder.checks'].fail = lambda *a, **k: None\n"
             "sys.modules['autograder.test_part1_network'].check_tensor = lambda value, *a, **k: value\n",
         edits=(("nn.Linear(256, num_classes)", "nn.Linear(256, 10)"),),
         failing={"test_num_classes_sets_the_last_layer": r"shape \(2, 7\)"}, flags=r"replaced at import.*autograder"),
    Case("grader patched while the test runs", "network",
         inside=(FORWARD, "import sys\nsys.modules['autograder.checks'].fail = lambda *a, **k: None"),
         failing={"test_output_shape[1]": r"^not graded: your code changed the grader's .*autograder\.checks\.fail",
                  "test_num_classes_sets_the_last_layer": r"^not graded: your code changed"},
         flags=r"changed while the test ran: autograder\.checks\.fail"),
    Case("torch.equal patched at import", "augmentation", top="import torch\ntorch.equal = lambda a, b: False\n",
         flags=r"replaced at import.*torch\.equal"),
    Case("tensor subclass whose comparisons always agree", "network",
         top="import torch\nclass Agreeable(torch.Tensor):\n    def __eq__(self, other):\n        return True\n"
             "    @classmethod\n    def __torch_function__(cls, func, types, args=(), kwargs=None):\n        return True\n",
         edits=(("        return self.classifier(x)\n", "        return self.classifier(x).as_subclass(Agreeable)\n"),),
         failing={"test_output_shape[1]": r"a subclass of torch\.Tensor",
                  "test_num_classes_sets_the_last_layer": r"a subclass of torch\.Tensor"}),
    Case("object whose __eq__ is always true", "training",
         top="class Liar(float):\n    def __eq__(self, other):\n        return True\n    def __lt__(self, other):\n        return False\n",
         edits=(("    return total_loss / total_examples, correct / total_examples\n",
                 "    return Liar(total_loss / total_examples), Liar(correct / total_examples)\n"),),
         failing={"test_evaluate_counts_accuracy_over_examples": r"to be a float, found training\.Liar, a subclass of float"}),
    Case("__class__ claims to be AdamW", "training",
         top="import torch\nclass Spoof(torch.optim.SGD):\n    __class__ = property(lambda self: torch.optim.AdamW)\n",
         edits=((MAKE_OPTIMIZER, "    return Spoof(model.parameters(), lr=lr)\n"),),
         failing={"test_make_optimizer_is_adamw_with_the_given_lr": r"expected a torch\.optim\.AdamW optimizer, found training\.Spoof"}),
    Case("NaN loss", "training", edits=(("    return total_loss / total_examples\n", "    return float('nan')\n"),),
         failing={"test_train_one_epoch_returns_mean_loss_as_python_float": r"to be finite, found nan"}),
    Case("KeyboardInterrupt", "training", inside=(MAKE_OPTIMIZER, "raise KeyboardInterrupt"),
         failing={"test_make_optimizer_is_adamw_with_the_given_lr": r"^your code raised KeyboardInterrupt"}),
    Case("pytest.exit", "training", inside=(EVALUATE, "import pytest\npytest.exit('bye')"),
         failing={"test_evaluate_counts_accuracy_over_examples": r"^your code called pytest\.exit\('bye'\)"}),
    Case("signals blocked around an endless loop", "training",
         top="import signal\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGINT, signal.SIGTERM})\n",
         inside=(TRAIN_ONE_EPOCH, "while True:\n    pass"),
         failing={"test_train_one_epoch_returns_mean_loss_as_python_float": r"^time limit exceeded.*\n.*running training\.train_one_epoch"}),
    Case("except BaseException around a sleep", "training",
         inside=(EVALUATE, "import time\nwhile True:\n    try:\n        time.sleep(100)\n    except BaseException:\n        pass"),
         failing={"test_evaluate_counts_accuracy_over_examples": r"waited without computing.*\n.*running training\.evaluate"}),
    Case("endless loop inside a C call", "network", inside=(FORWARD, "import re\nre.match(r'(a+)+$', 'a' * 40 + 'b')"),
         failing={"test_output_shape[1]": r"^time limit exceeded.*CPU time.*\n.*running network\.Network\.forward",
                  "test_num_classes_sets_the_last_layer": r"^not run again: network\.Network\.forward"}),
    Case("exception whose __str__ raises", "network",
         inside=(FORWARD, "class Broken(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\nraise Broken()"),
         failing={"test_output_shape[1]": r"^your code raised Broken: <Broken whose message could not be read",
                  "test_num_classes_sets_the_last_layer": r"whose message could not be read"}),
    Case("10 MB exception message", "network", inside=(FORWARD, "raise ValueError('x' * 10**7)"),
         failing={"test_output_shape[1]": r"^your code raised ValueError: x+\n\[\.\.\. [\d,]+ characters cut",
                  "test_num_classes_sets_the_last_layer": r"characters cut"}),
    Case("os.chdir before the results are written", "augmentation", top="import os\nos.chdir('/')\n", cwd_results=True),
    Case("torch.set_default_dtype at import", "training", top="import torch\ntorch.set_default_dtype(torch.float64)\n",
         unchecked_module=True, flags=r"torch\.set_default_dtype"),
    Case("delegating to the solutions by path", "network",
         source="import importlib.util\n"
                f"_spec = importlib.util.spec_from_file_location('n', {str(REPO_ROOT / 'solutions' / 'network.py')!r})\n"
                "_module = importlib.util.module_from_spec(_spec)\n_spec.loader.exec_module(_module)\n"
                "Network = _module.Network\n",
         # As root the solutions are hidden from student code (the import fails); elsewhere it earns the points.
         # Either way the instructor is told.
         unchecked_module=True, flags=r"network\.py, line \d+: refers to 'solutions'"),
]


def processes_marked(mark: str) -> list[str]:
    """Command lines of live processes that carry ``mark`` (left behind by a case)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if mark in cmdline and state != "Z":
            found.append(cmdline)
    return found


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clean")
    return run_autograder(folder / "results.json", *selection(), "--time-limit-scale", SCALE, target=REPO_ROOT / "solutions")


def test_clean_submission_passes_the_selection(clean_run):
    failed = [f"{t['name']}: {t['output']}" for t in clean_run.results["tests"] if t["status"] != "passed"]
    assert not failed, "\n".join(failed)
    assert len(clean_run.results["tests"]) == len(selection())


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_submission_costs_only_its_own_tests(case, tmp_path, clean_run):
    mark = f"dlcv-case-{uuid.uuid4().hex}"
    folder = case.write(tmp_path / "submission", mark)
    os.chmod(tmp_path, 0o755)  # readable by an unprivileged account, where the grader drops to one
    results_path = tmp_path / "results.json"
    started = time.monotonic()
    if case.cwd_results:
        run = run_relative(folder, tmp_path)
    else:
        run = run_autograder(results_path, *selection(), "--time-limit-scale", SCALE, target=folder, timeout=RUN_SECONDS)
    assert time.monotonic() - started < RUN_SECONDS
    if "writes later" in case.name:
        written = results_path.read_bytes()
        time.sleep(3)  # the forged write was due 2 s after the student code ran
        assert results_path.read_bytes() == written
    check_gradescope_results(run.results)
    assert "forged" not in json.dumps(run.results) and run.results["score"] <= 100
    assert results_path.stat().st_size < 200_000, "a results file blown up by student output"
    assert not processes_marked(mark), "processes of the submission outlived the grading"

    outcomes = {test["name"].split(": ", 1)[1]: test for test in run.results["tests"]}
    assert sorted(outcomes) == sorted(t.split("::")[1] for t in selection())
    expected = {name: case.failing.get(name, case.failing.get(ALL)) if module == case.module else None
                for module, names in SELECTED.items() for name in names}
    for name, pattern in expected.items():
        module = next(m for m, names in SELECTED.items() if name in names)
        if module == case.module and case.unchecked_module:
            continue
        outcome = outcomes[name]
        if pattern is None:  # intact: exactly as for the clean submission
            assert outcome["status"] == clean_run.test(name)["status"] == "passed", f"{name}: {outcome['output']}"
        else:
            assert outcome["status"] == "failed", f"{name} passed"
            assert re.search(pattern, outcome["output"], re.DOTALL), f"{name}: {outcome['output']!r}"
            assert "Traceback" not in outcome["output"]
    if case.flags:
        told = "\n".join(run.results.get("extra_data", {}).get("audit", []) + run.results.get("extra_data", {}).get("flags", []))
        assert re.search(case.flags, told), told
    if os.environ.get("DLCV_CATALOGUE_TABLE"):
        record_row(Path(os.environ["DLCV_CATALOGUE_TABLE"]), case, run, time.monotonic() - started)


def record_row(table: Path, case: Case, run, seconds: float) -> None:
    """Append the case's row to a Markdown table (every check above passed, so the run finished, its results
    are valid and the other parts are intact): the broken part's score on the selection, and its first message."""
    part = [test for test in run.results["tests"] if test["tags"][0].endswith(f" {case.module}")]
    message = next((test["output"].splitlines()[0] for test in part if test["status"] == "failed" and test["output"]), "")
    score = f"{sum(t['score'] for t in part):g} / {sum(t['max_score'] for t in part):g}"
    with table.open("a") as rows:
        rows.write(f"| {case.name} | {case.module}.py | {seconds:.0f} s | yes | {score} | yes | {message[:150].replace('|', '/')} |\n")


def run_relative(folder: Path, where: Path):
    """The grader started in ``where`` with ``--results results.json``, a path relative to it."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(REPO_ROOT),
               "-c", str(REPO_ROOT / "pyproject.toml"), "--results", "results.json", "--target", str(folder),
               "--time-limit-scale", SCALE, *(str(REPO_ROOT / t.split("::")[0]) + "::" + t.split("::")[1] for t in selection())]
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    environment.pop("DLCV_TARGET", None)
    completed = subprocess.run(command, cwd=where, capture_output=True, text=True, timeout=RUN_SECONDS, env=environment)
    assert (where / "results.json").exists(), completed.stdout + completed.stderr
    from tests.grader_run import GraderRun  # noqa: PLC0415

    return GraderRun(completed.returncode, completed.stdout + completed.stderr, json.loads((where / "results.json").read_text()))


def test_a_run_time_limit_bounds_the_whole_run(tmp_path):
    # Every part hangs at import: each part's first test waits for its limit, and once the run's own limit
    # is spent the tests left fail at once as not graded, so the results file comes within the limit.
    folder = tmp_path / "submission"
    folder.mkdir()
    for module in PARTS:
        (folder / f"{module}.py").write_text("while True:\n    pass\n")
    started = time.monotonic()
    run = run_autograder(
        tmp_path / "results.json", *selection(), "--time-limit-scale", "0.1", "--run-time-limit", "10", target=folder
    )
    assert time.monotonic() - started < 40  # the limit, the grader's start-up and one stop's grace
    check_gradescope_results(run.results)
    outputs = [test["output"] for test in run.results["tests"]]
    assert outputs[0].startswith("time limit exceeded")
    assert any(output.startswith("not graded: the run's time limit (10 s) was spent") for output in outputs), outputs
    assert run.results["score"] == 0
