"""ROC curve, AUC and TPR at a low FPR of a membership test "member if score >= threshold".

The curve and the area come from scikit-learn (:func:`sklearn.metrics.roc_curve` with
``drop_intermediate=False``, and :func:`sklearn.metrics.auc` on that curve). Two details keep
the numbers exactly what the audit needs:

* *Every distinct threshold.* The empirical epsilon bound (:mod:`.audit_bound`) is computed
  from the true- and false-positive *counts* at every distinct score, so no point may be
  dropped. Tied scores move together (a tie between a member and a non-member is a diagonal
  segment), and the curve starts at ``threshold = inf`` (nothing flagged). The counts are the
  rates times the number of members or non-members, rounded to the nearest whole number
  (exact: scikit-learn divides whole-number counts, so the product is within an ulp of one).
* *The order, not the values.* scikit-learn refuses infinite scores, which a diverged model
  can produce (an infinite loss). The ROC depends only on the order of the scores, so
  scikit-learn is handed their ranks among the distinct values, and the thresholds are mapped
  back to the scores.

The area is the trapezoid rule on the full curve (``auc``): ``P(member score > non-member
score) + 0.5 P(tie)``. :func:`sklearn.metrics.roc_auc_score` computes the same quantity, but
on a curve with collinear points dropped, which can differ in the last bit (up to 2.2e-16).
"""

from __future__ import annotations

import numpy as np

__all__ = ["roc_auc", "roc_curve", "tpr_at_fpr"]


def _check_scores(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = np.asarray(member_scores, dtype=np.float64).ravel()
    o = np.asarray(nonmember_scores, dtype=np.float64).ravel()
    if len(m) == 0 or len(o) == 0:
        raise ValueError("an audit needs at least one member and one non-member score")
    if np.isnan(m).any() or np.isnan(o).any():
        raise ValueError("attack scores contain NaN")
    return m, o


def _roc(m: np.ndarray, o: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's full ROC of checked scores: ``(fpr, tpr, thresholds)``, see the module."""
    # Imported here, as elsewhere in the package, so that importing the engines (which import
    # the audit) does not pay scikit-learn's import time (about 0.4 s) before any audit runs.
    from sklearn import metrics

    values, ranks = np.unique(np.concatenate([m, o]), return_inverse=True)
    is_member = np.r_[np.ones(len(m)), np.zeros(len(o))]
    fpr, tpr, rank_thresholds = metrics.roc_curve(is_member, ranks, drop_intermediate=False)
    # The first threshold is +inf (nothing flagged); the others are ranks into `values`.
    thresholds = np.r_[np.inf, values[rank_thresholds[1:].astype(np.intp)]]
    return fpr, tpr, thresholds


def _roc_counts(
    member_scores: np.ndarray, nonmember_scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True- and false-positive counts for "member if score >= t" at every distinct threshold.

    Returns ``(tp, fp, thresholds)``, starting at ``t = +inf`` (nothing flagged) and ending at
    the lowest score (everything flagged). Tied scores move together, so a tie between a member
    and a non-member is a diagonal ROC segment.
    """
    m, o = _check_scores(member_scores, nonmember_scores)
    fpr, tpr, thresholds = _roc(m, o)
    tp = np.rint(tpr * len(m)).astype(np.int64)
    fp = np.rint(fpr * len(o)).astype(np.int64)
    return tp, fp, thresholds


def roc_curve(
    member_scores: np.ndarray, nonmember_scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve of the test "member if score >= threshold".

    Returns
    -------
    fpr, tpr, thresholds : ndarray
        From (0, 0) at ``threshold = inf`` to (1, 1), one point per distinct score.
    """
    return _roc(*_check_scores(member_scores, nonmember_scores))


def roc_auc(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> float:
    """Area under the ROC curve: P(member score > non-member score) + 0.5 P(tie)."""
    fpr, tpr, _ = roc_curve(member_scores, nonmember_scores)
    return _auc(fpr, tpr)


def _auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Trapezoid area under a full ROC curve from :func:`roc_curve`."""
    from sklearn import metrics  # (see _roc)

    return float(metrics.auc(fpr, tpr))


def tpr_at_fpr(fpr: np.ndarray, tpr: np.ndarray, max_fpr: float) -> float:
    """Highest TPR over ROC points with FPR <= ``max_fpr`` (no interpolation, Carlini et al.)."""
    fpr, tpr = np.asarray(fpr), np.asarray(tpr)
    ok = fpr <= max_fpr + 1e-12
    return float(tpr[ok].max()) if ok.any() else 0.0
