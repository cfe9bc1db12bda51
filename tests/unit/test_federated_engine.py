"""The federated engine: equivalence with centralised training, secure aggregation, dropouts,
client-level DP accounting, byte accounting and bad input."""

from __future__ import annotations

from dataclasses import replace

import dp_accounting
import numpy as np
import pandas as pd
import pytest
from dp_accounting.pld import pld_privacy_accountant
from hypothesis import given, settings
from hypothesis import strategies as st

from ppml_lab.data import prepare_dataset
from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.baseline import BaselineEngine, BaselineParams
from ppml_lab.engines.events import Artifact, BudgetSpent, Log, Metric, Overhead
from ppml_lab.engines.federated import FederatedEngine, FederatedParams
from ppml_lab.engines.federated.secagg_transport import SecureAggregation
from ppml_lab.engines.federated.strategies import Contribution, PlainTransport
from ppml_lab.experiments.config import Experiment
from ppml_lab.experiments.runner import prepare_data
from ppml_lab.models import ModelParams


@pytest.fixture(scope="module")
def cancer():
    return prepare_data(Experiment())  # builtin:breast_cancer, seed 0


def run(data, model: ModelParams, params: FederatedParams, seed: int = 0):
    events: list = []
    gen = FederatedEngine().run(data, model, params, seed=seed, cancel=CancelToken())
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return stop.value, events


def metrics(events, name):
    return [e.value for e in events if isinstance(e, Metric) and e.name == name]


