"""The lab's Flower ServerApp and ClientApp, run in one process (no SuperLink, no network).

Flower's messages, records, SecAgg+ mod and workflow run unchanged (see ``flower_inprocess``):
these tests pin the apps' logic fast, and the deployment tests (``test_flower_deploy``) the
processes. Golden reference: the lab's in-process simulation of the same experiment.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from flower_inprocess import InProcessGrid, node_contexts, server_context, server_identity

from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.federated import FederatedParams
from ppml_lab.engines.federated.engine import run_federated
from ppml_lab.engines.federated.flower_client import app as client_app
from ppml_lab.engines.federated.flower_client import secagg_app
from ppml_lab.engines.federated.flower_deploy import write_client_files
from ppml_lab.engines.federated.flower_engine import make_spec, split_for_flower
from ppml_lab.engines.federated.flower_grid import CountingGrid
from ppml_lab.engines.federated.flower_secagg import secagg_shares
from ppml_lab.engines.federated.flower_server import run as server_run
from ppml_lab.engines.federated.flower_wire import decode_line, decode_vector
from ppml_lab.experiments.config import Experiment
from ppml_lab.experiments.runner import prepare_data
from ppml_lab.models import ModelParams

SEED = 3
MODEL = ModelParams(batch_size=32)


@pytest.fixture(scope="module")
def data():
    return prepare_data(Experiment(seed=SEED))


def simulate(data, params: FederatedParams) -> np.ndarray:
    gen = run_federated(data, MODEL, params, seed=SEED, cancel=CancelToken())
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value.model.get_flat()


def on_flower(data, params: FederatedParams, tmp_path, capsys, *, dp=None, replay=True, fail=frozenset(), remove_file=None):
    """Run the ServerApp over in-process ClientApps; return the ServerApp's lines for the lab."""
    _, clients, _, rows = split_for_flower(data, params, SEED)
    spec = make_spec(data, MODEL, params, seed=SEED, n_clients=len(clients), rows=rows, dp=dp)
    spec = dataclasses.replace(spec, replay=replay)
    files = write_client_files(tmp_path / f"run{len(list(tmp_path.iterdir()))}", clients)
    if remove_file is not None:
        files[remove_file].unlink()
    nodes = node_contexts(spec, files)
    app = secagg_app if params.secure_aggregation else client_app
    failing = {node for node, ctx in nodes.items() if ctx.node_config["partition-id"] in fail}
    with server_identity():
        server_run(CountingGrid(InProcessGrid(app, nodes, fail=failing)), server_context(spec), spec)
    lines = [decode_line(line) for line in capsys.readouterr().out.splitlines()]
    return [line for line in lines if line is not None]


def final_params(lines) -> np.ndarray:
    return decode_vector([x for x in lines if x["kind"] == "round"][-1]["params"])


@pytest.mark.parametrize(
    "settings",
    [
        {},  # FedAvg, every client every round
        {"strategy": "fedprox", "mu": 0.1, "local_epochs": 2, "client_fraction": 0.5, "clients": 4},
        {"partition": "dirichlet", "alpha": 0.3, "clients": 5},
    ],
    ids=["fedavg", "fedprox-sampled", "dirichlet"],
)
def test_flower_reproduces_the_simulation_exactly(data, tmp_path, capsys, settings) -> None:
    """Same seed and split: the Flower apps compute the simulation's model to the last bit."""
    params = FederatedParams(**{"clients": 3, "rounds": 3, **settings})
    lines = on_flower(data, params, tmp_path, capsys)
    assert [x["kind"] for x in lines] == ["nodes", "round", "round", "round", "done"]
    rounds = [x for x in lines if x["kind"] == "round"]
    assert [r["round"] for r in rounds] == [1, 2, 3]
    expected_selected = max(1, round(params.client_fraction * params.clients))
    assert all(r["selected"] == expected_selected and r["dropped"] == 0 for r in rounds)
    np.testing.assert_array_equal(final_params(lines), simulate(data, params))


def test_without_the_replayed_streams_the_model_differs_but_is_as_good(data, tmp_path, capsys) -> None:
    """The replay is what makes the runs identical (so the test above can fail)."""
    params = FederatedParams(clients=3, rounds=3)
    own = final_params(on_flower(data, params, tmp_path, capsys, replay=False))
    sim = simulate(data, params)
    assert not np.array_equal(own, sim)
    assert np.linalg.norm(own - sim) < 0.2 * np.linalg.norm(sim)


def test_client_level_dp_with_seeded_noise_matches_the_simulation(data, tmp_path, capsys) -> None:
    """The server adds the same noise (seeded, for this test only) to the same clipped sum."""
    params = FederatedParams(clients=4, rounds=3, client_fraction=0.75, epsilon=5.0,
                             update_clip=0.5, deterministic_noise=True)
    gen = run_federated(data, MODEL, params, seed=SEED, cancel=CancelToken())
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            sim = stop.value
            break
    sigma = sim.privacy["noise_multiplier"]
    dp = {"noise_multiplier": sigma, "clip": 0.5, "expected_clients": 0.75 * 4, "deterministic": True}
    lines = on_flower(data, params, tmp_path, capsys, dp=dp)
    np.testing.assert_array_equal(final_params(lines), sim.model.get_flat())


