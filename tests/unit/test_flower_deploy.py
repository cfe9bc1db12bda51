"""The Flower backend with real processes: a cancelled run, and a SuperLink that is not there.

A cancelled run must leave no Flower process behind (SuperLink, SuperNodes, SuperExecs, the
ServerApp and ClientApp processes, ``flwr run``). The one finished Flower run of the suite is
in ``tests/gui/test_flower_window.py`` (the window runs it: 3 SuperNodes, 3 rounds, against the
in-process simulation); the apps' logic is tested in one process in ``test_flower_apps.py``.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from flower_procs import flower_homes_of_descendants, processes_with_homes

from ppml_lab.engines.base import Cancelled, CancelToken
from ppml_lab.engines.events import Log
from ppml_lab.engines.federated import FederatedParams
from ppml_lab.engines.registry import get_engine
from ppml_lab.engines.runtime import free_ports
from ppml_lab.experiments.config import Experiment
from ppml_lab.experiments.runner import prepare_data

SEED = 5
PARAMS = FederatedParams(clients=3, rounds=3, backend="flower")


@pytest.fixture(scope="module")
def data():
    return prepare_data(Experiment(seed=SEED))


def _drain(gen, on_event=None):  # noqa: ANN001, ANN202
    events = []
    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            return events, stop.value
        events.append(event)
        if on_event is not None:
            on_event(event)


def engine_model():  # noqa: ANN201
    return Experiment(seed=SEED).model


def test_a_cancelled_flower_run_stops_every_process(data) -> None:
    cancel = CancelToken()
    seen: dict[int, str] = {}
    gen = get_engine("federated").run(data, engine_model(), PARAMS, seed=SEED, cancel=cancel)
    with pytest.raises(Cancelled):
        while True:
            event = next(gen)
            if isinstance(event, Log) and "run submitted" in event.message:
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
        _drain(gen)
