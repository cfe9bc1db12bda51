"""Noise calibration speed: our RDP-bracketed search against a naive PLD bisection.

Run with ``python tests/benchmarks/bench_calibration.py`` (pytest does not collect bench_*.py).
Settings are Adult-like DP-SGD: q = 256/24130, 20 epochs of round(1/q) = 94 steps, delta 1e-5.
Every timing starts from cold caches; the ratio is measured in this run, on this machine.
"""

from __future__ import annotations

import argparse
import math
import time

import dp_accounting
from dp_accounting.pld import PLDAccountant

from ppml_lab.privacy import accounting

Q = 256 / 24130
STEPS = 20 * round(1 / Q)
DELTA = 1e-5


def pld_epsilon_uncached(sigma: float) -> float:
    """One precise PLD query the way a plain dp-accounting user writes it."""
    acc = PLDAccountant()
    event = dp_accounting.PoissonSampledDpEvent(Q, dp_accounting.GaussianDpEvent(sigma))
    acc.compose(dp_accounting.SelfComposedDpEvent(event, STEPS))
    return acc.get_epsilon(DELTA)


def naive_bisection(target: float, lo: float = 0.3, hi: float = 30.0, iters: int = 30) -> float:
    """30 halvings of [lo, hi] with a precise PLD query each; returns the feasible end."""
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if pld_epsilon_uncached(mid) > target:
            lo = mid
        else:
            hi = mid
    return hi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=float, nargs="+", default=[0.3, 1.0, 3.0])
    parser.add_argument("--naive-target", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3, help="cold calibrations per target")
    parser.add_argument(
        "--ledger", action="store_true", help="also time a 20-epoch budget curve per target"
    )
    args = parser.parse_args()

    print(f"DP-SGD, q = {Q:.5f}, steps = {STEPS} (20 epochs), delta = {DELTA:g}, accountant PLD")
    print(
        f"{'target':>7} {'sigma':>8} {'eps/target':>10} {'calibration s':>14} (best of cold runs)"
    )
    times: dict[float, float] = {}
    for target in args.targets:
        best = math.inf
        for _ in range(args.repeat):
            accounting.clear_caches()
            t0 = time.perf_counter()
            sigma = accounting.calibrate_noise(
                target_epsilon=target, delta=DELTA, sample_rate=Q, steps=STEPS
            )
            best = min(best, time.perf_counter() - t0)
        eps = pld_epsilon_uncached(sigma)  # independent check, not from our cache
        times[target] = best
        print(f"{target:7.2f} {sigma:8.4f} {eps / target:10.5f} {best:14.2f}")
        assert eps <= target

    print(f"\nnaive 30-step PLD bisection on sigma in [0.3, 30], target {args.naive_target:g}:")
    t0 = time.perf_counter()
    sigma_naive = naive_bisection(args.naive_target)
    naive = time.perf_counter() - t0
    eps_naive = pld_epsilon_uncached(sigma_naive)
    print(
        f"  sigma {sigma_naive:.4f}, eps/target {eps_naive / args.naive_target:.5f}, {naive:.1f} s"
    )
    if args.naive_target in times:
        ours = times[args.naive_target]
    else:
        accounting.clear_caches()
        t0 = time.perf_counter()
        accounting.calibrate_noise(
            target_epsilon=args.naive_target, delta=DELTA, sample_rate=Q, steps=STEPS
        )
        ours = time.perf_counter() - t0
    print(f"  speedup of calibrate_noise over naive bisection: {naive / ours:.1f}x")

    if args.ledger:
        print("\n20-epoch budget curve (after calibration, as an engine does it):")
        for target in args.targets:
            accounting.clear_caches()
            sigma = accounting.calibrate_noise(
                target_epsilon=target, delta=DELTA, sample_rate=Q, steps=STEPS
            )
            spe = STEPS // 20
            ledger = accounting.PrivacyLedger(
                noise_multiplier=sigma, sample_rate=Q, delta=DELTA, planned_steps=STEPS
            )
            t0 = time.perf_counter()
            for epoch in range(1, 21):
                ledger.epsilon_after(epoch * spe)
            exact = time.perf_counter() - t0
            accounting.clear_caches()
            accounting.calibrate_noise(
                target_epsilon=target, delta=DELTA, sample_rate=Q, steps=STEPS
            )
            t0 = time.perf_counter()
            for epoch in range(1, 20):
                ledger.live_epsilon_after(epoch * spe)
            ledger.epsilon_after(STEPS)
            live = time.perf_counter() - t0
            print(
                f"  target {target:g}: exact every epoch {exact:.2f} s, "
                f"live + exact final {live:.2f} s ({exact / live:.1f}x)"
            )


if __name__ == "__main__":
    main()
