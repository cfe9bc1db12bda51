"""The planner's words: the plain-language explanation of a recommendation and the epochs hint.

Everything the planner says to the user is written here: :func:`explain` turns a
:class:`~ppml_lab.experiments.planner.Recommendation` into a few sentences, and
:func:`epochs_note` reads the pilot's learning curves for a modest hint about the number of
epochs. Epsilons are written with :func:`fmt_eps` and accuracies with :func:`pct`.

Part of the inverse planner (:mod:`ppml_lab.experiments.planner`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ppml_lab.experiments.sweep import SweepPoint

if TYPE_CHECKING:
    from ppml_lab.experiments.planner import Recommendation

__all__ = ["epochs_note", "explain", "fmt_eps", "pct", "points_words"]


def points_words(tolerance: float) -> str:
    """A tolerance in percentage points, in words ("1 point", "2.5 points")."""
    return f"{tolerance:g} point{'s' if tolerance != 1 else ''}"


def fmt_eps(e: float) -> str:
    """An epsilon as the planner writes it: 2 significant digits below 10, else 3."""
    return f"{e:.2g}" if e < 10 else f"{e:.3g}"


def pct(a: float) -> str:
    """An accuracy fraction as a percentage with one decimal."""
    return f"{100 * a:.1f} %"


def epochs_note(
    points: list[SweepPoint], grid: tuple[float, ...], eps: float, tol: float, epochs: int | None
) -> str | None:
    """A modest hint about epochs, only when the pilot's learning curves clearly show one."""
    near = min(grid, key=lambda e: abs(math.log(e) - math.log(eps)))
    curves = [p.curve for p in points if p.epsilon == near and len(p.curve) >= 4]
    if not curves:
        return None
    n = min(len(c) for c in curves)
    mean = np.mean([c[:n] for c in curves], axis=0)
    tail = max(1, n // 4)
    gain = float(mean[-1] - mean[-1 - tail])
    if gain > max(tol / 2, 0.002):
        return (
            f"At epsilon {fmt_eps(near)} test accuracy was still rising over the last "
            f"{tail} of {n} epochs (+{100 * gain:.1f} points): more epochs may help. The noise is "
            "recalibrated for a longer run, so check with a second pilot before relying on it."
        )
    best = int(np.argmax(mean)) + 1
    if best <= n // 2 and float(mean.max() - mean[-1]) > max(tol / 2, 0.002):
        return (
            f"At epsilon {fmt_eps(near)} test accuracy peaked at epoch {best} of {n} and then "
            "fell: fewer epochs (fewer noisy steps for the same budget) may do better; check "
            "with a second pilot."
        )
    return None


def explain(rec: Recommendation, *, n_seeds: int) -> str:
    """The recommendation in plain language (``Recommendation.explanation``)."""
    tol = points_words(rec.tolerance)
    grid = ", ".join(fmt_eps(e) for e in rec.grid)
    parts = [
        f"Without privacy the model reaches {pct(rec.non_private_accuracy)} test accuracy; "
        f"staying within {tol} means at least {pct(rec.target_accuracy)}."
    ]
    if not rec.reachable:
        parts.append(
            f"No epsilon tried (up to {fmt_eps(rec.grid[-1])}) gets there: the best private "
            f"accuracy was {pct(rec.best_private_accuracy)} at epsilon "
            f"{fmt_eps(rec.best_private_epsilon)}."
        )
        if rec.fit.method == "curve_fit" and rec.fit.plateau < rec.target_accuracy:
            parts.append(
                f"The fitted curve levels off near {pct(rec.fit.plateau)}, so a larger epsilon "
                "alone is unlikely to close the gap: the private training itself loses accuracy "
                "(clipping, learning rate, epochs). Try other training settings, or accept a "
                "larger tolerance."
            )
        else:
            parts.append(
                "A larger epsilon might get there; run a pilot with larger epsilons, try other "
                "training settings, or accept a larger tolerance."
            )
    elif rec.below_grid:
        lo_acc = rec.fit.accuracy(rec.grid[0]) if rec.expected_accuracy is None else (
            rec.expected_accuracy
        )
        parts.append(
            f"Even the smallest epsilon tried, {fmt_eps(rec.grid[0])}, stays within that "
            f"(about {pct(lo_acc)}), so epsilon {fmt_eps(rec.grid[0])} is enough; smaller "
            "epsilons were not tried and may work too."
        )
        if rec.conservative_epsilon is not None and fmt_eps(rec.conservative_epsilon) != fmt_eps(
            rec.grid[0]
        ):
            parts.append(
                "The margin is thin: with the seeds resampled the answer reaches epsilon "
                f"{fmt_eps(rec.conservative_epsilon)}, the safer choice."
            )
    else:
        assert rec.epsilon is not None
        text = f"The pilot ({grid}; {n_seeds} seed{'s' if n_seeds != 1 else ''}) suggests epsilon " \
            f"about {fmt_eps(rec.epsilon)}"
        if rec.interval is not None:
            lo, hi = rec.interval
            hi_text = fmt_eps(hi) if math.isfinite(hi) else f"beyond {fmt_eps(rec.grid[-1])}"
            text += f" ({100 * rec.confidence:.0f} % interval {fmt_eps(lo)} to {hi_text})"
        parts.append(text + ".")
        if rec.conservative_epsilon is not None and fmt_eps(rec.conservative_epsilon) != fmt_eps(
            rec.epsilon
        ):
            parts.append(
                f"To be safe, choose the upper end, epsilon {fmt_eps(rec.conservative_epsilon)}."
            )
    if rec.noise_multiplier is not None and rec.epsilon is not None and rec.accounting:
        a = rec.accounting
        text = (
            f"With this experiment's accounting (sample rate {a['sample_rate']:.3g}, "
            f"{a['steps']:,} noisy steps, delta {a['delta']:.2g}), epsilon "
            f"{fmt_eps(rec.epsilon)} means a noise multiplier of {rec.noise_multiplier:.3g}"
        )
        if (
            rec.conservative_noise_multiplier is not None
            and rec.conservative_epsilon is not None
            and fmt_eps(rec.conservative_epsilon) != fmt_eps(rec.epsilon)
        ):
            text += (
                f" (epsilon {fmt_eps(rec.conservative_epsilon)}: "
                f"{rec.conservative_noise_multiplier:.3g})"
            )
        parts.append(text + ".")
    if rec.epochs_note:
        parts.append(rec.epochs_note)
    return " ".join(parts)
