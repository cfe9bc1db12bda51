"""Membership-inference audit of a trained model, as an optional last phase of an engine run.

The audit attacks the model with the loss-threshold attack and LiRA (shadow models trained the
way the audited model was) on training rows (members) against test rows (non-members), and
turns the attacks' success into an *empirical lower bound* on epsilon. For a DP model it is
shown next to the accountant's epsilon, an *upper* bound: the lower bound must stay below it.
For a non-private model a positive lower bound is measured leakage.

With ``AUDIT_RECORDS`` records per side the audit cannot demonstrate more than its *ceiling*
(about 3.9 at 500 + 500 records): when the proven epsilon is at or above it, "measured <=
proven" holds whatever the model, and the summary says the audit cannot confirm or refute
the accountant instead of reading it as a confirmation.

Cancelling during the audit does not throw the finished training away: :func:`audit_keeping`
raises :class:`AuditCancelled`, a :class:`~ppml_lab.engines.base.Cancelled` that carries the
trained result with ``extra["audit"] = {"cancelled": True}``, and the runner keeps it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np

from ppml_lab.data import PreparedData
from ppml_lab.engines.base import Cancelled, CancelToken, EngineResult
from ppml_lab.engines.events import Event, Log, Progress
from ppml_lab.privacy.attacks import TrainFn, audit_model, audit_verdict

#: Records attacked per side and LiRA shadow models: about 5-15 s on Adult.
AUDIT_RECORDS = 500
AUDIT_SHADOWS = 8
#: Rows each shadow model may train on (the attacked records plus others), bounding the cost.
AUDIT_POOL = 8000

AUDIT_HELP = (
    "After training, attack the model to measure what it leaks: a loss-threshold attack and "
    "LiRA (shadow models) try to tell training rows from unseen rows. Takes a few seconds to a "
    "minute (it trains 8 shadow models)."
)


class AuditCancelled(Cancelled):
    """The run was cancelled during its membership audit, after training had finished.

    Attributes
    ----------
    result : EngineResult
        The trained result, its audit marked ``extra["audit"] = {"cancelled": True}``: the
        final metrics and privacy figures are those of the finished training.
    """

    def __init__(self, result: EngineResult) -> None:
        super().__init__("the run was cancelled during the membership audit")
        self.result = result


def audit_keeping(
    result: EngineResult, audit: Generator[Event, None, dict[str, Any]]
) -> Generator[Event, None, dict[str, Any]]:
    """Run ``audit`` (a :func:`run_audit` generator) for the trained ``result``.

    A cancel during the audit raises :class:`AuditCancelled` carrying ``result`` (audit marked
    cancelled) instead of a bare :class:`Cancelled` that would lose the finished training.
    """
    try:
        return (yield from audit)
    except AuditCancelled:
        raise
    except Cancelled as exc:
        result.extra["audit"] = {"cancelled": True}
        raise AuditCancelled(result) from exc


def run_audit(
    model: Any,
    data: PreparedData,
    *,
    delta: float,
    train_fn: TrainFn | None,
    accountant_epsilon: float | None,
    seed: int,
    cancel: CancelToken,
    step: int,
) -> Generator[Event, None, dict[str, Any]]:
    """Audit ``model``; yields progress and a summary line, returns the ``extra["audit"]`` dict.

    Without ``train_fn`` (a mechanism whose training cannot be replayed for shadow models) only
    the loss-threshold attack runs. The summary states the audit's ceiling (the largest epsilon
    these record counts can demonstrate) and, for a DP run, whether the audit could test the
    proven epsilon at all (:func:`~ppml_lab.privacy.attacks.audit_verdict`).
    """
    yield Progress(step=step, total=step, message="membership audit: attacking the model")
    results = audit_model(
        model,
        data,
        delta=delta,
        rng=np.random.default_rng([seed, 201]),
        train_fn=train_fn,
        max_records=AUDIT_RECORDS,
        n_shadows=AUDIT_SHADOWS,
        shadow_pool_size=AUDIT_POOL,
        cancel=cancel,
    )
    attacks = {name: r.to_dict() for name, r in results.items()}
    best = max(results.values(), key=lambda r: r.epsilon_lower_bound)
    # Every attack scores the same records, so they share one ceiling.
    ceiling = max(r.epsilon_ceiling for r in results.values())
    conclusion = audit_verdict(
        lower=best.epsilon_lower_bound,
        ceiling=ceiling,
        accountant_epsilon=accountant_epsilon,
        n_members=best.n_members,
        n_nonmembers=best.n_nonmembers,
        confidence=best.confidence,
    )
    if accountant_epsilon is None:
        testable = None
        level = "warning" if best.epsilon_lower_bound > 0 else "info"
    else:
        testable = ceiling > accountant_epsilon
        # Above the upper bound is impossible for a correct DP implementation, except with the
        # audit's small chance of an invalid confidence bound: say so loudly.
        level = "warning" if best.epsilon_lower_bound > accountant_epsilon else "info"
    message = (
        f"Membership audit: best attack {best.attack} (AUC {best.auc:.3f}, "
        f"{best.tpr_at_1pct_fpr:.1%} of members caught at 1% false alarms); empirical epsilon "
        f"lower bound {best.epsilon_lower_bound:.3g}"
    )
    if accountant_epsilon is not None:
        message += f" vs the accountant's {accountant_epsilon:.3g} (the proven upper bound)"
    message += f". {conclusion}"
    yield Log(message=message, level=level, step=step)
    return {
        "attacks": attacks,
        "accountant_epsilon": accountant_epsilon,
        "delta": float(delta),
        "confidence": float(best.confidence),
        "records_per_side": min(AUDIT_RECORDS, data.n_train, len(data.y_test)),
        "shadows": AUDIT_SHADOWS if "lira" in results else 0,
        # The largest epsilon this audit could demonstrate (a perfect attack's lower bound).
        "ceiling": float(ceiling),
        # Whether the proven epsilon is below the ceiling, i.e. the audit could refute it
        # (None without a guarantee).
        "can_test_guarantee": testable,
        "verdict": conclusion,
    }


def audit_summary(audit: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """Compact per-attack figures for ``privacy.audit`` in the results document."""
    keys = ("auc", "tpr_at_1pct_fpr", "epsilon_lower_bound", "epsilon_ceiling")
    return {name: {k: a.get(k) for k in keys} for name, a in audit["attacks"].items()}
