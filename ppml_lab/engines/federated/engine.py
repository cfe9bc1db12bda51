"""In-process simulation of federated learning.

Each round the server selects clients, sends them the global model, each selected client trains
``local_epochs`` on its own rows (the same model and SGD as the baseline) and sends back its
update; the transport sums the updates (in the clear or under secure aggregation) and the
strategy turns the sum into the new global model. Raw rows never leave their client.

Randomness: the model initialisation and the clients' SGD use the main generator seeded from the
experiment exactly as the baseline does (so one client with one local epoch and full
participation reproduces centralised training); the split, the client selection and dropouts
each use their own generator derived from the same seed. Under client-level DP the noise and the
Poisson sampling of clients (what the accountant assumes) are privacy randomness: they come from
the operating system's entropy, unless the run explicitly asked for deterministic (not private)
noise.

Dropouts are simulated at the point that matters for secure aggregation: a dropped client
received the model, trained and (under secure aggregation) masked its update, but its upload
never arrived. Its training is wasted and the round goes on with the others.

Speed: each client's rows are copied out of the training arrays once, before the first round,
instead of fancy-indexing the training set every round (about 5% of a round on Adult).
"""

from __future__ import annotations

import time

import numpy as np

from ppml_lab.data import PreparedData
from ppml_lab.data.partition import partition as split_clients
from ppml_lab.engines.base import CancelToken, EngineResult, EngineRun
from ppml_lab.engines.common import evaluate, metric_events
from ppml_lab.engines.events import (
    ROWS_PER_PARTY,
    Artifact,
    BudgetSpent,
    Log,
    Metric,
    Overhead,
    Progress,
)
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
from ppml_lab.privacy.randomness import SEEDED_NOISE_WARNING, noise_source, privacy_rng

# Sub-streams of the experiment seed, one per source of randomness.
_PARTITION, _SELECTION, _DROPOUT, _NOISE, _LOCAL_TEST = 101, 102, 103, 104, 105

# Single-survivor rounds warned about one by one; beyond that, one summary warning at the end.
_LONE_ROUND_WARNINGS = 5


def _column_values(data: PreparedData, column: str | None) -> np.ndarray | None:
    if column is None:
        return None
    if column not in data.train_frame.columns:
        if column == data.target:
            raise ValueError(
                f"the 'column' split cannot use {column!r}: it is the target (what the model "
                "predicts), so every client would hold a single class. Choose a column such as a "
                "site or region."
            )
        raise ValueError(
            f"the 'column' split needs a feature column named {column!r}; available: "
            + ", ".join(map(str, data.train_frame.columns[:20]))
            + (" ..." if len(data.train_frame.columns) > 20 else "")
        )
    return data.train_frame[column].astype("string").fillna("(missing)").to_numpy()


def rows_per_party(summary: dict, method: str) -> dict:
    """The partition summary as the generic rows-per-party chart payload (see ``events``)."""
    return {
        "party": "client",
        "parties": [
            {"label": c["label"], "rows": c["rows"], "class_counts": c["class_counts"]}
            for c in summary["clients"]
        ],
        "class_names": summary["class_names"],
        "empty": summary.get("empty_clients", []),
        "named": method == "column",  # the column split names its clients (one per site, ...)
        "description": "How the training rows were split between the federated clients: bar "
        "height is the number of rows a client holds, colours are the classes. The test rows "
        "stay with the server.",
    }


def client_dp_privacy(params: FederatedParams, *, sigma: float, sample_rate: float, delta: float,
                      n_clients: int) -> dict:
    """The results' ``privacy`` section of a client-level DP (DP-FedAvg) run before its first
    round (``epsilon`` is filled in as rounds are accounted); the same on either backend.
    """
    return {
        "mechanism": "dp-fedavg", "epsilon": 0.0, "delta": delta, "accountant": "pld",
        "noise_multiplier": sigma, "sample_rate": sample_rate, "steps": params.rounds,
        "clients": n_clients, "clip_norm": params.update_clip,
        "target_epsilon": params.epsilon, "calibrated": True,
        "guarantee": "client-level (epsilon, delta)-DP of the global model",
        "noise_source": noise_source(params.deterministic_noise),
    }


