"""The sigmoid approximations of the secure protocols, for plaintext (numpy) and for MPyC.

A secret-shared computation can add and multiply, and compare at a price; it cannot evaluate
``1 / (1 + exp(-z))``. The secure training therefore uses one of these approximations, and its
plaintext twin uses *the same one*, so that the two differ only by fixed-point rounding.

``poly3`` (the default)
    ``s(z) = 1/2 + c1 z + c3 z^3`` with ``c1 = 2518596 / 2^24`` (0.15012) and
    ``c3 = -26726 / 2^24`` (-0.0015930): the least-squares cubic fit of the sigmoid on
    [-8, 8] (Kim, Song, Kim, Lee and Cheon, "Logistic regression model training based on the
    approximate homomorphic encryption", BMC Medical Genomics 2018). Largest error on [-8, 8]:
    0.1144, at the ends of the range. The cubic peaks at |z| = 5.6 and turns back beyond it
    (error 0.59 at z = 10), so a model whose scores grow far past the range trains badly and,
    with too large a step, diverges (in plaintext too): on standardised breast cancer, step
    sizes of 0.2 and more diverge within 20 iterations, 0.1 does not.
``poly3_narrow``
    ``s(z) = 1/2 + c1 z + c3 z^3`` with ``c1 = 3599428 / 2^24`` (0.21454) and
    ``c3 = -104582 / 2^24`` (-0.0062336): the minimax cubic on [-4, 4]. Largest error on
    [-4, 4]: 0.0228; far worse outside (0.56 at z = 6), so only for weak models.
``piecewise``
    ``s(z) = 0`` for ``z < -2``, ``1/2 + z/4`` for ``-2 <= z <= 2``, ``1`` for ``z > 2`` (the
    three-piece approximation of SecureML, Mohassel and Zhang 2017). Largest error over all
    real z: 0.1192, at ``z = +-2``. Needs two secure comparisons per score, which cost far
    more than the two multiplications of a cubic.

The coefficients are dyadic rationals (integers over 2^24), so the secure computation, which
works on integers scaled by powers of two, uses exactly the polynomial the plaintext twin uses.

Each approximation is a :class:`SigmoidApprox`: its name, formula, range and largest error on
that range as data (a unit test recomputes the error), :meth:`SigmoidApprox.__call__` for numpy
and :meth:`SigmoidApprox.secure` for MPyC secure fixed-point arrays. The secure training does
not call :meth:`~SigmoidApprox.secure`: it folds the polynomial into the gradient to avoid all
truncations of per-row values (see :mod:`.protocols`), using :attr:`SigmoidApprox.c1` and
:attr:`SigmoidApprox.c3`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["APPROXIMATIONS", "COEF_BITS", "SigmoidApprox", "get", "sigmoid"]

#: Coefficients are integers over 2^COEF_BITS.
COEF_BITS = 24


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The exact logistic function, without overflow warnings."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


@dataclass(frozen=True, kw_only=True)
class SigmoidApprox:
    """One approximation of the sigmoid.

    Attributes
    ----------
    name : str
        Key of the approximation (``PartyJob.sigmoid``).
    formula : str
        The formula in words, for reports.
    kind : str
        "poly" (``1/2 + c1 z + c3 z^3``) or "piecewise" (0, ``1/2 + z/4``, 1 with breakpoints
        at ``+-breakpoint``).
    lo, hi : float
        The range on which :attr:`max_error` holds (infinite for "piecewise").
    max_error : float
        Largest ``|s(z) - sigmoid(z)|`` for ``lo <= z <= hi``, rounded up in the 4th digit.
    c1_num, c3_num : int
        Numerators of the polynomial's coefficients over ``2^COEF_BITS`` ("poly").
    breakpoint : float
        Where the linear middle piece ends ("piecewise").
    reference : str
        Where it comes from.
    """

    name: str
    formula: str
    kind: str
    lo: float
    hi: float
    max_error: float
    c1_num: int = 0
    c3_num: int = 0
    breakpoint: float = 2.0
    reference: str = ""

    @property
    def c1(self) -> float:
        return self.c1_num / (1 << COEF_BITS)

    @property
    def c3(self) -> float:
        return self.c3_num / (1 << COEF_BITS)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """The approximation in plaintext (float64)."""
        z = np.asarray(z, dtype=np.float64)
        if self.kind == "poly":
            return 0.5 + z * (self.c1 + self.c3 * (z * z))
        return np.clip(0.5 + z / (2.0 * self.breakpoint), 0.0, 1.0)

    def secure(self, mpc: Any, z: Any) -> Any:
        """The approximation of a secure fixed-point array ``z`` (MPyC ``SecFxp`` array).

        Generic and straightforward (each multiplication truncates): for scoring or teaching.
        The training protocol computes the same polynomial without per-row truncations.
        """
        if self.kind == "poly":
            c1 = float(self.c1)
            c3 = float(self.c3)
            return 0.5 + z * (c1 + c3 * (z * z))
        b = float(self.breakpoint)
        above = mpc.np_less(b, z)      # 1 where z > b
        below = mpc.np_less(z, -b)     # 1 where z < -b
        middle = 0.5 + z * (1.0 / (2.0 * b))
        # 1 above, 0 below, the line in between: line + above * (1 - line) - below * line
        return middle + above * (1.0 - middle) - below * middle

    def describe(self) -> dict[str, Any]:
        """Name, formula, range and largest error as plain data (for results and reports)."""
        return {
            "name": self.name,
            "formula": self.formula,
            "range": [self.lo, self.hi] if math.isfinite(self.hi) else None,
            "max_error": self.max_error,
            "reference": self.reference,
        }


APPROXIMATIONS: dict[str, SigmoidApprox] = {
    a.name: a
    for a in (
        SigmoidApprox(
            name="poly3",
            formula="1/2 + 0.15012 z - 0.0015930 z^3 (least-squares cubic on [-8, 8])",
            kind="poly", lo=-8.0, hi=8.0, max_error=0.1144,
            c1_num=2518596, c3_num=-26726,
            reference="Kim et al., BMC Medical Genomics 11 (2018), degree-3 fit on [-8, 8]",
        ),
        SigmoidApprox(
            name="poly3_narrow",
            formula="1/2 + 0.21454 z - 0.0062336 z^3 (minimax cubic on [-4, 4])",
            kind="poly", lo=-4.0, hi=4.0, max_error=0.0228,
            c1_num=3599428, c3_num=-104582,
            reference="minimax (equal-ripple) cubic fit on [-4, 4]",
        ),
        SigmoidApprox(
            name="piecewise",
            formula="0 below -2, 1/2 + z/4 between -2 and 2, 1 above 2",
            kind="piecewise", lo=-math.inf, hi=math.inf, max_error=0.1193,
            breakpoint=2.0,
            reference="Mohassel and Zhang, SecureML (IEEE S&P 2017)",
        ),
    )
}


def get(name: str) -> SigmoidApprox:
    """The approximation called ``name``; ValueError naming the known ones otherwise."""
    try:
        return APPROXIMATIONS[name]
    except KeyError:
        raise ValueError(
            f"unknown sigmoid approximation {name!r}; choose one of {', '.join(APPROXIMATIONS)}"
        ) from None
