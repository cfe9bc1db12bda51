"""The planner's accuracy-vs-epsilon curve: :class:`CurveFit` and :func:`fit_curve`.

The curve is saturating,

    acc(eps) = a - b * exp(-c * (log(eps) - x_ref)) = a - b * (eps / eps_ref) ** -c,

with ``a`` the plateau the private runs approach as epsilon grows, ``b >= 0`` how far below it they
are at the reference epsilon ``eps_ref`` (the geometric mean of the grid) and ``c > 0`` how fast
they recover. It is monotone by construction, so it always has one answer for a target accuracy.
The fit uses every (epsilon, seed) point with a soft-L1 loss, so a single diverged run moves it
little. Should the fit fail (or with fewer than three distinct epsilons), a monotone (isotonic)
interpolation of the per-epsilon means in log epsilon is used instead: scikit-learn's
:func:`sklearn.isotonic.isotonic_regression` (pool-adjacent-violators), weighted by the number
of runs at each epsilon.

Part of the inverse planner (:mod:`ppml_lab.experiments.planner`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from ppml_lab.jsonable import finite_or_none

__all__ = ["CurveFit", "fit_curve", "json_number", "solve_in_grid"]


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
        out: dict[str, Any] = {"method": self.method, "rms_residual": json_number(self.rms_residual)}
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
    # The weighted isotonic regression of the per-epsilon means is the isotonic regression of
    # all points (tied epsilons pool into their mean). IsotonicRegression would compute it from
    # the raw points, averaging ties its own way, which differs from numpy's mean in the last
    # bit; the function keeps the means (and so the knots) exactly as before.
    # Imported here: only this fallback needs scikit-learn, which takes ~0.4 s to import.
    from sklearn.isotonic import isotonic_regression

    levels = np.unique(eps)
    means = [float(acc[eps == e].mean()) for e in levels]
    counts = [float((eps == e).sum()) for e in levels]
    fitted = [float(v) for v in isotonic_regression(means, sample_weight=counts)]
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


#: ``v`` as a JSON-ready float; None for None, NaN and infinities (the lab's one convention).
json_number = finite_or_none


def solve_in_grid(fit: CurveFit, target: float, lo: float, hi: float) -> float:
    """Crossing clipped to the grid: ``lo`` if below it, ``inf`` if beyond ``hi``."""
    e = fit.epsilon_for(target)
    if e <= lo:
        return lo
    if e > hi * (1 + 1e-9):
        return math.inf
    return e