def make_transport(params: FederatedParams) -> Transport:
    if params.secure_aggregation:
        from ppml_lab.engines.federated.secagg_transport import SecureAggregation

        return SecureAggregation(threshold=params.secagg_threshold)
    return PlainTransport()


def check_params(params: FederatedParams, *, n_train: int) -> None:
    """Refuse settings the simulation cannot run, with a message that says what to change.

    The experiment file's ranges are checked when it is loaded; these checks repeat the ones an
    engine caller could bypass (building :class:`FederatedParams` directly) and add those that
    depend on the data. Checks that need the split (the number of clients of a column split)
    are in :func:`check_clients`.
    """
    if params.partition != "column":
        if params.clients < 1:
            raise ValueError(f"the number of clients must be at least 1 (got {params.clients})")
        if params.clients > n_train:
            raise ValueError(
                f"You asked for {params.clients} clients but the training split has only "
                f"{n_train} rows; use at most {n_train} clients."
            )
    if params.rounds < 1 or params.local_epochs < 1:
        raise ValueError(
            f"rounds and local_epochs must be at least 1 (got {params.rounds} and "
            f"{params.local_epochs})"
        )
    if not 0.0 < params.client_fraction <= 1.0:
        raise ValueError(
            f"client_fraction must be above 0 and at most 1 (got {params.client_fraction:g})"
        )
    if not 0.0 <= params.dropout_rate < 1.0:
        raise ValueError(f"dropout_rate must be at least 0 and below 1 (got {params.dropout_rate:g})")
    if params.mu < 0:
        raise ValueError(f"FedProx mu must be 0 or more (got {params.mu:g})")
    if params.epsilon is not None and not params.epsilon > 0:
        raise ValueError(
            f"client-level epsilon must be greater than 0 (got {params.epsilon:g}); leave it "
            "empty for no client-level DP"
        )
    if params.epsilon is not None and not params.update_clip > 0:
        raise ValueError(f"update_clip must be greater than 0 (got {params.update_clip:g})")
    t = params.secagg_threshold
    if params.secure_aggregation and t is not None and t < 2:
        raise ValueError(
            f"secagg_threshold must be at least 2 (got {t}): with 1, every piece of a client's "
            "mask secrets IS the secret. Leave it empty for a majority of each round's clients."
        )


def check_clients(params: FederatedParams, n_clients: int) -> None:
    """Checks that need the number of clients the split produced."""
    expected = params.client_fraction * n_clients
    if expected < 1.0:
        least = 1.0 / n_clients
        raise ValueError(
            f"client_fraction {params.client_fraction:g} of {n_clients} clients selects "
            f"{expected:.2g} clients per round"
            + (" on average" if params.epsilon is not None else "")
            + f", fewer than one; raise it to at least {least:.3g} or use more clients."
        )
    t = params.secagg_threshold
    if params.secure_aggregation and t is not None:
        # With client-level DP the number per round is random: only the total bounds it.
        per_round = n_clients if params.epsilon is not None else max(1, int(round(expected)))
        if t > per_round:
            raise ValueError(
                f"secagg_threshold {t} is more than the {per_round} clients that "
                + ("exist, " if params.epsilon is not None else "take part in each round, ")
                + "so no round could ever be unmasked; lower it to at most "
                f"{per_round} (empty = a majority of each round's clients) or select more "
                "clients per round."
            )
    if params.epsilon is not None and params.delta is not None:
        if not 0.0 < params.delta < 1.0 / n_clients:
            raise ValueError(
                f"delta = {params.delta:g} is too large for {n_clients} clients: client-level "
                f"delta must be below 1/{n_clients} = {1 / n_clients:.3g}, and ideally far "
                f"below (default 1/(10 x clients) = {accounting.default_delta(n_clients):.3g}). "
                "With delta >= 1/clients the guarantee would allow publishing one whole "
                "client's data."
            )


