"""The federated engine: equivalence with centralised training, secure aggregation, dropouts,
client-level DP accounting, byte accounting, splits and bad input."""

from __future__ import annotations

import re
from dataclasses import replace

import dp_accounting
import numpy as np
import pandas as pd
import pytest
from dp_accounting.pld import pld_privacy_accountant
from hypothesis import given, settings
from hypothesis import strategies as st

from ppml_lab import cli
from ppml_lab.data import prepare_dataset
from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.baseline import BaselineEngine, BaselineParams
from ppml_lab.engines.events import ROWS_PER_PARTY, Artifact, BudgetSpent, Log, Metric, Overhead
from ppml_lab.engines.federated import FederatedEngine, FederatedParams, engine, secagg
from ppml_lab.engines.federated.secagg_transport import SecureAggregation
from ppml_lab.engines.federated.strategies import Contribution, PlainTransport
from ppml_lab.experiments.config import Experiment
from ppml_lab.experiments.runner import prepare_data
from ppml_lab.models import ModelParams
from ppml_lab.privacy import accounting

LOGISTIC = ModelParams(kind="logistic", batch_size=32, learning_rate=0.1)
KEY = secagg.KEY_BYTES + secagg.ID_BYTES  # a channel key registered with the server, with its id
SHARE = secagg.SHARE_MESSAGE_BYTES  # two 16-byte shares and a 16-byte GCM tag


@pytest.fixture(scope="module")
def cancer():
    return prepare_data(Experiment())  # builtin:breast_cancer, seed 0: 456 training rows


def drain(gen):
    events: list = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return stop.value, events


def run(data, model: ModelParams, params: FederatedParams, seed: int = 0):
    return drain(FederatedEngine().run(data, model, params, seed=seed, cancel=CancelToken()))


def metrics(events, name):
    return [e.value for e in events if isinstance(e, Metric) and e.name == name]


def overheads(events, kind):
    return [e.value for e in events if isinstance(e, Overhead) and e.kind == kind]


def logs(events, level=None):
    return [e.message for e in events if isinstance(e, Log) and (level is None or e.level == level)]


