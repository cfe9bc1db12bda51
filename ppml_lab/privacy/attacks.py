"""Membership-inference audit: how much does a trained model reveal about who was in its data?

An attacker gets the trained model and a record and guesses whether the record was a training
*member*. :func:`audit_model` runs two attacks on a balanced set of members (rows of
``X_train``) and non-members (rows of ``X_test``, which the model never saw): the loss
threshold and LiRA. Every attack is summarised by its ROC curve, AUC, TPR at a low FPR (the
regime that matters: confidently identifying a few members, Carlini et al. 2022) and an
**empirical epsilon lower bound**, to be read against the accountant's upper bound.

This is the module to import; it runs the audit and re-exports the parts, one module per job:

:mod:`ppml_lab.privacy.attack_scores`
    The attacks' scores: loss threshold, LiRA and its shadow-model bookkeeping.
:mod:`ppml_lab.privacy.roc`
    ROC curve, AUC and TPR at a given FPR (scikit-learn).
:mod:`ppml_lab.privacy.audit_bound`
    The empirical epsilon lower bound (Clopper-Pearson with a Bonferroni correction), its
    ceiling for a given number of records, the independence heuristic behind it, and the
    plain-language verdict.
:mod:`ppml_lab.privacy.audit_result`
    :class:`AuditResult` and :func:`evaluate_scores`, which turns any scores into one.

Here: :func:`audit_model` (which records, which attacks, the LiRA pool) and
:func:`plain_sgd_train_fn`, the shadow-training procedure of the plaintext baseline.

These modules are Qt-free and sit below the engines in the import layers: shadow models are
trained only through the caller's ``train_fn``, so plaintext and DP models are attacked with the
procedure that produced them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ppml_lab.data import PreparedData
from ppml_lab.models import ModelParams, make_model, sgd_epoch
from ppml_lab.privacy.attack_scores import (
    TrainFn,
    _Cancellable,
    balanced_inclusion,
    lira_scores,
    logit_confidence,
    loss_scores,
)
from ppml_lab.privacy.audit_bound import (
    audit_ceiling,
    audit_verdict,
    clopper_pearson,
    empirical_epsilon,
)
from ppml_lab.privacy.audit_result import AuditResult, evaluate_scores
from ppml_lab.privacy.roc import roc_auc, roc_curve, tpr_at_fpr

__all__ = [
    "ATTACKS",
    "AuditResult",
    "TrainFn",
    "audit_ceiling",
    "audit_model",
    "audit_verdict",
    "balanced_inclusion",
    "clopper_pearson",
    "empirical_epsilon",
    "evaluate_scores",
    "lira_scores",
    "logit_confidence",
    "loss_scores",
    "plain_sgd_train_fn",
    "roc_auc",
    "roc_curve",
    "tpr_at_fpr",
]

ATTACKS: tuple[str, ...] = ("loss", "lira")


# --------------------------------------------------------------------------------------------
# Shadow training of the plaintext baseline (the DP one is dp_sgd_train_fn, in engines.dp)
# --------------------------------------------------------------------------------------------


def plain_sgd_train_fn(params: ModelParams, *, n_classes: int) -> TrainFn:
    """A ``train_fn`` that reproduces the plaintext baseline: ``params.epochs`` of minibatch SGD.

    ``n_classes`` is fixed by the caller so a shadow whose half of the pool misses a class still
    has the target model's output layer.
    """

    def train(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> Any:
        # What the shadows reproduce: the baseline engine's procedure, the same initialisation,
        # learning rate, weight decay, batch size B and number of passes (epochs), each a random
        # reordering into batches of B. Every record is therefore used once per epoch with
        # weight 1/B in a shadow as in the target, the per-record exposure that membership
        # inference sees; only the total step count scales with the rows (a shadow on half the
        # rows takes about half the steps). On the engine's own rows with the engine's seed this
        # is the engine's run bit for bit (one generator for the initialisation and the batches).
        # The DP analogue (dp_sgd_train_fn) instead fixes the target's sample rate q and step
        # count T: that keeps the privacy cost identical and also uses every record q T ~ epochs
        # times in expectation.
        net = make_model(params, n_features=X.shape[1], n_classes=n_classes, rng=rng)
        for _ in range(params.epochs):
            sgd_epoch(
                net,
                X,
                y,
                batch_size=params.batch_size,
                learning_rate=params.learning_rate,
                l2=params.l2,
                rng=rng,
            )
        return net

    return train


# --------------------------------------------------------------------------------------------
# The audit
# --------------------------------------------------------------------------------------------


def audit_model(
    model: Any,
    data: PreparedData,
    *,
    delta: float,
    rng: np.random.Generator | int,
    train_fn: TrainFn | None = None,
    attacks: Sequence[str] | None = None,
    max_records: int = 1000,
    n_shadows: int = 8,
    shadow_pool_size: int | None = None,
    lira_variant: str = "online",
    confidence: float = 0.95,
    correction: str = "bonferroni",
    cancel: _Cancellable | None = None,
) -> dict[str, AuditResult]:
    """Run membership-inference attacks against a model trained on ``data.X_train``.

    Members are a random sample of the training rows, non-members an equally large sample of the
    test rows (balanced, so AUC 0.5 is guessing).

    The returned ``epsilon_lower_bound`` is what the attacks *demonstrably* achieve (under the
    independence heuristic of the module docstring); the privacy accountant's epsilon is an
    *upper* bound on what any attack can achieve. For a DP model the lower bound must not exceed
    the accountant's epsilon (at the same delta), a test that can only fail when the proven
    epsilon is below ``epsilon_ceiling`` (see :func:`audit_verdict`); for a non-private model a
    positive lower bound is evidence of measurable membership leakage.

    Parameters
    ----------
    model : object
        The trained model (``per_example_losses``; ``logits`` if available).
    data : PreparedData
        The split the model was trained on.
    delta : float
        Delta of the guarantee being audited; for a DP model pass the accountant's delta. For a
        non-private model use the same rule as DP runs, e.g. ``1 / (10 * n_train)``.
    rng : numpy.random.Generator or int
        Randomness for the record samples and the shadow models (an int is a seed).
    train_fn : callable, optional
        ``train_fn(X, y, rng) -> model`` reproducing the model's training procedure (plaintext:
        :func:`plain_sgd_train_fn`; DP: a wrapper around the DP engine). Needed by LiRA only.
    attacks : sequence of str, optional
        Any of ``"loss"`` and ``"lira"``. Default: both if ``train_fn`` is given, else ``loss``.
        Asking for ``lira`` without ``train_fn`` is an error.
    max_records : int
        Cap on the records attacked per side (the cost of scoring; the ROC has up to
        ``2 * max_records`` points).
    n_shadows : int
        LiRA's shadow models (even, >= 4); each costs one training on half the pool.
    shadow_pool_size : int, optional
        Rows in the LiRA pool: the attacked records plus a random sample of the other rows of
        the dataset. Default: all rows, so shadows train on about as many rows as half the
        dataset. Smaller pools are cheaper but train shadows on less data than the target.
    lira_variant : {"online", "offline"}
        See :func:`lira_scores`.
    confidence, correction
        See :func:`empirical_epsilon`.
    cancel : object, optional
        Anything with ``raise_if_cancelled()``; checked between attacks and shadow models.

    Returns
    -------
    dict of str to AuditResult
        One entry per attack, in the order requested.
    """
    rng = np.random.default_rng(rng)
    if attacks is None:
        attacks = ATTACKS if train_fn is not None else ("loss",)
    unknown = [a for a in attacks if a not in ATTACKS]
    if unknown:
        raise ValueError(f"unknown attack {unknown[0]!r}; choose from {', '.join(ATTACKS)}")
    if "lira" in attacks and train_fn is None:
        raise ValueError("the 'lira' attack trains shadow models: pass train_fn")
    if max_records < 1:
        raise ValueError("max_records must be at least 1")
    n_train, n_test = len(data.y_train), len(data.y_test)
    n = min(n_train, n_test, int(max_records))
    if n < 1:
        raise ValueError("an audit needs training rows (members) and test rows (non-members)")
    members = np.sort(rng.choice(n_train, size=n, replace=False))
    nonmembers = np.sort(rng.choice(n_test, size=n, replace=False))
    X_targets = np.concatenate([data.X_train[members], data.X_test[nonmembers]])
    y_targets = np.concatenate([data.y_train[members], data.y_test[nonmembers]])
    is_member = np.r_[np.ones(n, dtype=bool), np.zeros(n, dtype=bool)]

    results: dict[str, AuditResult] = {}
    for name in attacks:
        if cancel is not None:
            cancel.raise_if_cancelled()
        t0 = time.perf_counter()
        details: dict[str, Any] = {}
        if name == "loss":
            scores = loss_scores(model, X_targets, y_targets)
        else:
            assert train_fn is not None
            X_pool, y_pool = _lira_pool(data, members, nonmembers, X_targets, y_targets,
                                        shadow_pool_size, rng)
            scores = lira_scores(
                model,
                X_pool,
                y_pool,
                train_fn=train_fn,
                rng=rng,
                n_targets=len(y_targets),
                n_shadows=n_shadows,
                variant=lira_variant,
                cancel=cancel,
            )
            details = {
                "n_shadows": n_shadows,
                "variant": lira_variant,
                "pool_size": len(y_pool),
                "fixed_variance": True,
            }
        results[name] = evaluate_scores(
            name,
            scores[is_member],
            scores[~is_member],
            delta=delta,
            confidence=confidence,
            correction=correction,
            seconds=time.perf_counter() - t0,
            details=details,
        )
    return results


def _lira_pool(
    data: PreparedData,
    members: np.ndarray,
    nonmembers: np.ndarray,
    X_targets: np.ndarray,
    y_targets: np.ndarray,
    pool_size: int | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """The attacked records first, then other rows of the dataset as extra shadow data."""
    rest_train = np.setdiff1d(np.arange(len(data.y_train)), members)
    rest_test = np.setdiff1d(np.arange(len(data.y_test)), nonmembers)
    X_rest = np.concatenate([data.X_train[rest_train], data.X_test[rest_test]])
    y_rest = np.concatenate([data.y_train[rest_train], data.y_test[rest_test]])
    n_extra = len(y_rest) if pool_size is None else max(0, int(pool_size) - len(y_targets))
    pick = rng.choice(len(y_rest), size=min(n_extra, len(y_rest)), replace=False)
    return np.concatenate([X_targets, X_rest[pick]]), np.concatenate([y_targets, y_rest[pick]])
