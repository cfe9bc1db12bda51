"""Exact epsilon queries for Poisson-subsampled Gaussian releases, with their input checks.

Both DP-SGD and DP-FedAvg release ``steps`` noisy sums, each over a Poisson subsample of the
records (DP-SGD) or clients (DP-FedAvg) drawn with probability ``sample_rate``, with Gaussian
noise of standard deviation ``noise_multiplier`` times the clipping norm. Their privacy is that
of the ``dp_accounting`` event::

    SelfComposedDpEvent(PoissonSampledDpEvent(q, GaussianDpEvent(sigma)), steps)

under the add-or-remove-one neighbouring relation. Every epsilon comes from one of
dp-accounting's two accountants:

``"pld"``
    :class:`dp_accounting.pld.PLDAccountant` at its default discretization (1e-4). Privacy loss
    distributions give the tightest known bound; pessimistic rounding keeps it an upper bound.
``"rdp"``
    :class:`dp_accounting.rdp.RdpAccountant` over :data:`RDP_ORDERS`, a denser grid of Renyi
    orders than the library default. Faster, but looser: typically 5-15 % above PLD.

Nothing here implements accountant maths; the module chooses events, checks inputs and caches.
It is one part of :mod:`ppml_lab.privacy.accounting`, which re-exports its public names (import
them from there); the live curve is in :mod:`ppml_lab.privacy.ledger` and the noise
calibration in :mod:`ppml_lab.privacy.accounting` itself.

Speed. For DP-SGD on Adult (q = 256/24130, 20 epochs) a precise PLD query costs about 0.02 s
at epsilon 0.1 and 1-2 s at epsilon 3-10 on a 2-core machine; most of it is building the
single-step PLD, a Python loop inside dp-accounting. Caches make the repeated queries of a
training run cheaper without changing any value:

* the single-step PLD for ``(sigma, q)`` is built once and self-composed for each ``steps``
  (exactly what :class:`~dp_accounting.pld.PLDAccountant` does internally, so the numbers are
  bit-identical; ``tests/unit/test_accounting.py`` checks this);
* the single-step RDP vector for ``(sigma, q)`` is computed once; ``steps`` releases are that
  vector times ``steps``, exactly as :class:`~dp_accounting.rdp.RdpAccountant` composes them
  (bit-identical again), so an RDP query after the first costs microseconds;
* finished epsilons are memoised, so the final check done by
  :func:`~ppml_lab.privacy.accounting.calibrate_noise` makes the last
  ``PrivacyLedger.epsilon_after`` of the run free;
* the PLD of one epoch's worth of steps on a coarse grid is kept for the live curve of
  :class:`~ppml_lab.privacy.ledger.PrivacyLedger` (:func:`_increment_pld`), so that
  :func:`clear_caches` forgets every cache in one place.
"""

from __future__ import annotations

import logging
import math
import numbers
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Final

import numpy as np

from ppml_lab.lazy import LazyModule

# dp-accounting pulls in scipy.signal and scipy.stats (over a second on 2 cores): imported on the
# first accounting call, not when the window lists the patterns.
dp_accounting = LazyModule("dp_accounting")
pld_privacy_accountant = LazyModule("dp_accounting.pld.pld_privacy_accountant")
pld_lib = LazyModule("dp_accounting.pld.privacy_loss_distribution")
rdp_privacy_accountant = LazyModule("dp_accounting.rdp.rdp_privacy_accountant")

__all__ = [
    "ACCOUNTANTS",
    "PLD_DISCRETIZATION",
    "RDP_ORDERS",
    "check_delta",
    "clear_caches",
    "default_delta",
    "epsilon_for",
    "rdp_orders",
]

ACCOUNTANTS: Final = ("pld", "rdp")

#: dp-accounting's default PLD grid: the value every *reported* epsilon uses.
PLD_DISCRETIZATION: Final = 1e-4


def rdp_orders() -> tuple[float, ...]:
    """The Renyi orders used by the ``"rdp"`` accountant.

    dp-accounting's default grid jumps 63 -> 128 -> 256 -> 512; small epsilons (large sigma)
    have their optimum in those gaps, so the bound is looser than it needs to be (about 7 %
    at epsilon 0.03). We keep the default fine steps of 0.1 below 11, where large epsilons have
    their optimum, and fill the gaps above 64.

    Returns
    -------
    tuple of float
        Sorted orders, all greater than 1.
    """
    fractional = [1.0 + k / 10.0 for k in range(1, 100)]  # 1.1 ... 10.9
    small_int = list(range(11, 64))
    large_int = list(range(64, 256, 8)) + [256, 320, 384, 448, 512, 640, 768, 1024, 1536, 2048]
    return tuple(float(a) for a in fractional + small_int + large_int)


RDP_ORDERS: Final = rdp_orders()


# dp-accounting logs a warning (through absl) for every fractional Renyi order whose series
# does not converge, which happens for orders below ~2.5 at sampling rates of 0.1-0.9 (typical
# of DP-FedAvg). It then drops that order, which only loosens the bound slightly: the other
# orders still count. We silence exactly that message, only while our own RDP calls run.
_quiet = threading.local()


