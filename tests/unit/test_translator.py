"""The privacy translator's sentences rest on maths that is checked here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppml_lab.privacy.translator import (
    describe,
    max_advantage,
    max_posterior,
    protection_level,
    tpr_bound,
)

EPS = st.floats(0.0, 30.0)
DELTA = st.floats(0.0, 0.1)
FAST = settings(max_examples=60, deadline=None)


# --- max_posterior -------------------------------------------------------------------------


def test_posterior_known_values() -> None:
    # e^eps = 3: odds 1:1 become at most 3:1, i.e. 75 %.
    assert max_posterior(math.log(3), 0.0) == pytest.approx(0.75)
    assert max_posterior(1.0, 0.0) == pytest.approx(math.e / (1 + math.e))
    assert max_posterior(0.0, 0.0) == pytest.approx(0.5)
    assert max_posterior(math.log(3), 0.01) == pytest.approx(0.76)
    # General prior: 10 % prior, e^eps = 9 -> odds 1:9 become 1:1.
    assert max_posterior(math.log(9), 0.0, prior=0.1) == pytest.approx(0.5)
    assert max_posterior(math.inf, 0.0) == 1.0
    assert max_posterior(50.0, 0.5) == 1.0  # capped
    assert max_posterior(800.0, 0.0) == 1.0  # no overflow


@FAST
@given(eps=EPS, delta=DELTA, prior=st.floats(0.01, 0.99))
def test_posterior_matches_formula_and_bounds(eps, delta, prior) -> None:
    e = math.exp(eps)
    expected = min(1.0, prior * e / (prior * e + 1 - prior) + delta)
    got = max_posterior(eps, delta, prior)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert prior <= got + 1e-12 and got <= 1.0


@FAST
@given(eps=EPS, extra=st.floats(0.0, 5.0), delta=DELTA, prior=st.floats(0.01, 0.99))
def test_posterior_is_monotone(eps, extra, delta, prior) -> None:
    assert max_posterior(eps + extra, delta, prior) >= max_posterior(eps, delta, prior)
    assert max_posterior(eps, min(0.2, delta * 2), prior) >= max_posterior(eps, delta, prior)
    assert max_posterior(eps, delta, min(0.99, prior + 0.05)) >= max_posterior(eps, delta, prior)


# --- tpr_bound -----------------------------------------------------------------------------


@FAST
@given(eps=EPS, delta=DELTA)
def test_tpr_bound_at_zero_fpr_is_delta_and_never_above_one(eps, delta) -> None:
    assert tpr_bound(0.0, eps, delta) == pytest.approx(delta, abs=1e-15)
    grid = np.linspace(0.0, 1.0, 101)
    bound = tpr_bound(grid, eps, delta)
    assert bound.shape == grid.shape
    assert np.all(bound <= 1.0)
    assert np.all(bound >= grid - 1e-12)  # random guessing is always allowed
    assert np.all(np.diff(bound) >= -1e-12)  # more false alarms never lower the bound
    assert tpr_bound(1.0, eps, delta) == 1.0


def test_tpr_bound_known_values_and_the_symmetric_side() -> None:
    # Small FPR: the linear side e^eps FPR + delta.
    assert tpr_bound(0.01, 1.0, 1e-5) == pytest.approx(math.e * 0.01 + 1e-5)
    # Larger FPR: the symmetric side 1 - e^-eps (1 - delta - FPR) is the tighter one.
    assert tpr_bound(0.5, 1.0, 0.0) == pytest.approx(1 - math.exp(-1) * 0.5)
    assert tpr_bound(0.5, 1.0, 0.0) < math.e * 0.5
    # epsilon = 0, delta = 0: no attack beats guessing.
    grid = np.linspace(0, 1, 11)
    np.testing.assert_allclose(tpr_bound(grid, 0.0, 0.0), grid)
    # No privacy: anything goes.
    np.testing.assert_array_equal(tpr_bound(grid, math.inf, 0.0), np.ones_like(grid))
    assert isinstance(tpr_bound(0.3, 1.0, 0.0), float)


@FAST
@given(eps=EPS, extra=st.floats(0.0, 5.0), delta=DELTA, fpr=st.floats(0.0, 1.0))
def test_tpr_bound_is_monotone_in_epsilon(eps, extra, delta, fpr) -> None:
    assert tpr_bound(fpr, eps + extra, delta) >= tpr_bound(fpr, eps, delta) - 1e-12


@FAST
@given(eps=st.floats(0.0, 10.0), delta=DELTA)
def test_max_advantage_is_the_peak_of_the_region(eps, delta) -> None:
    grid = np.linspace(0.0, 1.0, 20001)
    peak = float(np.max(tpr_bound(grid, eps, delta) - grid))
    adv = max_advantage(eps, delta)
    assert peak <= adv + 1e-12
    assert adv - peak < 1e-3  # the grid just misses the exact crossing point
    assert adv == pytest.approx((math.exp(eps) - 1 + 2 * delta) / (math.exp(eps) + 1))


# --- bands and sentences -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("eps", "level"),
    [
        (0.0, "strong"),
        (1.0, "strong"),
        (1.01, "moderate"),
        (3.0, "moderate"),
        (8.0, "weak"),
        (10.0, "weak"),
        (10.5, "very weak"),
        (math.inf, "none"),
    ],
)
def test_protection_level(eps, level) -> None:
    assert protection_level(eps) == level


def _percent_after(text: str, lead: str) -> float:
    """The percentage in ``text`` right after ``lead`` ("at most 73.2%" -> 73.2)."""
    import re

    if lead.replace(" at most", " almost 100%") in text:
        return 100.0
    match = re.search(re.escape(lead) + r" ([0-9.]+)%", text)
    assert match, f"{lead!r} not in {text!r}"
    return float(match.group(1))


def _rounded_up(p: float) -> float:
    return 100.0 if p >= 0.9995 else math.ceil(p * 1000.0 - 1e-9) / 10.0


@pytest.mark.parametrize("eps", [0.01, 0.1, 0.5, 1.0, 2.0, math.log(3), 5.0, 8.0])
@pytest.mark.parametrize("delta", [0.0, 1e-6, 1e-5, 1e-3])
def test_every_sentence_states_its_formula(eps, delta) -> None:
    s = describe(eps, delta, n_records=24_130)
    # 1. A balanced attacker's accuracy: (e^eps + delta) / (1 + e^eps), rounded up.
    e = math.exp(eps)
    balanced = (e + delta) / (1 + e)
    assert _percent_after(s[0], "is right at most") == _rounded_up(balanced)
    assert "even odds" in s[0] and "50% is a coin toss" in s[0]
    # 2. Members caught at 1% false alarms: min(1, 0.01 e^eps + delta, 1 - e^-eps (0.99 - delta)).
    tpr = min(1.0, 0.01 * e + delta, 1 - math.exp(-eps) * (1 - delta - 0.01))
    assert _percent_after(s[1], "can catch at most") == _rounded_up(tpr)
    # 3. The definition: probabilities change by at most a factor e^eps (rounded up), plus delta.
    import re

    factor = float(re.search(r"factor of ([0-9.,]+)", s[2]).group(1).replace(",", ""))
    assert e * (1 - 1e-12) <= factor <= e * 1.01  # rounded up (up to float noise in e^eps)
    assert ("plus delta" in s[2]) == (delta > 0)
    # 4. The band.
    assert protection_level(eps) in s[3] or (protection_level(eps) == "very weak" and "nominal" in s[3])
    # 5. Delta is a slack, never "the probability that the guarantee fails".
    assert "roughly" not in " ".join(s)
    if delta > 0:
        assert "it is not the probability that the guarantee fails" in s[4]
        assert f"{delta:.2g}" in s[4] and f"1 in {1 / delta:,.0f}" in s[4]
        # 6. Delta against 1/n: delta * n times 1/n.
        assert f"delta is {delta * 24_130:.2g} times 1/n" in s[5] or "Warning" in s[5]
        assert len(s) == 6
    else:
        assert "Delta" not in s[4] and len(s) == 5


def test_balanced_accuracy_is_the_bound_of_the_attack_region() -> None:
    from ppml_lab.privacy.translator import max_balanced_accuracy

    for eps, delta in [(0.0, 0.0), (1.0, 1e-5), (3.0, 0.01), (10.0, 1e-6)]:
        fpr = np.linspace(0, 1, 100_001)
        best = np.max(0.5 * (1 - fpr) + 0.5 * np.asarray(tpr_bound(fpr, eps, delta)))
        assert max_balanced_accuracy(eps, delta) == pytest.approx(best, abs=1e-5)
    assert max_balanced_accuracy(math.inf, 0.0) == 1.0


def test_group_privacy_for_a_record_inside_a_client() -> None:
    from ppml_lab.privacy.translator import describe_guarantee, group_privacy

    assert group_privacy(1.0, 1e-5, 2) == pytest.approx((2.0, (1 + math.e) * 1e-5))
    assert group_privacy(0.5, 1e-6, 3) == pytest.approx(
        (1.5, 1e-6 * (1 + math.exp(0.5) + math.exp(1.0)))
    )
    assert group_privacy(0.0, 1e-3, 4) == (0.0, pytest.approx(4e-3))
    words = describe_guarantee(1.0, 1e-4, 100, per_client=True)
    record = next(w for w in words if w.startswith("One record inside a client"))
    eps2, delta2 = group_privacy(1.0, 1e-4, 2)
    assert f"epsilon is {eps2:.3g} (2 x epsilon)" in record and f"delta {delta2:.2g}" in record
    from ppml_lab.privacy.translator import max_balanced_accuracy

    assert _percent_after(record, "is right at most") == _rounded_up(max_balanced_accuracy(eps2, delta2))


def test_seeded_noise_says_not_private_first() -> None:
    from ppml_lab.privacy.translator import describe_guarantee

    words = describe_guarantee(1.0, 1e-5, 1000, seeded_noise=True)
    assert words[0].startswith("NOT PRIVATE") and "replay" in words[0]
    assert words[1:] == describe(1.0, 1e-5, 1000)


@pytest.mark.parametrize(("eps", "word"), [(2.0, "moderate"), (6.0, "weak"), (25.0, "nominal")])
def test_describe_bands(eps, word) -> None:
    sentences = describe(eps, 1e-5)
    assert len(sentences) == 5
    assert word in " ".join(sentences)


def test_describe_no_privacy_is_honest() -> None:
    sentences = describe(math.inf, 0.0)
    assert 3 <= len(sentences) <= 5
    assert sentences[0].startswith("No formal protection")
    assert "at most" not in " ".join(sentences)


def test_describe_warns_about_a_large_delta() -> None:
    text = " ".join(describe(1.0, 0.01, n_records=1000))
    assert "Warning" in text and "whole random record" in text


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: max_posterior(-1.0, 0.0), "epsilon must be >= 0"),
        (lambda: max_posterior(1.0, 1.0), r"delta must be in \[0, 1\)"),
        (lambda: max_posterior(1.0, 0.0, prior=0.0), "prior must be strictly between"),
        (lambda: tpr_bound(1.5, 1.0, 0.0), "false-positive rates must be in"),
        (lambda: tpr_bound([0.1, math.nan], 1.0, 0.0), "false-positive rates must be in"),
        (lambda: describe(math.nan, 1e-5), "epsilon must be >= 0"),
        (lambda: protection_level(-0.1), "epsilon must be >= 0"),
        (lambda: max_advantage(1.0, -0.1), "delta must be in"),
    ],
)
def test_bad_inputs_raise_value_error(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_describe_guarantee_per_client_and_pure_dp() -> None:
    from ppml_lab.privacy.translator import describe, describe_guarantee

    assert describe_guarantee(1.0, 1e-5, 24_000) == describe(1.0, 1e-5, 24_000)
    clients = describe_guarantee(2.0, 1e-3, 100, per_client=True)
    text = " ".join(clients)
    assert "a given client" in text and "a given person" not in text
    assert "With 100 clients, delta" in text
    # Pure DP: no delta-versus-1/n sentence, whatever the number of records.
    assert describe_guarantee(1.0, 0.0, 500) == describe(1.0, 0.0, None)
