"""The empirical epsilon lower bound of a membership-inference attack, its ceiling, and the verdict.

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

The ROC counts come from :mod:`.roc`; the attacks that produce the scores from
:mod:`.attack_scores`.
"""

from __future__ import annotations

import numpy as np

from ppml_lab.privacy.roc import _roc_counts

__all__ = ["audit_ceiling", "audit_verdict", "clopper_pearson", "empirical_epsilon"]


def _cp_lower(k: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """One-sided Clopper-Pearson lower bound: P(p < bound) <= alpha."""
    # beta.ppf needs positive shape parameters: substitute a safe one where the bound is 0.
    from scipy import stats  # imported when first needed: scipy.stats takes ~0.6 s

    return np.where(k > 0, stats.beta.ppf(alpha, np.maximum(k, 1), n - k + 1), 0.0)


def _cp_upper(k: np.ndarray, n: int, alpha: float) -> np.ndarray:
    """One-sided Clopper-Pearson upper bound: P(p > bound) <= alpha."""
    from scipy import stats

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
