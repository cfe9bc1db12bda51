"""Objective perturbation: IBM diffprivlib's differentially private logistic regression.

diffprivlib needs a public bound on each row's L2 norm (``data_norm``); taking it from the data
would leak, so rows are first clipped to the user's norm C and C is passed as the bound.
The guarantee is pure epsilon-DP (delta = 0).
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from ppml_lab.data import PreparedData
from ppml_lab.engines.base import CancelToken, EngineResult, EngineRun
from ppml_lab.engines.common import evaluate, metric_events
from ppml_lab.engines.dp.params import DPParams
from ppml_lab.engines.events import BudgetSpent, Log, Overhead, Progress
from ppml_lab.models import LinearModel, ModelParams
from ppml_lab.privacy.randomness import noise_source, privacy_random_state

#: Stream of the noise generator in deterministic-noise mode.
NOISE_STREAM = 302


def clip_rows(X: np.ndarray, max_norm: float) -> np.ndarray:
    """Scale every row down to L2 norm at most ``max_norm``."""
    norms = np.linalg.norm(X, axis=1)
    return X * np.minimum(1.0, max_norm / np.maximum(norms, 1e-12))[:, None]


def run_objective(
    data: PreparedData, model: ModelParams, params: DPParams, *, seed: int, cancel: CancelToken
) -> EngineRun:
    from diffprivlib.models import LogisticRegression

    assert params.epsilon is not None
    if model.kind != "logistic":
        yield Log(
            message="Objective perturbation trains a logistic regression; the MLP setting is ignored.",
            level="warning",
        )
    cancel.raise_if_cancelled()
    yield Progress(step=0, total=1, message="fitting diffprivlib LogisticRegression")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # diffprivlib warns about convergence at small epsilon; that is expected noise.
        warnings.simplefilter("ignore")
        clf = LogisticRegression(
            epsilon=params.epsilon,
            data_norm=params.clip_norm,
            max_iter=1000,
            # The noise vector's randomness: OS entropy unless deterministic (not private).
            random_state=privacy_random_state(
                deterministic=params.deterministic_noise, seed=seed, stream=NOISE_STREAM
            ),
        )
        X_train = clip_rows(data.X_train, params.clip_norm)
        clf.fit(X_train, data.y_train)
    seconds = time.perf_counter() - t0
    net = LinearModel(n_features=data.n_features, n_classes=data.n_classes)
    coef = np.asarray(clf.coef_, dtype=float)
    intercept = np.asarray(clf.intercept_, dtype=float)
    if data.n_classes == 2:
        net.params = [coef.T.reshape(-1, 1).copy(), intercept.reshape(1).copy()]
    else:
        # One-vs-rest scores; the argmax gives the same predictions through a softmax.
        net.params = [coef.T.copy(), intercept.copy()]
    clipped = type(data)(**{**data.__dict__, "X_train": X_train, "X_test": clip_rows(data.X_test, params.clip_norm)})
    metrics = evaluate(net, clipped)
    yield from metric_events(1, metrics)
    yield BudgetSpent(step=1, epsilon=params.epsilon, delta=0.0)
    yield Overhead(step=1, kind="seconds", value=seconds, unit="s")
    yield Progress(step=1, total=1, message="done")
    return EngineResult(
        model=net,
        final=metrics,
        privacy={
            "mechanism": "objective",
            "epsilon": params.epsilon,
            "delta": 0.0,
            "accountant": "diffprivlib (pure epsilon-DP)",
            "clip_norm": params.clip_norm,
            "guarantee": "record-level epsilon-DP of the trained model (objective perturbation)",
            "noise_source": noise_source(params.deterministic_noise),
        },
        overhead={"seconds": seconds},
    )
