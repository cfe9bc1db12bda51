"""Membership-inference attack scores: higher means "more likely a training member".

* **loss threshold** (Yeom et al. 2018): members tend to have a lower loss, so the score is
  ``-loss`` (:func:`loss_scores`); no shadow models, no cost.
* **LiRA** (Carlini et al. 2022, "Membership inference attacks from first principles",
  :func:`lira_scores`): train ``K`` shadow models with the caller's own training procedure on
  random halves of a pool that contains the target records, so every target is IN for exactly
  ``K/2`` shadows and OUT for the other ``K/2`` (:func:`balanced_inclusion`). For each target,
  fit Gaussians to the shadows' logit-scaled confidence ``phi = log(p_y / (1 - p_y))``
  (:func:`logit_confidence`) when IN and when OUT, and score the target model's ``phi`` by the
  likelihood ratio (online variant) or by its z-score against OUT only (offline variant).

Shadow models are trained only through the caller's ``train_fn`` (:data:`TrainFn`), so
plaintext and DP models are attacked with the procedure that produced them. How the scores
become an ROC, an AUC and an epsilon lower bound is in :mod:`.roc` and :mod:`.audit_bound`;
:mod:`.attacks` runs the whole audit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

__all__ = ["TrainFn", "balanced_inclusion", "lira_scores", "logit_confidence", "loss_scores"]

TrainFn = Callable[[np.ndarray, np.ndarray, np.random.Generator], Any]
"""``train_fn(X, y, rng) -> model``: trains a fresh model (with ``per_example_losses`` and
preferably ``logits``) on (X, y) with the same procedure as the audited model."""


class _Cancellable(Protocol):
    def raise_if_cancelled(self) -> None: ...


def loss_scores(model: Any, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Loss-threshold attack score (Yeom et al. 2018): ``-loss``, higher means "member"."""
    return -np.asarray(model.per_example_losses(X, y), dtype=np.float64)


