"""Encrypted scoring: the server applies its plaintext linear model to encrypted records.

Packing (SIMD)
--------------
The data owner encrypts the test records *by column*: one ciphertext holds one feature of a batch
of records, two records per slot (CKKS slots are complex numbers: records ``[0, N/2)`` in the
real parts, ``[N/2, N)`` in the imaginary parts), so a batch is up to N records and costs one
ciphertext per feature, not one per record as TenSEAL's tutorial does. The model's numbers are
real, and a real number times a complex slot scales both parts: nothing mixes.

The server computes, for each output k of the model, ``sum_j w_jk * column_j + b_k``: a
plaintext constant times each ciphertext and additions. With a rescaling prime in the chain
(depth budget >= 1) each weight is encoded at the scale of the prime the single rescale drops,
so the result keeps the data's scale (depth 1). Without one ("fast scoring", depth 0) the weights
are encoded at ``2^(first prime - scale - 10)`` bits and nothing is rescaled: the result keeps
10 bits of head room (|score| < 512) and costs no level, which lets the ciphertexts carry a
single 60-bit prime.

The owner decrypts the K score ciphertexts of each batch. The server sees only ciphertexts and
the number of records; the model is its own, in plaintext (not hidden from anyone it shares it
with).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ppml_lab.engines.he.ckks import Server
from ppml_lab.engines.he.contract import batches_of
from ppml_lab.engines.he.security import HEADROOM_BITS

__all__ = ["batches", "score_batch"]


def batches(n_rows: int, slots: int) -> list[slice]:
    """Row ranges of the batches: as few as possible, of equal size, at most ``2 * slots`` each."""
    return [slice(a, b) for a, b in batches_of(n_rows, slots)]


def score_batch(
    server: Server, columns: list[bytes], weights: np.ndarray, bias: np.ndarray,
    *, first_prime_bits: int, scale_bits: int,
) -> tuple[list[bytes], int]:
    """The server's part for one batch: K score ciphertexts (as bytes) and the depth used."""
    import time

    cts = [server.receive(blob) for blob in columns]
    t0 = time.perf_counter()
    W = np.asarray(weights, dtype=np.float64).reshape(len(cts), -1)
    b = np.asarray(bias, dtype=np.float64).ravel()
    rescale = server.levels_left(cts[0]) >= 1
    if rescale:
        weight_scale = server.next_prime(cts[0])
    else:
        weight_scale = float(2 ** (first_prime_bits - scale_bits - HEADROOM_BITS))
    outputs: list[Any] = []
    for k in range(W.shape[1]):
        acc = None
        for j, ct in enumerate(cts):
            w = float(W[j, k])
            if round(abs(w) * weight_scale) == 0:
                continue  # encodes to zero (SEAL refuses a product with a zero plaintext)
            term = _times(server, ct, w, weight_scale)
            if acc is None:
                acc = term
            else:
                server.evaluator.add_inplace(acc, term)
        if acc is None:
            raise ValueError("every weight of the model is zero: there is nothing to score")
        if rescale:
            server.evaluator.rescale_to_next_inplace(acc)
        # The bias on both halves of every slot (real and imaginary records).
        server.evaluator.add_plain_inplace(
            acc, server.constant(complex(b[k], b[k]), acc.parms_id(), acc.scale)
        )
        outputs.append(acc)
    server.compute_seconds += time.perf_counter() - t0
    return [server.send(ct) for ct in outputs], int(rescale)


def _times(server: Server, ct: Any, value: float, scale: float) -> Any:
    import tenseal.sealapi as seal

    out = seal.Ciphertext()
    server.evaluator.multiply_plain(ct, server.constant(value, ct.parms_id(), scale), out)
    return out
