"""The plaintext twins of the secure protocols: the same computations in numpy.

Same model layout (coefficients, then the intercept), same initial model (zeros), same
iterations, step size, L2 penalty and *the same sigmoid approximation* as the parties use
(:mod:`.sigmoid`), so that secure and plaintext results differ only by fixed-point rounding:
that difference is the protocol's fidelity, and the twin's run time is the "plaintext time of the
same computation". Only numpy: the lab imports this module in its own process.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ppml_lab.engines.smpc import sigmoid as sigmoids
from ppml_lab.engines.smpc.wire import PartyJob

__all__ = [
    "aggregation",
    "aggregation_learning_rate",
    "gradient",
    "local_update",
    "round_update",
    "score",
    "train",
    "with_intercept",
]


def with_intercept(X: np.ndarray) -> np.ndarray:
    """``X`` with a column of ones appended (the intercept is the last coefficient)."""
    X = np.asarray(X, dtype=np.float64)
    return np.hstack([X, np.ones((X.shape[0], 1))])


def gradient(X1: np.ndarray, y: np.ndarray, w: np.ndarray, job: PartyJob) -> np.ndarray:
    """Gradient of the mean logistic loss (sigmoid replaced by ``job.sigmoid``) + L2 on all of w.

    The L2 term covers the intercept too, as the lab's own SGD does
    (:func:`ppml_lab.models.training.sgd_step`).
    """
    s = sigmoids.get(job.sigmoid)(X1 @ w)
    g = X1.T @ (s - y) / len(y)
    if job.l2:
        g = g + job.l2 * w
    return g


def train(X: np.ndarray, y: np.ndarray, job: PartyJob) -> np.ndarray:
    """Full-batch gradient descent from zeros: the twin of the secure training.

    Returns the coefficients followed by the intercept.
    """
    X1 = with_intercept(X)
    y = np.asarray(y, dtype=np.float64)
    w = np.zeros(X1.shape[1])
    # A polynomial sigmoid can diverge with a large step (scores beyond its range): the result
    # then has inf/nan entries, which the caller reports, rather than numpy warnings.
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(job.iterations):
            w = w - job.learning_rate * gradient(X1, y, w, job)
    return w


def score(X: np.ndarray, weights: np.ndarray, job: PartyJob | None = None) -> np.ndarray:
    """The scores (logits) ``X w + b`` of the records ``X``: the twin of secure scoring."""
    w = np.asarray(weights, dtype=np.float64)
    return np.asarray(X, dtype=np.float64) @ w[:-1] + w[-1]


def aggregation_learning_rate(job: PartyJob) -> float:
    """The step size of the local training in the aggregation protocol."""
    return float(job.extra.get("aggregation_learning_rate", job.learning_rate))


def local_update(
    X: np.ndarray, y: np.ndarray, w: np.ndarray, job: PartyJob, round_: int, party: int
) -> np.ndarray:
    """One party's local training in one aggregation round: returns its new model.

    Minibatch SGD on the mean logistic loss with the exact sigmoid (this part runs in plaintext
    inside the party, so nothing needs approximating), ``job.local_epochs`` passes of
    ``job.batch_size`` rows, L2 on all weights. The shuffling is seeded from the job's
    (non-secret) seed, the round and the party, so the twin repeats it exactly.
    """
    X1 = with_intercept(X)
    y = np.asarray(y, dtype=np.float64)
    w = np.array(w, dtype=np.float64)
    n = len(y)
    if n == 0:
        return w
    lr = aggregation_learning_rate(job)
    batch = max(1, int(job.batch_size))
    rng = np.random.default_rng([int(job.seed), int(round_), int(party)])
    for _ in range(max(1, int(job.local_epochs))):
        order = rng.permutation(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            Xb = X1[idx]
            g = Xb.T @ (sigmoids.sigmoid(Xb @ w) - y[idx]) / len(idx)
            if job.l2:
                g = g + job.l2 * w
            w -= lr * g
    return w


def round_update(
    X_parts: Sequence[np.ndarray], y_parts: Sequence[np.ndarray], w: np.ndarray, job: PartyJob,
    round_: int,
) -> np.ndarray:
    """The sum over parties of ``n_p / n * (w_p - w)``: what the aggregation computes securely."""
    n = sum(len(y) for y in y_parts)
    total = np.zeros(len(w))
    for p, (X, y) in enumerate(zip(X_parts, y_parts)):
        total += len(y) / n * (local_update(X, y, w, job, round_, p) - w)
    return total


def aggregation(
    X_parts: Sequence[np.ndarray], y_parts: Sequence[np.ndarray], job: PartyJob,
    w0: np.ndarray | None = None,
) -> np.ndarray:
    """The twin of secure aggregation: FedAvg rounds with a plaintext sum of the updates."""
    d = np.asarray(X_parts[0]).shape[1]
    w = np.zeros(d + 1) if w0 is None else np.array(w0, dtype=np.float64)
    for r in range(job.iterations):
        w = w + round_update(X_parts, y_parts, w, job, r)
    return w
