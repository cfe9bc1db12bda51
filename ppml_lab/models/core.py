"""Logistic / softmax regression and a one-hidden-layer MLP in numpy.

Both models share one small interface built for private training:

* :meth:`Model.per_example_grad_norms` gives the L2 norm of every example's gradient without
  materialising per-example gradients ("ghost norms"): a dense layer's per-example gradient is the
  outer product of its input ``a_i`` (with a 1 for the bias) and its output gradient ``g_i``, so
  its squared norm is ``(||a_i||^2 + 1) * ||g_i||^2``. Memory stays O(B * (d + hidden)).
* :meth:`Model.weighted_grad` gives ``sum_i w_i * grad_i`` in one backward pass. With
  ``w_i = min(1, C / norm_i)`` this is the sum of clipped per-example gradients DP-SGD needs;
  with ``w_i = 1 / B`` it is the ordinary minibatch mean gradient.

Binary targets use a single sigmoid output (like scikit-learn's LogisticRegression); more than
two classes use a softmax output. The loss is the mean cross-entropy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ppml_lab.params import param


@dataclass(frozen=True, kw_only=True)
class ModelParams:
    """The ``[model]`` section of an experiment: which model and how to train it."""

    kind: str = param(
        "logistic",
        label="Model",
        choices=("logistic", "mlp"),
        choice_labels={
            "logistic": "Logistic regression",
            "mlp": "Neural network (MLP)",
        },
        help="Logistic (softmax) regression, or a neural network with one hidden layer (MLP).",
    )
    epochs: int = param(
        10, label="Epochs", minimum=1, maximum=1000, help="Passes over the training data."
    )
    batch_size: int = param(
        64,
        label="Batch size",
        unit="rows",
        minimum=1,
        maximum=100_000,
        help="Rows per gradient step (for DP-SGD: the expected batch size under Poisson sampling).",
    )
    learning_rate: float = param(
        0.1,
        label="Learning rate",
        minimum=0.0,
        min_inclusive=False,
        maximum=100.0,
        log_scale=True,
        help="Step size of stochastic gradient descent.",
    )
    hidden: int = param(
        64,
        label="Hidden units",
        minimum=1,
        maximum=4096,
        help="Width of the MLP's hidden layer (ignored by logistic regression).",
        advanced=True,
    )
    l2: float = param(
        0.0,
        label="L2 penalty",
        minimum=0.0,
        maximum=10.0,
        help="Weight decay added to every step (0 = none).",
        advanced=True,
    )


def _log_softmax(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=1, keepdims=True)
    s = z - m
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp(-|z|) never overflows; this form is exact on both tails.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class _OutputMixin:
    """Shared output layer maths: probabilities, losses and dL/dlogits."""

    n_classes: int

    @property
    def n_outputs(self) -> int:
        return 1 if self.n_classes == 2 else self.n_classes

    def _proba_from_logits(self, z: np.ndarray) -> np.ndarray:
        if self.n_classes == 2:
            p1 = _sigmoid(z[:, 0])
            return np.column_stack([1.0 - p1, p1])
        return np.exp(_log_softmax(z))

    def _losses_from_logits(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self.n_classes == 2:
            zz = z[:, 0]
            # log(1 + exp(-s z)) with s = +-1, stable for large |z|.
            s = np.where(y == 1, 1.0, -1.0)
            return np.logaddexp(0.0, -s * zz)
        return -_log_softmax(z)[np.arange(len(y)), y]

    def _dlogits(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per-example gradient of the loss with respect to the logits, shape (B, n_outputs)."""
        if self.n_classes == 2:
            return (_sigmoid(z[:, 0]) - y)[:, None]
        g = np.exp(_log_softmax(z))
        g[np.arange(len(y)), y] -= 1.0
        return g


