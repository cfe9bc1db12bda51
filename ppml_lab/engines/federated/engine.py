"""In-process simulation of federated learning.

Each round the server selects clients, sends them the global model, each selected client trains
``local_epochs`` on its own rows (the same model and SGD as the baseline) and sends back its
update; the transport sums the updates (in the clear or under secure aggregation) and the
strategy turns the sum into the new global model. Raw rows never leave their client.

Randomness: the model initialisation and the clients' SGD use the main generator seeded from the
experiment exactly as the baseline does (so one client with one local epoch and full
participation reproduces centralised training); the split, the client selection, dropouts and DP
noise each use their own generator derived from the same seed.
"""

from __future__ import annotations

import time

import numpy as np

from ppml_lab.data import PreparedData
from ppml_lab.data.partition import partition as split_clients
from ppml_lab.engines.base import CancelToken, EngineResult, EngineRun
from ppml_lab.engines.common import evaluate, metric_events
from ppml_lab.engines.events import Artifact, BudgetSpent, Log, Metric, Overhead, Progress
from ppml_lab.engines.federated.params import FederatedParams
from ppml_lab.engines.federated.strategies import (
    ClientLevelDP,
    Contribution,
    PlainTransport,
    Strategy,
    Transport,
    make_strategy,
)
from ppml_lab.models import ModelParams, accuracy, make_model, sgd_epoch
from ppml_lab.privacy import accounting

# Sub-streams of the experiment seed, one per source of randomness.
_PARTITION, _SELECTION, _DROPOUT, _NOISE, _LOCAL_TEST = 101, 102, 103, 104, 105


def _column_values(data: PreparedData, column: str | None) -> np.ndarray | None:
    if column is None:
        return None
    if column not in data.train_frame.columns:
        raise ValueError(
            f"the 'column' split needs a feature column named {column!r}; available: "
            + ", ".join(data.train_frame.columns[:20])
        )
    return data.train_frame[column].astype("string").fillna("(missing)").to_numpy()


def make_transport(params: FederatedParams) -> Transport:
    if params.secure_aggregation:
        from ppml_lab.engines.federated.secagg_transport import SecureAggregation

        return SecureAggregation()
    return PlainTransport()