def logit_confidence(model: Any, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Logit-scaled confidence on the true class, ``phi = log p_y - log(1 - p_y)``.

    LiRA fits Gaussians to ``phi`` because, unlike ``p_y`` (squashed near 1 for members), it is
    roughly normal over training runs (Carlini et al. 2022, Sec. 4.3).

    Parameters
    ----------
    model : object
        A trained model. If it has ``logits(X)`` we compute ``phi`` exactly from them (a single
        logit column is a sigmoid output for class 1, as in :mod:`ppml_lab.models`); otherwise
        from ``per_example_losses``.
    X, y : ndarray
        Records and integer labels.

    Returns
    -------
    ndarray of shape (n,)
    """
    y = np.asarray(y)
    logits_fn = getattr(model, "logits", None)
    if callable(logits_fn):
        z = np.asarray(logits_fn(X), dtype=np.float64)
        if z.ndim == 2 and z.shape[1] == 1:
            return np.where(y == 1, z[:, 0], -z[:, 0])
        if z.ndim == 2 and z.shape[1] >= 2:
            # z_y - logsumexp of the other logits: no probability is formed, so confident
            # predictions do not saturate at p = 1 (which would tie every member).
            rows = np.arange(len(y))
            others = z.copy()
            others[rows, y] = -np.inf
            from scipy import special  # imported when first needed: scipy is slow to import

            return z[rows, y] - special.logsumexp(others, axis=1)
    # From the loss: log p_y = -loss and log(1 - p_y) = log(-expm1(-loss)), both stable. A loss
    # that underflowed to 0 is floored so phi stays finite (large, tied).
    loss = np.maximum(np.asarray(model.per_example_losses(X, y), dtype=np.float64), 1e-300)
    return -loss - np.log(-np.expm1(-loss))


def balanced_inclusion(n_shadows: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Which pool rows each shadow model trains on: shape (n_shadows, n), boolean.

    Every row is IN for exactly ``n_shadows // 2`` shadows (Carlini et al.'s construction), so
    every target has the same number of IN and OUT observations; each shadow trains on about
    half of the pool.
    """
    ranks = rng.random((n_shadows, n)).argsort(axis=0).argsort(axis=0)
    return ranks < n_shadows // 2


def lira_scores(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    *,
    train_fn: TrainFn,
    rng: np.random.Generator,
    n_targets: int | None = None,
    n_shadows: int = 8,
    variant: str = "online",
    fixed_variance: bool = True,
    cancel: _Cancellable | None = None,
) -> np.ndarray:
    """LiRA membership scores for the first ``n_targets`` rows of the pool (X, y).

    Parameters
    ----------
    model : object
        The audited (target) model.
    X, y : ndarray
        The attacker's pool. Its first ``n_targets`` rows are the records to score; the rest
        only serve as shadow training data.
    train_fn : callable
        ``train_fn(X, y, rng) -> model``, the same training procedure as the target's.
    rng : numpy.random.Generator
        Draws the shadows' data halves and seeds each shadow's training.
    n_targets : int, optional
        Number of leading rows to score (default: all).
    n_shadows : int
        Number of shadow models ``K`` (even, at least 4). Cost is ``K`` trainings on half the
        pool; Carlini et al. report most of LiRA's power with few shadows when the variance is
        shared across records.
    variant : {"online", "offline"}
        ``online``: likelihood ratio of the IN and OUT Gaussians. ``offline``: one-sided z-score
        against the OUT Gaussian only (uses only the shadows that did not see the target).
    fixed_variance : bool
        Use one pooled within-record variance for all targets (recommended for small ``K``:
        with 4 observations a per-record variance is too noisy) instead of per-record variances.
    cancel : object, optional
        Anything with ``raise_if_cancelled()`` (e.g. an engine's CancelToken); checked between
        shadow models.

    Returns
    -------
    ndarray of shape (n_targets,)
        Higher means "more likely a member".
    """
    if n_shadows < 4 or n_shadows % 2:
        raise ValueError(f"LiRA needs an even number of shadow models >= 4, got {n_shadows}")
    if variant not in ("online", "offline"):
        raise ValueError(f"unknown LiRA variant {variant!r}; use 'online' or 'offline'")
    n_pool = len(y)
    n_targets = n_pool if n_targets is None else int(n_targets)
    keep = balanced_inclusion(n_shadows, n_pool, rng)
    Xt, yt = X[:n_targets], y[:n_targets]
    phi = np.empty((n_shadows, n_targets))
    for k, child in enumerate(rng.spawn(n_shadows)):
        if cancel is not None:
            cancel.raise_if_cancelled()
        shadow = train_fn(X[keep[k]], y[keep[k]], child)
        phi[k] = logit_confidence(shadow, Xt, yt)
    target_phi = logit_confidence(model, Xt, yt)

    is_in = keep[:, :n_targets]
    half = n_shadows // 2  # observations per record and side, by construction of `keep`

    def gaussian(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = np.where(mask, phi, 0.0).sum(axis=0) / half
        sq = np.where(mask, (phi - mean) ** 2, 0.0)
        if fixed_variance:
            # Pooled within-record variance, n_targets * (half - 1) degrees of freedom.
            var = np.full(n_targets, sq.sum() / max(n_targets * (half - 1), 1))
        else:
            var = sq.sum(axis=0) / (half - 1)
        # A floor keeps a degenerate (deterministic) training procedure from dividing by zero.
        return mean, np.sqrt(np.maximum(var, 1e-12))

    mu_out, sd_out = gaussian(~is_in)
    z_out = (target_phi - mu_out) / sd_out
    if variant == "offline":
        return z_out
    mu_in, sd_in = gaussian(is_in)
    z_in = (target_phi - mu_in) / sd_in
    # log N(phi; mu_in, sd_in) - log N(phi; mu_out, sd_out)
    return 0.5 * (z_out**2 - z_in**2) + np.log(sd_out) - np.log(sd_in)

