"""The inverse planner: the smallest epsilon that keeps accuracy within X points of non-private.

From a short pilot sweep (:func:`ppml_lab.experiments.sweep.run_sweep`) the planner fits a
saturating accuracy-vs-epsilon curve

    acc(eps) = a - b * exp(-c * (log(eps) - x_ref)) = a - b * (eps / eps_ref) ** -c,

with ``a`` the plateau the private runs approach as epsilon grows, ``b >= 0`` how far below it they
are at the reference epsilon ``eps_ref`` (the geometric mean of the grid) and ``c > 0`` how fast
they recover. It is monotone by construction, so it always has one answer for a target accuracy.
The fit uses every (epsilon, seed) point with a soft-L1 loss, so a single diverged run moves it
little. Should the fit fail, a monotone (isotonic) interpolation of the per-epsilon means in
log epsilon is used instead.

Uncertainty comes from bootstrapping the *training seeds*: a replicate draws seeds with
replacement and keeps all points of each drawn seed (private and non-private), refits the curve
and solves for epsilon again. With 3 seeds there are only 10 distinct replicates, so the interval
is rough; more seeds narrow it.

The planner never extrapolates a recommendation beyond the pilot grid: if no epsilon up to the
largest one tried reaches the tolerance it says so, and if the smallest one tried already does,
it recommends that one and says that smaller ones were not tried.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from ppml_lab.experiments.sweep import TUNING_IS_A_RELEASE, SweepPoint, SweepResult

__all__ = ["CurveFit", "Recommendation", "fit_curve", "plan_epsilon"]


# --------------------------------------------------------------------------------------------
# The curve


@dataclass(frozen=True, kw_only=True)
class CurveFit:
    """A fitted accuracy-vs-epsilon curve (see the module docstring).

    ``method`` is ``"curve_fit"`` for the parametric curve or ``"isotonic"`` for the monotone
    interpolation fallback (which then uses ``knots``).
    """

    plateau: float
    scale: float
    rate: float
    eps_ref: float
    method: str = "curve_fit"
    rms_residual: float = math.nan
    knots: tuple[tuple[float, float], ...] = ()

    def accuracy(self, epsilon: float) -> float:
        """The fitted accuracy at ``epsilon``."""
        if self.method == "isotonic":
            xs = [math.log(e) for e, _ in self.knots]
            return float(np.interp(math.log(epsilon), xs, [a for _, a in self.knots]))
        return self.plateau - self.scale * (epsilon / self.eps_ref) ** (-self.rate)

    def epsilon_for(self, accuracy: float) -> float:
        """The epsilon at which the curve reaches ``accuracy``.

        Returns ``inf`` if it never does (the target is at or above the plateau) and ``0`` if it
        is reached everywhere (a flat curve above the target).
        """
        if self.method == "isotonic":
            return _isotonic_crossing(self.knots, accuracy)
        if accuracy >= self.plateau:
            return math.inf
        if self.scale <= 0.0:
            return 0.0
        # a - b * (e / e_ref) ** -c = t  <=>  e = e_ref * (b / (a - t)) ** (1 / c)
        return self.eps_ref * (self.scale / (self.plateau - accuracy)) ** (1.0 / self.rate)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "rms_residual": _num(self.rms_residual)}
        if self.method == "isotonic":
            out["knots"] = [[e, a] for e, a in self.knots]
        else:
            out.update(
                formula="accuracy = plateau - scale * (epsilon / eps_ref) ** -rate",
                plateau=self.plateau,
                scale=self.scale,
                rate=self.rate,
                eps_ref=self.eps_ref,
            )
        return out


def _curve(x: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    # x is log(epsilon / eps_ref); the exp form keeps the optimiser away from huge powers.
    return a - b * np.exp(-c * x)


def _curve_jac(x: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    # Analytic derivatives: a third fewer function evaluations than finite differences, which
    # matters for the bootstrap's hundred-odd refits.
    e = np.exp(-c * x)
    return np.column_stack([np.ones_like(x), -e, b * x * e])


def _pava(values: Sequence[float], weights: Sequence[float]) -> list[float]:
    """Pool-adjacent-violators: the non-decreasing sequence closest to ``values`` (weighted)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for v, w in zip(values, weights):
        blocks.append([float(v), float(w), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    out: list[float] = []
    for m, _, n in blocks:
        out.extend([m] * int(n))
    return out


def _isotonic_crossing(knots: Sequence[tuple[float, float]], target: float) -> float:
    if not knots:
        return math.inf
    if knots[0][1] >= target:
        return 0.0 if len(knots) == 1 or knots[0][1] > target else knots[0][0]
    for (e0, a0), (e1, a1) in zip(knots, knots[1:]):
        if a1 >= target > a0:
            f = (target - a0) / (a1 - a0)
            return math.exp(math.log(e0) + f * (math.log(e1) - math.log(e0)))
    return math.inf


def _isotonic_fit(eps: np.ndarray, acc: np.ndarray) -> CurveFit:
    levels = np.unique(eps)
    means = [float(acc[eps == e].mean()) for e in levels]
    counts = [float((eps == e).sum()) for e in levels]
    fitted = _pava(means, counts)
    resid = acc - np.interp(np.log(eps), np.log(levels), fitted)
    return CurveFit(
        plateau=float(fitted[-1]),
        scale=float(fitted[-1] - fitted[0]),
        rate=math.nan,
        eps_ref=float(math.exp(np.log(levels).mean())),
        method="isotonic",
        rms_residual=float(np.sqrt(np.mean(resid**2))),
        knots=tuple((float(e), float(a)) for e, a in zip(levels, fitted)),
    )


def fit_curve(
    epsilons: Iterable[float],
    accuracies: Iterable[float],
    *,
    start: CurveFit | None = None,
) -> CurveFit:
    """Fit the saturating curve to (epsilon, accuracy) pairs (accuracy as a fraction).

    Parameters
    ----------
    epsilons : iterable of float
        Finite epsilons > 0, one per run (repeat an epsilon for several seeds).
    accuracies : iterable of float
        The runs' accuracies in [0, 1].

    start : CurveFit, optional
        A previous fit on similar data to start from (the bootstrap starts from the full fit).

    Returns
    -------
    CurveFit
        The parametric fit, or the isotonic interpolation if there are fewer than three distinct
        epsilons or the optimiser fails.

    Raises
    ------
    ValueError
        Without any point, or with mismatched lengths.
    """
    eps = np.asarray(list(epsilons), dtype=float)
    acc = np.asarray(list(accuracies), dtype=float)
    if eps.shape != acc.shape or eps.size == 0:
        raise ValueError("fit_curve needs the same number (> 0) of epsilons and accuracies")
    levels = np.unique(eps)
    if levels.size < 3:  # three parameters: fewer distinct epsilons cannot pin the shape
        return _isotonic_fit(eps, acc)
    eps_ref = float(math.exp(np.log(levels).mean()))
    x = np.log(eps / eps_ref)
    means = np.array([acc[eps == e].mean() for e in levels])
    # Noise scale for the robust loss: the within-epsilon spread, at least 0.2 accuracy points.
    within = [acc[eps == e].std(ddof=1) for e in levels if (eps == e).sum() > 1]
    f_scale = max(float(np.median(within)) if within else 0.0, 0.002)
    a0 = float(means.max())
    b0 = max(float(a0 - means.min()), 1e-3) / 2.0
    p0 = [a0, b0, 1.0]
    if start is not None and start.method == "curve_fit" and start.eps_ref == eps_ref:
        p0 = [min(max(start.plateau, 0.0), 1.0), min(max(start.scale, 0.0), 10.0),
              min(max(start.rate, 0.05), 10.0)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            popt, _ = curve_fit(
                _curve,
                x,
                acc,
                p0=p0,
                jac=_curve_jac,
                bounds=([0.0, 0.0, 0.05], [1.0, 10.0, 10.0]),
                method="trf",
                loss="soft_l1",
                f_scale=f_scale,
                max_nfev=2000,
            )
    except (RuntimeError, ValueError):
        return _isotonic_fit(eps, acc)
    a, b, c = (float(v) for v in popt)
    resid = acc - _curve(x, a, b, c)
    return CurveFit(
        plateau=a,
        scale=b,
        rate=c,
        eps_ref=eps_ref,
        rms_residual=float(np.sqrt(np.mean(resid**2))),
    )


# --------------------------------------------------------------------------------------------
# The recommendation


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
            "epsilon": _num(self.epsilon),
            "interval": [_num(v) for v in self.interval] if self.interval else None,
            "confidence": self.confidence,
            "conservative_epsilon": _num(self.conservative_epsilon),
            "noise_multiplier": _num(self.noise_multiplier),
            "conservative_noise_multiplier": _num(self.conservative_noise_multiplier),
            "epochs": self.epochs,
            "non_private_accuracy": self.non_private_accuracy,
            "target_accuracy": self.target_accuracy,
            "expected_accuracy": _num(self.expected_accuracy),
            "smallest_grid_epsilon_within_tolerance": _num(self.smallest_grid_epsilon),
            "best_private_accuracy": self.best_private_accuracy,
            "best_private_epsilon": self.best_private_epsilon,
            "grid": list(self.grid),
            "below_grid": self.below_grid,
            "bootstrap_replicates": self.bootstrap_replicates,
            "bootstrap_reachable_fraction": _num(self.bootstrap_reachable_fraction),
            "fit": self.fit.to_dict(),
            "accounting": dict(self.accounting),
            "epochs_note": self.epochs_note,
            "notes": list(self.notes),
            "explanation": self.explanation,
        }


def _num(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def _solve(fit: CurveFit, target: float, lo: float, hi: float) -> float:
    """Crossing clipped to the grid: ``lo`` if below it, ``inf`` if beyond ``hi``."""
    e = fit.epsilon_for(target)
    if e <= lo:
        return lo
    if e > hi * (1 + 1e-9):
        return math.inf
    return e


def _fmt_eps(e: float) -> str:
    return f"{e:.2g}" if e < 10 else f"{e:.3g}"


def _pct(a: float) -> str:
    return f"{100 * a:.1f} %"


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

    estimate = _solve(fit, target, lo, hi)
    # The data overrule the curve at the ends of the grid: a curve that dips below the target at
    # the smallest epsilon while every seed there met it on average still means "at most lo".
    if math.isinf(estimate) and means[hi] >= target:
        estimate = hi
    reachable = math.isfinite(estimate)
    below_grid = reachable and estimate <= lo

    # Bootstrap over training seeds (all points of a seed stay together).
    reps = sorted({p.repetition for p in points})
    interval: tuple[float, float] | None = None
    reach_frac: float | None = None
    n_boot = 0
    if int(bootstrap) > 0 and len(reps) >= 2:
        by_rep = {r: [p for p in points if p.repetition == r] for r in reps}

        def crossing(chosen: tuple[int, ...]) -> float | None:
            pts = [p for r in chosen for p in by_rep[r]]
            pub = [p.test_accuracy for p in pts if not p.private]
            prv = [p for p in pts if p.private]
            if not pub or len({p.epsilon for p in prv}) < 2:
                return None
            f = fit_curve([p.epsilon for p in prv], [p.test_accuracy for p in prv], start=fit)
            return _solve(f, float(np.mean(pub)) - tol, lo, hi)

        values, weights = [], []
        for chosen, weight in _seed_resamples(reps, int(bootstrap), random_seed):
            e = crossing(chosen)
            if e is not None:
                values.append(e)
                weights.append(weight)
        n_boot = len(values)
        if values:
            arr, w = np.array(values), np.array(weights) / np.sum(weights)
            reach_frac = float(w[np.isfinite(arr)].sum())
            # "Not reached" counts as +inf, which sorts last.
            interval = (
                _weighted_quantile(arr, w, (1 - confidence) / 2),
                _weighted_quantile(arr, w, (1 + confidence) / 2),
            )

    conservative = None
    if reachable:
        conservative = interval[1] if interval and math.isfinite(interval[1]) else estimate
        conservative = max(conservative, estimate)

    notes: list[str] = [TUNING_IS_A_RELEASE]
    accounting_info, sigma, sigma_c = _noise_for(points, estimate, conservative, calibrate, notes)

    expected = fit.accuracy(estimate) if reachable else None
    epochs_note = _epochs_note(points, grid, estimate if reachable else best_eps, tol, epochs)
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
        epochs_note=epochs_note,
        notes=tuple(notes),
    )
    return _with_explanation(rec, n_seeds=len(reps))


def _seed_resamples(
    reps: Sequence[int], budget: int, random_seed: int
) -> list[tuple[tuple[int, ...], float]]:
    """Bootstrap resamples of the seeds as (sorted multiset, probability weight).

    With k seeds there are only C(2k-1, k) distinct resamples (10 for 3 seeds, 126 for 5). When
    that is within ``budget`` all of them are used with their exact multinomial probabilities:
    the exact bootstrap distribution, with no Monte Carlo noise and one fit per distinct
    resample. Otherwise ``budget`` random resamples, each fitted once however often it is drawn.
    """
    k = len(reps)
    if math.comb(2 * k - 1, k) <= budget:
        out = []
        for combo in itertools.combinations_with_replacement(reps, k):
            counts = [combo.count(r) for r in set(combo)]
            ways = math.factorial(k) / math.prod(math.factorial(c) for c in counts)
            out.append((combo, ways / k**k))
        return out
    rng = np.random.default_rng(random_seed)
    drawn: dict[tuple[int, ...], float] = {}
    for _ in range(budget):
        combo = tuple(sorted(int(r) for r in rng.choice(reps, size=k, replace=True)))
        drawn[combo] = drawn.get(combo, 0.0) + 1.0
    return list(drawn.items())


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative weight reaches ``q``.

    Inverted CDF, no interpolation, so an infinite value ("not reached") never mixes with a finite
    one.
    """
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    i = int(np.searchsorted(cum, q * cum[-1] - 1e-12, side="left"))
    return float(values[order][min(i, len(values) - 1)])


def _noise_for(
    points: list[SweepPoint],
    estimate: float,
    conservative: float | None,
    calibrate: bool,
    notes: list[str],
) -> tuple[dict[str, Any], float | None, float | None]:
    """Noise multipliers for the recommended epsilons, from the engine's own accounting figures."""
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
            notes.append(f"The noise for epsilon {_fmt_eps(eps)} could not be calibrated: {exc}")
            return None

    s = sigma(estimate)
    s_c = s if conservative is None or conservative == estimate else sigma(conservative)
    return info, s, s_c


def _epochs_note(
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
            f"At epsilon {_fmt_eps(near)} test accuracy was still rising over the last "
            f"{tail} of {n} epochs (+{100 * gain:.1f} points): more epochs may help. The noise is "
            "recalibrated for a longer run, so check with a second pilot before relying on it."
        )
    best = int(np.argmax(mean)) + 1
    if best <= n // 2 and float(mean.max() - mean[-1]) > max(tol / 2, 0.002):
        return (
            f"At epsilon {_fmt_eps(near)} test accuracy peaked at epoch {best} of {n} and then "
            "fell: fewer epochs (fewer noisy steps for the same budget) may do better; check "
            "with a second pilot."
        )
    return None


def _with_explanation(rec: Recommendation, *, n_seeds: int) -> Recommendation:
    from dataclasses import replace

    tol = f"{rec.tolerance:g} point{'s' if rec.tolerance != 1 else ''}"
    grid = ", ".join(_fmt_eps(e) for e in rec.grid)
    parts = [
        f"Without privacy the model reaches {_pct(rec.non_private_accuracy)} test accuracy; "
        f"staying within {tol} means at least {_pct(rec.target_accuracy)}."
    ]
    if not rec.reachable:
        parts.append(
            f"No epsilon tried (up to {_fmt_eps(rec.grid[-1])}) gets there: the best private "
            f"accuracy was {_pct(rec.best_private_accuracy)} at epsilon "
            f"{_fmt_eps(rec.best_private_epsilon)}."
        )
        if rec.fit.method == "curve_fit" and rec.fit.plateau < rec.target_accuracy:
            parts.append(
                f"The fitted curve levels off near {_pct(rec.fit.plateau)}, so a larger epsilon "
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
            f"Even the smallest epsilon tried, {_fmt_eps(rec.grid[0])}, stays within that "
            f"(about {_pct(lo_acc)}), so epsilon {_fmt_eps(rec.grid[0])} is enough; smaller "
            "epsilons were not tried and may work too."
        )
        if rec.conservative_epsilon is not None and _fmt_eps(rec.conservative_epsilon) != _fmt_eps(
            rec.grid[0]
        ):
            parts.append(
                "The margin is thin: with the seeds resampled the answer reaches epsilon "
                f"{_fmt_eps(rec.conservative_epsilon)}, the safer choice."
            )
    else:
        assert rec.epsilon is not None
        text = f"The pilot ({grid}; {n_seeds} seed{'s' if n_seeds != 1 else ''}) suggests epsilon " \
            f"about {_fmt_eps(rec.epsilon)}"
        if rec.interval is not None:
            lo, hi = rec.interval
            hi_text = _fmt_eps(hi) if math.isfinite(hi) else f"beyond {_fmt_eps(rec.grid[-1])}"
            text += f" ({100 * rec.confidence:.0f} % interval {_fmt_eps(lo)} to {hi_text})"
        parts.append(text + ".")
        if rec.conservative_epsilon is not None and _fmt_eps(rec.conservative_epsilon) != _fmt_eps(
            rec.epsilon
        ):
            parts.append(
                f"To be safe, choose the upper end, epsilon {_fmt_eps(rec.conservative_epsilon)}."
            )
    if rec.noise_multiplier is not None and rec.epsilon is not None and rec.accounting:
        a = rec.accounting
        text = (
            f"With this experiment's accounting (sample rate {a['sample_rate']:.3g}, "
            f"{a['steps']:,} noisy steps, delta {a['delta']:.2g}), epsilon "
            f"{_fmt_eps(rec.epsilon)} means a noise multiplier of {rec.noise_multiplier:.3g}"
        )
        if (
            rec.conservative_noise_multiplier is not None
            and rec.conservative_epsilon is not None
            and _fmt_eps(rec.conservative_epsilon) != _fmt_eps(rec.epsilon)
        ):
            text += (
                f" (epsilon {_fmt_eps(rec.conservative_epsilon)}: "
                f"{rec.conservative_noise_multiplier:.3g})"
            )
        parts.append(text + ".")
    if rec.epochs_note:
        parts.append(rec.epochs_note)
    return replace(rec, explanation=" ".join(parts))
