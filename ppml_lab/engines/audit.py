"""Membership-inference audit of a trained model, as an optional last phase of an engine run.

The audit attacks the model with the loss-threshold attack and LiRA (shadow models trained the
way the audited model was) on training rows (members) against test rows (non-members), and
turns the attacks' success into an *empirical lower bound* on epsilon. For a DP model it is
shown next to the accountant's epsilon, an *upper* bound: the lower bound must stay below it.
For a non-private model a positive lower bound is measured leakage.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np

from ppml_lab.data import PreparedData
from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.events import Event, Log, Progress
from ppml_lab.privacy.attacks import TrainFn, audit_model

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
    the loss-threshold attack runs.
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
    level = "info"
    if accountant_epsilon is None:
        leaks = best.epsilon_lower_bound > 0
        verdict = (
            "measurable membership leakage: an attacker can tell some training records from "
            "unseen ones more often than chance allows"
            if leaks
            else "no leakage this audit could prove (which is not a guarantee)"
        )
        message = (
            f"Membership audit: best attack {best.attack} (AUC {best.auc:.3f}, "
            f"{best.tpr_at_1pct_fpr:.1%} of members caught at 1% false alarms); empirical epsilon "
            f"lower bound {best.epsilon_lower_bound:.2f}: {verdict}."
        )
        level = "warning" if leaks else "info"
    else:
        message = (
            f"Membership audit: best attack {best.attack} (AUC {best.auc:.3f}); empirical epsilon "
            f"lower bound {best.epsilon_lower_bound:.2f} vs the accountant's {accountant_epsilon:.2f} "
            "(the proven upper bound)."
        )
        if best.epsilon_lower_bound > accountant_epsilon:
            # Impossible for a correct DP implementation, except with the audit's 5 % chance
            # of an invalid confidence bound: say so loudly.
            message += (
                " The lower bound exceeds the upper bound: either a 1-in-20 statistical fluke or "
                "a bug in the training or the accounting; please report it."
            )
            level = "warning"
    yield Log(message=message, level=level, step=step)
    return {
        "attacks": attacks,
        "accountant_epsilon": accountant_epsilon,
        "delta": float(delta),
        "records_per_side": min(AUDIT_RECORDS, data.n_train, len(data.y_test)),
        "shadows": AUDIT_SHADOWS,
    }


def audit_summary(audit: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    """Compact per-attack figures for ``privacy.audit`` in the results document."""
    return {
        name: {k: a.get(k) for k in ("auc", "tpr_at_1pct_fpr", "epsilon_lower_bound")}
        for name, a in audit["attacks"].items()
    }
