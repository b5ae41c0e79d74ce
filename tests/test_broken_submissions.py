"""Broken submissions fail their own part's tests with a readable message and never stop the rest."""

import shutil
import textwrap

from tests.grader_run import PART_FILES, REPO_ROOT, run_autograder

PARTS_1_2 = [PART_FILES["network"], PART_FILES["training"]]


def submission_with(tmp_path, **modules: str):
    """The solutions of parts 1-2, with some modules replaced by the given source text."""
    folder = tmp_path / "submission"
    folder.mkdir()
    for name in ("network", "training"):
        shutil.copy(REPO_ROOT / "solutions" / f"{name}.py", folder)
    for name, source in modules.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
    return folder


def part_tests(run, part: str) -> list[dict]:
    return [t for t in run.results["tests"] if t["tags"] == [f"part {part}"]]


def test_syntax_error_fails_only_its_part(tmp_path):
    folder = submission_with(tmp_path, network="class Network(nn.Module:\n    pass\n")
    run = run_autograder(tmp_path / "results.json", *PARTS_1_2, target=folder)
    for test in part_tests(run, "1 network"):
        assert test["status"] == "failed"
        assert test["output"].startswith("could not import network.py: SyntaxError")
    assert all(t["status"] == "passed" for t in part_tests(run, "2 training"))


def test_missing_file_is_named(tmp_path):
    folder = submission_with(tmp_path)
    (folder / "training.py").unlink()
    run = run_autograder(tmp_path / "results.json", *PARTS_1_2, target=folder)
    for test in part_tests(run, "2 training"):
        assert test["output"].startswith("missing file: training.py was not found")
    assert all(t["status"] == "passed" for t in part_tests(run, "1 network"))


def test_missing_name_is_named(tmp_path):
    folder = submission_with(tmp_path, network="import torch\n\nclass Net(torch.nn.Module):\n    pass\n")
    run = run_autograder(tmp_path / "results.json", PARTS_1_2[0], target=folder)
    assert all(t["output"].startswith("missing: network.Network.") for t in part_tests(run, "1 network"))


def test_exception_in_student_code_shows_the_student_line(tmp_path):
    source = (REPO_ROOT / "solutions" / "network.py").read_text().replace(
        "x = torch.flatten(x, 1)", "x = torch.flatten(x)"
    )
    folder = submission_with(tmp_path, network=source)
    run = run_autograder(tmp_path / "results.json", PARTS_1_2[0], "-k", "test_output_shape", target=folder)
    output = run.test("test_output_shape[2]")["output"]
    assert output.startswith("your code raised RuntimeError:")
    assert "network.py, line" in output and "in Network.forward: return self.classifier(x)" in output


def test_hanging_code_hits_the_time_limit_and_grading_goes_on(tmp_path):
    training = (REPO_ROOT / "solutions" / "training.py").read_text().replace(
        "    model.eval()  # dropout off\n", "    while True:\n        pass\n"
    )
    folder = submission_with(tmp_path, training=training)
    run = run_autograder(
        tmp_path / "results.json", PARTS_1_2[1], "-k", "test_evaluate_uses_eval_mode or test_make_optimizer",
        "--time-limit-scale", "0.05", target=folder,
    )
    hung = run.test("test_evaluate_uses_eval_mode")
    assert hung["status"] == "failed"
    assert hung["output"].startswith("time limit exceeded")
    assert "training.evaluate" in hung["output"]
    assert run.test("test_make_optimizer_is_adamw_with_the_given_lr")["status"] == "passed"


def test_wrong_return_value_gets_a_message_not_a_traceback(tmp_path):
    network = (REPO_ROOT / "solutions" / "network.py").read_text().replace(
        "        return self.classifier(x)\n", "        self.classifier(x)\n"
    )
    folder = submission_with(tmp_path, network=network)
    run = run_autograder(
        tmp_path / "results.json", PARTS_1_2[0], "-k", "test_output_shape or test_trained", target=folder
    )
    assert run.test("test_output_shape[1]")["output"].startswith(
        "expected logits for 1 images to be a torch.Tensor, found NoneType"
    )
    output = run.test("test_trained_network_reaches_accuracy_threshold")["output"]
    assert output.startswith("the test stopped with TypeError:")
    assert "Traceback" not in output and "Compare your return values" in output
