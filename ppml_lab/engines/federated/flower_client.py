"""The lab's Flower ClientApp: one client's local training, as in the in-process simulation.

Flower starts this module in a ``flwr-clientapp`` process on a SuperNode for every message.
The client's rows never leave it: they are read from the SuperNode's own data file, named in
its node configuration::

    flower-supernode ... --node-config 'partition-id=0 num-partitions=3 data-file="client_0.npz"'

(an ``.npz`` with ``X``, the prepared features as float64, and ``y``, the class numbers; the lab
writes these for the SuperNodes it starts, and :mod:`.flower_node` exports them for SuperNodes
on other machines).

Training is the lab's: the same model (:func:`ppml_lab.models.make_model`), minibatch SGD with
the same batch size, learning rate and L2, FedProx's proximal term, and what the strategy asks
a client to send (:meth:`Strategy.prepare`: ``n_rows x update`` for FedAvg, the update clipped
to the DP bound under client-level DP). Two apps:

* :data:`app`: plain messages; the reply holds the prepared update and the client's row count.
* :data:`secagg_app`: Flower's SecAgg+ (``secaggplus_mod``): the mod answers the key-exchange
  and unmasking stages itself and masks what this client's training returns, so the server only
  ever sees the sum.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.client.mod import secaggplus_mod
from flwr.clientapp import ClientApp
from flwr.common import Code, FitRes, Status, ndarrays_to_parameters, parameters_to_ndarrays
from flwr.compat.common import recorddict_compat as compat

from ppml_lab.engines.federated.flower_wire import SPEC_KEY, RunSpec
from ppml_lab.engines.federated.strategies import ClientLevelDP, make_strategy
from ppml_lab.models import ModelParams, make_model, sgd_epoch

__all__ = ["app", "secagg_app"]

#: Stream of the experiment seed for a client's own shuffling when the server does not hand
#: out the simulation's (secure aggregation).
_LOCAL_SHUFFLE = 106

_data_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}


def _spec(context: Context) -> RunSpec:
    return RunSpec.from_config_value(str(context.run_config[SPEC_KEY]))


def _partition_id(context: Context) -> int:
    try:
        return int(context.node_config["partition-id"])
    except (KeyError, ValueError, TypeError):
        raise ValueError(
            "this SuperNode has no partition-id in its node configuration: start it with "
            "--node-config 'partition-id=K num-partitions=N data-file=\"...\"'"
        ) from None


def _data(context: Context) -> tuple[np.ndarray, np.ndarray]:
    """The client's rows, from the data file of its node configuration."""
    name = context.node_config.get("data-file")
    if not name:
        raise ValueError(
            "this SuperNode has no data-file in its node configuration: start it with "
            "--node-config '... data-file=\"/path/to/client.npz\"'"
        )
    path = str(Path(str(name)).expanduser())
    if not Path(path).is_file():
        raise ValueError(f"its data file {path} does not exist")
    if path not in _data_cache:
        with np.load(path) as f:
            _data_cache[path] = (
                np.ascontiguousarray(f["X"], dtype=np.float64),
                np.ascontiguousarray(f["y"], dtype=np.int64),
            )
    return _data_cache[path]


def _shuffle_rng(spec: RunSpec, states: str, partition: int, rnd: int) -> np.random.Generator:
    """The generator of this client's minibatch order in this round.

    With its entry in ``states`` (the server's replay of the simulation's single stream),
    exactly the simulation's; without, one derived from the seed, the client and the round.
    """
    state = json.loads(states or "{}").get(str(partition))
    if state:
        rng = np.random.Generator(np.random.PCG64())
        rng.bit_generator.state = state
        return rng
    return np.random.default_rng([spec.seed, _LOCAL_SHUFFLE, partition, rnd])


