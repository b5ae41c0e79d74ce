"""The public tests' recorded expectations are current: what the solutions and the catalogued mistakes give now."""

import importlib.util

import pytest

from tests.grader_run import REPO_ROOT


def load_script():
    spec = importlib.util.spec_from_file_location("record_expectations", REPO_ROOT / "scripts" / "record_expectations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RECORDER = load_script()
PARTS = RECORDER.part_recorders()


@pytest.mark.parametrize("part", sorted(PARTS))
def test_recorded_expectations_are_current(part):
    assert RECORDER.stale_parts({part: PARTS[part]}) == [], (
        f"autograder/recorded/{part}.json is not what the solutions give now: "
        f"run python scripts/record_expectations.py {part}"
    )


def test_every_recorded_file_has_its_recorder():
    recorded = {path.stem for path in (REPO_ROOT / "autograder" / "recorded").glob("*.json")}
    assert recorded == set(PARTS)


def test_recorded_data_round_trips_exactly():
    import torch

    from autograder.recorded import decode, encode

    value = {"x": torch.tensor([[0.1, 1 / 3], [float("inf"), -2.5]], dtype=torch.float32), "n": (1, 2.5, "a")}
    back = decode(encode(value))
    assert torch.equal(back["x"], value["x"]) and back["x"].dtype == torch.float32 and back["n"] == [1, 2.5, "a"]
