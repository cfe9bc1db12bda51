"""The federated pattern on Flower's deployment engine (``backend = "flower"``).

The same experiment as the in-process simulation (:mod:`.engine`): the same split between
clients, model, strategy, client-level DP and secure aggregation, and the same events, so the
window plots and the report tell it the same way. What differs is where the clients run: each
is a Flower SuperNode, a separate process (on this computer, or wherever their owners started
them), and the rounds travel over Flower's network (:mod:`.flower_deploy`). The ServerApp
(:mod:`.flower_server`) sends back the global model after every round; the lab evaluates it on
its test rows exactly as the simulation does.

Costs measured here besides the simulation's: the start-up of the federation, the bytes of every
message as Flower serialised them, and each round's wall time against the in-process simulation
of the same rounds (run first, for the comparison: ``x_simulation``).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

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
from ppml_lab.engines.federated.engine import (
    _LOCAL_TEST,
    _PARTITION,
    _column_values,
    check_clients,
    check_params,
    client_dp_privacy,
    rows_per_party,
    run_federated,
)
from ppml_lab.engines.federated.flower_deploy import (
    FlowerFailed,
    deploy,
    no_superlink_message,
    superlink_answers,
)
from ppml_lab.engines.federated.flower_setup import (
    check_flower_params,
    flower_problem,
    flower_version,
    parse_superlink,
)
from ppml_lab.engines.federated.flower_wire import RunSpec, decode_vector
from ppml_lab.engines.federated.params import FederatedParams
from ppml_lab.models import ModelParams, accuracy, make_model
from ppml_lab.params import to_mapping
from ppml_lab.privacy import accounting
from ppml_lab.privacy.randomness import SEEDED_NOISE_WARNING

__all__ = ["make_spec", "run_flower", "split_for_flower"]

#: SecAgg+ weights a client's update by its row count, up to this many rows at a SuperLink
#: elsewhere (its SuperNodes may hold their own data); here, the largest client's row count.
_REMOTE_MAX_WEIGHT = 100_000.0
#: Seconds the ServerApp waits for the SuperNodes of a SuperLink elsewhere.
_REMOTE_NODE_WAIT = 600.0
#: SecAgg+ clips each coordinate of a client's (weighted) update to this range before
#: quantising it: an update of one round is far smaller.
_CLIPPING_RANGE = 8.0


def _simulation_reference(
    data: PreparedData, model: ModelParams, params: FederatedParams, *, seed: int, cancel: CancelToken
) -> EngineResult:
    """The in-process simulation of the same rounds, without DP noise (timing and accuracy)."""
    plain = dataclasses.replace(params, backend="simulation", superlink=None, epsilon=None)
    gen = run_federated(data, model, plain, seed=seed, cancel=cancel)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def make_spec(
    data: PreparedData, model: ModelParams, params: FederatedParams, *, seed: int,
    n_clients: int, rows: list[int], dp: dict[str, Any] | None,
) -> RunSpec:
    """What the ServerApp and the ClientApps need to run this experiment (see ``RunSpec``).

    ``rows`` are the clients' row counts when the lab made the split (empty for SuperNodes
    elsewhere); ``dp`` the calibrated client-level DP noise, or None.
    """
    return RunSpec(
        seed=int(seed), model=to_mapping(model), n_features=data.n_features, n_classes=data.n_classes,
        clients=n_clients, rows=[int(r) for r in rows], rounds=int(params.rounds),
        local_epochs=int(params.local_epochs),
        client_fraction=float(params.client_fraction), strategy=params.strategy, mu=float(params.mu),
        dp=dp,
        secagg={
            "threshold": params.secagg_threshold,
            "max_weight": float(max(max(rows), 1)) if rows else _REMOTE_MAX_WEIGHT,
            "clipping_range": _CLIPPING_RANGE,
        } if params.secure_aggregation else None,
    )


def split_for_flower(
    data: PreparedData, params: FederatedParams, seed: int
) -> tuple[Any, list, list, list]:
    """The split as the simulation makes it: (summary, train arrays, local-test arrays, rows)."""
    part = split_clients(
        data.y_train, clients=params.clients, method=params.partition, alpha=params.alpha,
        column_values=_column_values(data, params.partition_column),
        rng=np.random.default_rng([seed, _PARTITION]),
    )
    summary = part.summary(data.y_train, list(data.class_names))
    train_idx = list(part.client_indices)
    local_test: list[tuple[np.ndarray, np.ndarray]] = []
    if params.local_test:
        lt_rng = np.random.default_rng([seed, _LOCAL_TEST])
        for k, idx in enumerate(train_idx):
            shuffled = lt_rng.permutation(idx)
            n_test = int(round(0.2 * len(idx))) if len(idx) >= 5 else 0
            test_idx = np.sort(shuffled[:n_test])
            local_test.append((data.X_train[test_idx], data.y_train[test_idx]))
            train_idx[k] = np.sort(shuffled[n_test:])
    train = [(data.X_train[idx], data.y_train[idx]) for idx in train_idx]
    return summary, train, local_test, [len(idx) for idx in train_idx]


def run_flower(
    data: PreparedData, model: ModelParams, params: FederatedParams, *, seed: int, cancel: CancelToken
) -> EngineRun:
    problem = flower_problem()
    if problem is not None:
        raise ValueError(problem)
    remote = parse_superlink(params.superlink)
    if remote is not None and not superlink_answers(*remote, timeout=5.0):
        raise FlowerFailed(no_superlink_message(*remote))
    check_params(params, n_train=data.n_train)
    # The lab's split, as in the simulation: the SuperNodes it starts read these rows; with a
    # SuperLink elsewhere, the files are offered to the SuperNodes' owners (see the log).
    summary, clients, local_test, rows = split_for_flower(data, params, seed)
    n_clients = len(clients)
    check_clients(params, n_clients)
    check_flower_params(params, n_clients=n_clients)
    yield Artifact(name=ROWS_PER_PARTY, payload=rows_per_party(summary, params.partition))
    if summary.get("empty_clients"):
        yield Log(
            message=f"{len(summary['empty_clients'])} of {n_clients} clients received no rows "
            "from the split; their SuperNodes take part but have nothing to train on.",
            level="warning",
        )

    net = make_model(model, n_features=data.n_features, n_classes=data.n_classes, rng=np.random.default_rng(seed))
    dp_spec, ledger, privacy = None, None, {}
    if params.epsilon is not None:
        delta = params.delta if params.delta is not None else accounting.default_delta(n_clients)
        accounting.check_delta(delta, n_clients)
        q = params.client_fraction
        sigma = accounting.calibrate_noise(
            target_epsilon=float(params.epsilon), delta=delta, sample_rate=q, steps=params.rounds
        )
        ledger = accounting.PrivacyLedger(noise_multiplier=sigma, sample_rate=q, delta=delta, planned_steps=params.rounds)
        dp_spec = {
            "noise_multiplier": sigma, "clip": params.update_clip,
            "expected_clients": q * n_clients, "deterministic": params.deterministic_noise,
        }
        privacy = client_dp_privacy(params, sigma=sigma, sample_rate=q, delta=delta,
                                    n_clients=n_clients)
        if params.deterministic_noise:
            yield Log(message=SEEDED_NOISE_WARNING, level="warning")
        yield Log(
            message=f"Client-level DP: noise multiplier {sigma:.4g} for epsilon {params.epsilon:g} "
            f"over {params.rounds} rounds (delta {delta:.2g}); the Flower ServerApp adds the noise."
        )
    if data.data_dependent_steps:
        yield Log(
            message="Preprocessing used statistics of all clients' rows together ("
            + "; ".join(data.data_dependent_steps)
            + "), which a real federation cannot compute without sharing them.",
            level="warning",
        )

    yield Log(message="Timing the in-process simulation of the same rounds, for the comparison ...")
    reference = _simulation_reference(data, model, params, seed=seed, cancel=cancel)
    sim_round = float(reference.overhead.get("seconds_per_round", 0.0)) or float("nan")
    secure = bool(params.secure_aggregation)
    spec = make_spec(data, model, params, seed=seed, n_clients=n_clients, rows=rows, dp=dp_spec)
    if remote is not None:
        # Time for the SuperNodes' owners to start them; and they may hold more rows than the
        # lab's split gave them, so SecAgg+ must allow larger weights.
        secagg = {**spec.secagg, "max_weight": _REMOTE_MAX_WEIGHT} if spec.secagg else None
        spec = dataclasses.replace(spec, node_wait=_REMOTE_NODE_WAIT, secagg=secagg)
    where = (
        f"the Flower SuperLink at {remote[0]}:{remote[1]}" if remote
        else f"a Flower SuperLink and {n_clients} SuperNodes on this computer (127.0.0.1)"
    )
    yield Log(message=f"Starting {where} ...")
    totals = {"bytes_up": 0.0, "bytes_down": 0.0, "protocol_bytes": 0.0}
    seconds = startup = server_waited = 0.0
    round_times: list[float] = []
    ratios: list[float] = []
    dropped_total = 0
    aborted_rounds: list[int] = []
    metrics: dict[str, float] = {}
    t0 = time.perf_counter()
    # A safety net only (a cancel stops the run at once): generous for the slowest machine.
    limit = 300.0 + spec.node_wait + 300.0 * params.rounds * (4 if secure else 1)
    for item in deploy(spec, clients=clients, superlink=remote, secure=secure, cancel=cancel,
                       timeout=limit):
        if isinstance(item, Log):
            yield item
            continue
        kind = item["kind"]
        if kind == "launched":
            yield Log(message=f"Flower: programs started after {time.perf_counter() - t0:.1f} s; "
                      f"waiting for {n_clients} SuperNodes and the ServerApp ...")
        if kind == "nodes":
            startup = time.perf_counter() - t0
            server_waited = float(item.get("wait_seconds", 0.0))
            yield Log(message=f"Flower: {item['nodes']} SuperNodes connected; ready after {startup:.1f} s.")
        if kind in ("nodes", "ready", "round"):
            for key in totals:
                totals[key] += float(item.get(key, 0))
        if kind != "round":
            continue
        rnd = int(item["round"])
        net.set_flat(decode_vector(item["params"]))
        metrics = evaluate(net, data)
        yield from metric_events(rnd, metrics)
        yield Metric(step=rnd, name="clients_selected", value=float(item["selected"]))
        yield Metric(step=rnd, name="clients_dropped", value=float(item["dropped"]))
        dropped_total += int(item["dropped"])
        if local_test:
            accs = [accuracy(net, X, y) for X, y in local_test if len(y)]
            yield Metric(step=rnd, name="local_test_accuracy_mean", value=float(np.mean(accs)))
        if item.get("aborted"):
            aborted_rounds.append(rnd)
            yield Log(message=str(item["aborted"]), level="warning", step=rnd)
        elif item["dropped"]:
            yield Log(
                message=f"round {rnd}: {item['dropped']} of {item['selected']} selected clients "
                "did not deliver their update; the round went on with the others"
                + (": " + "; ".join(item.get("errors", [])) if item.get("errors") else ""),
                level="warning", step=rnd,
            )
        if ledger is not None:
            eps = ledger.epsilon_after(rnd) if rnd == params.rounds else ledger.live_epsilon_after(rnd)
            privacy["epsilon"] = eps
            yield BudgetSpent(step=rnd, epsilon=eps, delta=float(privacy["delta"]))
        seconds += float(item["seconds"])
        round_times.append(float(item["seconds"]))
        ratios.append(float(item["seconds"]) / sim_round)
        yield Overhead(step=rnd, kind="bytes_up", value=totals["bytes_up"], unit="B")
        yield Overhead(step=rnd, kind="bytes_down", value=totals["bytes_down"], unit="B")
        yield Overhead(step=rnd, kind="bytes_sent", value=totals["bytes_up"] + totals["bytes_down"], unit="B")
        yield Overhead(step=rnd, kind="seconds", value=seconds, unit="s")
        if secure:
            yield Overhead(step=rnd, kind="secagg_overhead_bytes", value=totals["protocol_bytes"], unit="B")
        yield Overhead(step=rnd, kind="x_simulation", value=ratios[-1], unit="x")
        if rnd == 1:
            yield Overhead(step=rnd, kind="startup_seconds", value=startup, unit="s")
        yield Progress(step=rnd, total=params.rounds, message=f"round {rnd}/{params.rounds} on Flower")

    per_round = seconds / max(1, len(round_times))
    ref_acc = reference.final.get("test_accuracy")
    sent_per_round = (totals["bytes_up"] + totals["bytes_down"]) / max(1, len(round_times))
    yield Log(
        message=f"Flower: {len(round_times)} rounds of {per_round:.1f} s each, about "
        f"{per_round / sim_round:,.0f} times as long as in the in-process simulation "
        f"({sim_round * 1000:.1f} ms a round); the federation took {startup:.1f} s to start; "
        f"{sent_per_round / 1000:.1f} kB sent per round."
        + (
            f" Test accuracy {metrics.get('test_accuracy', float('nan')):.2%} (in-process "
            f"simulation of the same run: {ref_acc:.2%})."
            if params.epsilon is None and not secure and ref_acc is not None else ""
        )
    )
    overhead = {
        "seconds": seconds,
        "bytes_up": totals["bytes_up"],
        "bytes_down": totals["bytes_down"],
        "bytes_sent": totals["bytes_up"] + totals["bytes_down"],
        "seconds_per_round": per_round,
        "clients_dropped": float(dropped_total),
        "startup_seconds": startup,
        "simulation_seconds_per_round": sim_round,
        "x_simulation": per_round / sim_round,
    }
    if secure:
        overhead["secagg_overhead_bytes"] = totals["protocol_bytes"]
    extra: dict[str, Any] = {
        "round_seconds": round_times,
        "single_survivor_rounds": [],
        "flower": {
            "version": flower_version(),
            "superlink": f"{remote[0]}:{remote[1]}" if remote else "started here (127.0.0.1)",
            "supernodes": n_clients,
            "serverapp_waited_for_supernodes_seconds": server_waited,
            "simulation_test_accuracy": ref_acc,
        },
    }
    extra["partition"] = summary
    if secure:
        extra["secagg_aborted_rounds"] = aborted_rounds
    if local_test:
        extra["local_test_accuracy"] = [accuracy(net, X, y) if len(y) else None for X, y in local_test]
    return EngineResult(model=net, final=metrics, privacy=privacy, overhead=overhead, extra=extra)
