"""The inverse planner: the smallest epsilon that keeps accuracy within X points of non-private.

From a short pilot sweep (:func:`ppml_lab.experiments.sweep.run_sweep`) the planner fits a
saturating, monotone accuracy-vs-epsilon curve, solves it for the target accuracy, and
bootstraps the training seeds for an interval. :func:`plan_epsilon` is the entry point and
returns a :class:`Recommendation`; the parts live beside it, one module per job:

:mod:`.planner_curve`
    The curve and its fit (:class:`CurveFit`, :func:`fit_curve`), with the isotonic fallback.
:mod:`.planner_bootstrap`
    The bootstrap over training seeds behind the interval.
:mod:`.planner_noise`
    The noise multipliers the recommended epsilons imply (through the privacy accountant).
:mod:`.planner_text`
    The plain-language explanation and the epochs hint.

The planner never extrapolates a recommendation beyond the pilot grid: if no epsilon up to the
largest one tried reaches the tolerance it says so, and if the smallest one tried already does,
it recommends that one and says that smaller ones were not tried.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ppml_lab.experiments.planner_bootstrap import bootstrap_epsilon
from ppml_lab.experiments.planner_curve import CurveFit, fit_curve, json_number, solve_in_grid
from ppml_lab.experiments.planner_noise import noise_for
from ppml_lab.experiments.planner_text import epochs_note, explain
from ppml_lab.experiments.sweep import TUNING_IS_A_RELEASE, SweepPoint, SweepResult

__all__ = ["CurveFit", "Recommendation", "fit_curve", "plan_epsilon"]


@dataclass(frozen=True, kw_only=True)
class Recommendation:
    """The planner's answer. Accuracies are fractions; ``tolerance`` is in accuracy points.

    Attributes
    ----------
    tolerance : float
        Allowed accuracy loss against non-private, in percentage points (1.0 = 0.01).
    reachable : bool
        Whether some epsilon in the pilot's range keeps accuracy within the tolerance.
    epsilon : float or None
        The estimated smallest such epsilon (None if not reachable).
    interval : tuple of float or None
        Bootstrap interval of ``epsilon`` (``confidence`` level); its upper end is ``inf`` when
        too many replicates did not reach the tolerance inside the grid.
    conservative_epsilon : float or None
        The interval's upper end when finite, else ``epsilon``: the safer choice.
    noise_multiplier, conservative_noise_multiplier : float or None
        The noise multipliers those epsilons imply for the experiment's sample rate and steps
        (``ppml_lab.privacy.accounting.calibrate_noise``); None if the mechanism has none.
    epochs : int or None
        The experiment's epochs (the planner does not change them).
    below_grid : bool
        The smallest epsilon tried already met the tolerance, so the answer is "at most that".
    explanation : str
        The answer in plain language.
    """

    tolerance: float
    reachable: bool
    epsilon: float | None
    interval: tuple[float, float] | None
    confidence: float
    conservative_epsilon: float | None
    noise_multiplier: float | None
    conservative_noise_multiplier: float | None
    epochs: int | None
    non_private_accuracy: float
    target_accuracy: float
    expected_accuracy: float | None
    smallest_grid_epsilon: float | None
    best_private_accuracy: float
    best_private_epsilon: float
    grid: tuple[float, ...]
    below_grid: bool
    bootstrap_replicates: int
    bootstrap_reachable_fraction: float | None
    fit: CurveFit
    accounting: dict[str, Any] = field(default_factory=dict)
    epochs_note: str | None = None
    notes: tuple[str, ...] = ()
    explanation: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (``inf`` becomes None)."""
        return {
            "tolerance_points": self.tolerance,
            "reachable": self.reachable,
            "epsilon": json_number(self.epsilon),
            "interval": [json_number(v) for v in self.interval] if self.interval else None,
            "confidence": self.confidence,
            "conservative_epsilon": json_number(self.conservative_epsilon),
            "noise_multiplier": json_number(self.noise_multiplier),
            "conservative_noise_multiplier": json_number(self.conservative_noise_multiplier),
            "epochs": self.epochs,
            "non_private_accuracy": self.non_private_accuracy,
            "target_accuracy": self.target_accuracy,
            "expected_accuracy": json_number(self.expected_accuracy),
            "smallest_grid_epsilon_within_tolerance": json_number(self.smallest_grid_epsilon),
            "best_private_accuracy": self.best_private_accuracy,
            "best_private_epsilon": self.best_private_epsilon,
            "grid": list(self.grid),
            "below_grid": self.below_grid,
            "bootstrap_replicates": self.bootstrap_replicates,
            "bootstrap_reachable_fraction": json_number(self.bootstrap_reachable_fraction),
            "fit": self.fit.to_dict(),
            "accounting": dict(self.accounting),
            "epochs_note": self.epochs_note,
            "notes": list(self.notes),
            "explanation": self.explanation,
        }



