"""Every experiment file shipped in ppml_lab/resources/experiments loads, and the small ones run."""

from __future__ import annotations

from pathlib import Path

import pytest

from ppml_lab.experiments.config import load_experiment
from ppml_lab.experiments.runner import drive, run_experiment

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "ppml_lab" / "resources" / "experiments").glob("*.toml"))


def test_there_are_examples_for_each_pattern():
    names = {load_experiment(p).pattern for p in EXAMPLES}
    assert {"baseline", "dp", "federated"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_loads(path):
    exp = load_experiment(path)
    source = exp.dataset.source
    if not source.startswith("builtin:"):
        assert Path(source).is_absolute()  # resolved against the experiment file's folder
        if not Path(source).exists():
            pytest.skip(f"{source} is not on this machine")
    assert exp.name


@pytest.mark.parametrize("path", [p for p in EXAMPLES if "breast_cancer" in p.stem], ids=lambda p: p.stem)
def test_builtin_examples_run(path):
    result = drive(run_experiment(load_experiment(path)))
    assert result.status == "completed"
    assert result.engine_result.final["test_accuracy"] > 0.9
