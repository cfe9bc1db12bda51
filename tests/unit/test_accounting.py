"""Accounting wraps dp-accounting faithfully, calibration never overshoots, bad input is refused."""

from __future__ import annotations

import math
import warnings

import dp_accounting
import pytest
from dp_accounting.pld import PLDAccountant
from dp_accounting.rdp import RdpAccountant
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppml_lab.privacy import accounting
from ppml_lab.privacy.accounting import (
    LIVE_REL_TOL,
    RDP_ORDERS,
    PrivacyLedger,
    calibrate_noise,
    check_delta,
    default_delta,
    epsilon_for,
)

ADULT_Q = 256 / 24130
ADULT_STEPS_PER_EPOCH = round(1 / ADULT_Q)  # 94

# (sigma, q, steps, delta): cheap enough to compute twice, varied enough to mean something.
GOLDEN = [
    (2.0, ADULT_Q, 20 * ADULT_STEPS_PER_EPOCH, 1e-5),  # DP-SGD on Adult, epsilon ~0.9
    (5.0, 0.01, 1000, 1e-5),
    (2.0, 0.05, 200, 1e-4),
    (2.5, 0.3, 30, 1e-3),  # DP-FedAvg-like: many clients per round, few rounds
    (8.0, 0.004, 5000, 1e-6),
    (6.0, 1.0, 10, 1e-5),  # no subsampling
]


def _independent(sigma: float, q: float, steps: int, delta: float, accountant) -> float:
    """The same quantity computed directly with dp-accounting, as a user of it would."""
    inner = dp_accounting.GaussianDpEvent(sigma)
    if q < 1.0:
        inner = dp_accounting.PoissonSampledDpEvent(q, inner)
    accountant.compose(dp_accounting.SelfComposedDpEvent(inner, steps))
    return accountant.get_epsilon(delta)


@pytest.mark.parametrize(("sigma", "q", "steps", "delta"), GOLDEN)
def test_pld_epsilon_is_dp_accounting_bit_for_bit(sigma, q, steps, delta) -> None:
    ours = epsilon_for(noise_multiplier=sigma, sample_rate=q, steps=steps, delta=delta)
    theirs = _independent(sigma, q, steps, delta, PLDAccountant())
    # Exact: our cache of the single-step PLD must replay PLDAccountant's own arithmetic.
    assert ours == theirs
    assert 0 < ours < math.inf


@pytest.mark.parametrize(("sigma", "q", "steps", "delta"), GOLDEN)
def test_rdp_epsilon_is_dp_accounting_and_never_below_pld(sigma, q, steps, delta) -> None:
    rdp = epsilon_for(
        noise_multiplier=sigma, sample_rate=q, steps=steps, delta=delta, accountant="rdp"
    )
    assert rdp == _independent(sigma, q, steps, delta, RdpAccountant(orders=list(RDP_ORDERS)))
    # Our denser grid contains the library default, so it can only tighten the bound.
    assert rdp <= _independent(sigma, q, steps, delta, RdpAccountant())
    pld = epsilon_for(noise_multiplier=sigma, sample_rate=q, steps=steps, delta=delta)
    assert rdp >= pld


def test_full_batch_equals_poisson_sampling_with_rate_one() -> None:
    # q = 1 is accounted as plain Gaussians (exact composition); the Poisson(1.0) route of
    # dp-accounting discretises each step and so can only come out slightly higher.
    ours = epsilon_for(noise_multiplier=3.0, sample_rate=1.0, steps=10, delta=1e-5)
    acc = PLDAccountant()
    acc.compose(
        dp_accounting.SelfComposedDpEvent(
            dp_accounting.PoissonSampledDpEvent(1.0, dp_accounting.GaussianDpEvent(3.0)), 10
        )
    )
    poisson = acc.get_epsilon(1e-5)
    assert ours <= poisson <= ours * (1 + 1e-6)