class _DropUnconvergedOrderWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(_quiet, "active", False):
            return True
        return not str(record.msg).startswith("_compute_log_a_frac failed to converge")


_ABSL_FILTER: Final = _DropUnconvergedOrderWarnings()
logging.getLogger("absl").addFilter(_ABSL_FILTER)


@contextmanager
def _quiet_rdp() -> Iterator[None]:
    previous = getattr(_quiet, "active", False)
    _quiet.active = True
    try:
        yield
    finally:
        _quiet.active = previous


# --------------------------------------------------------------------------------------------
# Validation


def _is_real(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _check_common(*, sample_rate: float, steps: int, delta: float, accountant: str) -> None:
    if accountant not in ACCOUNTANTS:
        raise ValueError(
            f"Unknown privacy accountant {accountant!r}: choose 'pld' (privacy loss "
            "distributions, the tightest) or 'rdp' (Renyi DP, faster but looser)."
        )
    if not (_is_real(delta) and 0.0 < delta < 1.0):
        raise ValueError(
            f"delta must be strictly between 0 and 1 (got {delta!r}); it is the small "
            "probability that the epsilon guarantee fails, typically below 1/(number of records)."
        )
    if not (_is_real(sample_rate) and 0.0 < sample_rate <= 1.0):
        raise ValueError(
            f"sample rate must be in (0, 1] (got {sample_rate!r}); it is the chance that a given "
            "record (or client) takes part in one step, batch size / number of records."
        )
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0 (got {steps!r}).")


def _check_sigma(noise_multiplier: float) -> None:
    if not _is_real(noise_multiplier) or math.isnan(noise_multiplier):
        raise ValueError(f"noise multiplier must be a number (got {noise_multiplier!r}).")
    if noise_multiplier < 0:
        raise ValueError(
            f"noise multiplier must be >= 0 (got {noise_multiplier!r}); it is the noise "
            "standard deviation divided by the clipping norm."
        )


def default_delta(n_records: int) -> float:
    """The delta used when the user does not choose one: ``1 / (10 n)``.

    Parameters
    ----------
    n_records : int
        Number of protected units (records for DP-SGD, clients for DP-FedAvg).

    Returns
    -------
    float
        ``1 / (10 * n_records)``, comfortably below the ``1/n`` limit of :func:`check_delta`.
    """
    if n_records < 1:
        raise ValueError(f"need at least one record to choose delta (got {n_records}).")
    return 1.0 / (10.0 * n_records)


def check_delta(delta: float, n_records: int) -> None:
    """Refuse a delta that would allow leaking a whole record.

    Parameters
    ----------
    delta : float
        The proposed delta.
    n_records : int
        Number of protected units (records or clients).

    Raises
    ------
    ValueError
        If ``delta`` is outside (0, 1) or ``delta >= 1 / n_records``.

    Notes
    -----
    (epsilon, delta)-DP allows anything to happen with probability delta. The mechanism
    "publish one record chosen at random, in the clear" is (0, 1/n)-DP: each person is exposed
    with probability 1/n. So any delta of 1/n or more permits the total loss of someone's
    privacy, whatever epsilon says; delta must be well below 1/n.
    """
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be strictly between 0 and 1 (got {delta!r}).")
    if n_records >= 1 and delta >= 1.0 / n_records:
        raise ValueError(
            f"delta = {delta:.3g} is too large for {n_records} records: it must be below "
            f"1/{n_records} = {1.0 / n_records:.3g}, and ideally far below "
            f"(default 1/(10 n) = {default_delta(n_records):.3g}). With delta >= 1/n the "
            "guarantee would still hold for a mechanism that publishes one whole record, "
            "chosen at random, in the clear."
        )


# --------------------------------------------------------------------------------------------
# Single queries


def _event(noise_multiplier: float, sample_rate: float, steps: int) -> dp_accounting.DpEvent:
    """The dp-accounting event of ``steps`` Poisson-subsampled Gaussian releases."""
    if sample_rate == 1.0:
        # No subsampling: every step is a plain Gaussian. dp-accounting composes T Gaussians
        # exactly (one Gaussian with sigma / sqrt(T)) instead of discretising T times.
        inner: dp_accounting.DpEvent = dp_accounting.GaussianDpEvent(noise_multiplier)
    else:
        inner = dp_accounting.PoissonSampledDpEvent(
            sample_rate, dp_accounting.GaussianDpEvent(noise_multiplier)
        )
    return dp_accounting.SelfComposedDpEvent(inner, steps)


@lru_cache(maxsize=8)
def _single_step_pld(
    noise_multiplier: float, sample_rate: float, discretization: float
) -> pld_lib.PrivacyLossDistribution:
    # Same call, same arguments as PLDAccountant._maybe_compose makes for a
    # PoissonSampledDpEvent(GaussianDpEvent); the expensive part of every PLD query.
    return pld_lib.from_gaussian_mechanism(
        standard_deviation=noise_multiplier,
        value_discretization_interval=discretization,
        sampling_prob=sample_rate,
        neighboring_relation=dp_accounting.NeighboringRelation.ADD_OR_REMOVE_ONE,
    )


def _pld_epsilon(
    noise_multiplier: float, sample_rate: float, steps: int, delta: float, discretization: float
) -> float:
    """PLD epsilon (validated inputs, ``steps >= 1``, ``sigma > 0``)."""
    if sample_rate == 1.0:
        # Cheap (a single Gaussian PLD): let the accountant do everything.
        acc = pld_privacy_accountant.PLDAccountant(value_discretization_interval=discretization)
        acc.compose(_event(noise_multiplier, sample_rate, steps))
        return float(acc.get_epsilon(delta))
    composed = _single_step_pld(noise_multiplier, sample_rate, discretization).self_compose(steps)
    # PLDAccountant starts from the identity PLD and composes the event into it; composing
    # with the identity re-truncates the tails, so we do it too to get bit-identical values.
    total = pld_lib.identity(value_discretization_interval=discretization).compose(composed)
    return float(total.get_epsilon_for_delta(delta))


@lru_cache(maxsize=64)
def _single_step_rdp(
    noise_multiplier: float, sample_rate: float, orders: tuple[float, ...]
) -> np.ndarray:
    """dp-accounting's RDP vector of one release, over ``orders`` (read-only array).

    :class:`~dp_accounting.rdp.RdpAccountant` composes ``SelfComposedDpEvent(event, steps)`` as
    ``rdp = 0 + steps * rdp(event)``, so multiplying this cached vector by ``steps`` gives the
    accountant's own numbers bit for bit (``tests/unit/test_accounting.py`` checks it) without
    recomputing the per-order series, the expensive part (~70 ms over :data:`RDP_ORDERS`).
    """
    acc = rdp_privacy_accountant.RdpAccountant(orders=list(orders))
    with _quiet_rdp():
        acc.compose(_event(noise_multiplier, sample_rate, 1))
    rdp = np.array(acc.rdp, dtype=np.float64)  # the public property: a copy of the same array
    rdp.flags.writeable = False
    return rdp


def _rdp_epsilon(
    noise_multiplier: float,
    sample_rate: float,
    steps: int,
    delta: float,
    orders: tuple[float, ...] = RDP_ORDERS,
) -> float:
    rdp = steps * _single_step_rdp(noise_multiplier, sample_rate, orders)
    eps, _ = rdp_privacy_accountant.compute_epsilon(np.array(orders), rdp, delta)
    return float(eps)


@lru_cache(maxsize=1024)
def _epsilon_cached(
    noise_multiplier: float, sample_rate: float, steps: int, delta: float, accountant: str
) -> float:
    if steps == 0:
        return 0.0  # nothing has been released yet
    if noise_multiplier == 0.0:
        return math.inf  # a noiseless release of a record's contribution: no DP at all
    if accountant == "pld":
        return _pld_epsilon(noise_multiplier, sample_rate, steps, delta, PLD_DISCRETIZATION)
    return _rdp_epsilon(noise_multiplier, sample_rate, steps, delta)


@lru_cache(maxsize=8)
def _increment_pld(
    noise_multiplier: float, sample_rate: float, discretization: float, steps: int
) -> pld_lib.PrivacyLossDistribution:
    """The PLD of ``steps`` releases on a grid (one epoch's worth, for the live curve)."""
    return _single_step_pld(noise_multiplier, sample_rate, discretization).self_compose(steps)


def clear_caches() -> None:
    """Forget cached single-step PLDs and epsilons (for cold-start timings and tests)."""
    _single_step_pld.cache_clear()
    _single_step_rdp.cache_clear()
    _increment_pld.cache_clear()
    _epsilon_cached.cache_clear()


def epsilon_for(
    *,
    noise_multiplier: float,
    sample_rate: float,
    steps: int,
    delta: float,
    accountant: str = "pld",
) -> float:
    """Epsilon spent by ``steps`` Poisson-subsampled Gaussian releases.

    Parameters
    ----------
    noise_multiplier : float
        Noise standard deviation divided by the clipping norm (sigma), >= 0.
    sample_rate : float
        Poisson sampling probability q in (0, 1]; 1 means every step uses all data.
    steps : int
        Number of noisy releases (optimizer steps or federated rounds), >= 0.
    delta : float
        Target delta in (0, 1).
    accountant : {"pld", "rdp"}
        Which dp-accounting accountant to use (see the module docstring).

    Returns
    -------
    float
        The epsilon such that the whole run is (epsilon, delta)-DP; 0 for ``steps == 0``,
        ``inf`` for ``noise_multiplier == 0``.

    Raises
    ------
    ValueError
        For a delta outside (0, 1), a sample rate outside (0, 1], negative steps, a negative
        noise multiplier, or an unknown accountant.
    """
    _check_common(sample_rate=sample_rate, steps=steps, delta=delta, accountant=accountant)
    _check_sigma(noise_multiplier)
    return _epsilon_cached(
        float(noise_multiplier), float(sample_rate), int(steps), float(delta), accountant
    )