def _train(spec: RunSpec, context: Context, global_flat: np.ndarray, cfg: Any) -> tuple[np.ndarray, int]:
    """Train from ``global_flat``; return (what the strategy sends, the client's row count)."""
    X, y = _data(context)
    model = ModelParams(**spec.model)
    net = make_model(
        model, n_features=spec.n_features, n_classes=spec.n_classes, rng=np.random.default_rng(0)
    )
    net.set_flat(global_flat)
    strategy = make_strategy(spec.strategy, mu=spec.mu)
    if spec.dp is not None:  # the client only clips; the server adds the noise
        strategy = ClientLevelDP(
            strategy, clip=float(spec.dp["clip"]), noise_multiplier=0.0, expected_clients=1.0,
            rng=np.random.default_rng(0),
        )
    n_rows = len(y)
    if n_rows == 0:
        return strategy.prepare(np.zeros_like(global_flat), 0), 0
    rng = _shuffle_rng(spec, str(cfg.get("rng-states", "")), _partition_id(context), int(cfg["round"]))
    center = [p.copy() for p in net.params] if strategy.prox_mu else None
    local = net.copy()
    for _ in range(spec.local_epochs):
        sgd_epoch(
            local, X, y, batch_size=model.batch_size, learning_rate=model.learning_rate,
            l2=model.l2, rng=rng, prox_center=center, prox_mu=strategy.prox_mu,
        )
    return strategy.prepare(local.get_flat() - global_flat, n_rows), n_rows


def _named(handler: Callable[[Message, Context], Message]) -> Callable[[Message, Context], Message]:
    """Errors name the client: Flower sends the message back to the server as the reply."""

    @functools.wraps(handler)
    def wrapper(msg: Message, context: Context) -> Message:
        try:
            return handler(msg, context)
        except Exception as exc:
            who = context.node_config.get("partition-id", "?")
            raise ValueError(f"client {who}: {exc}") from exc

    return wrapper


app = ClientApp()
secagg_app = ClientApp(mods=[secaggplus_mod])


@app.query()
@secagg_app.query()
@_named
def query(msg: Message, context: Context) -> Message:
    """Which client is this SuperNode (asked before secure aggregation's first round)."""
    _data(context)  # a SuperNode without its data fails here, before any training
    who = ConfigRecord({"partition-id": _partition_id(context)})
    return Message(RecordDict({"client": who}), reply_to=msg)


@app.train()
@_named
def train(msg: Message, context: Context) -> Message:
    """Train if this client was selected for the round; else say so (and who it is)."""
    spec = _spec(context)
    cfg = msg.content["config"]
    partition = _partition_id(context)
    who = ConfigRecord({"partition-id": partition})
    if partition not in json.loads(str(cfg.get("selected", "[]"))):
        return Message(RecordDict({"client": who}), reply_to=msg)
    global_flat = msg.content["arrays"].to_numpy_ndarrays()[0]
    t0 = time.perf_counter()
    vector, n_rows = _train(spec, context, global_flat, cfg)
    content = RecordDict({
        "client": who,
        "arrays": ArrayRecord([np.asarray(vector, dtype=np.float64)]),
        "metrics": MetricRecord({"n-rows": n_rows, "train-seconds": time.perf_counter() - t0}),
    })
    return Message(content, reply_to=msg)


@secagg_app.train()
@_named
def secagg_train(msg: Message, context: Context) -> Message:
    """SecAgg+'s masked-vector stage calls this; the mod masks what it returns.

    SecAgg+ computes the weighted mean ``sum(w_k v_k) / sum(w_k)`` of the clients' vectors with
    ``w_k`` their ``num_examples``: for FedAvg that is the clients' updates weighted by their row
    counts (``v_k`` = the plain update); under client-level DP every client weighs 1 (``v_k`` =
    the clipped update), and the server multiplies by the number of survivors to get the sum.
    """
    spec = _spec(context)
    fitins = compat.recorddict_to_fitins(msg.content, keep_input=True)
    global_flat = parameters_to_ndarrays(fitins.parameters)[0]
    vector, n_rows = _train(spec, context, global_flat, fitins.config)
    if spec.dp is not None:
        weight = 1
    else:
        weight = n_rows
        vector = vector / n_rows if n_rows else vector  # FedAvg prepared n_rows x update
    fitres = FitRes(
        status=Status(code=Code.OK, message=""),
        parameters=ndarrays_to_parameters([np.asarray(vector, dtype=np.float64)]),
        num_examples=int(weight),
        metrics={},
    )
    return Message(compat.fitres_to_recorddict(fitres, keep_input=True), reply_to=msg)
