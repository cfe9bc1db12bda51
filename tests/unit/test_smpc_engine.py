"""The SMPC engine as the lab runs it: real party processes, the results document, failures.

The party-side protocols are tested in ``test_smpc_protocols.py``; here the engine's orchestration:
a run from an experiment file, the overheads and fidelity in the results document, a party killed
mid-run (a clear error, no process left), cancel, the guarantee with two parties, bad settings.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from ppml_lab import cli
from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.events import Log, Overhead, Progress
from ppml_lab.engines.registry import get_engine
from ppml_lab.engines.runtime import ChildFailed
from ppml_lab.experiments.config import Experiment, experiment_from_dict
from ppml_lab.experiments.runner import drive, prepare_data, run_experiment


def smpc(**pattern) -> Experiment:
    return experiment_from_dict(
        {"model": {"epochs": 5}, "pattern": {"name": "smpc", "iterations": 4, **pattern}}
    )


def _party_pids() -> list[int]:
    """Processes of this machine running the SMPC party module (for the leak checks)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"ppml_lab.engines.smpc.party" in cmd and int(proc.name) != os.getpid():
            pids.append(int(proc.name))
    return pids


def _wait_gone(timeout: float = 5.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = _party_pids()
        if not left:
            return []
        time.sleep(0.05)
    return _party_pids()


def test_a_secure_training_run_reports_overheads_and_fidelity(tmp_path) -> None:
    path = tmp_path / "smpc.toml"
    path.write_text('[model]\nepochs = 5\n\n[pattern]\nname = "smpc"\niterations = 6\n')
    out = tmp_path / "r.json"
    assert cli.main(["run", str(path), "--json", str(out), "-q"]) == 0
    doc = json.loads(out.read_text())
    over = doc["overhead"]
    assert over["bytes_sent"] > 0 and over["rounds"] > 0 and over["plaintext_seconds"] > 0
    assert over["secure_seconds"] > over["plaintext_seconds"]
    assert doc["fidelity"]["max_abs_error"] < 0.05
    final = doc["final"]
    assert abs(final["test_accuracy"] - final["plaintext_test_accuracy"]) <= 0.01
    assert len(doc["extra"]["bytes_sent_per_party"]) == 3 and doc["extra"]["threshold"] == 1
    assert doc["protection"]["level"] == "none" and not doc["protection"]["no_protection"]
    assert any(row.get("bytes_sent") for row in doc["history"])
    assert _wait_gone() == []


def test_two_parties_are_marked_not_private() -> None:
    engine = get_engine("smpc")
    g = engine.guarantee(engine.Params(parties=2), None)
    assert g.no_protection == "two parties" and g.level.startswith("NOT PRIVATE")
    assert "threshold is 0" in g.sentences()[0]
    three = engine.guarantee(engine.Params(parties=3), None)
    assert not three.no_protection and "any 1 of them" in " ".join(three.in_this_run)
    assert any("threshold is 0" in n for n in engine.form_rules({"parties": 2}).notes)


def test_a_party_killed_mid_run_is_a_clear_error_and_leaves_no_process() -> None:
    experiment = smpc(iterations=400, step_size=0.05)
    events: list = []
    killed: list[int] = []

    def kill_one_when_running(event) -> None:
        events.append(event)
        if not killed and isinstance(event, Progress) and event.step >= 1:
            pids = _party_pids()
            if pids:
                os.kill(pids[-1], signal.SIGKILL)
                killed.append(pids[-1])

    with pytest.raises(ChildFailed, match="party .* (killed by SIGKILL|exited)"):
        drive(run_experiment(experiment), kill_one_when_running)
    assert killed
    assert any(isinstance(e, Log) and e.level == "error" for e in events)
    assert _wait_gone() == []


def test_cancel_stops_every_party() -> None:
    cancel = CancelToken()
    experiment = smpc(iterations=400, step_size=0.05)
    events: list = []

    def cancel_when_running(event) -> None:
        events.append(event)
        if isinstance(event, Progress) and event.step >= 2:
            threading.Timer(0.05, cancel.cancel).start()

    result = drive(run_experiment(experiment, cancel=cancel), cancel_when_running)
    assert result.status == "cancelled"
    assert _wait_gone() == []


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ({"parties": 1}, "parties"),
        ({"parties": 8}, "parties"),
        ({"hosts": "a:1"}, "addresses for 3 parties"),
        ({"hosts": "nohost,b:2,c:3"}, "is not host:port"),
        ({"protocol": "aggregation", "split": "columns"}, "needs the rows split"),
    ],
)
def test_bad_settings_are_plain_messages(pattern, message) -> None:
    from ppml_lab.experiments.config import ConfigError

    with pytest.raises(ConfigError, match=message):
        smpc(**pattern)


def test_a_multiclass_target_is_refused_before_anything_starts() -> None:
    experiment = experiment_from_dict(
        {"dataset": {"source": "builtin:wine"}, "pattern": {"name": "smpc"}}
    )
    data = prepare_data(experiment)
    with pytest.raises(ValueError, match="two-class"):
        drive(run_experiment(experiment, data=data))
    assert _party_pids() == []


def test_the_plan_says_iterations_and_estimates_the_duration() -> None:
    from ppml_lab.engines.contract import DataShape
    from ppml_lab.models import ModelParams

    engine = get_engine("smpc")
    plan = engine.plan(ModelParams(), engine.Params(iterations=20), DataShape(455, 30))
    assert (plan.steps, plan.step_name, plan.parties) == (20, "iteration", 3)
    assert plan.cost_estimate.startswith(("about", "a second"))
    assert engine.plan(ModelParams(), engine.Params(protocol="aggregation")).step_name == "round"


def test_overheads_are_labelled() -> None:
    engine = get_engine("smpc")
    assert engine.label_for("rounds").text == "communication rounds"
    assert engine.label_for("plaintext_seconds").unit == "s"
    assert isinstance(Overhead(step=1, kind="rounds", value=3.0, unit=""), Overhead)


@pytest.mark.parametrize("split", ["rows", "columns"])
def test_each_party_gets_only_its_own_data(tmp_path, split) -> None:
    import numpy as np

    from ppml_lab.engines.smpc import engine as smpc_engine
    from ppml_lab.engines.smpc import wire

    experiment = smpc(split=split)
    data = prepare_data(experiment)
    params = experiment.params
    parts = smpc_engine.split_parties(data, params, seed=0)
    job = smpc_engine.make_job(data, experiment.model, params, 0, parts)
    smpc_engine.write_job(str(tmp_path), job, data, params, parts, None)
    seen_rows = []
    for i, part in enumerate(parts):
        with np.load(wire.party_input(tmp_path, i)) as arrays:
            X, y = arrays["X"], arrays["y"]
            if split == "rows":
                assert np.array_equal(X, data.X_train[part])  # its rows, nothing else
                assert np.array_equal(y, data.y_train[part])
                seen_rows.extend(part.tolist())
            else:
                assert np.array_equal(X, data.X_train[:, part])  # its columns only
                assert len(y) == (data.n_train if i == 0 else 0)  # labels: party 1 only
            assert set(arrays.files) <= {"X", "y"}
    if split == "rows":
        assert sorted(seen_rows) == list(range(data.n_train))  # disjoint, complete
    shared = json.loads((tmp_path / wire.JOB_FILE).read_text())
    assert set(shared) >= {"rows", "columns", "iterations"}
    assert not any(isinstance(v, list) and len(v) > 10 for v in shared.values())  # no data in it