def test_edge_cases() -> None:
    kw = {"sample_rate": 0.01, "delta": 1e-5}
    assert epsilon_for(noise_multiplier=0.0, steps=10, **kw) == math.inf
    assert epsilon_for(noise_multiplier=0.0, steps=10, accountant="rdp", **kw) == math.inf
    assert epsilon_for(noise_multiplier=1.0, steps=0, **kw) == 0.0
    assert calibrate_noise(target_epsilon=1.0, steps=0, **kw) == 0.0
    # More steps never cost less privacy; more noise never costs more.
    e = [epsilon_for(noise_multiplier=2.0, steps=s, **kw) for s in (1, 10, 100)]
    assert e == sorted(e)
    assert epsilon_for(noise_multiplier=4.0, steps=100, **kw) < e[-1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"delta": 0.0}, "delta must be strictly between 0 and 1"),
        ({"delta": 1.0}, "delta must be strictly between 0 and 1"),
        ({"delta": -1e-5}, "delta must be strictly between 0 and 1"),
        ({"sample_rate": 0.0}, r"sample rate must be in \(0, 1\]"),
        ({"sample_rate": 1.5}, r"sample rate must be in \(0, 1\]"),
        ({"steps": -1}, "steps must be a whole number"),
        ({"steps": 2.5}, "steps must be a whole number"),
        ({"accountant": "moments"}, "Unknown privacy accountant 'moments'"),
        ({"noise_multiplier": -1.0}, "noise multiplier must be >= 0"),
        ({"noise_multiplier": math.nan}, "noise multiplier must be a number"),
    ],
)
def test_epsilon_for_rejects_bad_input(kwargs, message) -> None:
    args = {"noise_multiplier": 1.0, "sample_rate": 0.01, "steps": 10, "delta": 1e-5}
    with pytest.raises(ValueError, match=message):
        epsilon_for(**{**args, **kwargs})


@pytest.mark.parametrize("target", [0.0, -1.0, math.nan])
def test_calibration_rejects_non_positive_epsilon(target) -> None:
    with pytest.raises(ValueError, match="epsilon must be greater than 0"):
        calibrate_noise(target_epsilon=target, delta=1e-5, sample_rate=0.01, steps=100)


def test_calibration_rejects_bad_input() -> None:
    good = {"target_epsilon": 1.0, "delta": 1e-5, "sample_rate": 0.01, "steps": 100}
    with pytest.raises(ValueError, match="epsilon must be finite"):
        calibrate_noise(**{**good, "target_epsilon": math.inf})
    with pytest.raises(ValueError, match="Unknown privacy accountant"):
        calibrate_noise(**good, accountant="gdp")
    with pytest.raises(ValueError, match="rel_tol"):
        calibrate_noise(**good, rel_tol=0.0)
    with pytest.raises(ValueError, match="delta"):
        calibrate_noise(**{**good, "delta": 2.0})


def test_default_and_checked_delta() -> None:
    assert default_delta(24130) == pytest.approx(1 / 241300)
    check_delta(default_delta(24130), 24130)  # accepted
    with pytest.raises(ValueError, match="publishes one whole record"):
        check_delta(1 / 100, 100)
    with pytest.raises(ValueError, match="too large for 100 records"):
        check_delta(0.5, 100)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        check_delta(0.0, 100)
    with pytest.raises(ValueError, match="at least one record"):
        default_delta(0)


def test_ledger_matches_epsilon_for_exactly() -> None:
    sigma, q, delta = 2.0, ADULT_Q, 1e-5
    ledger = PrivacyLedger(noise_multiplier=sigma, sample_rate=q, delta=delta)
    curve = []
    for epoch in (1, 2, 5, 20):
        steps = epoch * ADULT_STEPS_PER_EPOCH
        eps = ledger.epsilon_after(steps)
        assert eps == epsilon_for(noise_multiplier=sigma, sample_rate=q, steps=steps, delta=delta)
        assert (ledger.steps, ledger.epsilon) == (steps, eps)
        curve.append(eps)
        live = ledger.live_epsilon_after(steps)
        # Live values are pessimistic (never below exact) and close to exact.
        assert eps <= live <= eps * 1.005
    assert curve == sorted(curve)
    assert ledger.epsilon_after(0) == 0.0
    assert ledger.step(ADULT_STEPS_PER_EPOCH) == curve[0]
    with pytest.raises(ValueError, match="cannot undo"):
        ledger.step(-1)