class Model(Protocol):
    """The interface engines use; see the module docstring."""

    n_features: int
    n_classes: int
    params: list[np.ndarray]

    def logits(self, X: np.ndarray) -> np.ndarray: ...
    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...
    def predict(self, X: np.ndarray) -> np.ndarray: ...
    def per_example_losses(self, X: np.ndarray, y: np.ndarray) -> np.ndarray: ...
    def loss(self, X: np.ndarray, y: np.ndarray) -> float: ...
    def weighted_grad(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> list[np.ndarray]: ...
    def per_example_grad_norms(self, X: np.ndarray, y: np.ndarray) -> np.ndarray: ...
    def clipped_grad_sum(
        self, X: np.ndarray, y: np.ndarray, clip_norm: float, x_sqnorms: np.ndarray | None = None
    ) -> list[np.ndarray]: ...
    def per_example_grads(self, X: np.ndarray, y: np.ndarray) -> np.ndarray: ...
    def get_flat(self) -> np.ndarray: ...
    def set_flat(self, flat: np.ndarray) -> None: ...
    def copy(self) -> Model: ...


class _FlatParamsMixin:
    params: list[np.ndarray]

    @property
    def n_params(self) -> int:
        return int(sum(p.size for p in self.params))

    def get_flat(self) -> np.ndarray:
        """All parameters as one float64 vector (a copy)."""
        return np.concatenate([p.ravel() for p in self.params])

    def set_flat(self, flat: np.ndarray) -> None:
        """Overwrite all parameters from one vector laid out as :meth:`get_flat`."""
        flat = np.asarray(flat, dtype=np.float64)
        if flat.size != self.n_params:
            raise ValueError(f"expected {self.n_params} parameters, got {flat.size}")
        offset = 0
        for p in self.params:
            p[...] = flat[offset : offset + p.size].reshape(p.shape)
            offset += p.size

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.argmax(self.predict_proba(X), axis=1)  # type: ignore[attr-defined]

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self.per_example_losses(X, y)))  # type: ignore[attr-defined]


