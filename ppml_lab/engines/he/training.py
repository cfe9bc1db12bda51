"""Encrypted training of logistic regression on encrypted data (packed, with refreshes).

What each side holds
--------------------
The key holder (the data owner) encrypts every feature column and the labels, packed (SIMD): one
ciphertext holds one column of up to N/2 rows, zero-padded (a dataset with more rows takes
several blocks of N/2). It also encrypts each weight, copied into every slot. The server holds
these ciphertexts and the public context (relinearisation and rotation keys); it never sees a
number in the clear.

One iteration on the server (full-batch gradient descent, depth 4)
------------------------------------------------------------------
With ``a = step / n`` (n rows) and the sigmoid replaced by ``s(z) = 1/2 + c1 z + c3 z^3``
(:data:`~.plaintext.SIGMOID`):

1. ``z = sum_j W_j * X_j + W_b * mask``: the scores of every row at once (ciphertext products
   summed before one relinearisation; ``mask`` is 1 on the real rows); **level 1**.
2. ``z^2`` (level 2); ``a c3 z`` and ``a c1 z`` (a constant times z, level 2);
   ``a c3 z^3 = z^2 * (a c3 z)`` (**level 3**); ``e = a (s(z) - y)`` adds ``a c1 z``,
   ``-a y`` (the encrypted labels times a constant) and ``a / 2``, all brought to level 3.
3. ``G_j = e * X_j`` and ``G_b = e * mask`` (**level 4**), each summed over all slots with
   log2(N/2) rotations, which leaves the gradient step copied into every slot: the layout of the
   weights.
4. ``W_j <- (1 - step * l2) W_j - G_j``: the new weights, at level 4.

The multiplicative depth is 4 per iteration. A chain with ``L`` rescaling primes runs
``L // 4`` iterations; then the server sends the weights to the key holder, who decrypts them,
reads the value (the mean over the slots) and encrypts them afresh at level 0 (the
"decrypt-refresh": the key holder sees the weights then, and only it). With the preset
"training, depth 4" that is after every iteration, with "training, depth 8" every second.

Scales are tracked exactly (see :class:`~.ckks.Server`): every constant is encoded at the scale
that makes the terms of ``e`` share one scale and the new weights land on the old weights'
scale, so the weights keep the fresh scale ``2^scale_bits`` from one iteration to the next.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ppml_lab.engines.he.ckks import KeyHolder, Server
from ppml_lab.engines.he.plaintext import SIGMOID, PolySigmoid

__all__ = ["DEPTH_PER_ITERATION", "TrainingServer", "encrypt_data", "encrypt_weights"]

DEPTH_PER_ITERATION = 4


def blocks(n_rows: int, slots: int) -> list[slice]:
    """Row blocks of at most ``slots`` rows (one ciphertext per column and block)."""
    return [slice(s, min(n_rows, s + slots)) for s in range(0, max(n_rows, 1), slots)]


def encrypt_data(owner: KeyHolder, X: np.ndarray, y: np.ndarray) -> tuple[list[list[bytes]],
                                                                          list[bytes]]:
    """The key holder's upload: per block, one ciphertext per feature column, and the labels."""
    columns, labels = [], []
    for rows in blocks(len(y), owner.slots):
        columns.append([owner.encrypt(X[rows, j]) for j in range(X.shape[1])])
        labels.append(owner.encrypt(np.asarray(y[rows], dtype=np.float64)))
    return columns, labels


def encrypt_weights(owner: KeyHolder, w: np.ndarray) -> list[bytes]:
    """Each weight (coefficients, then the intercept) in every slot of its own ciphertext."""
    return [owner.encrypt_replicated(float(v)) for v in w]


def decrypt_weights(owner: KeyHolder, blobs: list[bytes]) -> np.ndarray:
    """The key holder reads each weight as the mean of its ciphertext's slots."""
    return np.array([float(np.mean(owner.decrypt(b))) for b in blobs])


