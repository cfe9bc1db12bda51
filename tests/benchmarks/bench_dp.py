"""DP-SGD speed against the plaintext engine, measured in one run.

Run: ``.venv/bin/python tests/benchmarks/bench_dp.py``. Prints:

* Adult, logistic, expected batch 256, 20 epochs: DP epoch time / plaintext epoch time, and the
  whole DP training + accounting time (target: ratio <= 1.3, total <= 2 s);
* MLP with 64 hidden units, B = 256: DP step with ghost norms / plaintext step, and the same with
  materialised per-example gradients (targets: <= 3x and about 20x);
* calibration of sigma to a target epsilon with the PLD accountant (target <= 1 s, within 1%).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import adult_data, best_of  # noqa: E402

from ppml_lab.engines.base import CancelToken  # noqa: E402
from ppml_lab.engines.dp import DPParams  # noqa: E402
from ppml_lab.engines.dp.dpsgd import dp_sgd_step, run_dp_sgd  # noqa: E402
from ppml_lab.engines.registry import get_engine  # noqa: E402
from ppml_lab.experiments.runner import drive  # noqa: E402
from ppml_lab.models import ModelParams, make_model, sgd_step  # noqa: E402
from ppml_lab.privacy import accounting  # noqa: E402


def main() -> None:
    data = adult_data()
    print(f"Adult: {data.n_train} training rows, {data.n_features} features")
    model = ModelParams(kind="logistic", epochs=20, batch_size=256, learning_rate=0.5)
    baseline = get_engine("baseline")

    def plain() -> object:
        return drive(baseline.run(data, model, baseline.Params(), seed=0, cancel=CancelToken()))

    def private() -> object:
        params = DPParams(noise_multiplier=1.0, clip_norm=1.0)
        return drive(run_dp_sgd(data, model, params, seed=0, cancel=CancelToken()))

    # Epoch time as each engine measures it (its training steps plus the per-epoch evaluation),
    # the best of 5 runs each, interleaved so both see the same machine load.
    plain_epochs, dp_epochs, totals, results = [], [], [], []
    for _ in range(5):
        plain_epochs.append(plain().overhead["seconds"] / model.epochs)
        t0 = time.perf_counter()
        results.append(private())
        totals.append(time.perf_counter() - t0)
        dp_epochs.append(results[-1].overhead["train_seconds"] / model.epochs)
    t_plain, t_dp_epoch, t_dp_total = min(plain_epochs), min(dp_epochs), min(totals)
    r = results[-1]
    print("\n== DP-SGD vs plaintext, Adult, logistic, B=256, 20 epochs ==")
    print(f"plaintext epoch      {t_plain * 1e3:8.1f} ms")
    print(f"DP-SGD epoch         {t_dp_epoch * 1e3:8.1f} ms   ratio {t_dp_epoch / t_plain:.2f}x (target <= 1.3x)")
    print(f"DP accounting total  {r.overhead['accounting_seconds']:8.3f} s   ({r.privacy['accountant']}, eps={r.privacy['epsilon']:.3f})")
    print(f"DP training+accounting {t_dp_total:6.3f} s (target <= 2 s)")

    print("\n== MLP (64 hidden), one step at B=256 ==")
    rng = np.random.default_rng(0)
    mlp = make_model(ModelParams(kind="mlp", hidden=64), n_features=data.n_features, n_classes=2, rng=rng)
    idx = rng.choice(data.n_train, 256, replace=False)
    Xb, yb = data.X_train[idx], data.y_train[idx]

    def step_plain() -> None:
        for _ in range(50):
            sgd_step(mlp, Xb, yb, learning_rate=0.0)

    def step_dp() -> None:
        for _ in range(50):
            dp_sgd_step(mlp, Xb, yb, clip_norm=1.0, noise_std=1.0, expected_batch=256.0,
                        learning_rate=0.0, rng=rng)

    def step_materialised() -> None:
        for _ in range(50):
            G = mlp.per_example_grads(Xb, yb)
            scale = np.minimum(1.0, 1.0 / np.maximum(np.linalg.norm(G, axis=1), 1e-12))
            summed = scale @ G
            _ = summed + rng.normal(0.0, 1.0, size=summed.shape)

    tp, td, tm = (best_of(f, 5) / 50 for f in (step_plain, step_dp, step_materialised))
    print(f"plaintext step          {tp * 1e6:8.0f} us")
    print(f"DP step (ghost norms)   {td * 1e6:8.0f} us   ratio {td / tp:.2f}x (target <= 3x)")
    print(f"DP step (materialised)  {tm * 1e6:8.0f} us   ratio {tm / tp:.2f}x")

    print("\n== Calibrating sigma (PLD), Adult settings ==")
    q = 256 / data.n_train
    steps = int(round(1 / q)) * 20
    for target in (0.3, 1.0, 3.0):
        t0 = time.perf_counter()
        sigma = accounting.calibrate_noise(target_epsilon=target, delta=1e-5, sample_rate=q, steps=steps)
        dt = time.perf_counter() - t0
        eps = accounting.epsilon_for(noise_multiplier=sigma, sample_rate=q, steps=steps, delta=1e-5)
        print(f"target {target:4.1f}: sigma {sigma:.4f}  eps {eps:.4f} ({eps / target:.4f} of target)  {dt:.2f} s")


if __name__ == "__main__":
    main()
