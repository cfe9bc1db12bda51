"""DP-SGD (Abadi et al. 2016) in numpy.

Per step: a Poisson(q) subsample (the sampling the accountant assumes), per-example gradient
clipping to L2 norm C via ghost norms (no per-example gradients are materialised), the sum of the
clipped gradients plus Gaussian noise N(0, (sigma C)^2), divided by the *expected* batch size qN
(dividing by the realised size would leak it).

Randomness: the initialisation comes from the experiment seed (the same initial model as the
plaintext reference); the Poisson batches and the noise, which the guarantee rests on, come from
the operating system's entropy (:func:`~ppml_lab.privacy.randomness.privacy_rng`), unless the
run explicitly asked for deterministic (not private) noise.
"""

from __future__ import annotations

import time

import numpy as np

from ppml_lab.data import PreparedData
from ppml_lab.engines.base import CancelToken, EngineResult, EngineRun
from ppml_lab.engines.common import evaluate, metric_events
from ppml_lab.engines.dp.params import DPParams
from ppml_lab.engines.dp.sampling import poisson_batches
from ppml_lab.engines.events import BudgetSpent, Log, Overhead, Progress
from ppml_lab.models import Model, ModelParams, make_model
from ppml_lab.privacy import accounting
from ppml_lab.privacy.attacks import TrainFn
from ppml_lab.privacy.randomness import noise_source, privacy_rng

#: Stream of the privacy generator in deterministic-noise mode (batches and noise).
NOISE_STREAM = 301


def dp_sgd_step(
    model: Model,
    X: np.ndarray,
    y: np.ndarray,
    *,
    clip_norm: float,
    noise_std: float,
    expected_batch: float,
    learning_rate: float,
    rng: np.random.Generator,
    l2: float = 0.0,
    x_sqnorms: np.ndarray | None = None,
) -> None:
    """One DP-SGD update in place on the Poisson batch (X, y) (which may be empty).

    ``x_sqnorms`` are the batch rows' squared L2 norms if precomputed (they never change).
    """
    if len(y):
        grads = model.clipped_grad_sum(X, y, clip_norm, x_sqnorms)
    else:
        grads = [np.zeros_like(p) for p in model.params]
    for p, g in zip(model.params, grads):
        noisy = (g + rng.normal(0.0, noise_std, size=p.shape)) / expected_batch
        if l2:
            noisy = noisy + l2 * p
        p -= learning_rate * noisy


def poisson_schedule(n: int, batch_size: int) -> tuple[float, int]:
    """Sample rate q = batch_size / n (at most 1) and round(1/q) steps per epoch."""
    q = min(1.0, batch_size / n)
    return q, max(1, int(round(1.0 / q)))


def dp_sgd_epoch(
    model: Model,
    X: np.ndarray,
    y: np.ndarray,
    x_sqnorms: np.ndarray,
    *,
    sample_rate: float,
    steps: int,
    clip_norm: float,
    noise_std: float,
    learning_rate: float,
    rng: np.random.Generator,
    l2: float = 0.0,
) -> None:
    """``steps`` DP-SGD updates on Poisson(``sample_rate``) batches of (X, y), in place."""
    expected_batch = sample_rate * len(y)
    for idx in poisson_batches(len(y), sample_rate, steps, rng):
        dp_sgd_step(
            model,
            X[idx],
            y[idx],
            clip_norm=clip_norm,
            noise_std=noise_std,
            expected_batch=expected_batch,
            learning_rate=learning_rate,
            rng=rng,
            l2=l2,
            x_sqnorms=x_sqnorms[idx],
        )


def plan(data: PreparedData, model: ModelParams, params: DPParams) -> dict[str, float]:
    """Sample rate, steps, delta and noise multiplier for a run (calibrating sigma if needed)."""
    n = data.n_train
    delta = params.delta if params.delta is not None else accounting.default_delta(n)
    accounting.check_delta(delta, n)
    q, steps_per_epoch = poisson_schedule(n, model.batch_size)
    steps = steps_per_epoch * model.epochs
    if params.noise_multiplier is not None:
        sigma = float(params.noise_multiplier)
        calibrated = False
    else:
        assert params.epsilon is not None
        sigma = accounting.calibrate_noise(
            target_epsilon=params.epsilon,
            delta=delta,
            sample_rate=q,
            steps=steps,
            accountant=params.accountant,
        )
        calibrated = True
    return {
        "delta": delta,
        "sample_rate": q,
        "steps_per_epoch": steps_per_epoch,
        "steps": steps,
        "noise_multiplier": sigma,
        "calibrated": calibrated,
    }