class Recording:
    """A transport that remembers what each round handed it, then delegates."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.rounds: list[tuple[list[Contribution], list[int]]] = []

    def collect(self, contributions, dropped, *, model_bytes, round_id):
        self.rounds.append((list(contributions), list(dropped)))
        return self.inner.collect(contributions, dropped, model_bytes=model_bytes, round_id=round_id)


def run_recorded(monkeypatch, data, model, params, seed=0):
    recorders: list[Recording] = []
    make = engine.make_transport

    def recording_transport(p):
        recorders.append(Recording(make(p)))
        return recorders[-1]

    monkeypatch.setattr(engine, "make_transport", recording_transport)
    result, events = run(data, model, params, seed)
    monkeypatch.setattr(engine, "make_transport", make)
    return result, events, recorders[0]


# --------------------------------------------------------------------------------------------
# Equivalence with centralised training


@pytest.mark.parametrize("kind", ["logistic", "mlp"])
def test_one_client_full_participation_equals_centralised_training(cancer, kind):
    model = ModelParams(kind=kind, epochs=4, batch_size=32, learning_rate=0.1, hidden=8)
    base, base_events = drain(
        BaselineEngine().run(cancer, model, BaselineParams(), seed=3, cancel=CancelToken())
    )
    fed, events = run(
        cancer, model, FederatedParams(clients=1, rounds=4, local_epochs=1, client_fraction=1.0), seed=3
    )
    # FedAvg with one client: new = old + (n * delta) / n, equal to the local model up to rounding.
    np.testing.assert_allclose(fed.model.get_flat(), base.model.get_flat(), rtol=1e-9, atol=1e-12)
    for name in ("test_accuracy", "train_accuracy", "train_loss", "test_loss"):
        np.testing.assert_allclose(metrics(events, name), metrics(base_events, name), rtol=1e-9)
    assert fed.final["test_accuracy"] == base.final["test_accuracy"]


# --------------------------------------------------------------------------------------------
# Secure aggregation


def _secagg_bytes(n: int, dim: int, survivors: int, *, new_clients: int, new_pairs: int) -> tuple[int, int]:
    """Secure-aggregation bytes of one completed round beyond the masked uploads (up, down).

    Up: channel-key registration (36 B, once per client), the round's mask key (32 B), the
    encrypted shares to the n - 1 peers (48 B each) and, from each survivor, one 16-byte share
    per participant. Down: the roster (peer id and mask key, 36 B per peer), each peer's channel
    key the first time (32 B), the relayed shares (48 B per peer) and the dropped ids (4 B each).
    """
    d = n - survivors
    up = new_clients * KEY + n * secagg.KEY_BYTES + n * (n - 1) * SHARE + survivors * n * secagg.SHARE_BYTES
    down = (
        n * (n - 1) * (secagg.ID_BYTES + secagg.KEY_BYTES)
        + new_pairs * secagg.KEY_BYTES
        + n * (n - 1) * SHARE
        + survivors * d * secagg.ID_BYTES
    )
    return up, down


def test_secure_aggregation_gives_the_plain_model_and_counts_its_bytes(cancer):
    params = FederatedParams(clients=5, rounds=3, partition="dirichlet", alpha=0.5)
    plain, plain_events = run(cancer, LOGISTIC, params)
    secure, events = run(cancer, LOGISTIC, replace(params, secure_aggregation=True))
    # Fixed point with 24 fractional bits: each summed value is exact up to 2^-25.
    np.testing.assert_allclose(secure.model.get_flat(), plain.model.get_flat(), atol=1e-6)
    assert metrics(events, "test_accuracy") == pytest.approx(metrics(plain_events, "test_accuracy"), abs=0.01)
    # A masked upload is as large as a plain one (dim + 1 words of 8 bytes); the rest is the
    # protocol: channel keys once, and every round mask keys, shares and unmasking shares.
    n, rounds = 5, 3
    dim = cancer.n_features + 2
    up_extra = down_extra = 0
    for r in range(rounds):
        up, down = _secagg_bytes(n, dim, n, new_clients=n if r == 0 else 0, new_pairs=n * (n - 1) if r == 0 else 0)
        up_extra += up
        down_extra += down
    assert secure.overhead["bytes_up"] == plain.overhead["bytes_up"] + up_extra
    assert secure.overhead["bytes_down"] == plain.overhead["bytes_down"] + down_extra
    assert secure.overhead["secagg_overhead_bytes"] == up_extra + down_extra
    assert secure.overhead["bytes_sent"] - plain.overhead["bytes_sent"] == up_extra + down_extra
    share_bytes = rounds * 2 * n * (n - 1) * SHARE
    recovery = rounds * n * n * secagg.SHARE_BYTES
    assert secure.overhead["secagg_share_bytes"] == share_bytes
    assert secure.overhead["secagg_recovery_bytes"] == recovery
    assert secure.overhead["secagg_key_bytes"] == up_extra + down_extra - share_bytes - recovery
    # Every round the server rebuilds each survivor's self-mask seed: n secrets per round.
    assert secure.overhead["secagg_seeds_revealed"] == rounds * n
    assert secure.extra["secagg_aborted_rounds"] == []
    assert len(overheads(events, "secagg_seconds")) == rounds and secure.overhead["secagg_seconds"] > 0


@settings(max_examples=40, deadline=None)
@given(
    n_clients=st.integers(1, 12),
    dim=st.integers(1, 400),
    drop_share=st.floats(0.0, 1.0),
    log_scale=st.floats(-6.0, 6.0),
    threshold=st.one_of(st.none(), st.integers(2, 12)),
    seed=st.integers(0, 2**32 - 1),
)
def test_masked_sum_equals_plain_sum(n_clients, dim, drop_share, log_scale, threshold, seed):
    rng = np.random.default_rng(seed)
    contributions = [
        Contribution(client=int(k), vector=rng.normal(0, 10.0**log_scale, dim), n_rows=int(rng.integers(0, 5000)))
        for k in rng.choice(1000, n_clients, replace=False)
    ]
    dropped = [c.client for c in contributions[: int(drop_share * n_clients)]]
    survivors = [c for c in contributions if c.client not in dropped]
    secure = SecureAggregation(threshold=threshold).collect(contributions, dropped, model_bytes=8 * dim, round_id=7)
    plain = PlainTransport().collect(contributions, dropped, model_bytes=8 * dim, round_id=7)
    assert secure.survivors == plain.survivors == [c.client for c in survivors]
    assert secure.dropped == plain.dropped == dropped
    n, s = n_clients, len(survivors)
    t = secagg.default_threshold(n) if threshold is None else threshold
    masked = s * (dim + 1) * 8
    assert plain.bytes_up == masked
    if t > n:  # refused before any share is sent: only the keys went up
        assert "needs at least" in secure.aborted and secure.bytes_up == n * KEY + n * secagg.KEY_BYTES
        return
    if s < t:  # the server cannot unmask: aborted, nothing applied
        assert "fewer than the secure-aggregation threshold" in secure.aborted
        assert not secure.total.any() and secure.n_rows_total == 0
        assert secure.extra["secagg_seeds_revealed"] == 0
        assert secure.bytes_up == masked + n * KEY + n * secagg.KEY_BYTES + n * (n - 1) * SHARE
        return
    assert secure.aborted == ""
    exact = np.sum([c.vector for c in survivors], axis=0)
    # Each of the summed values is rounded to 2^-24 (error <= 2^-25); the rest is float64 noise.
    tol = s * 2.0**-25 + 1e-12 * np.abs(exact).max(initial=1.0) * max(1, s)
    assert np.abs(secure.total - exact).max(initial=0.0) <= tol
    np.testing.assert_allclose(secure.total, plain.total, rtol=0, atol=2 * tol)
    assert secure.n_rows_total == plain.n_rows_total == sum(c.n_rows for c in survivors)
    # Bytes: the masked uploads that arrived and the protocol's messages.
    up, down = _secagg_bytes(n, dim + 1, s, new_clients=n, new_pairs=n * (n - 1))
    assert secure.bytes_up == masked + up
    assert secure.bytes_down == plain.bytes_down + down
    assert secure.extra["secagg_overhead_bytes"] == up + down
    assert secure.extra["secagg_seeds_revealed"] == n


def test_an_update_beyond_the_fixed_point_range_is_refused_not_clipped():
    limit = secagg.max_abs_value()
    fine = Contribution(client=0, vector=np.array([0.5 * limit, -1.0]), n_rows=3)
    huge = Contribution(client=1, vector=np.array([2.0 * limit, 1.0]), n_rows=3)
    report = SecureAggregation().collect([fine, replace(fine, client=2)], [], model_bytes=16, round_id=1)
    assert report.total[0] == pytest.approx(limit) and report.n_rows_total == 6
    with pytest.raises(ValueError, match="diverged"):
        SecureAggregation().collect([fine, huge], [], model_bytes=16, round_id=1)
    with pytest.raises(ValueError, match="nan"):
        SecureAggregation().collect([replace(huge, vector=np.array([np.nan, 0.0]))], [], model_bytes=16, round_id=1)


def test_dropouts_happen_after_masking_and_are_recovered_and_reported(cancer, monkeypatch):
    params = FederatedParams(clients=8, rounds=4, dropout_rate=0.15)
    plain, plain_events = run(cancer, LOGISTIC, params)
    secure, events, rec = run_recorded(monkeypatch, cancer, LOGISTIC, replace(params, secure_aggregation=True))
    dropped = metrics(events, "clients_dropped")
    assert sum(dropped) > 0 and dropped == metrics(plain_events, "clients_dropped")
    assert secure.overhead["clients_dropped"] == sum(dropped)
    # At most 3 of 8 dropped in every round: the majority threshold (5) was always met.
    assert max(dropped) <= 3 and secure.extra["secagg_aborted_rounds"] == []
    np.testing.assert_allclose(secure.model.get_flat(), plain.model.get_flat(), atol=1e-6)
    seeds = recovery = 0
    messages = [m for m in logs(events) if "dropped out" in m]
    for (contributions, gone), n_gone in zip(rec.rounds, dropped):
        # A dropped client trained and masked a real update; only its upload was lost.
        assert len(gone) == n_gone and set(gone) <= {c.client for c in contributions}
        assert all(np.any(c.vector != 0) for c in contributions if c.client in gone)
        n = len(contributions)
        survivors = n - len(gone)
        seeds += n  # each survivor's self-mask seed, each dropped client's mask-key seed
        recovery += survivors * n * secagg.SHARE_BYTES + survivors * len(gone) * secagg.ID_BYTES
        if gone:
            (message,) = [m for m in messages if f"{len(gone)} of {n} selected clients dropped out" in m]
            assert f"survivors' Shamir shares, {survivors * len(gone)} shares in all" in message
            assert "self-mask seeds stay secret" in message
    assert secure.overhead["secagg_seeds_revealed"] == seeds
    assert secure.overhead["secagg_recovery_bytes"] == recovery
    assert len(messages) == sum(1 for d in dropped if d)


def test_below_threshold_round_is_aborted_with_a_plain_message(cancer, monkeypatch):
    # Two clients per round, threshold 2 (a majority of 2): a round where one drops is aborted.
    params = FederatedParams(clients=2, rounds=8, dropout_rate=0.4, secure_aggregation=True)
    result, events, rec = run_recorded(monkeypatch, cancer, LOGISTIC, params)
    aborted = result.extra["secagg_aborted_rounds"]
    dropped = metrics(events, "clients_dropped")
    assert aborted and aborted == [r + 1 for r, d in enumerate(dropped) if d > 0]
    warnings = logs(events, "warning")
    for r in aborted:
        (message,) = [w for w in warnings if w.startswith(f"round {r}: ")]
        assert "fewer than the secure-aggregation threshold of 2" in message
        assert "the round was aborted: no update was applied" in message
    # No update in an aborted round: the model (and so the test loss) did not move.
    loss = metrics(events, "test_loss")
    assert all(loss[r - 1] == loss[r - 2] for r in aborted if r > 1)
    assert len(loss) == params.rounds  # the run went on
    # An aborted round revealed nothing, so it is not a "masking protected nothing" round.
    assert not result.extra["single_survivor_rounds"]
    assert not any("masking protected nothing" in w for w in warnings)
    # The plain transport applies every round: the models differ.
    plain, _ = run(cancer, LOGISTIC, replace(params, secure_aggregation=False))
    assert not np.allclose(plain.model.get_flat(), result.model.get_flat())


def test_single_survivor_rounds_are_flagged(cancer):
    # One client per round: threshold 1, the sum IS that client's update (said once, before the
    # first round, and per round).
    params = FederatedParams(clients=4, rounds=3, client_fraction=0.25, secure_aggregation=True)
    result, events = run(cancer, LOGISTIC, params)
    assert result.extra["single_survivor_rounds"] == [1, 2, 3]
    assert result.extra["secagg_aborted_rounds"] == []
    warnings = logs(events, "warning")
    assert sum("masking protected nothing" in w for w in warnings) == 3
    assert any("one client per round" in w for w in warnings)


# --------------------------------------------------------------------------------------------
# Client-level DP


def test_client_level_dp_epsilon_matches_dp_accounting(cancer):
    params = FederatedParams(clients=20, rounds=8, client_fraction=0.3, epsilon=3.0, update_clip=0.5)
    result, events = run(cancer, LOGISTIC, params)
    p = result.privacy
    assert p["clients"] == 20 and p["sample_rate"] == 0.3 and p["steps"] == 8
    assert p["delta"] == pytest.approx(1 / 200)  # default 1 / (10 x clients)
    # Independently: each round is a Poisson-sampled Gaussian mechanism, composed over rounds.
    sigma = p["noise_multiplier"]
    accountant = pld_privacy_accountant.PLDAccountant()
    accountant.compose(
        dp_accounting.PoissonSampledDpEvent(0.3, dp_accounting.GaussianDpEvent(sigma)), count=8
    )
    assert p["epsilon"] == pytest.approx(accountant.get_epsilon(p["delta"]), rel=1e-9)
    assert 0.99 * 3.0 <= p["epsilon"] <= 3.0
    spent = [e for e in events if isinstance(e, BudgetSpent)]
    assert [e.step for e in spent] == list(range(1, 9))
    eps = [e.epsilon for e in spent]
    assert eps == sorted(eps) and eps[-1] == p["epsilon"]
    assert all(e.delta == p["delta"] for e in spent)
    # Intermediate points are fast upper bounds on the exact epsilon after that many rounds.
    for rnd in (2, 5):
        exact = accounting.epsilon_for(noise_multiplier=sigma, sample_rate=0.3, steps=rnd, delta=p["delta"])
        assert exact <= eps[rnd - 1] <= exact * 1.02
    # Under secure aggregation the server adds the same noise to the same (decoded) sum: with the
    # same (seeded, test-only) noise and sampling, the models agree.
    seeded = replace(params, deterministic_noise=True)
    plain_seeded, _ = run(cancer, LOGISTIC, seeded)
    secure, _ = run(cancer, LOGISTIC, replace(seeded, secure_aggregation=True))
    np.testing.assert_allclose(secure.model.get_flat(), plain_seeded.model.get_flat(), atol=1e-6)
    assert secure.privacy["epsilon"] == p["epsilon"]
    assert secure.extra["secagg_aborted_rounds"] == []


# --------------------------------------------------------------------------------------------
# Bytes, splits, strategies


def test_bytes_are_the_serialized_payloads(cancer):
    result, events = run(cancer, LOGISTIC, FederatedParams(clients=4, rounds=3, client_fraction=0.5))
    model_bytes = (cancer.n_features + 1) * 8  # binary logistic: W (d x 1) and b, float64
    upload = model_bytes + 8  # the update and the client's row count, float64
    per_round = 2  # half of 4 clients
    assert result.overhead["bytes_up"] == 3 * per_round * upload
    assert result.overhead["bytes_down"] == 3 * per_round * model_bytes
    assert overheads(events, "bytes_sent") == [per_round * (upload + model_bytes) * r for r in (1, 2, 3)]
    assert metrics(events, "clients_selected") == [2.0, 2.0, 2.0]


def test_partition_artifact_has_rows_and_class_mix(cancer):
    result, events = run(cancer, LOGISTIC, FederatedParams(clients=6, rounds=1, partition="dirichlet", alpha=0.3))
    (art,) = [e for e in events if isinstance(e, Artifact) and e.name == ROWS_PER_PARTY]
    summary = result.extra["partition"]
    chart = art.payload
    assert chart["party"] == "client" and not chart["named"]
    assert [p["rows"] for p in chart["parties"]] == summary["rows_per_client"]
    assert [p["class_counts"] for p in chart["parties"]] == summary["class_counts"]
    assert chart["class_names"] == summary["class_names"]
    assert summary["n_clients"] == 6 and sum(summary["rows_per_client"]) == cancer.n_train
    assert [sum(c) for c in summary["class_counts"]] == summary["rows_per_client"]
    assert summary["class_names"] == list(cancer.class_names)
    totals = np.sum(summary["class_counts"], axis=0)
    assert list(totals) == list(np.bincount(cancer.y_train, minlength=cancer.n_classes))


def test_column_split_makes_one_client_per_value():
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "site": rng.choice(["north", "south", "east"], n, p=[0.5, 0.3, 0.2]),
        }
    )
    frame["y"] = np.where(frame["x1"] + 0.3 * rng.normal(size=n) > 0, "yes", "no")
    data = prepare_dataset(frame, target="y", seed=0, name="sites")
    # The raw column travels with the prepared data (train_frame), in training-row order.
    assert list(data.train_frame.columns) == ["x1", "x2", "site"] and len(data.train_frame) == data.n_train
    model = ModelParams(kind="logistic", batch_size=16, learning_rate=0.1)
    result, events = run(data, model, FederatedParams(partition="column", partition_column="site", rounds=3))
    summary = result.extra["partition"]
    labels = [c["label"] for c in summary["clients"]]
    assert labels == ["east", "north", "south"]
    expected = data.train_frame["site"].value_counts()
    assert summary["rows_per_client"] == [int(expected[s]) for s in labels]
    assert metrics(events, "clients_selected") == [3.0, 3.0, 3.0]
    assert result.final["test_accuracy"] > 0.8
    with pytest.raises(ValueError, match="column named 'hospital'"):
        run(data, model, FederatedParams(partition="column", partition_column="hospital"))
    with pytest.raises(ValueError, match="is the target"):
        run(data, model, FederatedParams(partition="column", partition_column="y"))


def test_fedprox_differs_from_fedavg_and_keeps_clients_closer(cancer, monkeypatch):
    model = ModelParams(kind="logistic", batch_size=16, learning_rate=0.2)
    base = FederatedParams(clients=5, rounds=3, local_epochs=3, partition="dirichlet", alpha=0.2)
    avg, _, avg_rec = run_recorded(monkeypatch, cancer, model, base)
    prox, _, prox_rec = run_recorded(monkeypatch, cancer, model, replace(base, strategy="fedprox", mu=1.0))
    assert not np.allclose(avg.model.get_flat(), prox.model.get_flat())

    def drift(rec):  # per round: mean distance of the clients' local models from the global one
        return [np.mean([np.linalg.norm(c.vector) / c.n_rows for c in cs if c.n_rows]) for cs, _ in rec.rounds]

    assert all(p < a for p, a in zip(drift(prox_rec), drift(avg_rec)))


def test_empty_clients_are_reported_and_take_part(cancer):
    params = FederatedParams(clients=40, rounds=1, partition="dirichlet", alpha=0.01)
    result, events = run(cancer, LOGISTIC, params)
    summary = result.extra["partition"]
    assert len(summary["rows_per_client"]) == 40
    empty = summary["empty_clients"]
    assert empty and all(summary["rows_per_client"][k - 1] == 0 for k in empty)
    assert any(f"{len(empty)} of 40 clients received no rows" in w for w in logs(events, "warning"))
    assert metrics(events, "clients_selected") == [40.0]


def test_local_test_accuracy_per_client(cancer):
    result, events = run(cancer, LOGISTIC, FederatedParams(clients=4, rounds=2, local_test=True))
    assert len(result.extra["local_test_accuracy"]) == 4
    assert len(metrics(events, "local_test_accuracy_mean")) == 2


def test_same_seed_same_model(cancer):
    # DP noise and client sampling come from the OS unless deterministic (not private) noise is
    # asked for; the split, the dropouts and the training always follow the seed.
    params = FederatedParams(
        clients=6, rounds=3, client_fraction=0.5, dropout_rate=0.2, epsilon=5.0, deterministic_noise=True
    )
    a, _ = run(cancer, LOGISTIC, params, seed=1)
    b, _ = run(cancer, LOGISTIC, params, seed=1)
    c, _ = run(cancer, LOGISTIC, params, seed=2)
    assert np.array_equal(a.model.get_flat(), b.model.get_flat())
    assert not np.array_equal(a.model.get_flat(), c.model.get_flat())


# --------------------------------------------------------------------------------------------
# Refused settings


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (dict(clients=1000), "only 456 rows; use at most 456 clients"),
        (dict(clients=10, epsilon=1.0, delta=0.5), "delta = 0.5 is too large for 10 clients"),
        (dict(clients=10, epsilon=1.0, delta=0.1), "must be below 1/10"),
        (dict(clients=10, epsilon=0.0), "epsilon must be greater than 0"),
        (dict(clients=10, epsilon=-2.0), "epsilon must be greater than 0"),
        (dict(clients=10, client_fraction=0.05), "selects 0.5 clients per round, fewer than one"),
        (dict(clients=10, client_fraction=0.05, epsilon=1.0), "0.5 clients per round on average, fewer than one"),
        (dict(clients=10, client_fraction=0.0), "client_fraction must be above 0"),
        (dict(clients=10, dropout_rate=1.0), "dropout_rate"),
        (dict(clients=10, rounds=0), "rounds"),
        (dict(clients=10, secure_aggregation=True, secagg_threshold=11), "secagg_threshold 11 is more than the 10 clients that take part in each round"),
        (dict(clients=10, client_fraction=0.5, secure_aggregation=True, secagg_threshold=6), "more than the 5 clients that take part in each round"),
        (dict(clients=10, client_fraction=0.5, epsilon=1.0, secure_aggregation=True, secagg_threshold=11), "more than the 10 clients that exist"),
        (dict(clients=10, secure_aggregation=True, secagg_threshold=1), "secagg_threshold must be at least 2"),
    ],
)
def test_bad_settings_give_a_plain_message(cancer, params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        run(cancer, LOGISTIC, FederatedParams(**params))


@pytest.mark.parametrize(
    ("pattern", "fragments"),
    [
        ("clients = 1000", ("456 rows", "at most 456 clients")),
        ('partition = "column"\npartition_column = "hospital"', ("column named 'hospital'",)),
        ("epsilon = 1.0\ndelta = 0.2", ("delta", "10 clients", "must be below 1/10")),
        ("epsilon = 0.0", ("epsilon", "out of range")),
        ("client_fraction = 0.01", ("selects 0.1 clients per round",)),
        ("secure_aggregation = true\nsecagg_threshold = 20", ("secagg_threshold 20", "take part in each round")),
        ("secure_aggregation = true\nsecagg_threshold = 1", ("secagg_threshold", "out of range")),
    ],
)
def test_bad_settings_exit_2_with_one_line(tmp_path, capsys, pattern, fragments):
    exp = tmp_path / "fed.toml"
    exp.write_text(
        f'[model]\nepochs = 1\n\n[pattern]\nname = "federated"\nrounds = 1\n{pattern}\n', encoding="utf-8"
    )
    assert cli.main(["run", str(exp), "-q"]) == cli.EXIT_BAD_INPUT
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith("ppml-lab: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_column_split_needs_a_column():
    with pytest.raises(ValueError, match="partition_column"):
        FederatedParams(partition="column")


def test_impossible_settings_are_refused_before_the_plaintext_reference_trains():
    from ppml_lab.engines.events import Progress
    from ppml_lab.experiments.config import experiment_from_dict
    from ppml_lab.experiments.runner import run_experiment

    for pattern in (
        {"name": "federated", "clients": 1000},
        {"name": "federated", "clients": 10, "client_fraction": 0.05},
        {"name": "dp", "epsilon": 1.0, "delta": 0.01},  # >= 1/455 rows
    ):
        exp = experiment_from_dict({"pattern": pattern}, where="x.toml")
        seen = []
        gen = run_experiment(exp)
        with pytest.raises(ValueError):
            while True:
                seen.append(next(gen))
        assert not any(isinstance(e, Progress) for e in seen), pattern