@pytest.mark.parametrize(
    ("sigma", "q", "per_epoch", "epochs", "delta"),
    [
        (8.0, ADULT_Q, ADULT_STEPS_PER_EPOCH, 6, 1e-5),  # epsilon ~0.1: the finest live grid
        (2.0, ADULT_Q, ADULT_STEPS_PER_EPOCH, 8, 1e-5),  # epsilon ~0.6
        (3.0, 0.05, 10, 6, 1e-5),  # epsilon ~0.5, fewer steps per epoch
        (2.0, 0.2, 1, 8, 1e-4),  # epsilon ~1.2, DP-FedAvg-like: one release a round
    ],
)
def test_live_curve_is_a_close_monotone_upper_bound(sigma, q, per_epoch, epochs, delta) -> None:
    for planned in (epochs * per_epoch, None):
        ledger = PrivacyLedger(
            noise_multiplier=sigma, sample_rate=q, delta=delta, planned_steps=planned
        )
        steps = [e * per_epoch for e in range(1, epochs)]
        live = [ledger.live_epsilon_after(s) for s in steps]
        exact = [
            epsilon_for(noise_multiplier=sigma, sample_rate=q, steps=s, delta=delta) for s in steps
        ]
        final = ledger.epsilon_after(epochs * per_epoch)
        # Never below the exact value (it is an upper bound), and close to it.
        assert all(e <= v <= e * (1 + LIVE_REL_TOL) for v, e in zip(live, exact)), (live, exact)
        assert live == sorted(live) and live[-1] <= final
        assert ledger.live_epsilon_after(0) == 0.0
    # Queries out of order or with uneven gaps stay upper bounds, with or without a plan.
    for planned in (epochs * per_epoch, None):
        ledger = PrivacyLedger(
            noise_multiplier=sigma, sample_rate=q, delta=delta, planned_steps=planned
        )
        for s in (3 * per_epoch, per_epoch, 2 * per_epoch + 1, 5 * per_epoch, 4 * per_epoch):
            exact = epsilon_for(noise_multiplier=sigma, sample_rate=q, steps=s, delta=delta)
            assert exact <= ledger.live_epsilon_after(s) <= exact * (1 + LIVE_REL_TOL)


# DP-SGD-like runs for the live curve: (sample rate, steps per epoch, epochs, delta).
LIVE_SETTINGS = {
    "adult": (256 / 24129, round(24129 / 256), 20, 1e-5),
    "small": (64 / 455, round(455 / 64), 10, default_delta(455)),
}


def _live_case(setting: str, target: float):
    # An independent PLDAccountant query at epsilon 10 takes about 2 s (most of it building
    # the single-step PLD): those cases check two epochs and are marked slow (4-10 s each).
    marks = [pytest.mark.slow] if target >= 10 else []
    return pytest.param(setting, target, marks=marks, id=f"{setting}-eps{target:g}")


