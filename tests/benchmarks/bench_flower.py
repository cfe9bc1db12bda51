"""Flower deployment engine vs the in-process simulation: start-up, round time, traffic.

Run: ``.venv/bin/python tests/benchmarks/bench_flower.py [--clients 3] [--rounds 5] [--adult]
[--secure]``. Prints, for one federated experiment run both ways (same seed, same split):

* start-up of the Flower federation: a SuperLink and ``--clients`` SuperNodes (each with its
  SuperExec) started on 127.0.0.1, until every SuperNode is connected and the ServerApp runs
  (target <= 10 s for 3 SuperNodes);
* time per round on Flower (the ServerApp's wall time from sending the model to having the new
  one) against the in-process simulation of the same rounds, and the ratio;
* bytes per round as Flower serialised the messages (model down, update up, headers), against
  the simulation's count of the raw payload;
* the final test accuracy both ways (the same model to the last bit without secure
  aggregation: the ServerApp replays the simulation's random streams).

Flower's deployment engine starts a ClientApp process for every message, and a SuperNode
asks the SuperLink for work every 3 s: seconds per round whatever the model, so the ratio is in
the thousands for small models. The machine's load matters (these are Python processes on two
cores): the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import adult_data  # noqa: E402

from ppml_lab.engines.base import CancelToken  # noqa: E402
from ppml_lab.engines.events import Log, Overhead  # noqa: E402
from ppml_lab.engines.federated import FederatedEngine, FederatedParams  # noqa: E402
from ppml_lab.experiments.config import Experiment  # noqa: E402
from ppml_lab.experiments.runner import prepare_data  # noqa: E402
from ppml_lab.models import ModelParams  # noqa: E402


def run(data, model: ModelParams, params: FederatedParams, seed: int):  # noqa: ANN001, ANN201
    gen = FederatedEngine().run(data, model, params, seed=seed, cancel=CancelToken())
    events = []
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return events, stop.value


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--adult", action="store_true", help="Adult instead of breast cancer")
    ap.add_argument("--secure", action="store_true", help="secure aggregation (SecAgg+ on Flower)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    data = adult_data(args.seed) if args.adult else prepare_data(Experiment(seed=args.seed))
    model = ModelParams(kind="logistic", batch_size=64, learning_rate=0.1)
    sim_params = FederatedParams(
        clients=args.clients, rounds=args.rounds, secure_aggregation=args.secure
    )
    print(f"{data.name}: {data.n_train} training rows, {data.n_features} features; logistic; "
          f"{args.clients} clients, {args.rounds} rounds"
          + (", secure aggregation" if args.secure else ""))

    _, sim = run(data, model, sim_params, args.seed)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    events, flower = run(data, model, dataclasses.replace(sim_params, backend="flower"), args.seed)
    wall = time.perf_counter() - t0
    submitted = next(
        (e.message for e in events if isinstance(e, Log) and "programs started" in e.message), ""
    )
    per_round = flower.extra["round_seconds"]
    sim_round = sim.overhead["seconds_per_round"]
    sent = [e.value for e in events if isinstance(e, Overhead) and e.kind == "bytes_sent"]
    deltas = [b - a for a, b in zip([0.0, *sent], sent)]
    sim_bytes = sim.overhead["bytes_sent"] / args.rounds

    print(f"\nload average at the start: {load:.1f} on {os.cpu_count()} cores")
    print(f"start-up (SuperLink + {args.clients} SuperNodes connected, ServerApp running): "
          f"{flower.overhead['startup_seconds']:.1f} s (target <= 10 s)")
    print(f"  of which: {submitted}; the ServerApp then waited "
          f"{flower.extra['flower']['serverapp_waited_for_supernodes_seconds']:.1f} s for the "
          "SuperNodes")
    print(f"time per round on Flower:   median {statistics.median(per_round):6.2f} s, "
          f"min {min(per_round):.2f} s, max {max(per_round):.2f} s")
    print(f"time per round, simulation: {sim_round * 1000:9.2f} ms")
    print(f"Flower / simulation:        {statistics.median(per_round) / sim_round:9,.0f}x (median round)")
    print(f"bytes per round on Flower:  {statistics.median(deltas[1:] or deltas) / 1000:9.1f} kB "
          f"(first round {deltas[0] / 1000:.1f} kB); simulation's payload count "
          f"{sim_bytes / 1000:.1f} kB")
    print(f"whole Flower run: {wall:.1f} s wall for {args.rounds} rounds")
    print(f"test accuracy: Flower {flower.final['test_accuracy']:.4f}, "
          f"simulation {sim.final['test_accuracy']:.4f}"
          + ("" if args.secure else
             f"; same model: {flower.final['train_loss'] == sim.final['train_loss']}"))


if __name__ == "__main__":
    main()