def validate(data: PreparedData, params: FederatedParams) -> None:
    """Every check that can be made before training, so a refused run costs nothing."""
    check_params(params, n_train=data.n_train)
    values = _column_values(data, params.partition_column) if params.partition == "column" else None
    n_clients = len(set(values.tolist())) if values is not None else params.clients
    check_clients(params, n_clients)


def run_federated(
    data: PreparedData,
    model: ModelParams,
    params: FederatedParams,
    *,
    seed: int,
    cancel: CancelToken,
    transport: Transport | None = None,
) -> EngineRun:
    """Simulate the federation; ``transport`` (default: from ``params``, plain or secure
    aggregation) is how the round's updates reach the server and are summed, so another pattern
    can run the same simulation with its own aggregation (e.g. under encryption).
    """
    rng = np.random.default_rng(seed)
    check_params(params, n_train=data.n_train)
    part = split_clients(
        data.y_train,
        clients=params.clients,
        method=params.partition,
        alpha=params.alpha,
        column_values=_column_values(data, params.partition_column),
        rng=np.random.default_rng([seed, _PARTITION]),
    )
    n_clients = len(part.client_indices)
    check_clients(params, n_clients)
    summary = part.summary(data.y_train, list(data.class_names))
    yield Artifact(name=ROWS_PER_PARTY, payload=rows_per_party(summary, params.partition))
    if summary.get("empty_clients"):
        empty = summary["empty_clients"]
        yield Log(
            message=f"{len(empty)} of {n_clients} clients received no rows from the split "
            f"(client {', '.join(map(str, empty[:10]))}{' ...' if len(empty) > 10 else ''}); "
            "they take part in rounds but have nothing to train on.",
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
    # Each client's rows, copied out once (contiguous): a client keeps its data for the whole run.
    client_X = [np.ascontiguousarray(data.X_train[idx]) for idx in train_idx]
    client_y = [np.ascontiguousarray(data.y_train[idx]) for idx in train_idx]
    local_test = [(data.X_train[i], data.y_train[i]) for i in local_test_idx]

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
            rng=privacy_rng(deterministic=params.deterministic_noise, seed=seed, stream=_NOISE),
        )
        ledger = accounting.PrivacyLedger(
            noise_multiplier=sigma, sample_rate=q, delta=delta, planned_steps=params.rounds
        )
        privacy = client_dp_privacy(params, sigma=sigma, sample_rate=q, delta=delta,
                                    n_clients=n_clients)
        if params.deterministic_noise:
            yield Log(message=SEEDED_NOISE_WARNING, level="warning")
        yield Log(
            message=f"Client-level DP: noise multiplier {sigma:.4g} for epsilon {params.epsilon:g} "
            f"over {params.rounds} rounds (delta {delta:.2g}); the noise on the average update "
            f"has standard deviation {sigma * params.update_clip / (q * n_clients):.3g} per "
            "coordinate"
        )
    if data.data_dependent_steps:
        # The simulation prepares the data centrally; a real federation would have to agree on
        # these statistics first (public bounds, or a secure/DP computation over the clients).
        yield Log(
            message="Preprocessing used statistics of all clients' rows together ("
            + "; ".join(data.data_dependent_steps)
            + "), which a real federation cannot compute without sharing them"
            + (
                "; the client-level epsilon does not cover them. Give public feature bounds "
                "and categories for a strict guarantee."
                if dp
                else "."
            ),
            level="warning",
        )
    transport = transport if transport is not None else make_transport(params)
    # Poisson sampling of clients under client-level DP is part of the mechanism (the
    # accountant's amplification by sampling assumes nobody can predict it).
    select_rng = (
        privacy_rng(deterministic=params.deterministic_noise, seed=seed, stream=_SELECTION)
        if dp
        else np.random.default_rng([seed, _SELECTION])
    )
    drop_rng = np.random.default_rng([seed, _DROPOUT])
    per_round = max(1, int(round(params.client_fraction * n_clients)))
    if params.secure_aggregation and not dp and (per_round == 1 or n_clients == 1):
        yield Log(
            message="Secure aggregation with one client per round: the aggregate IS that "
            "client's update, so masking hides nothing. Use more clients per round.",
            level="warning",
        )

    bytes_up_total = bytes_down_total = 0
    engine_seconds = 0.0
    dropped_total = 0
    lone_rounds: list[int] = []
    aborted_rounds: list[int] = []  # secure aggregation: fewer uploads than the threshold
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
        contributions: list[Contribution] = []
        center = [p.copy() for p in net.params] if strategy.prox_mu else None
        for k in selected:
            # Every selected client downloads the model and trains, whether or not its upload
            # arrives later.
            n_rows = len(client_y[k])
            if n_rows == 0:
                delta_vec = np.zeros_like(global_flat)
            else:
                local = net.copy()
                for _ in range(params.local_epochs):
                    sgd_epoch(
                        local, client_X[k], client_y[k],
                        batch_size=model.batch_size, learning_rate=model.learning_rate,
                        l2=model.l2, rng=rng, prox_center=center, prox_mu=strategy.prox_mu,
                    )
                delta_vec = local.get_flat() - global_flat
            contributions.append(
                Contribution(client=int(k), vector=strategy.prepare(delta_vec, n_rows), n_rows=n_rows)
            )
        # Which uploads are lost on the way (after training and masking).
        drops = drop_rng.random(len(selected)) < params.dropout_rate
        dropped = [int(k) for k, d in zip(selected, drops) if d]
        report = transport.collect(contributions, dropped, model_bytes=model_bytes, round_id=rnd)
        # A secure-aggregation round with fewer uploads than the threshold cannot be unmasked.
        aborted = getattr(report, "aborted", "")
        if aborted:
            aborted_rounds.append(rnd)
        elif report.survivors or dp:  # with DP the noisy (possibly empty) sum is released anyway
            global_flat = global_flat + strategy.combine(report.total, report.n_rows_total)
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
        if local_test:
            accs = [accuracy(net, X, y) for X, y in local_test if len(y)]
            yield Metric(step=rnd, name="local_test_accuracy_mean", value=float(np.mean(accs)))
        if aborted:
            yield Log(message=aborted, level="warning", step=rnd)
        elif dropped:
            yield Log(
                message=f"round {rnd}: {len(dropped)} of {len(selected)} selected clients dropped out "
                "after training; the round went on with the other "
                f"{len(report.survivors)}"
                + (
                    " (the server rebuilt each dropped client's one-round mask key from the "
                    f"survivors' Shamir shares, {len(report.survivors) * len(dropped)} shares in "
                    "all, and removed its pairwise masks; their self-mask seeds stay secret, so an "
                    "upload of theirs arriving late would still be unreadable)"
                    if params.secure_aggregation and report.survivors
                    else ""
                ),
                level="info",
                step=rnd,
            )
        if params.secure_aggregation and not aborted and len(report.survivors) == 1:
            lone_rounds.append(rnd)
            if len(lone_rounds) <= _LONE_ROUND_WARNINGS:
                yield Log(
                    message=f"round {rnd}: only one client's update arrived, so the securely "
                    "aggregated sum IS that client's update; masking protected nothing this round.",
                    level="warning",
                    step=rnd,
                )
        if ledger is not None:
            # Fast upper bound for the live curve; the exact value for the final round.
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
    if len(lone_rounds) > _LONE_ROUND_WARNINGS:
        yield Log(
            message=f"In {len(lone_rounds)} of {params.rounds} rounds only one client's update "
            "arrived; secure aggregation protected nothing in those rounds.",
            level="warning",
        )
    extra: dict[str, object] = {
        "partition": summary,
        "round_seconds": round_times,
        "single_survivor_rounds": lone_rounds,
    }
    if params.secure_aggregation:
        extra["secagg_aborted_rounds"] = aborted_rounds
    if local_test:
        extra["local_test_accuracy"] = [
            accuracy(net, X, y) if len(y) else None for X, y in local_test
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
