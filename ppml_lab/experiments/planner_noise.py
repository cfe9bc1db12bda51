"""The noise multipliers the planner's recommended epsilons imply for the pilot's experiment.

The DP engine reports its accounting figures (delta, sample rate, steps, accountant) with every
private point of a sweep; with those, :func:`~ppml_lab.privacy.accounting.calibrate_noise`
turns an epsilon into the noise multiplier the same experiment would need.

Part of the inverse planner (:mod:`ppml_lab.experiments.planner`).
"""

from __future__ import annotations

import math
from typing import Any

from ppml_lab.experiments.planner_text import fmt_eps
from ppml_lab.experiments.sweep import SweepPoint

__all__ = ["noise_for"]


def noise_for(
    points: list[SweepPoint],
    estimate: float,
    conservative: float | None,
    calibrate: bool,
    notes: list[str],
) -> tuple[dict[str, Any], float | None, float | None]:
    """Noise multipliers for the recommended epsilons, from the engine's own accounting figures.

    Returns ``(accounting figures, sigma for estimate, sigma for conservative)``; the sigmas are
    None without figures, with ``calibrate`` off or an unreachable estimate, and a failed
    calibration appends a note to ``notes`` instead of raising.
    """
    info: dict[str, Any] = {}
    ref = next(
        (
            p.privacy
            for p in points
            if p.private and all(k in p.privacy for k in ("delta", "sample_rate", "steps"))
        ),
        None,
    )
    if ref is None:
        if any(p.private for p in points) and calibrate:
            notes.append(
                "This mechanism reports no sample rate and steps, so no noise multiplier is "
                "given; the engine calibrates its noise from epsilon itself."
            )
        return info, None, None
    info = {
        "delta": float(ref["delta"]),
        "sample_rate": float(ref["sample_rate"]),
        "steps": int(ref["steps"]),
        "accountant": str(ref.get("accountant", "pld")),
    }
    if not calibrate or not math.isfinite(estimate):
        return info, None, None
    from ppml_lab.privacy.accounting import calibrate_noise

    def sigma(eps: float) -> float | None:
        try:
            return float(
                calibrate_noise(
                    target_epsilon=eps,
                    delta=info["delta"],
                    sample_rate=info["sample_rate"],
                    steps=info["steps"],
                    accountant=info["accountant"],
                )
            )
        except (ValueError, RuntimeError) as exc:
            notes.append(f"The noise for epsilon {fmt_eps(eps)} could not be calibrated: {exc}")
            return None

    s = sigma(estimate)
    s_c = s if conservative is None or conservative == estimate else sigma(conservative)
    return info, s, s_c

