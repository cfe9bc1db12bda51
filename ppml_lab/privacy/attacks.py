"""Membership-inference audit: how much does a trained model reveal about who was in its data?

An attacker gets the trained model and a record and guesses whether the record was a training
*member*. We run two attacks on a balanced set of members (rows of ``X_train``) and
non-members (rows of ``X_test``, which the model never saw):

* **loss threshold** (Yeom et al. 2018): members tend to have a lower loss, so the score is
  ``-loss``; no shadow models, no cost.
* **LiRA** (Carlini et al. 2022, "Membership inference attacks from first principles"): train
  ``K`` shadow models with the caller's own training procedure on random halves of a pool that
  contains the target records, so every target is IN for exactly ``K/2`` shadows and OUT for the
  other ``K/2``. For each target, fit Gaussians to the shadows' logit-scaled confidence
  ``phi = log(p_y / (1 - p_y))`` when IN and when OUT, and score the target model's ``phi`` by the
  likelihood ratio (online variant) or by its z-score against OUT only (offline variant).

Every attack is summarised by its ROC curve, AUC, TPR at a low FPR (the regime that matters:
confidently identifying a few members, Carlini et al. 2022) and an **empirical epsilon lower
bound**.

The bound
---------
An (epsilon, delta)-DP training algorithm forces every membership test to satisfy
``TPR <= e^eps FPR + delta`` and ``1 - FPR <= e^eps (1 - TPR) + delta``, so a test that achieves
(FPR, TPR) shows ``eps >= log((TPR - delta) / FPR)`` and ``eps >= log((1 - FPR - delta) / (1 - TPR))``.
We measure the rates on the ROC of the *one* trained model: at each threshold, a one-sided
Clopper-Pearson upper bound on the FPR (over the non-members) and lower bound on the TPR (over
the members), by default with a Bonferroni correction over the thresholds (see
:func:`empirical_epsilon`), so picking the best threshold after the fact is accounted for. The
largest resulting epsilon (at least 0) is the bound.

The intervals treat every record as an independent Bernoulli trial. That is a **heuristic**, not
a proof: the members are the training split chosen by the data layer (not records included by
an independent coin flip before training), the non-members are the test split, and all members
shape the same model, so their scores are not independent trials. Clopper-Pearson audits in the
literature (Jagielski et al. 2020, Nasr et al. 2021) count independently trained models as the
trials; here a trial is a record of a single model. Read the bound as strong evidence at the
nominal confidence, not as a certified lower bound.

The ceiling
-----------
With ``n`` members and ``m`` non-members the bound cannot exceed :func:`audit_ceiling`, the
bound of a perfect attack (every member scored above every non-member): about 3.9 with
500 + 500 records at 95 % confidence, 2.6 with 114 + 114, 6.7 with 10,000 + 10,000. An
accountant's epsilon above the ceiling cannot be tested by this audit at all: "measured <=
proven" is then guaranteed by the sample size and confirms nothing. Only when the ceiling
exceeds the proven epsilon could the audit have caught a broken guarantee, and even then
passing is consistent with the guarantee, not a proof of privacy (:func:`audit_verdict` says
which case applies).

Reading the numbers
-------------------
The empirical epsilon is a **lower** bound: what an attack demonstrates. The accountant's
epsilon is an **upper** bound: what no attack can exceed. So ``epsilon_lower_bound <=
accountant epsilon`` should always hold; a violation means a bug in the training code or the
accountant, the 1 - confidence chance of an invalid interval, or a failure of the independence
heuristic above. A large gap is normal: the accountant covers the worst case (any record, any
attacker), while this audit attacks natural records of one trained model with two practical
attacks, and one-run audits of natural data are typically far from tight (Steinke, Nasr and
Jagielski 2023, "Privacy auditing with one (1) training run").
A lower bound of 0 does not mean the model is private, only that these attacks found nothing
statistically significant.

This module is Qt-free and sits below the engines in the import layers: it trains shadow
models only through the caller's ``train_fn``, so plaintext and DP models are attacked with the
procedure that produced them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy import special, stats

from ppml_lab.data import PreparedData
from ppml_lab.models import ModelParams, make_model, sgd_epoch

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

TrainFn = Callable[[np.ndarray, np.ndarray, np.random.Generator], Any]
"""``train_fn(X, y, rng) -> model``: trains a fresh model (with ``per_example_losses`` and
preferably ``logits``) on (X, y) with the same procedure as the audited model."""


class _Cancellable(Protocol):
    def raise_if_cancelled(self) -> None: ...


# --------------------------------------------------------------------------------------------
# Attack scores
# --------------------------------------------------------------------------------------------


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
# Metrics
# --------------------------------------------------------------------------------------------


def _check_scores(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = np.asarray(member_scores, dtype=np.float64).ravel()
    o = np.asarray(nonmember_scores, dtype=np.float64).ravel()
    if len(m) == 0 or len(o) == 0:
        raise ValueError("an audit needs at least one member and one non-member score")
    if np.isnan(m).any() or np.isnan(o).any():
        raise ValueError("attack scores contain NaN")
    return m, o


def _roc_counts(
    member_scores: np.ndarray, nonmember_scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True- and false-positive counts for "member if score >= t" at every distinct threshold.

    Returns ``(tp, fp, thresholds)``, starting at ``t = +inf`` (nothing flagged) and ending at
    the lowest score (everything flagged). Tied scores move together, so a tie between a member
    and a non-member is a diagonal ROC segment.
    """
    m, o = _check_scores(member_scores, nonmember_scores)
    scores = np.concatenate([m, o])
    is_member = np.concatenate([np.ones(len(m), dtype=np.int64), np.zeros(len(o), dtype=np.int64)])
    order = np.argsort(-scores, kind="stable")
    s, lab = scores[order], is_member[order]
    last_of_tie = np.r_[np.flatnonzero(s[1:] != s[:-1]), len(s) - 1]
    tp = np.r_[0, np.cumsum(lab)[last_of_tie]]
    fp = np.r_[0, np.cumsum(1 - lab)[last_of_tie]]
    return tp, fp, np.r_[np.inf, s[last_of_tie]]


