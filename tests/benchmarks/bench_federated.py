"""Federated learning on Adult: round time, secure-aggregation overhead and utility, in one run.

Run: ``.venv/bin/python tests/benchmarks/bench_federated.py [--seeds 3]``. Prints:

* logistic, 10 clients, 1 local epoch, full participation: ms per round (target <= 50 ms);
* 100 clients, 10% sampled per round: ms per round (target <= 50 ms);
* secure aggregation vs plain at 10 clients: upload bytes ratio (<= 1.1x), round time (<= 2x);
* test accuracy after 30 rounds (IID, Dirichlet 0.5, Dirichlet 0.1) against centralised
  training for the same 30 epochs on the same split (targets: IID within 0.5 points,
  Dirichlet(0.5) within 2 points, Dirichlet(0.1) reported).

A Flower simulation of the same round takes seconds (process and message overhead); we state
that target rather than measure it, as Flower is not a dependency of the lab.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import adult_data  # noqa: E402

from ppml_lab.engines.base import CancelToken  # noqa: E402
from ppml_lab.engines.baseline import BaselineEngine, BaselineParams  # noqa: E402
from ppml_lab.engines.federated import FederatedEngine, FederatedParams  # noqa: E402
from ppml_lab.experiments.runner import drive  # noqa: E402
from ppml_lab.models import ModelParams  # noqa: E402

MODEL = ModelParams(kind="logistic", epochs=30, batch_size=64, learning_rate=0.1)


def federated(data, params: FederatedParams, seed: int = 0):
    return drive(FederatedEngine().run(data, MODEL, params, seed=seed, cancel=CancelToken()))


def per_round_ms(data, params: FederatedParams, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        result = federated(data, params)
        best = min(best, result.overhead["seconds_per_round"])
    return best * 1e3, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    data = adult_data()
    print(f"Adult: {data.n_train} training rows, {data.n_features} features; logistic, batch 64, lr 0.1")

    print("\n== Round time (best of 3 runs of 10 rounds) ==")
    ten = FederatedParams(clients=10, rounds=10, local_epochs=1, client_fraction=1.0)
    hundred = FederatedParams(clients=100, rounds=10, local_epochs=1, client_fraction=0.1)
    ms10, plain10 = per_round_ms(data, ten)
    ms100, _ = per_round_ms(data, hundred)
    ms10s, secure10 = per_round_ms(data, replace(ten, secure_aggregation=True))
    print(f"10 clients, all per round          {ms10:7.1f} ms/round (target <= 50)")
    print(f"100 clients, 10% per round         {ms100:7.1f} ms/round (target <= 50)")
    up_ratio = secure10.overhead["bytes_up"] / plain10.overhead["bytes_up"]
    print(f"10 clients, secure aggregation     {ms10s:7.1f} ms/round  time ratio {ms10s / ms10:.2f}x "
          f"(target <= 2x)  upload ratio {up_ratio:.3f}x (target <= 1.1x)")
    print(f"  upload per round: plain {plain10.overhead['bytes_up'] / 10:,.0f} B, "
          f"secure {secure10.overhead['bytes_up'] / 10:,.0f} B; download per round: plain "
          f"{plain10.overhead['bytes_down'] / 10:,.0f} B, secure {secure10.overhead['bytes_down'] / 10:,.0f} B")

    print(f"\n== Utility after 30 rounds, 10 clients, 1 local epoch ({args.seeds} seeds) ==")
    central = []
    for seed in range(args.seeds):
        r = drive(BaselineEngine().run(data, MODEL, BaselineParams(), seed=seed, cancel=CancelToken()))
        central.append(r.final["test_accuracy"])
    c_mean = statistics.mean(central)
    print(f"{'split':<30} {'test accuracy':>18} {'vs centralised':>15}  target")
    print(f"{'centralised':<30} {c_mean:.4f} +/- {statistics.pstdev(central):.4f}")
    rows = [
        ("IID", dict(partition="iid"), 0.5),
        ("Dirichlet(0.5)", dict(partition="dirichlet", alpha=0.5), 2.0),
        ("Dirichlet(0.1)", dict(partition="dirichlet", alpha=0.1), None),
        ("Dirichlet(0.1) FedProx mu=0.1", dict(partition="dirichlet", alpha=0.1, strategy="fedprox", mu=0.1), None),
    ]
    for label, kw, target in rows:
        accs = [
            federated(data, FederatedParams(clients=10, rounds=30, **kw), seed=seed).final["test_accuracy"]
            for seed in range(args.seeds)
        ]
        gap = (statistics.mean(accs) - c_mean) * 100
        goal = f"within {target} pts" if target is not None else "reported"
        print(f"{label:<30} {statistics.mean(accs):.4f} +/- {statistics.pstdev(accs):.4f} {gap:+10.2f} pts  {goal}")


if __name__ == "__main__":
    main()
