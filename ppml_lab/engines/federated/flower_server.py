"""The lab's Flower ServerApp: the in-process simulation's rounds, over Flower's network.

Flower starts this module in a ``flwr-serverapp`` process next to the SuperLink. It runs the
same round loop as :func:`ppml_lab.engines.federated.engine.run_federated`:

1. wait for the SuperNodes (each knows which client it is: ``partition-id`` in its node
   configuration; the server learns it from their first replies, or, for secure aggregation,
   asks first);
2. build the global model from the experiment seed exactly as the lab does;
3. each round select the clients as the simulation does (the same seeded draw; under
   client-level DP Poisson sampling from secret randomness), send them the global model, and
   turn what comes back into the new model with the lab's strategy (FedAvg / FedProx, wrapped in
   client-level DP, whose noise the server adds); with secure aggregation the round goes through
   Flower's SecAgg+ instead (:mod:`.flower_secagg`), and the server only sees the sum.

After each round it prints one line for the lab (:mod:`.flower_wire`): the new global model,
who took part and dropped out, the round's wall time and the bytes its messages took as Flower
serialised them (:mod:`.flower_grid`). The lab evaluates the model and plots it.

Reproducing the simulation exactly: the simulation trains its clients one after another from
one random stream (the minibatch order). Without secure aggregation the server replays that
stream (the lab, which made the split, gives it the row counts) and hands each client the
stream's state at its turn, so a Flower run gives the simulation's model to the last bit.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, RecordDict
from flwr.serverapp import Grid, ServerApp

from ppml_lab.engines.federated.engine import _NOISE, _SELECTION
from ppml_lab.engines.federated.flower_grid import CountingGrid
from ppml_lab.engines.federated.flower_secagg import run_secagg_round
from ppml_lab.engines.federated.flower_wire import (
    QUERY,
    SPEC_KEY,
    RunSpec,
    encode_line,
    encode_vector,
)
from ppml_lab.engines.federated.strategies import ClientLevelDP, Strategy, make_strategy
from ppml_lab.models import ModelParams, make_model
from ppml_lab.privacy.randomness import privacy_rng

__all__ = ["app"]

app = ServerApp()


def emit(kind: str, **payload: Any) -> None:
    """A line for the lab (it reads the ServerApp's output through Flower's log stream)."""
    print(encode_line(kind, **payload), flush=True)


def wait_for_nodes(grid: Grid, n: int, timeout: float) -> list[int]:
    t0 = time.monotonic()
    while True:
        nodes = sorted(grid.get_node_ids())
        if len(nodes) >= n:
            return nodes
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(
                f"only {len(nodes)} of {n} SuperNodes connected to the SuperLink within "
                f"{timeout:g} s. Start the missing SuperNodes (flower-supernode --superlink ...), "
                "or set the number of clients to the SuperNodes you have."
            )
        time.sleep(0.1)


def identify(grid: CountingGrid, nodes: list[int], n: int, timeout: float) -> dict[int, int]:
    """Ask every SuperNode which client it is; return ``{client: node}`` (secure aggregation
    needs it before its first round; plain rounds learn it from the first replies).
    """
    msgs = [Message(RecordDict(), dst_node_id=node, message_type=QUERY, group_id="0") for node in nodes]
    node_of: dict[int, int] = {}
    problems: list[str] = []
    for reply in grid.send_and_receive(msgs, timeout=timeout):
        if reply.has_error():
            problems.append(reason(reply))
            continue
        k = int(reply.content["client"]["partition-id"])
        if 0 <= k < n and k not in node_of:
            node_of[k] = reply.metadata.src_node_id
    missing = [k for k in range(n) if k not in node_of]
    if missing:
        raise RuntimeError(
            f"no SuperNode answered for client(s) {', '.join(map(str, missing))}"
            f"{NODE_CONFIG_HINT.format(last=n - 1)}"
            + (f"; errors: {'; '.join(problems[:3])}" if problems else "")
        )
    return node_of


NODE_CONFIG_HINT = (
    " (each SuperNode needs --node-config 'partition-id=K data-file=\"...\"' with K from 0 to "
    "{last}, once each)"
)


def reason(reply: Message) -> str:
    """A client's error in words: Flower wraps it as ``<class 'ValueError'>:<'message'>``."""
    text = str(reply.error.reason)
    found = re.fullmatch(r"<class '[\w.]+'>:<'(.*)'>", text, flags=re.S)
    text = found.group(1) if found else text
    return text if text.startswith("client ") else f"SuperNode {reply.metadata.src_node_id}: {text}"


def select(rng: np.random.Generator, n: int, fraction: float, poisson: bool) -> np.ndarray:
    """The round's clients, drawn as the in-process simulation draws them."""
    if poisson:  # client-level DP: what the accountant assumes
        return np.flatnonzero(rng.random(n) < fraction)
    per_round = max(1, int(round(fraction * n)))
    if per_round >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, per_round, replace=False))


