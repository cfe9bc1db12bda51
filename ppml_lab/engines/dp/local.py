"""Local differential privacy: every record is randomised by its owner before it is shared.

Each attribute of a record is released through its own epsilon_i-LDP mechanism and the
record's total budget is their sum (sequential composition). The label, what the model must
learn, gets half of epsilon; the feature attributes share the other half equally:

* numeric columns: clipped to [-3, 3] (in standardised units) and released with Laplace noise of
  scale 6 / epsilon_i (sensitivity 6 = the width of the range);
* categorical columns and the label: k-ary randomised response (the true value is kept with
  probability e^eps / (e^eps + k - 1), otherwise a uniformly random *other* value is sent).

The collector knows the noise settings (they are public), so it debiases the randomised table
(randomised response shrinks 0/1 columns towards 1/k; see :func:`debias`), scales each column by
its noise level, and trains the ordinary model on that. Central DP adds noise once to an
aggregate; local DP adds it to every value, which is why it is far less accurate at the same
epsilon: on Adult at epsilon 1-30 the model does no better than always predicting the majority
class, and on a few hundred rows the noisy labels can even tip it to the minority class.
"""

from __future__ import annotations

import time

import numpy as np

from ppml_lab.data import PreparedData
from ppml_lab.engines.base import CancelToken, EngineResult, EngineRun
from ppml_lab.engines.common import loss_and_accuracy, metric_events
from ppml_lab.engines.dp.params import DPParams
from ppml_lab.engines.events import BudgetSpent, Overhead, Progress
from ppml_lab.models import Model, ModelParams, make_model, sgd_epoch
from ppml_lab.privacy.randomness import noise_source, privacy_rng

#: Stream of the owners' randomisation in deterministic-noise mode.
NOISE_STREAM = 303

NUMERIC_BOUND = 3.0


def randomized_response(
    codes: np.ndarray, k: int, epsilon: float, rng: np.random.Generator
) -> np.ndarray:
    """k-ary randomised response over integer codes in ``range(k)`` (epsilon-LDP per value)."""
    keep_p = np.exp(epsilon) / (np.exp(epsilon) + k - 1)
    keep = rng.random(len(codes)) < keep_p
    # A uniformly random value among the k - 1 others: shift by 1..k-1 modulo k.
    other = (codes + rng.integers(1, k, size=len(codes))) % k if k > 1 else codes
    return np.where(keep, codes, other)


def feature_groups(data: PreparedData) -> list[tuple[str, list[int]]]:
    """Columns of X_train grouped by original attribute: ("numeric", [j]) or ("onehot", [j...])."""
    groups: list[tuple[str, list[int]]] = []
    onehot: dict[str, list[int]] = {}
    used = set(data.columns_used)
    for j, name in enumerate(data.feature_names):
        prefix, sep, _ = name.partition("=")
        if sep and prefix in used:
            onehot.setdefault(prefix, []).append(j)
        elif name.endswith(" was missing"):
            groups.append(("binary", [j]))
        else:
            groups.append(("numeric", [j]))
    groups.extend(("onehot", cols) for cols in onehot.values())
    return groups


def randomize_features(
    X: np.ndarray, groups: list[tuple[str, list[int]]], epsilon: float, rng: np.random.Generator
) -> np.ndarray:
    out = X.copy()
    n = len(X)
    for kind, cols in groups:
        if kind == "numeric":
            j = cols[0]
            clipped = np.clip(X[:, j], -NUMERIC_BOUND, NUMERIC_BOUND)
            out[:, j] = clipped + rng.laplace(0.0, 2 * NUMERIC_BOUND / epsilon, size=n)
        elif kind == "binary":
            j = cols[0]
            out[:, j] = randomized_response(X[:, j].astype(np.int64), 2, epsilon, rng)
        else:
            block = X[:, cols]
            k = len(cols)
            # Rows with no level set (an unseen category) are sent as level 0.
            codes = np.argmax(block, axis=1)
            noisy = randomized_response(codes, k, epsilon, rng)
            out[:, cols] = 0.0
            out[np.arange(n), np.asarray(cols)[noisy]] = 1.0
    return out