class TrainingServer:
    """The server's side: the encrypted data, and iterations on encrypted weights."""

    def __init__(
        self, server: Server, columns: list[list[bytes]], labels: list[bytes], rows: list[int],
        *, step_size: float, l2: float, n: int, sigmoid: PolySigmoid = SIGMOID,
    ) -> None:
        self.server = server
        self.X = [[server.receive(b) for b in block] for block in columns]
        self.Y = [server.receive(b) for b in labels]
        self.rows = rows
        self.a = float(step_size) / float(n)
        self.decay = 1.0 - float(step_size) * float(l2)
        self.sigmoid = sigmoid
        self.d = len(columns[0])
        self._cache: dict[tuple[Any, ...], Any] = {}

    def _x(self, b: int, j: int, parms_id: Any) -> Any:
        key = ("x", b, j, tuple(parms_id))
        if key not in self._cache:
            self._cache[key] = self.server.at_level(self.X[b][j], parms_id)
        return self._cache[key]

    def _y(self, b: int, parms_id: Any) -> Any:
        key = ("y", b, tuple(parms_id))
        if key not in self._cache:
            self._cache[key] = self.server.at_level(self.Y[b], parms_id)
        return self._cache[key]

    def _mask(self, b: int, parms_id: Any) -> Any:
        key = ("mask", b, tuple(parms_id))
        if key not in self._cache:
            import tenseal.sealapi as seal

            ones = np.zeros(self.server.slots)
            ones[:self.rows[b]] = 1.0
            pt = seal.Plaintext()
            self.server.encoder.encode(ones.tolist(), parms_id, self.server.scale, pt)
            self._cache[key] = pt
        return self._cache[key]

    def iterations_per_refresh(self, weights: list[Any]) -> int:
        return self.server.levels_left(weights[0]) // DEPTH_PER_ITERATION

    def iterate(self, W: list[Any]) -> list[Any]:
        """One gradient-descent iteration on the encrypted weights (see the module text)."""
        t0 = time.perf_counter()
        srv, ev = self.server, self.server.evaluator
        s_w = W[0].scale
        level_w = W[0].parms_id()
        x_scale = srv.scale
        sums: list[Any] = [None] * (self.d + 1)
        for b in range(len(self.X)):
            # 1. z = sum_j W_j X_j + W_b mask (products summed, one relinearisation).
            z = None
            for j in range(self.d):
                term = _new()
                ev.multiply(W[j], self._x(b, j, level_w), term)
                z = term if z is None else _add(ev, z, term)
            term = _new()
            ev.multiply_plain(W[self.d], self._mask(b, level_w), term)
            z = _add(ev, z, term)
            srv.finish_product(z)
            # 2. e = a (c1 z + c3 z^3 + 1/2 - y) on one scale at level 3, chosen so that the
            #    gradient after step 3 lands on the weights' scale s_w.
            z2 = srv.multiply(z, z)
            level_e = _next_id(srv, z2)
            prime_e = srv.next_prime(z2)           # dropped when z^2 * (a c3 z) is rescaled
            s_e = s_w * _prime_after(srv, z2) / x_scale  # e * X rescaled -> s_w
            t = srv.multiply_constant(z, self.a * self.sigmoid.c3, s_e * prime_e / z2.scale)
            e = srv.multiply(z2, t)
            e.scale = s_e
            u = srv.multiply_constant(z, self.a * self.sigmoid.c1, s_e)
            ev.mod_switch_to_inplace(u, level_e)
            ya = srv.multiply_constant(self._y(b, level_w), -self.a, s_e)
            ev.mod_switch_to_inplace(ya, level_e)
            ev.add_inplace(e, u)
            ev.add_inplace(e, ya)
            ev.add_plain_inplace(e, srv.constant(0.5 * self.a, level_e, s_e))
            # 3. e * X_j, summed over the blocks before relinearising.
            for j in range(self.d):
                term = _new()
                ev.multiply(e, self._x(b, j, level_e), term)
                sums[j] = term if sums[j] is None else _add(ev, sums[j], term)
            term = _new()
            ev.multiply_plain(e, self._mask(b, level_e), term)
            sums[self.d] = term if sums[self.d] is None else _add(ev, sums[self.d], term)
        new_w = []
        for j, g in enumerate(sums):
            if j < self.d:
                srv.finish_product(g)
            else:
                ev.rescale_to_next_inplace(g)
            g.scale = s_w
            srv.sum_slots(g)
            # 4. W_j <- decay * W_j - G_j, on the weights' scale and the gradient's level.
            w = srv.at_level(W[j], _previous_id(srv, g))
            w = srv.multiply_constant(w, self.decay, s_w)
            ev.sub_inplace(w, g)
            new_w.append(w)
        srv.compute_seconds += time.perf_counter() - t0
        return new_w


def _new() -> Any:
    import tenseal.sealapi as seal

    return seal.Ciphertext()


def _add(ev: Any, acc: Any, term: Any) -> Any:
    ev.add_inplace(acc, term)
    return acc


def _next_id(srv: Server, ct: Any) -> Any:
    """The parms_id one level below ``ct``."""
    return srv.context.get_context_data(ct.parms_id()).next_context_data().parms_id()


def _previous_id(srv: Server, ct: Any) -> Any:
    """The parms_id one level above ``ct``."""
    return srv.context.get_context_data(ct.parms_id()).prev_context_data().parms_id()


def _prime_after(srv: Server, ct: Any) -> float:
    """The prime dropped by the rescale *after* the next one of ``ct``."""
    data = srv.context.get_context_data(ct.parms_id()).next_context_data()
    return float(data.parms().coeff_modulus()[-1].value())