def roc_curve(
    member_scores: np.ndarray, nonmember_scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve of the test "member if score >= threshold".

    Returns
    -------
    fpr, tpr, thresholds : ndarray
        From (0, 0) at ``threshold = inf`` to (1, 1), one point per distinct score.
    """
    tp, fp, thresholds = _roc_counts(member_scores, nonmember_scores)
    return fp / fp[-1], tp / tp[-1], thresholds


def roc_auc(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> float:
    """Area under the ROC curve: P(member score > non-member score) + 0.5 P(tie)."""
    fpr, tpr, _ = roc_curve(member_scores, nonmember_scores)
    return float(np.trapezoid(tpr, fpr))


def tpr_at_fpr(fpr: np.ndarray, tpr: np.ndarray, max_fpr: float) -> float:
    """Highest TPR over ROC points with FPR <= ``max_fpr`` (no interpolation, Carlini et al.)."""
    fpr, tpr = np.asarray(fpr), np.asarray(tpr)
    ok = fpr <= max_fpr + 1e-12
    return float(tpr[ok].max()) if ok.any() else 0.0


def _cp_lower(k: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """One-sided Clopper-Pearson lower bound: P(p < bound) <= alpha."""
    # beta.ppf needs positive shape parameters: substitute a safe one where the bound is 0.
    return np.where(k > 0, stats.beta.ppf(alpha, np.maximum(k, 1), n - k + 1), 0.0)


def _cp_upper(k: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """One-sided Clopper-Pearson upper bound: P(p > bound) <= alpha."""
    return np.where(k < n, stats.beta.ppf(1.0 - alpha, k + 1, np.maximum(n - k, 1)), 1.0)


def clopper_pearson(
    k: np.ndarray | int, n: int, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided Clopper-Pearson (exact binomial) interval for a proportion ``k / n``.

    Each side holds with probability at least ``1 - (1 - confidence) / 2``.

    Returns
    -------
    low, high : ndarray
        Same shape as ``k``.
    """
    k = np.asarray(k, dtype=np.float64)
    if n <= 0:
        raise ValueError("clopper_pearson needs n >= 1")
    if np.any((k < 0) | (k > n)):
        raise ValueError("counts must lie between 0 and n")
    half_alpha = (1.0 - confidence) / 2.0
    return _cp_lower(k, n, half_alpha), _cp_upper(k, n, half_alpha)


def empirical_epsilon(
    member_scores: np.ndarray,
    nonmember_scores: np.ndarray,
    *,
    delta: float,
    confidence: float = 0.95,
    correction: str = "bonferroni",
) -> float:
    """Lower bound on epsilon demonstrated by an attack's scores on one trained model.

    Valid at the given confidence if the records' scores are independent trials, a heuristic
    for one model's training split (see the module docstring).

    For each threshold of the ROC, with ``FPR_hi`` the Clopper-Pearson upper bound on the
    false-positive rate and ``TPR_lo`` the lower bound on the true-positive rate,

    ``eps >= log((TPR_lo - delta) / FPR_hi)`` and ``eps >= log((1 - FPR_hi - delta) / (1 - TPR_lo))``

    must hold for any (eps, delta)-DP training algorithm; we return the largest such value (at
    least 0). ``1 - confidence`` is split equally between the FPR and the TPR bounds.

    Parameters
    ----------
    member_scores, nonmember_scores : ndarray
        Attack scores, higher means "member".
    delta : float
        The delta of the guarantee being audited (e.g. the accountant's).
    confidence : float
        Probability that the returned value is a true lower bound, treating the records' scores
        as independent draws (see the module docstring).
    correction : {"bonferroni", "none"}
        ``bonferroni`` (simultaneous): the bounds hold for all thresholds at once, so taking the best
        threshold after seeing the scores is allowed. The worst threshold with ``k`` false
        positives sits just above the ``(k+1)``-th highest non-member score, whose true FPR is
        Beta(k+1, n-k) distributed, exactly the Clopper-Pearson quantile; so a union bound over
        the ``n_nonmembers`` possible counts (``n_members`` for TPR) covers every threshold.
        ``none``: per-threshold intervals, as many published audits use; slightly optimistic
        (a bound above 0 for identical score distributions about 5% of the time).

    Returns
    -------
    float
    """
    if not 0.0 <= delta < 1.0:
        raise ValueError(f"delta must be in [0, 1), got {delta}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if correction not in ("bonferroni", "none"):
        raise ValueError(f"unknown correction {correction!r}; use 'bonferroni' or 'none'")
    tp, fp, _ = _roc_counts(member_scores, nonmember_scores)
    n_members, n_nonmembers = int(tp[-1]), int(fp[-1])
    # Both bounds grow with the true-positive count and shrink with the false-positive count,
    # so only Pareto points of the ROC can attain the maximum: the highest point of each
    # vertical run (the next step adds a false positive) that was reached by adding a true
    # positive. This prunes the expensive beta quantiles without changing the result.
    last = len(tp) - 1
    idx = np.arange(1, last)  # (0, 0) and (1, 1) show nothing
    idx = idx[(fp[idx + 1] > fp[idx]) & (tp[idx] > tp[idx - 1])]
    if len(idx) == 0:
        return 0.0
    tp, fp = tp[idx].astype(np.float64), fp[idx].astype(np.float64)
    alpha_each = (1.0 - confidence) / 2.0
    alpha_tpr, alpha_fpr = alpha_each, alpha_each
    if correction == "bonferroni":
        alpha_tpr /= n_members
        alpha_fpr /= n_nonmembers
    tpr_lo = _cp_lower(tp, n_members, alpha_tpr)
    fpr_hi = _cp_upper(fp, n_nonmembers, alpha_fpr)
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = np.where(tpr_lo > delta, np.log((tpr_lo - delta) / fpr_hi), -np.inf)
        tnr_lo = 1.0 - fpr_hi - delta
        complement = np.where(tnr_lo > 0, np.log(tnr_lo / (1.0 - tpr_lo)), -np.inf)
    best = float(np.max(np.maximum(direct, complement)))
    return max(best, 0.0)


def audit_ceiling(
    n_members: int,
    n_nonmembers: int,
    *,
    delta: float,
    confidence: float = 0.95,
    correction: str = "bonferroni",
) -> float:
    """The largest epsilon an audit of ``n_members`` + ``n_nonmembers`` records can demonstrate.

    It is :func:`empirical_epsilon` of perfectly separated scores (every member above every
    non-member): its bounds grow with the true positives and shrink with the false positives,
    so no ROC does better than (TPR, FPR) = (1, 0). An accountant's epsilon at or above the
    ceiling cannot be tested by such an audit: the lower bound stays below it whatever the model.

    Parameters
    ----------
    n_members, n_nonmembers : int
        Records attacked on each side (at least 1).
    delta, confidence, correction
        As for :func:`empirical_epsilon`.

    Returns
    -------
    float
        Grows with the number of records (about 3.9 with 500 + 500 at 95 % confidence).
    """
    if n_members < 1 or n_nonmembers < 1:
        raise ValueError("an audit needs at least one member and one non-member")
    return empirical_epsilon(
        np.ones(int(n_members)),
        np.zeros(int(n_nonmembers)),
        delta=delta,
        confidence=confidence,
        correction=correction,
    )


def _num3(x: float) -> str:
    """Three significant digits, as the window shows epsilons."""
    return f"{x:.3g}"


def _apart(a: float, b: float) -> tuple[str, str]:
    """``a`` and ``b`` to 3 significant digits, or more if 3 would print different numbers alike."""
    for digits in range(3, 8):
        sa, sb = f"{a:.{digits}g}", f"{b:.{digits}g}"
        if sa != sb:
            break
    return sa, sb


def audit_verdict(
    *,
    lower: float,
    ceiling: float,
    accountant_epsilon: float | None,
    n_members: int,
    n_nonmembers: int,
    confidence: float = 0.95,
    symbol: str = "epsilon",
) -> str:
    """One plain-text sentence saying what an audit's best lower bound shows.

    Parameters
    ----------
    lower : float
        The best attack's empirical epsilon lower bound.
    ceiling : float
        :func:`audit_ceiling` for the audit's record counts, delta and confidence.
    accountant_epsilon : float or None
        The proven (upper) epsilon; None for a model without a DP guarantee.
    n_members, n_nonmembers : int
        Records attacked on each side.
    confidence : float
        The confidence of the lower bound (named in the violation message).
    symbol : str
        How to write epsilon ("epsilon" in logs, "ε" in the window).

    Returns
    -------
    str
        Without a guarantee: leakage measured or not. With one: a violation (lower bound above
        the proven epsilon); "cannot confirm or refute" when the ceiling does not exceed the
        proven epsilon (so "measured <= proven" holds whatever the model); otherwise a passed
        test that could have failed, which is still not a proof of privacy.
    """
    records = f"{n_members:,} + {n_nonmembers:,} records"
    if accountant_epsilon is None:
        if lower > 0:
            return (
                "An attacker can tell some training records from unseen ones more often than "
                f"chance allows: measurable membership leakage ({symbol} >= {_num3(lower)} "
                f"demonstrated; this audit could demonstrate at most {_num3(ceiling)} with "
                f"{records})."
            )
        return (
            f"No leakage this audit could prove (it could demonstrate at most {symbol} "
            f"{_num3(ceiling)} with {records}); that is not a guarantee of privacy."
        )
    if lower > accountant_epsilon:
        shown, proven = _apart(lower, accountant_epsilon)
        return (
            f"The measured lower bound {symbol} {shown} exceeds the proven {proven}: impossible "
            "for a correct implementation, so either a statistical fluke (the bound holds with "
            f"{confidence:.0%} confidence, and only under its independence heuristic) or a bug "
            "in the training or the accounting; please report it."
        )
    if ceiling <= accountant_epsilon:
        most, proven = _apart(ceiling, accountant_epsilon)
        relation = "below" if ceiling < accountant_epsilon else "equal to"
        return (
            f"This audit could demonstrate at most {symbol} {most} with {records}, {relation} "
            f"the proven {proven}, so it cannot confirm or refute the accountant."
        )
    most, proven = _apart(ceiling, accountant_epsilon)
    return (
        f"No attack exceeded the proven {symbol} {proven}. With {records} this audit could "
        f"demonstrate up to {most}, so the check could have failed; passing it is consistent "
        "with the guarantee, not a proof of privacy."
    )


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


def _json_float(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True, kw_only=True)
class AuditResult:
    """What one membership-inference attack achieved against one model.

    Attributes
    ----------
    attack : str
        ``"loss"`` or ``"lira"`` (or a caller's own name).
    auc : float
        Area under the ROC curve; 0.5 is guessing.
    tpr_at_1pct_fpr : float
        Fraction of members caught while wrongly flagging at most 1% of non-members.
    tpr_at_01pct_fpr : float or None
        The same at 0.1% FPR; None with fewer than 1,000 non-members (too few to measure it).
    epsilon_lower_bound : float
        The epsilon this attack demonstrably forces (see :func:`empirical_epsilon`): a *lower*
        bound, to be compared with the accountant's *upper* bound.
    epsilon_ceiling : float
        The largest lower bound any attack could reach on these record counts
        (:func:`audit_ceiling`): a proven epsilon at or above it cannot be tested.
    fpr, tpr : ndarray
        The ROC curve, for plotting (also available as :attr:`roc`).
    n_members, n_nonmembers : int
        Records attacked on each side.
    delta, confidence : float
        Parameters of the epsilon lower bound.
    seconds : float
        Wall time of the attack (shadow training included).
    details : dict
        Attack settings (number of shadow models, variant, ...), plain Python.
    member_scores, nonmember_scores : ndarray
        The raw attack scores (higher = "member"), e.g. for score histograms or for
        :func:`empirical_epsilon` with other settings. Left out of :meth:`to_dict` by default.
    """

    attack: str
    auc: float
    tpr_at_1pct_fpr: float
    tpr_at_01pct_fpr: float | None
    epsilon_lower_bound: float
    epsilon_ceiling: float
    fpr: np.ndarray
    tpr: np.ndarray
    n_members: int
    n_nonmembers: int
    delta: float
    confidence: float
    seconds: float = 0.0
    details: dict[str, Any] | None = None
    member_scores: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    nonmember_scores: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    @property
    def roc(self) -> tuple[np.ndarray, np.ndarray]:
        """The ROC curve as ``(fpr, tpr)``."""
        return self.fpr, self.tpr

    def to_dict(self, *, include_scores: bool = False) -> dict[str, Any]:
        """Plain, JSON-serialisable dictionary (non-finite floats become None).

        Parameters
        ----------
        include_scores : bool
            Also include the raw ``member_scores`` and ``nonmember_scores`` lists.
        """
        out: dict[str, Any] = {
            "attack": self.attack,
            "auc": _json_float(self.auc),
            "tpr_at_1pct_fpr": _json_float(self.tpr_at_1pct_fpr),
            "tpr_at_01pct_fpr": _json_float(self.tpr_at_01pct_fpr),
            "epsilon_lower_bound": _json_float(self.epsilon_lower_bound),
            "epsilon_ceiling": _json_float(self.epsilon_ceiling),
            "roc": {
                "fpr": [float(v) for v in self.fpr],
                "tpr": [float(v) for v in self.tpr],
            },
            "n_members": int(self.n_members),
            "n_nonmembers": int(self.n_nonmembers),
            "delta": float(self.delta),
            "confidence": float(self.confidence),
            "seconds": float(self.seconds),
            "details": dict(self.details or {}),
        }
        if include_scores:
            out["member_scores"] = [_json_float(v) for v in self.member_scores]
            out["nonmember_scores"] = [_json_float(v) for v in self.nonmember_scores]
        return out


def evaluate_scores(
    attack: str,
    member_scores: np.ndarray,
    nonmember_scores: np.ndarray,
    *,
    delta: float,
    confidence: float = 0.95,
    correction: str = "bonferroni",
    seconds: float = 0.0,
    details: dict[str, Any] | None = None,
) -> AuditResult:
    """Summarise any attack's scores (higher = "member") as an :class:`AuditResult`."""
    m, o = _check_scores(member_scores, nonmember_scores)
    fpr, tpr, _ = roc_curve(m, o)
    return AuditResult(
        attack=attack,
        auc=float(np.trapezoid(tpr, fpr)),
        tpr_at_1pct_fpr=tpr_at_fpr(fpr, tpr, 0.01),
        tpr_at_01pct_fpr=tpr_at_fpr(fpr, tpr, 0.001) if len(o) >= 1000 else None,
        epsilon_lower_bound=empirical_epsilon(
            m, o, delta=delta, confidence=confidence, correction=correction
        ),
        epsilon_ceiling=audit_ceiling(
            len(m), len(o), delta=delta, confidence=confidence, correction=correction
        ),
        fpr=fpr,
        tpr=tpr,
        n_members=len(m),
        n_nonmembers=len(o),
        delta=delta,
        confidence=confidence,
        seconds=seconds,
        details={"correction": correction, **(details or {})},
        member_scores=m,
        nonmember_scores=o,
    )


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
