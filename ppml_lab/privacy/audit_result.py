"""What one membership-inference attack achieved: :class:`AuditResult` and :func:`evaluate_scores`.

:func:`evaluate_scores` turns any attack's scores (higher = "member") into the numbers an audit
reports: the ROC curve and AUC (:mod:`.roc`), the TPR at 1 % and 0.1 % FPR, and the empirical
epsilon lower bound with its ceiling (:mod:`.audit_bound`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ppml_lab.jsonable import finite_or_none
from ppml_lab.privacy.audit_bound import audit_ceiling, empirical_epsilon
from ppml_lab.privacy.roc import _auc, _check_scores, roc_curve, tpr_at_fpr

__all__ = ["AuditResult", "evaluate_scores"]


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
            "auc": finite_or_none(self.auc),
            "tpr_at_1pct_fpr": finite_or_none(self.tpr_at_1pct_fpr),
            "tpr_at_01pct_fpr": finite_or_none(self.tpr_at_01pct_fpr),
            "epsilon_lower_bound": finite_or_none(self.epsilon_lower_bound),
            "epsilon_ceiling": finite_or_none(self.epsilon_ceiling),
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
            out["member_scores"] = [finite_or_none(v) for v in self.member_scores]
            out["nonmember_scores"] = [finite_or_none(v) for v in self.nonmember_scores]
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
        auc=_auc(fpr, tpr),
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