@pytest.mark.parametrize(
    ("setting", "target"),
    [_live_case(s, t) for s in LIVE_SETTINGS for t in (1e-6, 0.01, 0.1, 1.0, 10.0)],
)
def test_live_curve_is_within_tolerance_of_dp_accounting_at_any_budget(setting, target) -> None:
    q, per_epoch, epochs, delta = LIVE_SETTINGS[setting]
    planned = epochs * per_epoch
    sigma = calibrate_noise(target_epsilon=target, delta=delta, sample_rate=q, steps=planned)
    ledger = PrivacyLedger(
        noise_multiplier=sigma, sample_rate=q, delta=delta, planned_steps=planned
    )
    # As an engine does it: live points for every epoch but the last, then the exact value.
    curve = [ledger.live_epsilon_after(e * per_epoch) for e in range(1, epochs)]
    curve.append(ledger.epsilon_after(planned))
    assert curve == sorted(curve), curve  # the curve never decreases

    # Every epoch where exact queries are cheap. Where they take 0.2-2 s each: the second epoch
    # (the first is exact by construction), the middle one and the last live one, where the
    # excess of a coarse grid peaks at large epsilon; at epsilon 10 only the last two.
    if target <= 0.1:
        checked: tuple[int, ...] = tuple(range(1, epochs + 1))
    elif target < 10:
        checked = (2, epochs // 2, epochs - 1, epochs)
    else:
        checked = (epochs - 1, epochs)
    for epoch in checked:
        exact = _independent(sigma, q, epoch * per_epoch, delta, PLDAccountant())
        live = curve[epoch - 1]
        assert live >= exact, (epoch, live, exact)  # an upper bound, even at epsilon 1e-6
        # Within the relative tolerance, with no absolute floor: where the exact value is 0
        # (most of a 1e-6 run), so is the live one.
        assert live <= exact * (1 + LIVE_REL_TOL), (epoch, live, exact)
        if epoch == epochs:
            assert live == exact  # the reported point is dp-accounting's own value
    if setting == "adult" and target >= 1:
        # ... and the cheap route was taken, not only the exact fallback.
        assert ledger._live_grid > accounting.PLD_DISCRETIZATION


def test_live_curve_is_capped_by_the_planned_final_epsilon(monkeypatch) -> None:
    # Even a (hypothetically) loose live value may not rise above the exact final epsilon:
    # the true epsilon at fewer steps is at most the final one.
    real = PrivacyLedger.final_epsilon
    ledger = PrivacyLedger(noise_multiplier=2.0, sample_rate=0.05, delta=1e-5, planned_steps=100)
    final = real(ledger)
    monkeypatch.setattr(PrivacyLedger, "final_epsilon", lambda self: 0.5 * final)
    assert ledger.live_epsilon_after(99) == 0.5 * final
    assert ledger.epsilon_after(100) == final


def test_ledger_with_rdp_and_validation() -> None:
    ledger = PrivacyLedger(noise_multiplier=1.5, sample_rate=0.1, delta=1e-3, accountant="rdp")
    eps = ledger.epsilon_after(50)
    assert eps == epsilon_for(
        noise_multiplier=1.5, sample_rate=0.1, steps=50, delta=1e-3, accountant="rdp"
    )
    assert ledger.live_epsilon_after(50) == eps
    with pytest.raises(ValueError, match="Unknown privacy accountant"):
        PrivacyLedger(noise_multiplier=1.0, sample_rate=0.1, delta=1e-3, accountant="x")
    with pytest.raises(ValueError, match="delta"):
        PrivacyLedger(noise_multiplier=1.0, sample_rate=0.1, delta=0.0)


def _check_calibrated(target, delta, q, steps, accountant="pld") -> float:
    sigma = calibrate_noise(
        target_epsilon=target, delta=delta, sample_rate=q, steps=steps, accountant=accountant
    )
    eps = epsilon_for(
        noise_multiplier=sigma, sample_rate=q, steps=steps, delta=delta, accountant=accountant
    )
    assert eps <= target, f"calibrated epsilon {eps} overshoots target {target}"
    assert eps >= 0.99 * target, f"calibrated epsilon {eps} is not within 1% of {target}"
    return sigma


def test_calibration_on_adult_settings() -> None:
    # Epsilon 1, DP-SGD on Adult, 20 epochs (the larger targets live in the benchmark).
    sigma = _check_calibrated(1.0, 1e-5, ADULT_Q, 20 * ADULT_STEPS_PER_EPOCH)
    # The ledger of the run gets the final value from the calibration's memo.
    ledger = PrivacyLedger(noise_multiplier=sigma, sample_rate=ADULT_Q, delta=1e-5)
    assert ledger.epsilon_after(20 * ADULT_STEPS_PER_EPOCH) <= 1.0


# derandomize: the same eight draws on every run, so the time budget of the suite holds.
@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    target=st.floats(0.1, 4.0),
    q=st.floats(0.005, 0.2),
    steps=st.integers(50, 1000),
    log10_delta=st.integers(-7, -4),
)
def test_calibrated_sigma_never_overshoots_and_is_within_one_percent(
    target, q, steps, log10_delta
) -> None:
    delta = 10.0**log10_delta
    sigma_rdp = _check_calibrated(target, delta, q, steps, accountant="rdp")
    # PLD needs less noise than RDP for the same target. Its precise queries get slow below
    # sigma ~1 (up to 2 s each); those settings are covered by the benchmark instead.
    if sigma_rdp >= 1.2:
        sigma_pld = _check_calibrated(target, delta, q, steps)
        assert sigma_pld <= sigma_rdp * 1.01


def test_calibration_survives_a_misleading_bracket(monkeypatch) -> None:
    # If RDP and the coarse grid were badly off (here: both claim half the true epsilon),
    # the precise check and the fallback must still deliver a sigma within the band.
    real_rdp, real_pld = accounting._rdp_epsilon, accounting._pld_epsilon

    def lying_rdp(sigma, q, steps, delta, orders=RDP_ORDERS):
        return 0.5 * real_rdp(sigma, q, steps, delta, orders)

    def lying_coarse(sigma, q, steps, delta, h):
        value = real_pld(sigma, q, steps, delta, h)
        return value if h == accounting.PLD_DISCRETIZATION else 0.5 * value

    monkeypatch.setattr(accounting, "_rdp_epsilon", lying_rdp)
    monkeypatch.setattr(accounting, "_pld_epsilon", lying_coarse)
    accounting.clear_caches()
    try:
        _check_calibrated(0.5, 1e-5, 0.02, 300)
    finally:
        accounting.clear_caches()


def test_unreachable_tolerance_warns_but_stays_below_target() -> None:
    # A tolerance finer than the PLD grid can resolve: the best sigma below target, a warning.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sigma = calibrate_noise(
            target_epsilon=0.5, delta=1e-5, sample_rate=1.0, steps=4, rel_tol=1e-13
        )
    eps = epsilon_for(noise_multiplier=sigma, sample_rate=1.0, steps=4, delta=1e-5)
    assert eps <= 0.5
    assert eps >= 0.5 * 0.999
    assert all(issubclass(w.category, RuntimeWarning) for w in caught)
