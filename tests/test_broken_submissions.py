"""Messages for code that raises, and for return values the grader cannot use (the catalogue of worse is in test_bad_submissions.py)."""

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


def test_exception_in_student_code_shows_the_student_line(tmp_path):
    source = (REPO_ROOT / "solutions" / "network.py").read_text().replace(
        "x = torch.flatten(x, 1)", "x = torch.flatten(x)"
    )
    folder = submission_with(tmp_path, network=source)
    run = run_autograder(tmp_path / "results.json", PARTS_1_2[0], "-k", "test_output_shape", target=folder)
    output = run.test("test_output_shape[2]")["output"]
    assert output.startswith("your code raised RuntimeError:")
    assert "network.py, line" in output and "in Network.forward: return self.classifier(x)" in output


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
