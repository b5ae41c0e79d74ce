"""Where the grader runs as root (Gradescope, and CI here), student code is confined for real.

A probe hidden in ``Network.forward`` reports what student code can do from
inside a test (the account it runs as, the network, the grader's and the
instructor's files, the results file), through its exception message; the
test reads the report from the results file, where the harness put it.
These tests need root; each skips, saying why, where it cannot run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from tests.grader_run import REPO_ROOT, run_autograder

FORWARD = "        x = self.features(x)\n"
PROBE = '''
import json, os, socket
facts = {"uid": os.geteuid()}
for name, path in READABLE.items():
    try:
        facts[name] = len(open(path).read())
    except OSError as error:
        facts[name] = type(error).__name__
try:
    with open(RESULTS, "a") as results:
        results.write("forged by the probe")
    facts["results"] = "written"
except OSError as error:
    facts["results"] = type(error).__name__
try:
    open(os.path.join(os.path.dirname(RESULTS), "forged.json"), "w").write("{}")
    facts["results_folder"] = "written"
except OSError as error:
    facts["results_folder"] = type(error).__name__
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
    facts["network"] = "connected"
except OSError as error:
    facts["network"] = type(error).__name__
raise ValueError("PROBE" + json.dumps(facts))
'''

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the grader confines student code further only as root (as on Gradescope)")


@pytest.fixture(scope="module")
def probed():
    """What the probe found, and the grader's note on whom student code ran as."""
    # Not under pytest's own temporary folder, which only root may enter: an unprivileged account must read it.
    folder = Path(tempfile.mkdtemp(prefix="dlcv-probe-"))
    os.chmod(folder, 0o755)
    try:
        yield probe(folder)
    finally:
        shutil.rmtree(folder)


def probe(folder: Path):
    submission, results_folder = folder / "submission", folder / "results"
    submission.mkdir()
    results_folder.mkdir()
    shutil.copy(REPO_ROOT / "solutions" / "network.py", submission)
    listener = socket.create_server(("127.0.0.1", 0))
    readable = {
        "grader_test": str(REPO_ROOT / "autograder" / "test_part1_network.py"),
        "solutions": str(REPO_ROOT / "solutions" / "training.py"),
        "meta_tests": str(REPO_ROOT / "tests" / "test_confinement.py"),
    }
    code = f"READABLE = {readable!r}\nRESULTS = {str(results_folder / 'results.json')!r}\nPORT = {listener.getsockname()[1]}\n" + PROBE
    source = (REPO_ROOT / "solutions" / "network.py").read_text()
    (submission / "network.py").write_text(source.replace(FORWARD, "".join("        " + line + "\n" for line in code.strip().splitlines()) + FORWARD, 1))
    try:
        run = run_autograder(results_folder / "results.json", "autograder/test_part1_network.py::test_output_shape[1]", target=submission)
    finally:
        listener.close()
    output = run.test("test_output_shape[1]")["output"]
    match = re.search(r"PROBE(\{.*?\})", output)
    assert match, output
    confinement = " ".join(run.results["extra_data"]["confinement"])
    return json.loads(match.group(1)), confinement, run, results_folder


def test_student_code_has_no_network(probed):
    facts, confinement, _, _ = probed
    if "no network" not in confinement:
        pytest.skip(f"no network namespace could be made here: {confinement}")
    assert facts["network"] != "connected"


def test_student_code_cannot_read_the_graders_tests_the_solutions_or_the_meta_tests(probed):
    facts, confinement, _, _ = probed
    if "hidden from it" not in confinement:
        pytest.skip(f"no mount namespace could be made here: {confinement}")
    for name in ("grader_test", "solutions", "meta_tests"):
        assert not isinstance(facts[name], int), f"student code read {name}"


def test_the_results_file_is_the_harness_alone(probed):
    facts, _, run, results_folder = probed
    assert "forged" not in (results_folder / "results.json").read_text()
    assert run.results["tests"][0]["name"].endswith("test_output_shape[1]")


def test_student_code_runs_as_an_unprivileged_account(probed):
    facts, confinement, _, results_folder = probed
    if "ran as root" in confinement:
        pytest.skip(confinement)
    assert facts["uid"] != 0, facts
    # The results file itself is covered by /dev/null (what is written there goes nowhere); its folder is closed.
    assert facts["results_folder"] == "PermissionError", facts
    assert not (results_folder / "forged.json").exists()
