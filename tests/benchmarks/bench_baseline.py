"""Benchmark: the plaintext baseline on Adult against scikit-learn's LogisticRegression.

Run with ``python tests/benchmarks/bench_baseline.py [--repeat N]``. Both are timed in this one
run on the same prepared split (the settings of ppml_lab/resources/experiments/adult_baseline.toml:
logistic, batch 256, learning rate 0.5, 10 epochs, seed 0); the best of ``--repeat`` runs is
reported, which is the least disturbed by other load. The engine time includes the per-epoch
evaluation on the training and test sets that the GUI plots; the pure training time is shown too.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXPERIMENT = REPO / "ppml_lab/resources/experiments/adult_baseline.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    from ppml_lab.engines.base import CancelToken
    from ppml_lab.engines.baseline import BaselineEngine, BaselineParams
    from ppml_lab.experiments.config import load_experiment
    from ppml_lab.experiments.runner import drive, prepare_data
    from ppml_lab.models import make_model, sgd_epoch

    experiment = load_experiment(EXPERIMENT)
    if not Path(experiment.dataset.source).exists():
        raise SystemExit(f"this benchmark needs {experiment.dataset.source}")
    t0 = time.perf_counter()
    data = prepare_data(experiment)
    prep_seconds = time.perf_counter() - t0
    model = experiment.model
    print(
        f"Adult: {data.n_train:,} training rows x {data.n_features} features "
        f"(load + preprocess {prep_seconds:.2f} s); {model.kind}, batch {model.batch_size}, "
        f"lr {model.learning_rate}, {model.epochs} epochs"
    )

    def engine_run() -> tuple[float, float]:
        result = drive(
            BaselineEngine().run(
                data, model, BaselineParams(), seed=experiment.seed, cancel=CancelToken()
            )
        )
        return result.overhead["seconds"], result.final["test_accuracy"]

    def training_only() -> float:
        rng = np.random.default_rng(experiment.seed)
        net = make_model(model, n_features=data.n_features, n_classes=data.n_classes, rng=rng)
        t = time.perf_counter()
        for _ in range(model.epochs):
            sgd_epoch(
                net, data.X_train, data.y_train,
                batch_size=model.batch_size, learning_rate=model.learning_rate, rng=rng,
            )
        return time.perf_counter() - t

    def sklearn_fit(threads: int | None) -> tuple[float, float]:
        with threadpool_limits(threads):
            t = time.perf_counter()
            ref = LogisticRegression(max_iter=2000).fit(data.X_train, data.y_train)
            seconds = time.perf_counter() - t
        return seconds, float(ref.score(data.X_test, data.y_test))

    results: dict[str, list[float]] = {"engine": [], "train": [], "sk": [], "sk1": []}
    accuracy = {}
    for _ in range(args.repeat):
        seconds, accuracy["engine"] = engine_run()
        results["engine"].append(seconds)
        results["train"].append(training_only())
        seconds, accuracy["sk"] = sklearn_fit(None)
        results["sk"].append(seconds)
        seconds, _ = sklearn_fit(1)
        results["sk1"].append(seconds)
    best = {k: min(v) for k, v in results.items()}

    print(f"baseline engine (10 epochs, incl. per-epoch evaluation): {best['engine']:.3f} s")
    print(f"  of which SGD training only:                           {best['train']:.3f} s")
    print(f"scikit-learn LogisticRegression(max_iter=2000), default BLAS threads: {best['sk']:.3f} s")
    print(f"scikit-learn LogisticRegression(max_iter=2000), 1 BLAS thread:        {best['sk1']:.3f} s")
    print(f"ratio engine / scikit-learn (default threads): {best['engine'] / best['sk']:.2f}")
    print(f"ratio engine / scikit-learn (1 thread):        {best['engine'] / best['sk1']:.2f}")
    print(
        f"test accuracy: engine {accuracy['engine']:.4f}, scikit-learn {accuracy['sk']:.4f} "
        f"(difference {100 * (accuracy['engine'] - accuracy['sk']):+.2f} points)"
    )


if __name__ == "__main__":
    main()