@pytest.mark.parametrize("kind", ["logistic", "mlp"])
def test_one_client_full_participation_equals_centralised_training(cancer, kind):
    model = ModelParams(kind=kind, epochs=4, batch_size=32, learning_rate=0.1, hidden=8)
    gen = BaselineEngine().run(cancer, model, BaselineParams(), seed=3, cancel=CancelToken())
    base_events = []
    while True:
        try:
            base_events.append(next(gen))
        except StopIteration as stop:
            base = stop.value
            break
    fed, events = run(
        cancer, model, FederatedParams(clients=1, rounds=4, local_epochs=1, client_fraction=1.0), seed=3
    )
    np.testing.assert_allclose(fed.model.get_flat(), base.model.get_flat(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(metrics(events, "test_accuracy"), metrics(base_events, "test_accuracy"))
    np.testing.assert_allclose(metrics(events, "train_loss"), metrics(base_events, "train_loss"), rtol=1e-9)


def test_secure_aggregation_gives_the_plain_model(cancer):
    model = ModelParams(kind="logistic", batch_size=32, learning_rate=0.1)
    params = FederatedParams(clients=5, rounds=3, partition="dirichlet", alpha=0.5)
    plain, _ = run(cancer, model, params)
    secure, events = run(cancer, model, replace(params, secure_aggregation=True))
    # Fixed point with 24 fractional bits: the masked sum is exact up to 2^-25 per value.
    np.testing.assert_allclose(secure.model.get_flat(), plain.model.get_flat(), atol=1e-5)
    assert any(e.kind == "secagg_seconds" for e in events if isinstance(e, Overhead))
    # Masked uploads are as large as float64 ones; each client also uploads its public key and
    # id (32 + 4 bytes) per round. No dropouts here, so no recovery seeds.
    assert secure.overhead["bytes_up"] == plain.overhead["bytes_up"] + 3 * 5 * 36


@settings(max_examples=25, deadline=None)
@given(
    n_clients=st.integers(1, 12),
    dim=st.integers(1, 300),
    n_dropped=st.integers(0, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_masked_sum_equals_plain_sum(n_clients, dim, n_dropped, seed):
    rng = np.random.default_rng(seed)
    contributions = [
        Contribution(client=k, vector=rng.normal(0, 50, dim), n_rows=1) for k in range(n_clients)
    ]
    dropped = list(range(100, 100 + n_dropped))
    secure = SecureAggregation().collect(contributions, dropped, model_bytes=8 * dim, round_id=1)
    plain = PlainTransport().collect(contributions, dropped, model_bytes=8 * dim, round_id=1)
    np.testing.assert_allclose(secure.total, plain.total, atol=n_clients * 2.0**-24)
    assert secure.survivors == plain.survivors and secure.dropped == dropped


def test_a_masked_update_is_unrelated_to_the_update():
    """What the server receives from one client looks uniform and does not follow the update."""
    from ppml_lab.engines.federated import secagg

    rng = np.random.default_rng(0)
    clients = {k: secagg.SecAggClient(k) for k in range(3)}
    directory = {k: c.public_key_bytes() for k, c in clients.items()}
    update = np.linspace(-1, 1, 4000)
    masked = clients[0].mask(update, directory, round_id=1)
    encoded = secagg.encode(update)
    as_unit = masked.astype(np.float64) / 2.0**64
    # Uniform on [0, 1): mean 1/2, variance 1/12, and uncorrelated with the update.
    assert abs(as_unit.mean() - 0.5) < 0.03
    assert abs(as_unit.var() - 1 / 12) < 0.01
    assert abs(np.corrcoef(as_unit, update)[0, 1]) < 0.06
    # The same update masked for another round looks entirely different.
    again = clients[0].mask(update, directory, round_id=2)
    assert np.mean(again == masked) < 0.01 and np.mean(masked == encoded) < 0.01
    del rng


def test_dropouts_are_recovered_and_reported(cancer):
    model = ModelParams(kind="logistic", batch_size=32, learning_rate=0.1)
    params = FederatedParams(clients=8, rounds=4, dropout_rate=0.3)
    plain, plain_events = run(cancer, model, params)
    secure, events = run(cancer, model, replace(params, secure_aggregation=True))
    dropped = metrics(events, "clients_dropped")
    assert sum(dropped) > 0 and dropped == metrics(plain_events, "clients_dropped")
    assert secure.overhead["clients_dropped"] == sum(dropped)
    assert any("dropped out" in e.message for e in events if isinstance(e, Log))
    np.testing.assert_allclose(secure.model.get_flat(), plain.model.get_flat(), atol=1e-5)
    assert sum(metrics(events, "secagg_seeds_revealed") or [0]) >= 0
    revealed = [e.value for e in events if isinstance(e, Overhead) and e.kind == "secagg_seeds_revealed"]
    assert sum(revealed) > 0


def test_single_survivor_round_is_flagged(cancer):
    model = ModelParams(kind="logistic", batch_size=32, learning_rate=0.1)
    _, events = run(cancer, model, FederatedParams(clients=2, rounds=6, dropout_rate=0.5, secure_aggregation=True))
    warnings = [e.message for e in events if isinstance(e, Log) and e.level == "warning"]
    assert any("masking protected nothing" in w for w in warnings)


def test_client_level_dp_epsilon_matches_dp_accounting(cancer):
    model = ModelParams(kind="logistic", batch_size=32, learning_rate=0.1)
    params = FederatedParams(clients=20, rounds=8, client_fraction=0.3, epsilon=3.0, update_clip=0.5)
    result, events = run(cancer, model, params)
    p = result.privacy
    assert p["clients"] == 20 and p["sample_rate"] == 0.3 and p["steps"] == 8
    assert p["delta"] == pytest.approx(1 / 200)
    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(0.3, dp_accounting.GaussianDpEvent(p["noise_multiplier"])), 8
    )
    accountant = pld_privacy_accountant.PLDAccountant(value_discretization_interval=1e-4)
    accountant.compose(event)
    independent = accountant.get_epsilon(p["delta"])
    assert p["epsilon"] == pytest.approx(independent, rel=2e-3)
    assert p["epsilon"] <= 3.0 + 1e-9 and p["epsilon"] >= 0.99 * 3.0
    spent = [e.epsilon for e in events if isinstance(e, BudgetSpent)]
    assert len(spent) == 8 and spent == sorted(spent) and spent[-1] == p["epsilon"]


def test_bytes_are_the_serialized_payloads(cancer):
    model = ModelParams(kind="logistic", batch_size=32, learning_rate=0.1)
    result, events = run(cancer, model, FederatedParams(clients=4, rounds=3))
    model_bytes = (cancer.n_features + 1) * 8  # binary logistic: W (d x 1) and b, float64
    assert result.overhead["bytes_up"] == 3 * 4 * model_bytes
    assert result.overhead["bytes_down"] == 3 * 4 * model_bytes
    sent = [e.value for e in events if isinstance(e, Overhead) and e.kind == "bytes_sent"]
    assert sent == [2 * 4 * model_bytes * r for r in (1, 2, 3)]


def test_partition_artifact_and_column_split():
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "site": rng.choice(["north", "south", "east"], n),
        }
    )
    frame["y"] = np.where(frame["x1"] + 0.3 * rng.normal(size=n) > 0, "yes", "no")
    data = prepare_dataset(frame, target="y", seed=0, name="sites")
    model = ModelParams(kind="logistic", batch_size=16, learning_rate=0.1)
    result, events = run(data, model, FederatedParams(partition="column", partition_column="site", rounds=3))
    art = [e for e in events if isinstance(e, Artifact) and e.name == "partition"]
    assert len(art) == 1
    summary = art[0].payload
    assert summary["n_clients"] == 3 and sum(summary["rows_per_client"]) == data.n_train
    assert [sum(c) for c in summary["class_counts"]] == summary["rows_per_client"]
    assert result.final["test_accuracy"] > 0.8
    with pytest.raises(ValueError, match="column named 'hospital'"):
        run(data, model, FederatedParams(partition="column", partition_column="hospital"))


def test_fedprox_keeps_clients_closer_than_fedavg(cancer):
    model = ModelParams(kind="logistic", batch_size=16, learning_rate=0.2)
    base = FederatedParams(clients=5, rounds=2, local_epochs=3, partition="dirichlet", alpha=0.2)
    avg, _ = run(cancer, model, base)
    prox, _ = run(cancer, model, replace(base, strategy="fedprox", mu=5.0))
    assert not np.allclose(avg.model.get_flat(), prox.model.get_flat())
    # The proximal pull shrinks how far the global model moves from its (zero) start.
    assert np.linalg.norm(prox.model.get_flat()) < np.linalg.norm(avg.model.get_flat())


def test_empty_clients_are_reported(cancer):
    model = ModelParams(kind="logistic", batch_size=32, learning_rate=0.1)
    result, events = run(cancer, model, FederatedParams(clients=40, rounds=1, partition="dirichlet", alpha=0.01))
    summary = result.extra["partition"]
    if summary["empty_clients"]:
        assert any("received no rows" in e.message for e in events if isinstance(e, Log))
    assert len(summary["rows_per_client"]) == 40


def test_local_test_accuracy_per_client(cancer):
    model = ModelParams(kind="logistic", batch_size=32, learning_rate=0.1)
    result, events = run(cancer, model, FederatedParams(clients=4, rounds=2, local_test=True))
    assert len(result.extra["local_test_accuracy"]) == 4
    assert len(metrics(events, "local_test_accuracy_mean")) == 2


def test_same_seed_same_model(cancer):
    model = ModelParams(kind="logistic", batch_size=32, learning_rate=0.1)
    params = FederatedParams(clients=6, rounds=3, client_fraction=0.5, dropout_rate=0.2, epsilon=5.0)
    a, _ = run(cancer, model, params, seed=1)
    b, _ = run(cancer, model, params, seed=1)
    c, _ = run(cancer, model, params, seed=2)
    assert np.array_equal(a.model.get_flat(), b.model.get_flat())
    assert not np.array_equal(a.model.get_flat(), c.model.get_flat())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (dict(clients=1000), "at most"),
        (dict(clients=10, epsilon=1.0, delta=0.5), "delta"),
    ],
)
def test_bad_settings_give_a_plain_message(cancer, params, message):
    model = ModelParams(kind="logistic", batch_size=32, learning_rate=0.1)
    with pytest.raises(ValueError, match=message):
        run(cancer, model, FederatedParams(**params))


def test_epsilon_must_be_positive_and_column_split_needs_a_column():
    from ppml_lab.experiments.config import experiment_from_dict

    with pytest.raises(ValueError, match="epsilon"):
        experiment_from_dict({"pattern": {"name": "federated", "epsilon": 0}}, where="x.toml")
    with pytest.raises(ValueError, match="partition_column"):
        FederatedParams(partition="column")