def run_dp_sgd(
    data: PreparedData,
    model: ModelParams,
    params: DPParams,
    *,
    seed: int,
    cancel: CancelToken,
) -> EngineRun:
    init_rng = np.random.default_rng(seed)
    rng = privacy_rng(deterministic=params.deterministic_noise, seed=seed, stream=NOISE_STREAM)
    t_plan = time.perf_counter()
    setup = plan(data, model, params)
    calibration_seconds = time.perf_counter() - t_plan
    sigma, q = setup["noise_multiplier"], setup["sample_rate"]
    steps_per_epoch, delta = int(setup["steps_per_epoch"]), setup["delta"]
    if setup["calibrated"]:
        yield Log(
            message=f"Calibrated noise multiplier {sigma:.4g} for epsilon {params.epsilon:g} "
            f"(delta {delta:.2g}) in {calibration_seconds:.2f} s"
        )
    ledger = accounting.PrivacyLedger(
        noise_multiplier=sigma,
        sample_rate=q,
        delta=delta,
        accountant=params.accountant,
        planned_steps=int(setup["steps"]),
    )
    net = make_model(model, n_features=data.n_features, n_classes=data.n_classes, rng=init_rng)
    X, y = data.X_train, data.y_train
    noise_std = sigma * params.clip_norm
    x_sqnorms = np.einsum("ij,ij->i", X, X)  # per-row constants of the ghost norms
    train_seconds = 0.0
    accounting_seconds = 0.0
    metrics: dict[str, float] = {}
    epsilon = 0.0
    for epoch in range(1, model.epochs + 1):
        cancel.raise_if_cancelled()
        t0 = time.perf_counter()
        dp_sgd_epoch(
            net, X, y, x_sqnorms,
            sample_rate=q, steps=steps_per_epoch, clip_norm=params.clip_norm,
            noise_std=noise_std, learning_rate=model.learning_rate, rng=rng, l2=model.l2,
        )
        metrics = evaluate(net, data)
        t1 = time.perf_counter()
        # The curve's intermediate points use the fast live query, an upper bound that never
        # exceeds the final value; the last point, the epsilon we report, is the exact one
        # (memoised by the calibration, or computed with the first live point).
        steps_done = epoch * steps_per_epoch
        if epoch == model.epochs:
            epsilon = ledger.epsilon_after(steps_done)
        else:
            epsilon = ledger.live_epsilon_after(steps_done)
        t2 = time.perf_counter()
        train_seconds += t1 - t0
        accounting_seconds += t2 - t1
        yield from metric_events(epoch, metrics)
        yield BudgetSpent(step=epoch, epsilon=epsilon, delta=delta)
        yield Overhead(step=epoch, kind="seconds", value=train_seconds + accounting_seconds, unit="s")
        yield Progress(step=epoch, total=model.epochs, message=f"epoch {epoch}/{model.epochs}")
    privacy = {
        "mechanism": "dp-sgd",
        "epsilon": epsilon,
        "delta": delta,
        "accountant": params.accountant,
        "noise_multiplier": sigma,
        "sample_rate": q,
        "steps": int(setup["steps"]),
        "clip_norm": params.clip_norm,
        "target_epsilon": params.epsilon,
        "calibrated": bool(setup["calibrated"]),
        "guarantee": "record-level (epsilon, delta)-DP of the trained model",
        "noise_source": noise_source(params.deterministic_noise),
    }
    return EngineResult(
        model=net,
        final=metrics,
        privacy=privacy,
        overhead={
            "seconds": train_seconds + accounting_seconds + calibration_seconds,
            "train_seconds": train_seconds,
            "accounting_seconds": accounting_seconds,
            "calibration_seconds": calibration_seconds,
        },
    )


def dp_sgd_train_fn(
    model: ModelParams,
    *,
    noise_multiplier: float,
    clip_norm: float,
    n_classes: int,
    sample_rate: float,
    steps: int,
) -> TrainFn:
    """A ``train_fn(X, y, rng) -> model`` that trains as the audited :func:`run_dp_sgd` run did.

    The run's privacy parameters are fixed, not recomputed from the rows a shadow model gets:
    ``steps`` DP-SGD steps (the run's total, ``privacy["steps"]``) on Poisson(``sample_rate``)
    batches (the run's q, ``privacy["sample_rate"]``) of whatever rows it is given, with the
    run's clip norm and noise multiplier. A LiRA shadow on half of the attacker's pool therefore
    pays exactly the target's privacy cost (same q, steps and sigma: the same accountant
    epsilon), and every record is used q * steps times in expectation, as in the target; its
    expected batch, q times its rows, is smaller than the target's. On the run's own training
    rows it is the run's procedure (and replays a deterministic-noise run bit for bit).
    """
    q = float(sample_rate)
    total_steps = int(steps)
    if not 0.0 < q <= 1.0:
        raise ValueError(f"sample_rate must be in (0, 1], got {sample_rate}")
    if total_steps < 1 or total_steps != steps:
        raise ValueError(f"steps must be a positive integer, got {steps}")
    # The engine draws its batches epoch by epoch (steps / epochs per call); drawing them in
    # the same chunks keeps the generator's sequence, hence a replay, identical. (Any other
    # split of the steps would train with the same distribution, just other draws.)
    per_epoch, extra = divmod(total_steps, max(1, model.epochs))
    chunks = [per_epoch + (1 if i < extra else 0) for i in range(max(1, model.epochs))]

    def train(
        X: np.ndarray,
        y: np.ndarray,
        rng: np.random.Generator,
        noise_rng: np.random.Generator | None = None,
    ) -> Model:
        # The engine draws the initialisation from one generator and the batches and noise
        # from another; a shadow model may use one for both (``noise_rng=None``).
        noise_rng = rng if noise_rng is None else noise_rng
        net = make_model(model, n_features=X.shape[1], n_classes=n_classes, rng=rng)
        x_sqnorms = np.einsum("ij,ij->i", X, X)
        for chunk in chunks:
            if chunk == 0:
                continue
            dp_sgd_epoch(
                net, X, y, x_sqnorms,
                sample_rate=q, steps=chunk, clip_norm=clip_norm,
                noise_std=noise_multiplier * clip_norm, learning_rate=model.learning_rate,
                rng=noise_rng, l2=model.l2,
            )
        return net

    return train
