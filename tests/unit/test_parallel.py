"""How many grading workers a run starts, and how many parts its arguments name (autograder.grading.parallel)."""

from types import SimpleNamespace

import pytest

from autograder.grading import parallel
from autograder.grading.parallel import MOST_WORKERS, WORKER_MEMORY_MB, WORKERS_ENV, parts_in, workers_wanted


@pytest.fixture
def tests_folder(tmp_path):
    """A folder of autograder test files: nine parts, one of them in a subfolder, and files of no part."""
    for number in range(1, 9):
        (tmp_path / f"test_part{number}_p{number}.py").write_text("")
    (tmp_path / "hidden").mkdir()
    (tmp_path / "hidden" / "test_part1_p1.py").write_text("")
    (tmp_path / "hidden" / "test_part9_p9.py").write_text("")
    (tmp_path / "conftest.py").write_text("")
    (tmp_path / "test_helpers.py").write_text("")
    return tmp_path


def config_for(folder, args, workers=None):
    """A stand-in for pytest's config: the run's arguments, where it started, and its --workers option."""
    options = {parallel.WORKERS_OPTION: workers}
    return SimpleNamespace(args=args, invocation_params=SimpleNamespace(dir=folder), getoption=options.__getitem__)


@pytest.fixture
def machine(monkeypatch):
    """Sets the CPUs and free memory the grader sees; no DLCV_WORKERS unless a test sets it."""
    monkeypatch.delenv(WORKERS_ENV, raising=False)

    def set_machine(cpus, memory_mb):
        monkeypatch.setattr(parallel, "usable_cpus", lambda: cpus)
        monkeypatch.setattr(parallel, "free_memory_mb", lambda: memory_mb)

    return set_machine


# ------------------------------------------------------------------------------------------------ parts_in


def test_a_folder_counts_every_part_below_it_once(tests_folder):
    assert parts_in(config_for(tests_folder, ["."])) == 9


def test_a_file_counts_as_its_part(tests_folder):
    assert parts_in(config_for(tests_folder, ["test_part3_p3.py"])) == 1


def test_node_ids_in_one_file_count_as_one_part(tests_folder):
    args = ["test_part3_p3.py::test_a", "test_part3_p3.py::test_b", "test_part4_p4.py::TestX::test_c"]
    assert parts_in(config_for(tests_folder, args)) == 2


def test_a_public_and_a_hidden_file_of_one_part_count_once(tests_folder):
    assert parts_in(config_for(tests_folder, ["test_part1_p1.py", "hidden/test_part1_p1.py"])) == 1


def test_files_that_are_not_part_files_count_for_nothing(tests_folder):
    assert parts_in(config_for(tests_folder, ["conftest.py", "test_helpers.py"])) == 0


def test_relative_arguments_are_read_from_where_the_run_started(tests_folder):
    assert parts_in(config_for(tests_folder / "hidden", ["."])) == 2


# ------------------------------------------------------------------------------------------ workers_wanted


def test_auto_is_capped_by_the_cpus(tests_folder, machine):
    machine(cpus=3, memory_mb=100 * WORKER_MEMORY_MB)
    assert workers_wanted(config_for(tests_folder, ["."], "auto")) == 3


def test_auto_is_capped_by_free_memory(tests_folder, machine):
    machine(cpus=16, memory_mb=2.5 * WORKER_MEMORY_MB)
    assert workers_wanted(config_for(tests_folder, ["."], "auto")) == 2


def test_auto_is_capped_by_the_most_workers(tests_folder, machine):
    machine(cpus=64, memory_mb=100 * WORKER_MEMORY_MB)
    assert workers_wanted(config_for(tests_folder, ["."], "auto")) == MOST_WORKERS


def test_auto_with_unknown_memory_is_capped_by_cpus_and_the_most_workers(tests_folder, machine):
    machine(cpus=64, memory_mb=None)
    assert workers_wanted(config_for(tests_folder, ["."], "auto")) == MOST_WORKERS
    machine(cpus=5, memory_mb=None)
    assert workers_wanted(config_for(tests_folder, ["."], "auto")) == 5