class LinearModel(_OutputMixin, _FlatParamsMixin):
    """Logistic (binary) or softmax (multi-class) regression. ``params = [W (d, k), b (k,)]``."""

    def __init__(self, *, n_features: int, n_classes: int, rng: np.random.Generator | None = None):
        if n_classes < 2:
            raise ValueError("a classifier needs at least two classes")
        self.n_features = n_features
        self.n_classes = n_classes
        # Zero initialisation: the loss is convex, and zeros make runs independent of init noise.
        self.params = [np.zeros((n_features, self.n_outputs)), np.zeros(self.n_outputs)]

    def logits(self, X: np.ndarray) -> np.ndarray:
        W, b = self.params
        return X @ W + b

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self._proba_from_logits(self.logits(X))

    def per_example_losses(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self._losses_from_logits(self.logits(X), y)

    def weighted_grad(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> list[np.ndarray]:
        g = self._dlogits(self.logits(X), y) * w[:, None]
        return [X.T @ g, g.sum(axis=0)]

    def per_example_grad_norms(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        g = self._dlogits(self.logits(X), y)
        # For a binary model this is |residual| * ||[x, 1]||.
        return np.sqrt((np.einsum("ij,ij->i", X, X) + 1.0) * np.einsum("ij,ij->i", g, g))

    def clipped_grad_sum(
        self, X: np.ndarray, y: np.ndarray, clip_norm: float, x_sqnorms: np.ndarray | None = None
    ) -> list[np.ndarray]:
        """Sum over rows of each row's gradient scaled down to L2 norm <= ``clip_norm``.

        One forward pass: the per-example norms and the weighted sum share the logits.
        ``x_sqnorms`` (the rows' squared norms, if the caller precomputed them) saves a pass.
        """
        g = self._dlogits(self.logits(X), y)
        if x_sqnorms is None:
            x_sqnorms = np.einsum("ij,ij->i", X, X)
        # One output column (binary): the squared residual, without einsum's call overhead.
        g_sq = np.square(g[:, 0]) if g.shape[1] == 1 else np.einsum("ij,ij->i", g, g)
        norms = np.sqrt((x_sqnorms + 1.0) * g_sq)
        # C / max(norm, C) is min(1, C / norm) without a division by zero, in fewer passes.
        g *= (clip_norm / np.maximum(norms, clip_norm))[:, None]
        return [X.T @ g, g.sum(axis=0)]

    def per_example_grads(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Materialised per-example gradients, shape (B, n_params). For tests and reference only."""
        g = self._dlogits(self.logits(X), y)
        gw = np.einsum("bi,bk->bik", X, g).reshape(len(X), -1)
        return np.concatenate([gw, g], axis=1)

    def copy(self) -> LinearModel:
        other = LinearModel.__new__(LinearModel)
        other.n_features, other.n_classes = self.n_features, self.n_classes
        other.params = [p.copy() for p in self.params]
        return other


class MLPModel(_OutputMixin, _FlatParamsMixin):
    """One hidden ReLU layer. ``params = [W1 (d, h), b1 (h,), W2 (h, k), b2 (k,)]``."""

    def __init__(
        self,
        *,
        n_features: int,
        n_classes: int,
        hidden: int = 64,
        rng: np.random.Generator | None = None,
    ):
        if n_classes < 2:
            raise ValueError("a classifier needs at least two classes")
        rng = rng if rng is not None else np.random.default_rng(0)
        self.n_features = n_features
        self.n_classes = n_classes
        self.hidden = hidden
        # He initialisation for the ReLU layer, Glorot for the output layer.
        W1 = rng.normal(0.0, np.sqrt(2.0 / n_features), size=(n_features, hidden))
        W2 = rng.normal(0.0, np.sqrt(2.0 / (hidden + self.n_outputs)), size=(hidden, self.n_outputs))
        self.params = [W1, np.zeros(hidden), W2, np.zeros(self.n_outputs)]

    def _forward(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        W1, b1, W2, b2 = self.params
        pre = X @ W1 + b1
        h = np.maximum(pre, 0.0)
        return h, h @ W2 + b2

    def logits(self, X: np.ndarray) -> np.ndarray:
        return self._forward(X)[1]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self._proba_from_logits(self.logits(X))

    def per_example_losses(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        return self._losses_from_logits(self.logits(X), y)

    def _backward_signals(
        self, X: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return hidden activations h, dL/dlogits g2 and dL/dpre-activation g1 (per example)."""
        h, z = self._forward(X)
        g2 = self._dlogits(z, y)
        g1 = (g2 @ self.params[2].T) * (h > 0.0)
        return h, g2, g1

    def weighted_grad(self, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> list[np.ndarray]:
        h, g2, g1 = self._backward_signals(X, y)
        g2 = g2 * w[:, None]
        g1 = g1 * w[:, None]
        return [X.T @ g1, g1.sum(axis=0), h.T @ g2, g2.sum(axis=0)]

    def per_example_grad_norms(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        h, g2, g1 = self._backward_signals(X, y)
        sq1 = (np.einsum("ij,ij->i", X, X) + 1.0) * np.einsum("ij,ij->i", g1, g1)
        sq2 = (np.einsum("ij,ij->i", h, h) + 1.0) * np.einsum("ij,ij->i", g2, g2)
        return np.sqrt(sq1 + sq2)

    def clipped_grad_sum(
        self, X: np.ndarray, y: np.ndarray, clip_norm: float, x_sqnorms: np.ndarray | None = None
    ) -> list[np.ndarray]:
        """Sum over rows of each row's gradient scaled down to L2 norm <= ``clip_norm``.

        One forward and backward pass: the ghost norms and the weighted sum share the signals.
        """
        h, g2, g1 = self._backward_signals(X, y)
        if x_sqnorms is None:
            x_sqnorms = np.einsum("ij,ij->i", X, X)
        sq1 = (x_sqnorms + 1.0) * np.einsum("ij,ij->i", g1, g1)
        sq2 = (np.einsum("ij,ij->i", h, h) + 1.0) * np.einsum("ij,ij->i", g2, g2)
        w = (clip_norm / np.maximum(np.sqrt(sq1 + sq2), clip_norm))[:, None]
        g1, g2 = g1 * w, g2 * w
        return [X.T @ g1, g1.sum(axis=0), h.T @ g2, g2.sum(axis=0)]

    def per_example_grads(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Materialised per-example gradients, shape (B, n_params). For tests and reference only."""
        h, g2, g1 = self._backward_signals(X, y)
        b = len(X)
        return np.concatenate(
            [
                np.einsum("bi,bk->bik", X, g1).reshape(b, -1),
                g1,
                np.einsum("bi,bk->bik", h, g2).reshape(b, -1),
                g2,
            ],
            axis=1,
        )

    def copy(self) -> MLPModel:
        other = MLPModel.__new__(MLPModel)
        other.n_features, other.n_classes, other.hidden = (
            self.n_features,
            self.n_classes,
            self.hidden,
        )
        other.params = [p.copy() for p in self.params]
        return other


def make_model(
    params: ModelParams, *, n_features: int, n_classes: int, rng: np.random.Generator
) -> Model:
    """Build the model named by ``params.kind``."""
    if params.kind == "logistic":
        return LinearModel(n_features=n_features, n_classes=n_classes, rng=rng)
    if params.kind == "mlp":
        return MLPModel(n_features=n_features, n_classes=n_classes, hidden=params.hidden, rng=rng)
    raise ValueError(f"unknown model kind {params.kind!r}; use 'logistic' or 'mlp'")
