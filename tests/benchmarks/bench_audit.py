"""Membership-inference audit: what attacks achieve against plaintext and DP-SGD models.

Run: ``.venv/bin/python tests/benchmarks/bench_audit.py [--epochs-dp 30] [--shadows 8]``.

On 1,000 Adult rows (500 members for training, 500 held out as non-members), a wide MLP
(256 hidden units, no weight decay, batch 32, learning rate 0.5) is trained

* without privacy for 100 epochs (it memorises: train accuracy ~0.99, test ~0.80),
* without privacy for the DP runs' number of epochs (the like-for-like reference),
* with DP-SGD at epsilon 1 and 8 (PLD accountant, clip norm 1).

For each model it prints the loss-threshold and LiRA attacks' AUC, TPR at 1% FPR, the
empirical epsilon lower bound (simultaneous 95% Clopper-Pearson; in brackets the optimistic
per-threshold variant), the audit's ceiling (the largest lower bound 500 + 500 records can
show, a perfect attack's) next to the accountant's epsilon (the upper bound), and the audit
time. The lower bound must never exceed the upper bound; when the ceiling does not exceed it
either, the audit cannot test the guarantee ("untestable"). DP shadow models use the run's
sample rate, step count and noise multiplier.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ADULT  # noqa: E402

from ppml_lab.data import PreparedData, PreprocessOptions, load_source, prepare_dataset  # noqa: E402
from ppml_lab.engines.dp import DPParams  # noqa: E402
from ppml_lab.engines.dp.dpsgd import dp_sgd_train_fn  # noqa: E402
from ppml_lab.experiments.config import Experiment  # noqa: E402
from ppml_lab.experiments.runner import drive, run_experiment  # noqa: E402
from ppml_lab.models import ModelParams, accuracy  # noqa: E402
from ppml_lab.privacy.attacks import (  # noqa: E402
    TrainFn,
    audit_model,
    audit_verdict,
    empirical_epsilon,
    plain_sgd_train_fn,
)


def small_adult(n_rows: int = 1000, seed: int = 0) -> PreparedData:
    if not ADULT.exists():
        raise SystemExit(f"benchmark needs {ADULT}")
    frame = load_source(str(ADULT)).frame.sample(n=n_rows, random_state=seed)
    return prepare_dataset(
        frame, target="income", options=PreprocessOptions(test_fraction=0.5), seed=seed, name="adult"
    )


def report(label: str, model, data: PreparedData, train_fn: TrainFn, *, delta: float,
           upper: float | None, train_seconds: float, shadows: int) -> None:
    results = audit_model(model, data, delta=delta, rng=1, train_fn=train_fn, n_shadows=shadows)
    acc_tr = accuracy(model, data.X_train, data.y_train)
    acc_te = accuracy(model, data.X_test, data.y_test)
    upper_text = "   inf (none)" if upper is None else f"{upper:13.3f}"
    for r in results.values():
        lenient = empirical_epsilon(r.member_scores, r.nonmember_scores, delta=delta, correction="none")
        ok = "" if upper is None or r.epsilon_lower_bound <= upper else "  VIOLATION"
        if upper is not None and r.epsilon_ceiling <= upper:
            ok += "  untestable"
        print(
            f"{label:<22} {acc_tr:5.3f}/{acc_te:5.3f} {r.attack:<5} {r.auc:6.3f} "
            f"{r.tpr_at_1pct_fpr:8.3f} {r.epsilon_lower_bound:7.3f} ({lenient:5.3f}) "
            f"{r.epsilon_ceiling:7.3f} {upper_text} {train_seconds:7.2f} {r.seconds:7.2f}{ok}"
        )
    best = max(results.values(), key=lambda r: r.epsilon_lower_bound)
    print("    " + audit_verdict(lower=best.epsilon_lower_bound, ceiling=best.epsilon_ceiling,
                                 accountant_epsilon=upper, n_members=best.n_members,
                                 n_nonmembers=best.n_nonmembers))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs-plain", type=int, default=100)
    parser.add_argument("--epochs-dp", type=int, default=30)
    parser.add_argument("--shadows", type=int, default=8)
    args = parser.parse_args()

    data = small_adult()
    delta = 1.0 / (10 * data.n_train)
    print(f"Adult subsample: {data.n_train} members (train), {len(data.y_test)} non-members "
          f"(test), {data.n_features} features; delta {delta:.0e} for the plaintext bound")
    print(f"{'model':<22} {'acc tr/te':>11} {'atk':<5} {'AUC':>6} {'TPR@1%':>8} "
          f"{'eps_lb (lenient)':>16} {'ceiling':>7} {'eps_accountant':>13} {'train_s':>7} "
          f"{'audit_s':>7}")

    for epochs in dict.fromkeys((args.epochs_plain, args.epochs_dp)):
        mp = ModelParams(kind="mlp", hidden=256, epochs=epochs, batch_size=32, learning_rate=0.5)
        train_fn = plain_sgd_train_fn(mp, n_classes=data.n_classes)
        t0 = time.perf_counter()
        model = train_fn(data.X_train, data.y_train, np.random.default_rng(0))
        report(f"plaintext, {epochs} ep", model, data, train_fn, delta=delta, upper=None,
               train_seconds=time.perf_counter() - t0, shadows=args.shadows)

    mp = ModelParams(kind="mlp", hidden=256, epochs=args.epochs_dp, batch_size=32, learning_rate=0.5)
    for eps in (1.0, 8.0):
        experiment = Experiment(pattern="dp", params=DPParams(epsilon=eps, clip_norm=1.0), model=mp, seed=0)
        t0 = time.perf_counter()
        run = drive(run_experiment(experiment, data=data, with_baseline=False))
        seconds = time.perf_counter() - t0
        privacy = run.engine_result.privacy
        train_fn = dp_sgd_train_fn(
            mp, noise_multiplier=privacy["noise_multiplier"], clip_norm=privacy["clip_norm"],
            n_classes=data.n_classes, sample_rate=privacy["sample_rate"], steps=privacy["steps"],
        )
        report(f"DP eps={eps:g}, {args.epochs_dp} ep", run.engine_result.model, data, train_fn,
               delta=privacy["delta"], upper=privacy["epsilon"], train_seconds=seconds,
               shadows=args.shadows)
    print("\ntrain_s includes DP calibration and per-epoch accounting; audit_s for LiRA includes "
          f"training {args.shadows} shadow models.")


if __name__ == "__main__":
    main()
