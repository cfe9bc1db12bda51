"""The secure protocols, party side: MPyC coroutines run inside each party process.

Every coroutine takes the MPyC runtime ``mpc`` (``from mpyc.runtime import mpc``, imported by
:mod:`.party` after it has set ``sys.argv``), the shared :class:`~.wire.PartyJob` and only this
party's own arrays, and uses MPyC's public API only (``input``, ``output``, ``transfer``,
secure-array arithmetic, ``np_trunc``, ``np_sgn``). Security model: MPyC's, Shamir secret
sharing with threshold t = (m - 1) // 2, passive (honest-but-curious) parties; with 2 parties
t = 0 and nothing is secret.

Fixed point without per-row truncations
---------------------------------------
MPyC's ``SecFxp`` truncates after every secret product (``mpc.np_trunc``: ``f`` secret random
bits per element, each a pseudorandom sharing plus an opened square and a modular square root).
On a 3,750-row vector that costs about 1.2 s with 3 parties, against 0.03 s for the product
itself. The training therefore works on scaled integers (``mpc.SecInt(L)``) and truncates
once per iteration, a vector of d + 1 numbers:

* features ``X`` are integers at scale ``2^fx``, the model ``w`` at ``2^fw`` (``fx = fw = f``,
  the job's ``fixed_point_bits``), the intercept is a column of ones appended to ``X``;
* the gradient sum is split so that only the cubic term depends on each row every iteration:
  ``X^T (s(Xw) - y) = X^T (1/2 - y) + c1 (X^T X) w + c3 X^T (Xw)^3``. ``X^T X`` and
  ``X^T (1/2 - y)`` do not change: they are computed once (rows split: each party computes its
  own ``X_p^T X_p`` and ``X_p^T (1/2 - y_p)`` in plaintext and inputs them, secret-shared, the
  sum is ``X^T X``; columns split: a secure product once);
* per iteration: ``z = X w``, ``z^2``, ``z^3`` (three secret products of n numbers, no
  truncation: the scales add up, exactly), ``V = a3 X^T z^3 + H w + k0`` (one secret product of
  d + 1 numbers; ``a3``, ``H`` and ``k0`` fold the coefficients, the step size and the L2 term
  in as public integers), then ``w <- w - trunc(V)``: one probabilistic truncation of d + 1
  numbers to 2^-fw (:class:`MaskedTruncation`, masks input by every party, one opening;
  ``job.extra["truncation"] = "mpyc"`` uses MPyC's ``np_trunc`` instead, 50% slower);
* the field is sized from public bounds: ``|x|, |w|, |z| < 2^integer_bits`` (a party refuses
  its input otherwise; ``z`` and ``w`` are the user's responsibility, standardised data keeps
  them small), see :func:`training_scales`. Intermediate values may wrap around the prime:
  only the truncated ``V`` must fit, and it is bounded by the step size times the largest
  gradient.

All arithmetic before the truncation is exact, so secure and plaintext training differ only by
the input quantisation (2^-f) and one rounding of the update per iteration. Communication per
iteration: 5 exchanges (reshares of z, z^2, z^3 and V, one opening); at 3,750 x 20 with 3
parties about 0.72 MB sent per party and 0.17 s on a 2-core machine.

The piecewise sigmoid needs ``[z > 2]`` and ``[z < -2]``: one ``mpc.np_sgn`` of 2n numbers per
iteration (l secret random bits per number), then ``X^T`` of the correction; everything else is
as above.

Secure aggregation (rows split only) has no such cost: each party trains in plaintext, inputs
its weighted update ``n_p / n (w_p - w)`` at scale 2^f, the shares are added locally and only the
sum is opened, to every party, every round. Secure scoring: the model owner (party 0) inputs the
model, each record owner its records; ``X w + b`` is one secret product; each record owner
alone receives the scores of its records.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ppml_lab.engines.smpc import sigmoid as sigmoids
from ppml_lab.engines.smpc.plaintext import local_update
from ppml_lab.engines.smpc.wire import PartyJob

__all__ = [
    "MaskedTruncation",
    "TrainingScales",
    "aggregate",
    "check_bound",
    "data_shape",
    "masked_field_bits",
    "score",
    "to_fixed",
    "train",
    "training_scales",
]

#: Significant bits kept of the public step size (and L2 factor) as an integer multiplier.
STEP_BITS = 24

#: ``report(step, seconds)``: called after every iteration/round (step 1, 2, ...) with its wall
#: time; training also calls it with step 0 when its one-time set-up (input sharing,
#: ``X^T X``) is done, with the set-up's time.
Report = Callable[[int, float], None]


def data_shape(job: PartyJob) -> tuple[int, int]:
    """(rows, feature columns) of the whole training set, from the public job."""
    if job.split == "columns":
        return int(job.rows[0]), int(sum(job.columns))
    return int(sum(job.rows)), int(job.columns[0])


def to_fixed(a: np.ndarray, bits: int) -> np.ndarray:
    """``round(a * 2^bits)`` as an object array of Python ints (exact, no int64 overflow)."""
    a = np.asarray(a, dtype=np.float64)
    scaled = np.rint(a * float(1 << bits))
    flat = [int(v) for v in scaled.ravel()]
    return np.array(flat, dtype=object).reshape(a.shape)


def check_bound(name: str, a: np.ndarray, integer_bits: int) -> None:
    """ValueError if some ``|a| >= 2^integer_bits`` (the field is sized for smaller values)."""
    a = np.asarray(a, dtype=np.float64)
    if a.size and not np.all(np.isfinite(a)):
        raise ValueError(f"{name} has missing or infinite values")
    bound = float(1 << integer_bits)
    if a.size and np.max(np.abs(a)) >= bound:
        raise ValueError(
            f"{name} has values of size {np.max(np.abs(a)):.4g}, at or above 2^{integer_bits} "
            f"= {bound:g}: standardise the data or raise integer_bits"
        )


@dataclass(frozen=True)
class TrainingScales:
    """The integer scales of the secure training (all parties derive the same from the job).

    Attributes
    ----------
    fx, fw : int
        Fractional bits of the features and of the model.
    scale : int
        ``S``: the gradient sum is computed as an integer ``~ 2^S X^T (s - y)``.
    step_bits : int
        ``E``: the step size ``lr / n`` is the integer ``eta = round(lr / n * 2^E)``.
    shift : int
        Bits truncated per iteration: ``S - fw + E``.
    bits : int
        ``L``: ``|V| < 2^(L-1)`` for the truncated value; MPyC's field for ``SecInt(L)`` has
        ``L + k + 2`` bits (k: statistical security parameter, 30 by default).
    compare_bits : int
        Piecewise sigmoid: the comparisons' ``l`` (``|z +- 2| < 2^(l-1)``); 0 for polynomials.
    eta, rho : int
        ``round(lr / n * 2^E)`` and ``round(lr * l2 * 2^E)``.
    """

    fx: int
    fw: int
    scale: int
    step_bits: int
    shift: int
    bits: int
    compare_bits: int
    eta: int
    rho: int


def training_scales(job: PartyJob, n: int, approx: sigmoids.SigmoidApprox) -> TrainingScales:
    """Scales and field size of the secure training, from public values only."""
    f = int(job.fixed_point_bits)
    fx = fw = f
    big_i = int(job.integer_bits)
    lr = float(job.learning_rate)
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"learning_rate must be a positive number (got {lr})")
    eta_real = lr / n
    step_bits = STEP_BITS - math.floor(math.log2(eta_real))
    eta = round(eta_real * 2.0 ** step_bits)
    rho = round(lr * float(job.l2) * 2.0 ** step_bits)
    if approx.kind == "poly":
        scale = 4 * fx + 3 * fw + sigmoids.COEF_BITS
        z_max = 2.0 ** big_i
        s_err = 1.5 + abs(approx.c1) * z_max + abs(approx.c3) * z_max ** 3  # >= |s(z) - y|
        compare_bits = 0
    else:
        scale = 2 * fx + fw + 2
        s_err = 1.0
        compare_bits = big_i + fx + fw + 2
    # |V| <= 2^(S+E) * lr * max|x| * (max|s - y| + l2 max|w|), with slack for rounding.
    v_max = 2.0 ** (scale + step_bits) * lr * 2.0 ** big_i * (s_err + float(job.l2) * 2.0 ** big_i)
    bits = max(math.ceil(math.log2(v_max)) + 3, compare_bits + 1)
    return TrainingScales(
        fx=fx, fw=fw, scale=scale, step_bits=step_bits, shift=scale - fw + step_bits,
        bits=bits, compare_bits=compare_bits, eta=eta, rho=rho,
    )


class MaskedTruncation:
    """Probabilistic truncation of secret integer vectors by ``shift`` bits, masks from every party.

    MPyC's ``mpc.np_trunc`` masks ``V`` with ``r = r_low + 2^shift r_high`` where ``r_low`` is
    made of ``shift`` secret random *bits* per element, so that the rounding is exact; those bits
    are most of its cost (a pseudorandom sharing, an opened square and a modular square root
    each: 0.26 s instead of 0.17 s per iteration at 3,750 x 20, 3 parties). This variant lets *every party* input its own
    uniform ``a_p < 2^shift`` and ``b_p < 2^(bits + k - shift)`` (``secrets``, the operating
    system's entropy), all iterations' worth at once, and uses the secret sums
    ``r_low = sum a_p``, ``r_high = sum b_p``. Per call: open
    ``c = V + 2^bits + r_low + 2^shift r_high``, then ``floor((V + r_low) / 2^shift)`` is
    ``(V + 2^bits + r_low - (c mod 2^shift)) / 2^shift - 2^(bits - shift)``, a local exact
    division in the field.

    Hiding: the opened ``c`` contains one honest party's ``a_h + 2^shift b_h``, uniform on
    ``[0, 2^(bits + k))``, so ``c`` is within statistical distance ``2^-k`` of a value
    independent of ``V`` (``|V| < 2^(bits - 1)``; k is MPyC's security parameter, 30 by default)
    whatever the other parties hold: the argument of MPyC's own truncation. Rounding: ``r_low``
    is a sum of m uniform values instead of one, so the result is ``V / 2^shift`` plus an error
    below ``(m + 1) / 2`` units in the last place instead of below 1; ``(m - 1) 2^(shift-1)`` is
    subtracted first so that the error has mean (almost exactly) zero. The field needs
    ``log2(m) + 2`` bits more than ``V``: see :func:`masked_field_bits`.
    """

    def __init__(self, mpc: Any, secint: Any, size: int, shift: int, bits: int, calls: int,
                 chunk: int = 64) -> None:
        self.mpc = mpc
        self.secint = secint
        self.size = size
        self.shift = shift
        self.bits = bits
        self.remaining = calls
        self.chunk = chunk
        self.pool: list[tuple[Any, Any]] = []
        m = len(mpc.parties)
        p = secint.field.modulus
        self.inverse = pow(1 << shift, -1, p)  # exact division by 2^shift in the field
        self.offset = (1 << bits) - ((m - 1) << max(shift - 1, 0))
        self.high_bits = bits + int(mpc.options.sec_param) - shift

    def prepare(self) -> None:
        """Input the masks of the next ``chunk`` calls (every party inputs its own)."""
        import secrets

        if self.remaining <= 0:
            return
        count = min(self.chunk, self.remaining)
        self.remaining -= count
        own = np.array(
            [[secrets.randbits(self.shift) for _ in range(self.size)] for _ in range(count)]
            + [[secrets.randbits(self.high_bits) for _ in range(self.size)]
               for _ in range(count)],
            dtype=object,
        )
        total = _sum_arrays(self.mpc.input(self.secint.array(own),
                                           senders=list(range(len(self.mpc.parties)))))
        self.pool.extend((total[i], total[count + i]) for i in range(count))

    async def __call__(self, V: Any) -> Any:
        if not self.pool:
            self.remaining = max(self.remaining, 1)
            self.prepare()
        r_low, r_high = self.pool.pop(0)
        u = V + r_low + self.offset
        c = await self.mpc.output(u + r_high * (1 << self.shift))
        mask = (1 << self.shift) - 1
        c_low = np.array([int(v) & mask for v in np.asarray(c).ravel()], dtype=object)
        return (u - c_low) * self.inverse - (1 << (self.bits - self.shift))


def masked_field_bits(bits: int, parties: int) -> int:
    """``L`` of ``mpc.SecInt(L)`` so that :class:`MaskedTruncation` of ``|V| < 2^(bits-1)`` fits.

    ``SecInt(L)``'s prime has ``L + k + 2`` bits; the opened value is below
    ``2^(bits+1) + m 2^(bits+k)`` and must stay below half the prime.
    """
    return bits + max(1, math.ceil(math.log2(parties))) + 2


def _sum_arrays(shared: list[Any]) -> Any:
    total = shared[0]
    for part in shared[1:]:
        total = total + part
    return total


async def _sum_inputs(mpc: Any, secint: Any, own: np.ndarray) -> Any:
    """Every party inputs an array of the same shape; the secret sum (local additions)."""
    return _sum_arrays(mpc.input(_secret(secint, own), senders=list(range(len(mpc.parties)))))


def _secret(secint: Any, a: np.ndarray) -> Any:
    """``secint.array`` of a copy: MPyC reduces an object array modulo p in place."""
    return secint.array(np.array(a, dtype=object, copy=True))


def _input_rows(mpc: Any, secint: Any, own: np.ndarray, rows: list[int], width: int) -> list[Any]:
    """Each party inputs its block of rows (shapes from the public job)."""
    out = []
    for p, count in enumerate(rows):
        value = own if p == mpc.pid else np.zeros((count, width), dtype=object)
        out.append(mpc.input(_secret(secint, value), senders=p))
    return out


async def train(
    mpc: Any, job: PartyJob, X_own: np.ndarray, y_own: np.ndarray, report: Report | None = None,
) -> np.ndarray:
    """Secure full-batch gradient descent; returns the revealed model (coefficients, intercept).

    ``X_own``/``y_own``: this party's rows (rows split), or its columns of every row and, for
    party 0, every label (columns split). Starts from zeros, like :func:`.plaintext.train`.
    """
    t_setup = time.perf_counter()
    approx = sigmoids.get(job.sigmoid)
    m, pid = len(mpc.parties), mpc.pid
    n, d = data_shape(job)
    sc = training_scales(job, n, approx)
    masked = job.extra.get("truncation", "masked") == "masked"
    secint = mpc.SecInt(masked_field_bits(sc.bits, m) if masked else sc.bits)
    fx, fw = sc.fx, sc.fw
    one = 1 << fx
    Xq = to_fixed(X_own, fx)
    if job.split == "rows":
        Xq1 = np.hstack([Xq, np.full((Xq.shape[0], 1), one, dtype=object)])
        X1 = mpc.np_vstack(_input_rows(mpc, secint, Xq1, list(job.rows), d + 1))
        # X_p^T X_p and X_p^T (1 - 2 y_p) in plaintext, exact integers; their sums are shared.
        ypm = np.array([1 - 2 * int(v) for v in np.asarray(y_own).ravel()], dtype=object)
        local = np.hstack([Xq1.T @ Xq1, (Xq1.T @ ypm).reshape(-1, 1)]) if len(ypm) else \
            np.zeros((d + 1, d + 2), dtype=object)
        GT = await _sum_inputs(mpc, secint, local)
        G, T1 = GT[:, :d + 1], GT[:, d + 1]
    else:
        blocks = []
        for p, count in enumerate(job.columns):
            value = Xq if p == pid else np.zeros((n, count), dtype=object)
            blocks.append(mpc.input(_secret(secint, value), senders=p))
        blocks.append(secint.array(np.full((n, 1), one, dtype=object)))  # public ones
        X1 = mpc.np_hstack(blocks)
        ypm = np.array([1 - 2 * int(v) for v in np.asarray(y_own).ravel()], dtype=object) \
            if pid == 0 else np.zeros(n, dtype=object)
        ysh = mpc.input(_secret(secint, ypm), senders=0)
        G = X1.T @ X1  # once: X^T X and X^T (1 - 2y) need secret products across parties
        T1 = X1.T @ ysh
    X1T = X1.T
    S = sc.scale
    eye = np.eye(d + 1, dtype=object)
    if approx.kind == "poly":
        a3 = sc.eta * approx.c3_num
        a1 = sc.eta * approx.c1_num << (2 * fx + 2 * fw)
        k0 = T1 * (sc.eta << (S - fx - 1))
        a3XT = X1T * a3
    else:
        a1 = sc.eta
        k0 = T1 * (sc.eta << (fx + fw + 1))
        a3XT = X1T * (-sc.eta)
    H = G * a1
    if sc.rho:
        H = H + secint.array(eye * (sc.rho << (S - fw)))
    two = 2 << (fx + fw)  # z = 2 at the scale of z (piecewise)
    w = secint.array(np.zeros(d + 1, dtype=object))
    if masked:
        trunc = MaskedTruncation(mpc, secint, d + 1, sc.shift, sc.bits, job.iterations)
        trunc.prepare()  # input the masks of the first iterations during the set-up
    else:
        async def trunc(V: Any) -> Any:
            return mpc.np_trunc(V, f=sc.shift, l=sc.bits)
    A = mpc.np_hstack((a3XT, H))
    await mpc.gather(A, k0)  # the one-time part is done before the first iteration
    if report is not None:
        report(0, time.perf_counter() - t_setup)
    for it in range(job.iterations):
        t0 = time.perf_counter()
        z = X1 @ w
        if approx.kind == "poly":
            z3 = z * z * z
        else:
            shifted = mpc.np_concatenate((z - two, z + two))
            signs = mpc.np_concatenate((two - z, z + two))
            b = mpc.np_sgn(signs, l=sc.compare_bits, LT=True)  # [z > 2], [z < -2]
            prod = b * shifted
            z3 = prod[:n] + prod[n:]  # 4 (s(z) - (1/2 + z/4)) at the scale of z, negated
        V = A @ mpc.np_concatenate((z3, w)) + k0  # = a3XT @ z3 + H @ w: one exchange
        w = w - await trunc(V)
        await mpc.gather(w)
        if report is not None:
            report(it + 1, time.perf_counter() - t0)
    wq = await mpc.output(w)
    return np.array([int(v) for v in wq], dtype=np.float64) / float(1 << fw)


async def aggregate(
    mpc: Any, job: PartyJob, X_own: np.ndarray, y_own: np.ndarray, w0: np.ndarray,
    report: Report | None = None, on_model: Callable[[int, np.ndarray], None] | None = None,
) -> np.ndarray:
    """Secure aggregation: local plaintext training, secure sum of the weighted updates.

    Every round each party trains from the current (public) model on its own rows
    (:func:`.plaintext.local_update`), inputs ``n_p / n * (w_p - w)`` rounded to 2^-f; the
    parties add the shares and open only the sum, to everyone: the model after every round is
    public (``on_model(round, w)``). Rows split only.
    """
    if job.split != "rows":
        raise ValueError("secure aggregation needs the rows split (each party trains on its rows)")
    f, big_i = int(job.fixed_point_bits), int(job.integer_bits)
    m = len(mpc.parties)
    n = int(sum(job.rows))
    share = len(y_own) / n
    # |sum of updates| < m 2^I at scale 2^f, plus a sign bit
    secint = mpc.SecInt(f + big_i + max(1, math.ceil(math.log2(m))) + 2)
    w = np.array(w0, dtype=np.float64)
    for r in range(job.iterations):
        t0 = time.perf_counter()
        update = share * (local_update(X_own, y_own, w, job, r, mpc.pid) - w)
        check_bound(f"party {mpc.pid + 1}'s update in round {r + 1}", update, big_i)
        total = await _sum_inputs(mpc, secint, to_fixed(update, f))
        opened = await mpc.output(total)
        w = w + np.array([int(v) for v in opened], dtype=np.float64) / float(1 << f)
        if on_model is not None:
            on_model(r + 1, w)
        if report is not None:
            report(r + 1, time.perf_counter() - t0)
    return w


async def score(
    mpc: Any, job: PartyJob, weights: np.ndarray | None, X_own: np.ndarray | None,
    report: Report | None = None,
) -> np.ndarray | None:
    """Secure scoring: party 0's secret model x each record owner's secret records.

    Returns this party's scores (logits ``x w + b``), revealed to it alone; None for the model
    owner (party 0), which learns nothing. The number of records of each owner is public.
    """
    f, big_i = int(job.fixed_point_bits), int(job.integer_bits)
    pid = mpc.pid
    n_own = 0 if X_own is None else int(len(X_own))
    counts = [int(c) for c in await mpc.transfer(n_own)]
    counts[0] = 0
    d = int(np.asarray(weights).shape[0] - 1) if pid == 0 else int(np.asarray(X_own).shape[1])
    d = int(await mpc.transfer(d, senders=0))
    t0 = time.perf_counter()
    # |score| < (d + 1) 2^(2I) at scale 2^(2f)
    secint = mpc.SecInt(2 * f + 2 * big_i + math.ceil(math.log2(d + 2)) + 2)
    one = 1 << f
    owners = [p for p in range(len(mpc.parties)) if counts[p] > 0]
    Xq = to_fixed(X_own, f) if n_own else None
    blocks = []
    for p in owners:
        value = np.hstack([Xq, np.full((n_own, 1), one, dtype=object)]) if p == pid else \
            np.zeros((counts[p], d + 1), dtype=object)
        blocks.append(mpc.input(secint.array(value), senders=p))
    wq = to_fixed(weights, f) if pid == 0 else np.zeros(d + 1, dtype=object)
    wsh = mpc.input(secint.array(wq), senders=0)
    outs = [mpc.output(block @ wsh, receivers=[p]) for p, block in zip(owners, blocks)]
    mine = None
    for p, out in zip(owners, outs):
        revealed = await out  # None unless p is this party
        if p == pid:
            mine = revealed
    if report is not None:
        report(1, time.perf_counter() - t0)
    if mine is None:
        return None
    return np.array([int(v) for v in mine], dtype=np.float64) / float(1 << (2 * f))