def plain_round(
    grid: CountingGrid, spec: RunSpec, rnd: int, clients: list[int], nodes: list[int],
    node_of: dict[int, int], config: dict[str, Any], global_flat: np.ndarray,
) -> tuple[np.ndarray, float, list[int], list[str]]:
    """Send the model to the round's ``clients``; return (sum of their vectors, sum of rows,
    dropped, errors).

    Until every SuperNode's client is known (``node_of``, learned from replies), the message
    also goes to the SuperNodes not identified yet; those not selected answer at once that they
    sat the round out.
    """
    known = set(node_of.values())
    targets = {node_of[k] for k in clients if k in node_of} | {m for m in nodes if m not in known}
    content = RecordDict({"arrays": ArrayRecord([global_flat]), "config": ConfigRecord(config)})
    msgs = [Message(content, dst_node_id=m, message_type="train", group_id=str(rnd)) for m in sorted(targets)]
    by_client: dict[int, Message] = {}
    errors: list[str] = []
    for reply in grid.send_and_receive(msgs, timeout=spec.reply_timeout):
        if reply.has_error():
            errors.append(reason(reply))
            continue
        k = int(reply.content["client"]["partition-id"])
        node_of.setdefault(k, reply.metadata.src_node_id)
        if k in clients:
            by_client[k] = reply
    total = np.zeros_like(global_flat)
    n_rows = 0.0
    dropped: list[int] = []
    for k in clients:  # in client order, as the simulation sums
        reply = by_client.get(k)
        if reply is None:
            dropped.append(k)
            if any(e.startswith(f"client {k}:") for e in errors):
                continue
            if k in node_of:
                errors.append(f"client {k}: no answer in time")
            elif not any(e.startswith("SuperNode ") for e in errors):  # else: that one, surely
                errors.append(
                    f"client {k}: no SuperNode answered for it"
                    + NODE_CONFIG_HINT.format(last=spec.clients - 1)
                )
            continue
        total += reply.content["arrays"].to_numpy_ndarrays()[0]
        n_rows += float(reply.content["metrics"]["n-rows"])
    return total, n_rows, dropped, errors


def _strategy(spec: RunSpec) -> Strategy:
    strategy: Strategy = make_strategy(spec.strategy, mu=spec.mu)
    if spec.dp is not None:
        strategy = ClientLevelDP(
            strategy,
            clip=float(spec.dp["clip"]),
            noise_multiplier=float(spec.dp["noise_multiplier"]),
            expected_clients=float(spec.dp["expected_clients"]),
            rng=privacy_rng(deterministic=bool(spec.dp["deterministic"]), seed=spec.seed, stream=_NOISE),
        )
    return strategy


def run(grid: CountingGrid, context: Context, spec: RunSpec) -> None:
    t0 = time.monotonic()
    nodes = wait_for_nodes(grid, spec.clients, spec.node_wait)
    emit("nodes", nodes=len(nodes), wait_seconds=time.monotonic() - t0)
    n = spec.clients
    node_of = identify(grid, nodes, n, spec.reply_timeout) if spec.secagg is not None else {}

    rng = np.random.default_rng(spec.seed)  # the model's initialisation, then the replay
    net = make_model(ModelParams(**spec.model), n_features=spec.n_features, n_classes=spec.n_classes, rng=rng)
    global_flat = net.get_flat()
    strategy = _strategy(spec)
    dp = spec.dp is not None
    select_rng = (
        privacy_rng(deterministic=bool(spec.dp["deterministic"]), seed=spec.seed, stream=_SELECTION)
        if dp
        else np.random.default_rng([spec.seed, _SELECTION])
    )
    rows = list(spec.rows)
    replay = spec.replay and spec.secagg is None and len(rows) == n
    for rnd in range(1, spec.rounds + 1):
        selected = [int(k) for k in select(select_rng, n, spec.client_fraction, dp)]
        states: dict[str, Any] = {}
        for k in selected:
            if replay and rows[k] > 0:
                states[str(k)] = rng.bit_generator.state
                for _ in range(spec.local_epochs):
                    rng.permutation(rows[k])  # what the simulation's client k draws
        config = {"round": rnd, "selected": json.dumps(selected), "rng-states": json.dumps(states)}
        t_round = time.perf_counter()
        aborted = ""
        errors: list[str] = []
        if spec.secagg is None:
            total, n_rows, dropped, errors = plain_round(
                grid, spec, rnd, selected, nodes, node_of, config, global_flat
            )
            if len(dropped) < len(selected) or dp:
                global_flat = global_flat + strategy.combine(total, n_rows)
        elif len(selected) < 2:
            dropped = []
            if dp:  # an (almost) empty round: the noisy sum is released as in the simulation
                global_flat = global_flat + strategy.combine(np.zeros_like(global_flat), 0.0)
            else:
                aborted = f"round {rnd}: fewer than 2 clients selected; SecAgg+ needs 2, round skipped"
        else:
            sa = spec.secagg
            out = run_secagg_round(
                grid, context, rnd=rnd, rounds=spec.rounds,
                fit=[(node_of[k], config) for k in selected], global_flat=global_flat,
                threshold=sa.get("threshold"), max_weight=float(sa["max_weight"]),
                clipping_range=float(sa["clipping_range"]), timeout=spec.reply_timeout,
            )
            dropped = list(range(len(selected) - out.survivors)) if out.mean is not None else []
            if out.mean is None:
                aborted = (
                    f"round {rnd}: secure aggregation could not unmask the sum (too few clients "
                    "delivered their masked update); the round was skipped"
                )
            elif dp:
                global_flat = global_flat + strategy.combine(out.mean * out.survivors, float(out.survivors))
            else:
                global_flat = global_flat + out.mean  # SecAgg+ returns FedAvg's weighted mean
        seconds = time.perf_counter() - t_round
        emit(
            "round", round=rnd, selected=len(selected), dropped=len(dropped), aborted=aborted,
            errors=errors[:5], seconds=seconds, params=encode_vector(global_flat),
            **grid.take_counts(),
        )
        if errors and len(dropped) == len(selected) and rnd == 1:
            raise RuntimeError("every client failed in the first round: " + "; ".join(errors[:3]))
    emit("done", rounds=spec.rounds)


@app.main()
def main(grid: Grid, context: Context) -> None:
    spec = RunSpec.from_config_value(str(context.run_config[SPEC_KEY]))
    try:
        run(CountingGrid(grid), context, spec)
    except Exception as exc:
        emit("error", message=str(exc) or type(exc).__name__, type=type(exc).__name__)
        raise
