"""The inverse planner on synthetic sweeps with a known accuracy-vs-epsilon curve."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ppml_lab.experiments.planner import fit_curve, plan_epsilon
from ppml_lab.experiments.sweep import NON_PRIVATE, SweepPoint
from ppml_lab.privacy.accounting import epsilon_for

GRID = (0.1, 0.3, 1.0, 3.0, 10.0)


def known(eps: float, plateau: float = 0.85, scale: float = 0.05, rate: float = 0.8) -> float:
    return plateau - scale * eps ** (-rate)


def synthetic(
    *,
    curve=known,
    non_private: float = 0.85,
    seeds: int = 5,
    noise: float = 0.001,
    grid=GRID,
    privacy: dict | None = None,
    rng_seed: int = 0,
) -> list[SweepPoint]:
    rng = np.random.default_rng(rng_seed)
    pts = []
    for r in range(seeds):
        for e in grid:
            pts.append(
                SweepPoint(
                    epsilon=e, seed=r, repetition=r, train_accuracy=0.0,
                    test_accuracy=float(curve(e) + rng.normal(0, noise)), privacy=privacy or {},
                )
            )
        pts.append(
            SweepPoint(
                epsilon=NON_PRIVATE, seed=r, repetition=r, train_accuracy=0.0,
                test_accuracy=float(non_private + rng.normal(0, noise)),
            )
        )
    return pts


def test_fit_recovers_a_noiseless_curve() -> None:
    eps = np.repeat(GRID, 2)
    fit = fit_curve(eps, [known(e) for e in eps])
    assert fit.method == "curve_fit"
    for e in (0.2, 1.0, 5.0):
        assert fit.accuracy(e) == pytest.approx(known(e), abs=1e-4)
    assert fit.plateau == pytest.approx(0.85, abs=1e-3)


@pytest.mark.parametrize("tolerance", [1.0, 3.0])
def test_planner_recovers_the_known_epsilon(tolerance: float) -> None:
    truth = (0.05 / (tolerance / 100)) ** (1 / 0.8)  # 7.48 for 1 point, 1.89 for 3 points
    rec = plan_epsilon(synthetic(), tolerance=tolerance, calibrate=False)
    assert rec.reachable and not rec.below_grid
    assert rec.epsilon == pytest.approx(truth, rel=0.15)
    lo, hi = rec.interval
    assert lo <= rec.epsilon <= hi
    assert lo <= truth * 1.1 and hi >= truth / 1.1
    assert rec.conservative_epsilon == pytest.approx(hi)
    assert rec.expected_accuracy == pytest.approx(rec.target_accuracy, abs=1e-6)
    assert f"{rec.epsilon:.2g}" in rec.explanation


def test_unreachable_tolerance_is_said_honestly() -> None:
    # Private training levels off 3 points below non-private: no epsilon reaches 1 point.
    pts = synthetic(curve=lambda e: known(e, plateau=0.82))
    rec = plan_epsilon(pts, tolerance=1.0, calibrate=False)
    assert not rec.reachable
    assert rec.epsilon is None and rec.interval is None and rec.noise_multiplier is None
    assert "No epsilon tried (up to 10)" in rec.explanation
    assert "levels off" in rec.explanation
    assert rec.best_private_epsilon == 10.0
    doc = json.loads(json.dumps(rec.to_dict(), allow_nan=False))
    assert doc["reachable"] is False and doc["epsilon"] is None


def test_tolerance_met_at_the_smallest_epsilon_is_not_extrapolated() -> None:
    rec = plan_epsilon(synthetic(), tolerance=40.0, calibrate=False)
    assert rec.reachable and rec.below_grid
    assert rec.epsilon == 0.1
    assert "smallest epsilon tried" in rec.explanation


def test_bootstrap_is_reproducible_and_one_seed_has_no_interval() -> None:
    pts = synthetic(noise=0.003)
    a = plan_epsilon(pts, tolerance=2.0, calibrate=False, random_seed=3)
    b = plan_epsilon(pts, tolerance=2.0, calibrate=False, random_seed=3)
    assert a.interval == b.interval and a.epsilon == b.epsilon
    one = plan_epsilon(synthetic(seeds=1), tolerance=2.0, calibrate=False)
    assert one.interval is None and one.bootstrap_replicates == 0
    assert any("one seed" in n.lower() for n in one.notes)


def test_two_epsilons_use_the_monotone_interpolation() -> None:
    pts = synthetic(grid=(0.3, 3.0))
    rec = plan_epsilon(pts, tolerance=3.0, calibrate=False)
    assert rec.fit.method == "isotonic"
    a_lo, a_hi = known(0.3), known(3.0)
    target = rec.target_accuracy
    f = (target - a_lo) / (a_hi - a_lo)
    assert rec.epsilon == pytest.approx(math.exp(math.log(0.3) + f * math.log(10)), rel=0.1)


def test_one_diverged_run_barely_moves_the_answer() -> None:
    pts = synthetic()
    clean = plan_epsilon(pts, tolerance=3.0, calibrate=False, bootstrap=0)
    bad = [
        SweepPoint(**{**p.__dict__, "test_accuracy": 0.5}) if (p.epsilon == 10.0 and p.seed == 0) else p
        for p in pts
    ]
    noisy = plan_epsilon(bad, tolerance=3.0, calibrate=False, bootstrap=0)
    assert noisy.epsilon == pytest.approx(clean.epsilon, rel=0.25)


def test_noise_multiplier_comes_from_the_accountant() -> None:
    privacy = {"delta": 1e-5, "sample_rate": 0.01, "steps": 200, "accountant": "pld"}
    # A small answer (about 0.25) keeps the calibration cheap.
    pts = synthetic(privacy=privacy, curve=lambda e: known(e, scale=0.01))
    rec = plan_epsilon(pts, tolerance=3.0)
    assert 0.15 < rec.epsilon < 0.4
    assert rec.noise_multiplier is not None
    spent = epsilon_for(noise_multiplier=rec.noise_multiplier, sample_rate=0.01, steps=200, delta=1e-5)
    assert spent <= rec.epsilon * (1 + 1e-9)
    assert spent == pytest.approx(rec.epsilon, rel=0.02)
    # More epsilon, less noise.
    assert rec.conservative_noise_multiplier <= rec.noise_multiplier
    assert "noise multiplier" in rec.explanation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"tolerance": 0}, "greater than 0|> 0"), ({"tolerance": float("nan")}, "> 0"),
     ({"tolerance": 1.0, "confidence": 1.5}, "confidence")],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_epsilon(synthetic(seeds=2), calibrate=False, **kwargs)


def test_needs_two_epsilons_and_the_non_private_point() -> None:
    with pytest.raises(ValueError, match="two private epsilons"):
        plan_epsilon(synthetic(grid=(1.0,)), calibrate=False)
    with pytest.raises(ValueError, match="non-private"):
        plan_epsilon([p for p in synthetic() if p.private], calibrate=False)