def run_federated(
    data: PreparedData,
    model: ModelParams,
    params: FederatedParams,
    *,
    seed: int,
    cancel: CancelToken,
) -> EngineRun:
    rng = np.random.default_rng(seed)
    n_train = data.n_train
    if params.clients > n_train:
        raise ValueError(
            f"You asked for {params.clients} clients but the training split has only {n_train} "
            f"rows; use at most {n_train} clients."
        )
    part = split_clients(
        data.y_train,
        clients=params.clients,
        method=params.partition,
        alpha=params.alpha,
        column_values=_column_values(data, params.partition_column),
        rng=np.random.default_rng([seed, _PARTITION]),
    )
    summary = part.summary(data.y_train, list(data.class_names))
    yield Artifact(name="partition", payload=summary)
    n_clients = len(part.client_indices)
    if summary.get("empty_clients"):
        yield Log(
            message=f"{len(summary['empty_clients'])} of {n_clients} clients received no rows "
            "from the split; they take part in rounds but have nothing to train on.",
            level="warning",
        )
    train_idx = list(part.client_indices)
    local_test_idx: list[np.ndarray] = []
    if params.local_test:
        lt_rng = np.random.default_rng([seed, _LOCAL_TEST])
        for k, idx in enumerate(train_idx):
            shuffled = lt_rng.permutation(idx)
            n_test = int(round(0.2 * len(idx))) if len(idx) >= 5 else 0
            local_test_idx.append(np.sort(shuffled[:n_test]))
            train_idx[k] = np.sort(shuffled[n_test:])

    net = make_model(model, n_features=data.n_features, n_classes=data.n_classes, rng=rng)
    global_flat = net.get_flat()
    model_bytes = global_flat.astype(np.float64).nbytes
    strategy: Strategy = make_strategy(params.strategy, mu=params.mu)
    privacy: dict[str, object] = {}
    ledger = None
    dp = params.epsilon is not None
    if dp:
        delta = params.delta if params.delta is not None else accounting.default_delta(n_clients)
        accounting.check_delta(delta, n_clients)
        q = params.client_fraction
        sigma = accounting.calibrate_noise(
            target_epsilon=float(params.epsilon), delta=delta, sample_rate=q, steps=params.rounds
        )
        strategy = ClientLevelDP(
            strategy,
            clip=params.update_clip,
            noise_multiplier=sigma,
            expected_clients=q * n_clients,
            rng=np.random.default_rng([seed, _NOISE]),
        )
        ledger = accounting.PrivacyLedger(noise_multiplier=sigma, sample_rate=q, delta=delta)
        privacy = {
            "mechanism": "dp-fedavg",
            "epsilon": 0.0,
            "delta": delta,
            "accountant": "pld",
            "noise_multiplier": sigma,
            "sample_rate": q,
            "steps": params.rounds,
            "clients": n_clients,
            "clip_norm": params.update_clip,
            "target_epsilon": params.epsilon,
            "calibrated": True,
            "guarantee": "client-level (epsilon, delta)-DP of the global model",
        }
        yield Log(
            message=f"Client-level DP: noise multiplier {sigma:.4g} for epsilon {params.epsilon:g} "
            f"over {params.rounds} rounds (delta {delta:.2g})"
        )
    transport = make_transport(params)
    select_rng = np.random.default_rng([seed, _SELECTION])
    drop_rng = np.random.default_rng([seed, _DROPOUT])
    per_round = max(1, int(round(params.client_fraction * n_clients)))

    bytes_up_total = bytes_down_total = 0
    engine_seconds = 0.0
    dropped_total = 0
    transport_totals: dict[str, float] = {}
    metrics: dict[str, float] = {}
    round_times: list[float] = []
    for rnd in range(1, params.rounds + 1):
        cancel.raise_if_cancelled()
        t0 = time.perf_counter()
        if dp:
            # Poisson sampling of clients: what the accountant assumes.
            selected = np.flatnonzero(select_rng.random(n_clients) < params.client_fraction)
        elif per_round >= n_clients:
            selected = np.arange(n_clients)
        else:
            selected = np.sort(select_rng.choice(n_clients, per_round, replace=False))
        drops = drop_rng.random(len(selected)) < params.dropout_rate
        dropped = [int(k) for k, d in zip(selected, drops) if d]
        contributions: list[Contribution] = []
        center = [p.copy() for p in net.params] if strategy.prox_mu else None
        for k, is_dropped in zip(selected, drops):
            if is_dropped:
                continue
            idx = train_idx[k]
            if len(idx) == 0:
                delta_vec = np.zeros_like(global_flat)
            else:
                local = net.copy()
                for _ in range(params.local_epochs):
                    sgd_epoch(
                        local, data.X_train[idx], data.y_train[idx],
                        batch_size=model.batch_size, learning_rate=model.learning_rate,
                        l2=model.l2, rng=rng, prox_center=center, prox_mu=strategy.prox_mu,
                    )
                delta_vec = local.get_flat() - global_flat
            contributions.append(
                Contribution(client=int(k), vector=strategy.prepare(delta_vec, len(idx)), n_rows=len(idx))
            )
        report = transport.collect(contributions, dropped, model_bytes=model_bytes, round_id=rnd)
        if contributions or dp:
            global_flat = global_flat + strategy.combine(report.total, contributions)
            net.set_flat(global_flat)
        t_round = time.perf_counter() - t0
        round_times.append(t_round)
        engine_seconds += t_round
        bytes_up_total += report.bytes_up
        bytes_down_total += report.bytes_down
        dropped_total += len(dropped)
        metrics = evaluate(net, data)
        yield from metric_events(rnd, metrics)
        yield Metric(step=rnd, name="clients_selected", value=float(len(selected)))
        yield Metric(step=rnd, name="clients_dropped", value=float(len(dropped)))
        if local_test_idx:
            accs = [accuracy(net, data.X_train[i], data.y_train[i]) for i in local_test_idx if len(i)]
            yield Metric(step=rnd, name="local_test_accuracy_mean", value=float(np.mean(accs)))
        if dropped:
            yield Log(
                message=f"round {rnd}: {len(dropped)} of {len(selected)} selected clients dropped out; "
                "the round went on with the rest"
                + (" (their masks were removed with the survivors' pairwise seeds)" if params.secure_aggregation else ""),
                level="info",
                step=rnd,
            )
        if params.secure_aggregation and len(report.survivors) == 1:
            yield Log(
                message=f"round {rnd}: only one client's update arrived, so the securely "
                "aggregated sum IS that client's update; masking protected nothing this round.",
                level="warning",
                step=rnd,
            )
        if report.extra.get("secagg_clipped_values"):
            yield Log(
                message=f"round {rnd}: {int(report.extra['secagg_clipped_values'])} update values "
                "exceeded the fixed-point range of secure aggregation and were clipped.",
                level="warning",
                step=rnd,
            )
        if ledger is not None:
            # Fast pessimistic value for the live curve; the exact one for the final round.
            eps = ledger.epsilon_after(rnd) if rnd == params.rounds else ledger.live_epsilon_after(rnd)
            privacy["epsilon"] = eps
            yield BudgetSpent(step=rnd, epsilon=eps, delta=float(privacy["delta"]))
        yield Overhead(step=rnd, kind="bytes_up", value=float(bytes_up_total), unit="B")
        yield Overhead(step=rnd, kind="bytes_down", value=float(bytes_down_total), unit="B")
        yield Overhead(step=rnd, kind="bytes_sent", value=float(bytes_up_total + bytes_down_total), unit="B")
        yield Overhead(step=rnd, kind="seconds", value=engine_seconds, unit="s")
        for key, value in report.extra.items():  # transport costs, cumulative like the bytes
            transport_totals[key] = transport_totals.get(key, 0.0) + float(value)
            unit = "s" if key.endswith("seconds") else ("B" if key.endswith("bytes") else "")
            yield Overhead(step=rnd, kind=key, value=transport_totals[key], unit=unit)
        yield Progress(step=rnd, total=params.rounds, message=f"round {rnd}/{params.rounds}")
    extra: dict[str, object] = {"partition": summary, "round_seconds": round_times}
    if local_test_idx:
        extra["local_test_accuracy"] = [
            accuracy(net, data.X_train[i], data.y_train[i]) if len(i) else None for i in local_test_idx
        ]
    return EngineResult(
        model=net,
        final=metrics,
        privacy=privacy,
        overhead={
            "seconds": engine_seconds,
            "bytes_up": float(bytes_up_total),
            "bytes_down": float(bytes_down_total),
            "bytes_sent": float(bytes_up_total + bytes_down_total),
            "seconds_per_round": engine_seconds / max(1, len(round_times)),
            "clients_dropped": float(dropped_total),
            **transport_totals,
        },
        extra=extra,
    )
