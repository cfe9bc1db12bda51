"""``python -m ppml_lab sweep`` end to end: the JSON document, progress lines and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXPERIMENT = """\
name = "Breast cancer, DP-SGD"
seed = 0

[dataset]
source = "builtin:breast_cancer"

[model]
kind = "logistic"
epochs = 5
batch_size = 64
learning_rate = 0.5

[pattern]
name = "dp"
epsilon = 1.0
"""

BASELINE = """\
name = "Breast cancer, plaintext"
[dataset]
source = "builtin:breast_cancer"
[pattern]
name = "baseline"
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONWARNINGS": "ignore", "QT_QPA_PLATFORM": "offscreen"}


def _sweep(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ppml_lab", "sweep", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


@pytest.fixture()
def experiment(tmp_path: Path) -> Path:
    path = tmp_path / "bc_dp.toml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    return path


def test_sweep_writes_the_document_with_points_summary_and_plan(
    experiment: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "sweep.json"
    proc = _sweep(str(experiment), "--epsilons", "0.3,1", "--seeds", "2", "--workers", "2",
                  "--json", str(out), "--plan-tolerance", "3", "--set", "model.epochs=4")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    progress = [line for line in stderr.splitlines() if line.startswith("[")]
    assert len(progress) == 6 and progress[-1].startswith("[6/6]")
    assert "non-private" in stdout

    doc = json.loads(out.read_text(encoding="utf-8"))
    assert {"experiment", "design", "points", "summary", "plan", "status", "wall_seconds"} <= set(doc)
    assert doc["status"] == "completed"
    assert doc["experiment"]["pattern"]["name"] == "dp"
    assert doc["design"]["epsilons"] == [0.3, 1.0]
    assert doc["design"]["training_seeds"] == [0, 1]
    assert len(doc["points"]) == 6
    assert {"epsilon", "seed", "test_accuracy", "train_accuracy", "noise_multiplier", "seconds"} <= set(
        doc["points"][0]
    )
    summary = {s["epsilon"]: s for s in doc["summary"]}
    assert set(summary) == {0.3, 1.0, None}
    assert summary[None]["private"] is False
    for s in doc["summary"]:
        assert {"test_accuracy_mean", "test_accuracy_sd", "test_accuracy_min", "test_accuracy_max"} <= set(s)
    plan = doc["plan"]
    assert plan["tolerance_points"] == 3.0
    assert {"reachable", "epsilon", "interval", "noise_multiplier", "epochs", "explanation"} <= set(plan)
    assert plan["epochs"] == 4 and doc["experiment"]["model"]["epochs"] == 4
    assert plan["explanation"] in stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--epsilons", "0,1"), "greater than 0"),
        (("--epsilons", "-0.5"), "greater than 0"),
        (("--epsilons", "0.1,abc"), "not a number"),
        (("--seeds", "0"), "--seeds must be at least 1"),
        (("--seeds", "three"), "--seeds must be a whole number"),
        (("--workers", "-2"), "--workers must be at least 0"),
        (("--plan-tolerance", "0"), "--plan-tolerance"),
        (("--plan-tolerance", "1", "--epsilons", "1"), "at least two epsilons"),
        (("--set", "epochs=3"), "SECTION.KEY=VALUE"),
        (("BASELINE",), "no epsilon parameter"),
        (("MISSING",), "no such experiment file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: tuple[str, ...], message: str, experiment: Path, tmp_path: Path
) -> None:
    path = str(experiment)
    if args == ("BASELINE",):
        baseline = tmp_path / "baseline.toml"
        baseline.write_text(BASELINE, encoding="utf-8")
        path, args = str(baseline), ()
    elif args == ("MISSING",):
        path, args = str(tmp_path / "nope.toml"), ()
    proc = _sweep(path, *args, "--json", str(tmp_path / "x.json"))
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2, (stdout, stderr)
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("ppml-lab: error:")
    assert message in lines[0]
    assert not (tmp_path / "x.json").exists()