def test_a_failing_client_is_a_dropout_and_the_round_goes_on(data, tmp_path, capsys) -> None:
    params = FederatedParams(clients=3, rounds=2)
    lines = on_flower(data, params, tmp_path, capsys, fail={1})
    rounds = [x for x in lines if x["kind"] == "round"]
    assert all(r["dropped"] == 1 and r["selected"] == 3 for r in rounds)
    # Flower's replies say which SuperNode failed (the server does not know its client yet).
    assert all(len(r["errors"]) == 1 for r in rounds)
    assert re.fullmatch(r"SuperNode 10\d: this node fails on purpose", rounds[0]["errors"][0])
    assert np.all(np.isfinite(final_params(lines)))


def test_every_client_failing_stops_the_run_with_their_error(data, tmp_path, capsys) -> None:
    params = FederatedParams(clients=2, rounds=2)
    with pytest.raises(RuntimeError, match=r"^every client failed in the first round: SuperNode 10\d: this node fails on purpose; SuperNode 10\d: this node fails on purpose$"):
        on_flower(data, params, tmp_path, capsys, fail={0, 1})


def test_a_client_without_its_data_file_says_so(data, tmp_path, capsys) -> None:
    """The client's own error reaches the server, named, without Flower's wrapping."""
    params = FederatedParams(clients=2, rounds=1)
    lines = on_flower(data, params, tmp_path, capsys, remove_file=1)
    (r,) = [x for x in lines if x["kind"] == "round"]
    assert r["dropped"] == 1
    assert re.fullmatch(r"client 1: its data file \S+client_1.npz does not exist", r["errors"][0])


def test_bytes_are_counted_from_the_serialised_messages(data, tmp_path, capsys) -> None:
    params = FederatedParams(clients=3, rounds=1)
    lines = on_flower(data, params, tmp_path, capsys)
    dim = len(final_params(lines))
    r = [x for x in lines if x["kind"] == "round"][0]
    # Each client downloads the model and uploads an update: 8 bytes a coordinate, plus headers.
    assert 3 * 8 * dim < r["bytes_down"] < 3 * 8 * dim + 3 * 2000
    assert 3 * 8 * dim < r["bytes_up"] < 3 * 8 * dim + 3 * 2000
    assert r["protocol_bytes"] == 0 and r["messages"] == 6


def test_secagg_plus_gives_the_plain_aggregate(data, tmp_path, capsys) -> None:
    """Flower's SecAgg+ unmasks the same FedAvg step as the plain sum (up to its quantisation),
    and costs key-exchange and unmasking messages on top."""
    plain = FederatedParams(clients=3, rounds=2)
    secure = dataclasses.replace(plain, secure_aggregation=True)
    ref = on_flower(data, plain, tmp_path, capsys, replay=False)
    sec = on_flower(data, secure, tmp_path, capsys)
    a, b = final_params(ref), final_params(sec)
    assert not np.array_equal(a, b)  # quantised: not bit-identical
    np.testing.assert_allclose(b, a, atol=1e-4)
    r = [x for x in sec if x["kind"] == "round"][0]
    p = [x for x in ref if x["kind"] == "round"][0]
    assert r["protocol_bytes"] > 0 and r["bytes_up"] + r["bytes_down"] > p["bytes_up"] + p["bytes_down"]


def test_secagg_plus_survives_a_client_that_drops_out(data, tmp_path, capsys) -> None:
    params = FederatedParams(clients=4, rounds=1, secure_aggregation=True)
    lines = on_flower(data, params, tmp_path, capsys, fail={2})
    r = [x for x in lines if x["kind"] == "round"][0]
    assert r["selected"] == 4 and r["dropped"] == 1 and not r["aborted"]


def test_secagg_plus_with_client_level_dp_releases_a_noisy_mean(data, tmp_path, capsys) -> None:
    params = FederatedParams(clients=3, rounds=1, secure_aggregation=True, epsilon=5.0,
                             deterministic_noise=True)
    dp = {"noise_multiplier": 1.0, "clip": 1.0, "expected_clients": 3.0, "deterministic": True}
    lines = on_flower(data, params, tmp_path, capsys, dp=dp)
    assert np.all(np.isfinite(final_params(lines)))


@pytest.mark.parametrize(
    ("n", "threshold", "expected"),
    [(2, None, (1.0, 1.0)), (3, None, (3, 2)), (5, None, (5, 3)), (6, None, (6, 4)),
     (5, 4, (5, 4)), (5, 9, (5, 4))],
)
def test_secagg_plus_shares_every_client_and_needs_a_majority(n, threshold, expected) -> None:
    assert secagg_shares(n, threshold) == expected