def test_auto_is_capped_by_the_parts_named(tests_folder, machine):
    machine(cpus=16, memory_mb=100 * WORKER_MEMORY_MB)
    assert workers_wanted(config_for(tests_folder, ["test_part2_p2.py", "test_part5_p5.py"], "auto")) == 2


def test_auto_on_a_machine_without_memory_for_one_worker_runs_serially(tests_folder, machine):
    machine(cpus=16, memory_mb=WORKER_MEMORY_MB / 2)
    assert workers_wanted(config_for(tests_folder, ["."], "auto")) == 1


def test_a_number_of_workers_is_capped_by_the_parts_named(tests_folder, machine):
    machine(cpus=1, memory_mb=0)
    assert workers_wanted(config_for(tests_folder, ["test_part2_p2.py", "test_part5_p5.py"], "6")) == 2


def test_a_number_of_workers_is_not_capped_by_the_machine(tests_folder, machine):
    machine(cpus=1, memory_mb=0)
    assert workers_wanted(config_for(tests_folder, ["."], "4")) == 4


def test_a_run_that_names_no_part_is_serial(tests_folder, machine):
    machine(cpus=16, memory_mb=100 * WORKER_MEMORY_MB)
    assert workers_wanted(config_for(tests_folder, ["conftest.py"], "4")) == 1


@pytest.mark.parametrize("asked", ["0", "-2"])
def test_fewer_than_one_worker_is_a_usage_error(tests_folder, machine, asked):
    machine(cpus=4, memory_mb=None)
    with pytest.raises(pytest.UsageError, match="at least 1"):
        workers_wanted(config_for(tests_folder, ["."], asked))


@pytest.mark.parametrize("asked", ["x", "2.5", "many"])
def test_a_worker_count_that_is_not_a_number_is_a_usage_error(tests_folder, machine, asked):
    machine(cpus=4, memory_mb=None)
    with pytest.raises(pytest.UsageError, match="takes a number or 'auto'"):
        workers_wanted(config_for(tests_folder, ["."], asked))


def test_the_environment_variable_is_used_without_the_option(tests_folder, machine, monkeypatch):
    machine(cpus=16, memory_mb=100 * WORKER_MEMORY_MB)
    monkeypatch.setenv(WORKERS_ENV, "2")
    assert workers_wanted(config_for(tests_folder, ["."], None)) == 2


def test_the_option_wins_over_the_environment_variable(tests_folder, machine, monkeypatch):
    machine(cpus=16, memory_mb=100 * WORKER_MEMORY_MB)
    monkeypatch.setenv(WORKERS_ENV, "2")
    assert workers_wanted(config_for(tests_folder, ["."], "1")) == 1


def test_a_bad_environment_variable_is_a_usage_error(tests_folder, machine, monkeypatch):
    machine(cpus=16, memory_mb=None)
    monkeypatch.setenv(WORKERS_ENV, "lots")
    with pytest.raises(pytest.UsageError, match="'lots'"):
        workers_wanted(config_for(tests_folder, ["."], None))


def test_without_option_or_environment_variable_the_default_is_auto(tests_folder, machine):
    machine(cpus=3, memory_mb=100 * WORKER_MEMORY_MB)
    assert workers_wanted(config_for(tests_folder, ["."], None)) == 3


# ------------------------------------------------------------------------------------------------ the controller


def plugin_check(code: str) -> str:
    """What ``code`` prints in a fresh Python that has imported the plugin (imported here, the plugin would add
    its names to the namespaces that other unit tests snapshot)."""
    import subprocess
    import sys

    shown = subprocess.run([sys.executable, "-c", f"import sys, autograder.grading.plugin as plugin; {code}"],
                           capture_output=True, text=True, check=True)
    return shown.stdout.strip()


def test_the_grading_plugin_imports_no_torch():
    """The controller of a parallel run loads only the plugin: torch is imported where tests run, not there."""
    assert plugin_check("print('torch' in sys.modules)") == "False"


def test_the_plugins_data_folder_is_the_librarys():
    assert plugin_check("import dlcv.data; print(plugin.DATA == dlcv.data.DATA_DIR)") == "True"