def debias(
    X_noisy: np.ndarray, groups: list[tuple[str, list[int]]], epsilon: float
) -> tuple[np.ndarray, np.ndarray]:
    """What the collector does with the randomised table, using only the public noise settings.

    Randomised response shrinks every 0/1 column towards 1/k (a column of United-States = 1 for
    90% of people arrives as about 1/k), so a model trained on it would meet different inputs on
    clean rows. The unbiased estimate ``(x_noisy - other) / (keep - other)`` (``keep`` = probability
    of the true value, ``other`` = of one given other value) undoes that in expectation; Laplace
    noise is already unbiased. Returns the debiased table divided by a per-column scale (the
    noise's standard deviation, so SGD stays stable) and that scale.
    """
    X = X_noisy.astype(np.float64, copy=True)
    scale = np.ones(X.shape[1])
    laplace_b = 2 * NUMERIC_BOUND / epsilon
    for kind, cols in groups:
        if kind == "numeric":
            scale[cols[0]] = np.sqrt(1.0 + 2.0 * laplace_b**2)
            continue
        k = 2 if kind == "binary" else len(cols)
        if k < 2:
            continue
        keep = np.exp(epsilon) / (np.exp(epsilon) + k - 1)
        other = (1.0 - keep) / (k - 1)
        gain = keep - other
        X[:, cols] = (X[:, cols] - other) / gain
        scale[cols] = max(1.0, 0.5 / gain)  # sd of a debiased 0/1 column is at most 0.5 / gain
    return X / scale, scale


def for_clean_rows(net: Model, scale: np.ndarray) -> Model:
    """A copy of ``net`` (trained on ``X / scale``) that takes unscaled rows."""
    out = net.copy()
    out.params[0] = out.params[0] / scale[:, None]
    return out


def run_local(
    data: PreparedData, model: ModelParams, params: DPParams, *, seed: int, cancel: CancelToken
) -> EngineRun:
    assert params.epsilon is not None
    # The owners' randomisation is the privacy mechanism: OS entropy unless deterministic (not
    # private). The collector's training (initialisation, shuffling) uses the experiment seed.
    noise_rng = privacy_rng(deterministic=params.deterministic_noise, seed=seed, stream=NOISE_STREAM)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    groups = feature_groups(data)
    # Half the budget for the label (what the model must learn), half shared by the features.
    label_epsilon = params.epsilon / 2.0
    per_attribute = params.epsilon / 2.0 / max(1, len(groups))
    X_noisy = randomize_features(data.X_train, groups, per_attribute, noise_rng)
    y_noisy = randomized_response(data.y_train, data.n_classes, label_epsilon, noise_rng)
    # The noise settings are public, so the collector debiases the table and puts every column
    # on a comparable scale (raw Laplace noise of scale 6/epsilon_i makes SGD diverge). The model
    # is trained on that and its first-layer weights divided by the same scale, so it applies to
    # clean rows.
    X_train_scaled, scale = debias(X_noisy, groups, per_attribute)
    randomise_seconds = time.perf_counter() - t0
    net = make_model(model, n_features=data.n_features, n_classes=data.n_classes, rng=rng)
    train_seconds = 0.0
    metrics: dict[str, float] = {}
    for epoch in range(1, model.epochs + 1):
        cancel.raise_if_cancelled()
        t1 = time.perf_counter()
        sgd_epoch(
            net, X_train_scaled, y_noisy, batch_size=model.batch_size,
            learning_rate=model.learning_rate, l2=model.l2, rng=rng,
        )
        train_seconds += time.perf_counter() - t1
        # Training metrics on what the collector holds (the randomised, debiased table and the
        # randomised labels): the clean training rows never reach it. Test metrics on the
        # held-out rows, with the model scaled back for clean inputs.
        train_loss, train_acc = loss_and_accuracy(net, X_train_scaled, y_noisy)
        test_loss, test_acc = loss_and_accuracy(for_clean_rows(net, scale), data.X_test, data.y_test)
        metrics = {
            "train_loss": train_loss,
            "train_accuracy": train_acc,
            "test_loss": test_loss,
            "test_accuracy": test_acc,
        }
        yield from metric_events(epoch, metrics)
        yield BudgetSpent(step=epoch, epsilon=params.epsilon, delta=0.0)
        yield Overhead(step=epoch, kind="seconds", value=randomise_seconds + train_seconds, unit="s")
        yield Progress(step=epoch, total=model.epochs, message=f"epoch {epoch}/{model.epochs}")
    return EngineResult(
        model=for_clean_rows(net, scale),
        final=metrics,
        privacy={
            "mechanism": "local",
            "epsilon": params.epsilon,
            "delta": 0.0,
            "accountant": "sequential composition over attributes (pure epsilon-LDP per record)",
            "epsilon_per_attribute": per_attribute,
            "epsilon_label": label_epsilon,
            "attributes": len(groups) + 1,
            "guarantee": "each record is epsilon-LDP before it leaves its owner",
            "noise_source": noise_source(params.deterministic_noise),
        },
        overhead={"seconds": randomise_seconds + train_seconds},
    )