def plan_epsilon(
    sweep: SweepResult | Iterable[SweepPoint],
    *,
    tolerance: float = 1.0,
    confidence: float = 0.9,
    bootstrap: int = 200,
    random_seed: int = 0,
    calibrate: bool = True,
    epochs: int | None = None,
) -> Recommendation:
    """Recommend the smallest epsilon whose accuracy stays within ``tolerance`` points.

    Parameters
    ----------
    sweep : SweepResult or iterable of SweepPoint
        A pilot sweep with at least two private epsilons and the non-private point.
    tolerance : float
        Allowed loss in test accuracy against non-private, in percentage points (> 0).
    confidence : float
        Level of the bootstrap interval, in (0, 1).
    bootstrap : int
        Budget of bootstrap resamples over the training seeds (0 = no interval). With few seeds
        every distinct resample is used with its exact probability instead.
    random_seed : int
        Seed of the bootstrap's generator when it samples (the answer is reproducible).
    calibrate : bool
        Compute the noise multipliers the recommended epsilons imply (needs the privacy
        accounting figures the DP engine reports: delta, sample rate, steps, accountant).
    epochs : int, optional
        The experiment's epochs; taken from ``sweep.experiment`` when a SweepResult is given.

    Returns
    -------
    Recommendation

    Raises
    ------
    ValueError
        For a tolerance <= 0, fewer than two private epsilons, or no non-private point.
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not (
        math.isfinite(tolerance) and tolerance > 0
    ):
        raise ValueError(f"the accuracy tolerance must be a number of points > 0 (got {tolerance!r})")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (got {confidence!r})")
    if isinstance(sweep, SweepResult):
        points = list(sweep.points)
        epochs = epochs if epochs is not None else sweep.experiment.model.epochs
    else:
        points = list(sweep)
    private = [p for p in points if p.private and math.isfinite(p.test_accuracy)]
    public = [p for p in points if not p.private and math.isfinite(p.test_accuracy)]
    grid = tuple(sorted({p.epsilon for p in private}))
    if len(grid) < 2:
        raise ValueError("the planner needs a pilot sweep with at least two private epsilons")
    if not public:
        raise ValueError("the planner needs the non-private point (the plaintext baseline)")
    tol = float(tolerance) / 100.0
    lo, hi = grid[0], grid[-1]

    np_acc = float(np.mean([p.test_accuracy for p in public]))
    target = np_acc - tol
    fit = fit_curve([p.epsilon for p in private], [p.test_accuracy for p in private])
    means = {e: float(np.mean([p.test_accuracy for p in private if p.epsilon == e])) for e in grid}
    best_eps = max(grid, key=lambda e: (means[e], e))
    within = [e for e in grid if means[e] >= target]
    smallest_grid = min(within) if within else None

    estimate = solve_in_grid(fit, target, lo, hi)
    # The data overrule the curve at the ends of the grid: a curve that dips below the target at
    # the smallest epsilon while every seed there met it on average still means "at most lo".
    if math.isinf(estimate) and means[hi] >= target:
        estimate = hi
    reachable = math.isfinite(estimate)
    below_grid = reachable and estimate <= lo

    # Bootstrap over training seeds (all points of a seed stay together).
    reps = sorted({p.repetition for p in points})
    interval, reach_frac, n_boot = bootstrap_epsilon(
        points,
        reps,
        fit=fit,
        tol=tol,
        lo=lo,
        hi=hi,
        budget=int(bootstrap),
        random_seed=random_seed,
        confidence=confidence,
    )

    conservative = None
    if reachable:
        conservative = interval[1] if interval and math.isfinite(interval[1]) else estimate
        conservative = max(conservative, estimate)

    notes: list[str] = [TUNING_IS_A_RELEASE]
    accounting_info, sigma, sigma_c = noise_for(points, estimate, conservative, calibrate, notes)

    expected = fit.accuracy(estimate) if reachable else None
    note_on_epochs = epochs_note(points, grid, estimate if reachable else best_eps, tol, epochs)
    if fit.method == "isotonic":
        notes.append(
            "The smooth curve could not be fitted (too few epsilons or a failed fit); a "
            "monotone interpolation of the per-epsilon means was used instead."
        )
    if reachable and smallest_grid is None:
        notes.append(
            "No single epsilon of the pilot met the tolerance on average; the estimate relies on "
            "the fitted curve between grid points."
        )
    if len(reps) < 2:
        notes.append("Only one seed: no uncertainty can be estimated. Use 3 or more seeds.")
    elif len(reps) < 5:
        notes.append(
            f"The interval comes from resampling only {len(reps)} training seeds, so it is "
            "rough; more seeds narrow it."
        )

    rec = Recommendation(
        tolerance=float(tolerance),
        reachable=reachable,
        epsilon=estimate if reachable else None,
        interval=interval if reachable else None,
        confidence=confidence,
        conservative_epsilon=conservative,
        noise_multiplier=sigma,
        conservative_noise_multiplier=sigma_c,
        epochs=epochs,
        non_private_accuracy=np_acc,
        target_accuracy=target,
        expected_accuracy=expected,
        smallest_grid_epsilon=smallest_grid,
        best_private_accuracy=means[best_eps],
        best_private_epsilon=best_eps,
        grid=grid,
        below_grid=below_grid,
        bootstrap_replicates=n_boot,
        bootstrap_reachable_fraction=reach_frac,
        fit=fit,
        accounting=accounting_info,
        epochs_note=note_on_epochs,
        notes=tuple(notes),
    )
    return replace(rec, explanation=explain(rec, n_seeds=len(reps)))
