"""The plaintext twins of the encrypted computations, in numpy.

Same model layout (coefficients, then the intercept), same start (zeros), same iterations, step
size and L2 penalty, and *the same polynomial sigmoid* (:data:`SIGMOID`) as the encrypted
training; the same model as the encrypted scoring. The encrypted and plaintext results then
differ only by CKKS's approximation error: that difference is the fidelity, and the twin's run
time is "the plaintext time of the same computation".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SIGMOID", "PolySigmoid", "score", "train", "with_intercept"]


@dataclass(frozen=True)
class PolySigmoid:
    """``1/2 + c1 z + c3 z^3``: a degree-3 polynomial in place of the logistic sigmoid.

    Encrypted data can be added and multiplied, not exponentiated, so the training replaces the
    sigmoid by a polynomial; its degree sets the multiplicative depth (a cube: two levels).
    """

    c1: float
    c3: float
    lo: float
    hi: float
    max_error: float
    source: str

    @property
    def degree(self) -> int:
        return 3

    def __call__(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=np.float64)
        return 0.5 + z * (self.c1 + self.c3 * (z * z))

    @property
    def formula(self) -> str:
        return f"1/2 + {self.c1:.5f} z - {abs(self.c3):.7f} z^3"

    def describe(self) -> dict[str, object]:
        return {
            "formula": self.formula,
            "degree": self.degree,
            "range": [self.lo, self.hi],
            "max_error": self.max_error,
            "source": self.source,
        }


#: The least-squares cubic fit of the sigmoid on [-8, 8] (Kim, Song, Kim, Lee and Cheon, BMC
#: Medical Genomics 2018): largest error 0.1144 on [-8, 8] (a unit test recomputes it); the
#: cubic turns back beyond |z| = 5.6, so scores far outside the range train badly.
SIGMOID = PolySigmoid(
    c1=0.15012, c3=-0.0015930, lo=-8.0, hi=8.0, max_error=0.1144,
    source="least-squares cubic on [-8, 8], Kim et al., BMC Medical Genomics 11 (2018)",
)


def with_intercept(X: np.ndarray) -> np.ndarray:
    """``X`` with a column of ones appended (the intercept is the last coefficient)."""
    X = np.asarray(X, dtype=np.float64)
    return np.hstack([X, np.ones((X.shape[0], 1))])


def train(
    X: np.ndarray, y: np.ndarray, *, iterations: int, step_size: float, l2: float = 0.0,
    sigmoid: PolySigmoid = SIGMOID, w0: np.ndarray | None = None,
) -> np.ndarray:
    """Full-batch gradient descent with the polynomial sigmoid: the twin of encrypted training.

    ``w <- w - step * (X1^T (s(X1 w) - y) / n + l2 * w)``; returns coefficients then intercept.
    """
    X1 = with_intercept(X)
    y = np.asarray(y, dtype=np.float64)
    w = np.zeros(X1.shape[1]) if w0 is None else np.array(w0, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(int(iterations)):
            g = X1.T @ (sigmoid(X1 @ w) - y) / len(y)
            w = w * (1.0 - step_size * l2) - step_size * g
    return w


def score(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The scores (logits) ``X W + b``: the twin of encrypted scoring."""
    return np.asarray(X, dtype=np.float64) @ np.asarray(W) + np.asarray(b)
