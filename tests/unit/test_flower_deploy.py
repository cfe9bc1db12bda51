"""The Flower backend with real processes: a cancelled run, and a SuperLink that is not there.

A cancelled run must leave no Flower process behind (SuperLink, SuperNodes, SuperExecs, the
ServerApp and ClientApp processes, ``flwr run``). The one finished Flower run of the suite is
in ``tests/gui/test_flower_window.py`` (the window runs it: 3 SuperNodes, 3 rounds, against the
in-process simulation); the apps' logic is tested in one process in ``test_flower_apps.py``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import time

import pytest
from flower_procs import flower_homes_of_descendants, processes_with_homes

from ppml_lab.engines.base import Cancelled, CancelToken
from ppml_lab.engines.events import Log
from ppml_lab.engines.federated import FederatedParams, flower_launcher
from ppml_lab.engines.federated.flower_wire import decode_line
from ppml_lab.engines.registry import get_engine
from ppml_lab.engines.runtime import free_ports
from ppml_lab.engines.runtime.command import child_argv
from ppml_lab.experiments.config import Experiment
from ppml_lab.experiments.runner import drive, prepare_data

SEED = 5
PARAMS = FederatedParams(clients=3, rounds=3, backend="flower")


@pytest.fixture(scope="module")
def data():
    return prepare_data(Experiment(seed=SEED))


def engine_model():  # noqa: ANN201
    return Experiment(seed=SEED).model


def test_a_cancelled_flower_run_stops_every_process(data) -> None:
    cancel = CancelToken()
    seen: dict[int, str] = {}
    gen = get_engine("federated").run(data, engine_model(), PARAMS, seed=SEED, cancel=cancel)
    with pytest.raises(Cancelled):
        while True:
            event = next(gen)
            if isinstance(event, Log) and "SuperNodes connected" in event.message:
                seen.update(flower_homes_of_descendants())
                cancel.cancel()
    assert len(seen) >= 9
    deadline = time.monotonic() + 5
    while processes_with_homes(set(seen.values())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with_homes(set(seen.values())) == []


def test_a_superlink_that_does_not_answer_is_a_clear_error(data) -> None:
    (port,) = free_ports(1)
    params = dataclasses.replace(PARAMS, superlink=f"127.0.0.1:{port}")
    gen = get_engine("federated").run(data, engine_model(), params, seed=SEED, cancel=CancelToken())
    with pytest.raises(ValueError, match=f"No Flower SuperLink answers at 127.0.0.1:{port}.*leave superlink empty"):
        drive(gen)


def test_a_flower_process_that_stops_early_is_named_with_its_output(tmp_path) -> None:
    """The launcher (one Flower import, every program forked) says which process failed and why."""
    if not flower_launcher.available():
        pytest.skip("the forking launcher is used on Linux only")
    plan = {
        "logs": str(tmp_path / "logs"),
        "link": None,
        "daemons": [{"name": "SuperNode 0", "program": "flower-supernode", "args": ["--no-such-flag"]}],
        "run": ["run", str(tmp_path / "no-app"), "nowhere"],
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    argv = child_argv("ppml_lab.engines.federated.flower_launcher", [str(tmp_path / "plan.json")])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "FLWR_HOME": str(tmp_path / "home")})
    assert done.returncode == 1
    payload = next(p for p in map(decode_line, done.stdout.splitlines()) if p)
    assert payload["kind"] == "error"
    assert "the Flower SuperNode 0 exited with code 2" in payload["message"]
    assert "--no-such-flag" in payload["message"]  # its own output: argparse's complaint
