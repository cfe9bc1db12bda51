"""Membership-inference audit: metrics, statistical validity, and real models (plain and DP)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from ppml_lab.data import PreparedData, PreprocessOptions, load_source, prepare_dataset
from ppml_lab.models import ModelParams, accuracy, make_model
from ppml_lab.privacy.attacks import (
    AuditResult,
    audit_ceiling,
    audit_model,
    audit_verdict,
    balanced_inclusion,
    clopper_pearson,
    empirical_epsilon,
    evaluate_scores,
    lira_scores,
    logit_confidence,
    plain_sgd_train_fn,
    roc_auc,
    roc_curve,
    tpr_at_fpr,
)

# The shared data sets sit next to the repository (never copied into it).
ADULT = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "adult.csv"

# The over-fitting configuration that leaks: a wide MLP, no weight decay, many passes with small
# batches over 500 noisy-label Adult rows (train accuracy ~0.99, test ~0.80). Checked on 8
# seeds: loss-attack epsilon lower bound 1.1-2.0, LiRA AUC 0.65-0.70.
LEAKY_MLP = ModelParams(kind="mlp", hidden=256, epochs=100, batch_size=32, learning_rate=0.5, l2=0.0)


def gaussian_dp_epsilon(mu: float, delta: float) -> float:
    """Exact epsilon(delta) of mu-Gaussian DP (Dong, Roth and Su 2019, Corollary 2.13)."""

    def gap(eps: float) -> float:
        return (
            stats.norm.cdf(-eps / mu + mu / 2)
            - np.exp(eps) * stats.norm.cdf(-eps / mu - mu / 2)
            - delta
        )

    return float(optimize.brentq(gap, 0.0, 100.0))


# --------------------------------------------------------------------------------------------
# Metrics on synthetic scores


def test_roc_and_auc_match_scikit_learn_with_ties() -> None:
    from sklearn.metrics import roc_auc_score
    from sklearn.metrics import roc_curve as sk_roc_curve

    rng = np.random.default_rng(0)
    members = rng.integers(0, 30, 400).astype(float) + 2.0
    nonmembers = rng.integers(0, 30, 300).astype(float)
    labels = np.r_[np.ones(400), np.zeros(300)]
    scores = np.r_[members, nonmembers]
    assert roc_auc(members, nonmembers) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    fpr, tpr, thr = roc_curve(members, nonmembers)
    sk_fpr, sk_tpr, _ = sk_roc_curve(labels, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0) and np.isinf(thr[0])


def test_known_separation_gives_the_analytic_auc_and_tpr() -> None:
    # Members ~ N(mu, 1), non-members ~ N(0, 1): AUC = Phi(mu / sqrt 2) and
    # TPR at FPR f = 1 - Phi(Phi^-1(1 - f) - mu).
    rng = np.random.default_rng(1)
    mu, n = 1.5, 100_000
    r = evaluate_scores("synthetic", rng.normal(mu, 1, n), rng.normal(0, 1, n), delta=1e-5)
    assert r.auc == pytest.approx(stats.norm.cdf(mu / np.sqrt(2)), abs=0.01)
    expected_tpr = 1 - stats.norm.cdf(stats.norm.ppf(0.99) - mu)
    assert r.tpr_at_1pct_fpr == pytest.approx(expected_tpr, abs=0.02)
    assert r.tpr_at_01pct_fpr is not None
    assert r.tpr_at_01pct_fpr == pytest.approx(1 - stats.norm.cdf(stats.norm.ppf(0.999) - mu), abs=0.015)
    assert 0 < r.epsilon_lower_bound <= gaussian_dp_epsilon(mu, 1e-5)


def test_perfect_separation() -> None:
    r = evaluate_scores("perfect", np.full(200, 1.0), np.zeros(200), delta=0.0)
    assert r.auc == 1.0 and r.tpr_at_1pct_fpr == 1.0
    # The best 200 + 200 records can show: CP bounds limit it to about log(200 / 3.7).
    assert 3.0 < r.epsilon_lower_bound < 5.0
    assert r.tpr_at_01pct_fpr is None  # fewer than 1,000 non-members
    # A perfect attack reaches the audit's ceiling exactly.
    assert r.epsilon_lower_bound == r.epsilon_ceiling == audit_ceiling(200, 200, delta=0.0)


# --------------------------------------------------------------------------------------------
# The audit's ceiling and what it lets the audit conclude


@pytest.mark.parametrize("delta", [0.0, 1e-5, 1e-3])
def test_ceiling_is_the_bound_of_perfectly_separated_scores(delta: float) -> None:
    for n_members, n_nonmembers in [(500, 500), (114, 114), (300, 80)]:
        perfect = empirical_epsilon(
            np.linspace(1, 2, n_members), np.linspace(-2, -1, n_nonmembers), delta=delta
        )
        assert audit_ceiling(n_members, n_nonmembers, delta=delta) == perfect
    # Golden figures (95 %, Bonferroni), quoted in the docs: 500 + 500 about 3.9.
    assert audit_ceiling(500, 500, delta=1e-4) == pytest.approx(3.912, abs=1e-3)
    assert audit_ceiling(114, 114, delta=1 / 4550) == pytest.approx(2.568, abs=1e-3)
    assert audit_ceiling(10_000, 10_000, delta=1e-5) == pytest.approx(6.653, abs=1e-3)


def test_ceiling_grows_with_the_number_of_records() -> None:
    sizes = [10, 30, 100, 300, 1000, 3000, 10_000]
    ceilings = [audit_ceiling(n, n, delta=1e-5) for n in sizes]
    assert all(a < b for a, b in zip(ceilings, ceilings[1:]))
    # Never decreasing record by record either, and 0 for audits too small to show anything.
    small = [audit_ceiling(n, n, delta=0.0) for n in range(1, 200)]
    assert all(a <= b for a, b in zip(small, small[1:]))
    assert small[0] == 0.0
    # More non-members (or members) alone also helps.
    assert audit_ceiling(500, 1000, delta=1e-5) > audit_ceiling(500, 500, delta=1e-5)
    with pytest.raises(ValueError, match="at least one"):
        audit_ceiling(0, 10, delta=0.0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-5, 5), min_size=1, max_size=80),
    st.lists(st.floats(-5, 5), min_size=1, max_size=80),
    st.floats(0.0, 0.05),
    st.sampled_from(["bonferroni", "none"]),
)
def test_no_attack_exceeds_the_ceiling(
    members: list[float], nonmembers: list[float], delta: float, correction: str
) -> None:
    r = evaluate_scores("any", np.asarray(members), np.asarray(nonmembers), delta=delta,
                        correction=correction)
    assert r.epsilon_lower_bound <= r.epsilon_ceiling
    assert r.epsilon_ceiling == audit_ceiling(len(members), len(nonmembers), delta=delta,
                                              correction=correction)


def test_audit_verdict_says_when_the_audit_cannot_test_the_guarantee() -> None:
    ceiling = audit_ceiling(500, 500, delta=1e-4)  # 3.91
    untestable = audit_verdict(lower=0.0, ceiling=ceiling, accountant_epsilon=7.96,
                               n_members=500, n_nonmembers=500)
    assert untestable == (
        "This audit could demonstrate at most epsilon 3.91 with 500 + 500 records, below the "
        "proven 7.96, so it cannot confirm or refute the accountant."
    )
    testable = audit_verdict(lower=0.2, ceiling=ceiling, accountant_epsilon=0.9941,
                             n_members=500, n_nonmembers=500)
    assert testable.startswith("No attack exceeded the proven epsilon 0.994. With 500 + 500 "
                               "records this audit could demonstrate up to 3.91")
    assert "not a proof of privacy" in testable and "cannot confirm" not in testable
    # Equal after rounding: more digits, and no false "below".
    close = audit_verdict(lower=0.0, ceiling=3.912, accountant_epsilon=3.9149,
                          n_members=500, n_nonmembers=500, symbol="ε")
    assert "at most ε 3.912 " in close and "below the proven 3.915," in close
    assert "equal to the proven" in audit_verdict(
        lower=0.0, ceiling=2.0, accountant_epsilon=2.0, n_members=5, n_nonmembers=5
    )
    violation = audit_verdict(lower=1.234, ceiling=ceiling, accountant_epsilon=1.0,
                              n_members=500, n_nonmembers=500)
    assert "1.23 exceeds the proven 1:" in violation and "report" in violation
    leak = audit_verdict(lower=1.5, ceiling=ceiling, accountant_epsilon=None, n_members=500,
                         n_nonmembers=500)
    assert "measurable membership leakage (epsilon >= 1.5 " in leak and "at most 3.91" in leak
    quiet = audit_verdict(lower=0.0, ceiling=ceiling, accountant_epsilon=None, n_members=500,
                          n_nonmembers=500)
    assert quiet.startswith("No leakage this audit could prove") and "not a guarantee" in quiet


@pytest.mark.parametrize("correction", ["bonferroni", "none"])
def test_identical_distributions_give_no_leakage(correction: str) -> None:
    rng = np.random.default_rng(2)
    bounds, aucs = [], []
    for _ in range(20):
        r = evaluate_scores(
            "null", rng.normal(0, 1, 1000), rng.normal(0, 1, 1000), delta=1e-5, correction=correction
        )
        bounds.append(r.epsilon_lower_bound)
        aucs.append(r.auc)
    assert np.mean(aucs) == pytest.approx(0.5, abs=0.01)
    assert max(abs(a - 0.5) for a in aucs) < 0.05
    if correction == "bonferroni":
        assert max(bounds) == 0.0
    else:
        # Per-threshold intervals are optimistic: a small bound turns up now and then (here
        # in 1 of 20 draws), about as often as the nominal 5%.
        assert sum(b > 0 for b in bounds) <= 3 and max(bounds) < 0.6


def test_tpr_at_fpr_takes_the_best_point_within_the_budget() -> None:
    fpr = np.array([0.0, 0.0, 0.005, 0.02, 1.0])
    tpr = np.array([0.0, 0.1, 0.3, 0.5, 1.0])
    assert tpr_at_fpr(fpr, tpr, 0.01) == 0.3
    assert tpr_at_fpr(fpr, tpr, 0.0) == 0.1


def test_clopper_pearson_edges_and_coverage() -> None:
    low, high = clopper_pearson(np.array([0, 10]), 10)
    assert low[0] == 0.0 and high[1] == 1.0
    # With 0 successes out of n the upper bound is 1 - (alpha/2)^(1/n).
    assert high[0] == pytest.approx(1 - 0.025 ** (1 / 10))
    rng = np.random.default_rng(3)
    k = rng.binomial(50, 0.3, size=4000)
    low, high = clopper_pearson(k, 50)
    assert np.mean((low <= 0.3) & (0.3 <= high)) >= 0.95


def test_empirical_epsilon_is_tight_and_valid_for_randomized_response() -> None:
    # Randomized response is exactly eps-DP and a threshold at 0.5 is the optimal attack:
    # the bound must approach eps from below and not exceed it. Binary scores have a single
    # threshold, so per-threshold intervals are exact here; the simultaneous (Bonferroni)
    # bound pays for thresholds that do not exist, and is a little lower.
    for eps in (0.5, 1.0, 2.0):
        p = np.exp(eps) / (1 + np.exp(eps))
        single, simultaneous = [], []
        for seed in range(10):
            rng = np.random.default_rng(seed)
            members = (rng.random(20_000) < p).astype(float)
            nonmembers = (rng.random(20_000) < 1 - p).astype(float)
            single.append(
                empirical_epsilon(members, nonmembers, delta=0.0, confidence=0.99, correction="none")
            )
            simultaneous.append(empirical_epsilon(members, nonmembers, delta=0.0, confidence=0.99))
        assert max(single) <= eps
        assert np.mean(single) >= 0.9 * eps
        assert 0.8 * eps <= min(simultaneous)
        assert all(a <= b for a, b in zip(simultaneous, single))


@pytest.mark.parametrize("mu", [0.5, 1.0, 3.0])
def test_empirical_epsilon_never_exceeds_the_gaussian_mechanisms_epsilon(mu: float) -> None:
    # Scores of a mu-GDP mechanism (the optimal attack is a threshold): the lower bound stays
    # below the exact epsilon, yet finds a good part of it.
    delta = 1e-5
    true_eps = gaussian_dp_epsilon(mu, delta)
    rng = np.random.default_rng(4)
    found = [
        empirical_epsilon(rng.normal(mu, 1, 3000), rng.normal(0, 1, 3000), delta=delta)
        for _ in range(10)
    ]
    assert max(found) <= true_eps
    assert min(found) > 0.0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=60),
    st.lists(st.integers(-5, 5), min_size=1, max_size=60),
    st.floats(0.0, 0.05),
)
def test_metric_properties(members: list[int], nonmembers: list[int], delta: float) -> None:
    m, o = np.asarray(members, float), np.asarray(nonmembers, float)
    auc = roc_auc(m, o)
    assert auc + roc_auc(o, m) == pytest.approx(1.0)
    # AUC is the Mann-Whitney probability, ties counting one half.
    assert auc == pytest.approx(np.mean((m[:, None] > o) + 0.5 * (m[:, None] == o)))
    strict = empirical_epsilon(m, o, delta=delta)
    loose = empirical_epsilon(m, o, delta=delta, correction="none")
    assert 0.0 <= strict <= loose
    # A larger delta can only weaken what an attack demonstrates.
    assert empirical_epsilon(m, o, delta=min(1.0 - 1e-9, delta + 0.1)) <= strict


def test_result_to_dict_is_json() -> None:
    rng = np.random.default_rng(5)
    r = evaluate_scores("loss", rng.normal(1, 1, 50), rng.normal(0, 1, 50), delta=1e-3)
    doc = json.loads(json.dumps(r.to_dict(include_scores=True)))
    assert doc["attack"] == "loss" and doc["n_members"] == 50 and doc["n_nonmembers"] == 50
    assert doc["epsilon_ceiling"] == audit_ceiling(50, 50, delta=1e-3)
    assert len(doc["roc"]["fpr"]) == len(doc["roc"]["tpr"]) == len(r.fpr)
    assert doc["tpr_at_01pct_fpr"] is None and len(doc["member_scores"]) == 50
    assert "member_scores" not in r.to_dict()
    fpr, tpr = r.roc
    assert fpr is r.fpr and tpr is r.tpr


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="NaN"):
        roc_auc(np.array([np.nan]), np.array([0.0]))
    with pytest.raises(ValueError, match="at least one"):
        roc_auc(np.array([]), np.array([0.0]))
    with pytest.raises(ValueError, match="delta"):
        empirical_epsilon(np.ones(3), np.zeros(3), delta=1.0)
    with pytest.raises(ValueError, match="correction"):
        empirical_epsilon(np.ones(3), np.zeros(3), delta=0.0, correction="holm")


# --------------------------------------------------------------------------------------------
# LiRA on a toy "memorising" training procedure


class _ToyModel:
    """Binary model whose logit for record i is its difficulty, plus a boost if trained on it."""

    def __init__(self, logit: np.ndarray) -> None:
        self._logit = logit

    def logits(self, X: np.ndarray) -> np.ndarray:
        return self._logit[X[:, 0].astype(int)][:, None]

    def per_example_losses(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        z = self.logits(X)[:, 0]
        return np.logaddexp(0.0, np.where(y == 1, -z, z))


def _toy_setup(n: int = 600) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    difficulty = np.random.default_rng(6).normal(0.0, 4.0, n)
    X = np.arange(n, dtype=float)[:, None]
    y = np.ones(n, dtype=np.int64)
    return X, y, difficulty


def _toy_train_fn(difficulty: np.ndarray, boost: float = 2.0):
    def train(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> _ToyModel:
        logit = difficulty + rng.normal(0.0, 0.5, len(difficulty))
        logit[X[:, 0].astype(int)] += boost
        return _ToyModel(logit)

    return train


def test_balanced_inclusion_puts_every_record_in_half_the_shadows() -> None:
    keep = balanced_inclusion(8, 1001, np.random.default_rng(7))
    assert keep.shape == (8, 1001)
    assert np.all(keep.sum(axis=0) == 4)
    assert np.all(np.abs(keep.sum(axis=1) - 500.5) < 60)


@pytest.mark.parametrize("variant", ["online", "offline"])
def test_lira_calibrates_per_record_difficulty(variant: str) -> None:
    # Records differ far more in difficulty (sd 4) than members differ from non-members (+2):
    # the global loss threshold barely works, per-record Gaussians do.
    X, y, difficulty = _toy_setup()
    train_fn = _toy_train_fn(difficulty)
    is_member = np.random.default_rng(8).random(len(y)) < 0.5
    target = train_fn(X[is_member], y[is_member], np.random.default_rng(9))
    loss = evaluate_scores("loss", -target.per_example_losses(X[is_member], y[is_member]),
                           -target.per_example_losses(X[~is_member], y[~is_member]), delta=1e-4)
    scores = lira_scores(target, X, y, train_fn=train_fn, rng=np.random.default_rng(10),
                         n_shadows=8, variant=variant)
    lira = evaluate_scores("lira", scores[is_member], scores[~is_member], delta=1e-4)
    assert loss.auc < 0.7
    assert lira.auc > 0.95
    assert lira.tpr_at_1pct_fpr > 0.3
    assert lira.epsilon_lower_bound > loss.epsilon_lower_bound


def test_lira_argument_checks() -> None:
    X, y, difficulty = _toy_setup(20)
    target = _toy_train_fn(difficulty)(X, y, np.random.default_rng(0))
    with pytest.raises(ValueError, match="even"):
        lira_scores(target, X, y, train_fn=_toy_train_fn(difficulty), rng=np.random.default_rng(0), n_shadows=3)
    with pytest.raises(ValueError, match="variant"):
        lira_scores(target, X, y, train_fn=_toy_train_fn(difficulty), rng=np.random.default_rng(0), variant="x")


def test_logit_confidence_is_exact_and_does_not_saturate() -> None:
    rng = np.random.default_rng(11)
    for n_classes in (2, 4):
        model = make_model(ModelParams(kind="mlp", hidden=8), n_features=3, n_classes=n_classes, rng=rng)
        X = rng.normal(0, 1, (50, 3))
        y = rng.integers(0, n_classes, 50)
        p = model.predict_proba(X)[np.arange(50), y]
        np.testing.assert_allclose(logit_confidence(model, X, y), np.log(p / (1 - p)), rtol=1e-8, atol=1e-8)

        class LossesOnly:  # the fallback path, through per_example_losses only
            per_example_losses = staticmethod(model.per_example_losses)

        np.testing.assert_allclose(logit_confidence(LossesOnly(), X, y), np.log(p / (1 - p)), rtol=1e-6, atol=1e-8)
    # A huge margin: p_y rounds to 1, the logit-scaled confidence stays exact.
    model = make_model(ModelParams(kind="logistic"), n_features=1, n_classes=3, rng=rng)
    model.params[0][:] = np.array([[100.0, 0.0, -20.0]])
    phi = logit_confidence(model, np.array([[1.0]]), np.array([0]))[0]
    assert phi == pytest.approx(100.0 - np.log1p(np.exp(-20.0)), abs=1e-12)


# --------------------------------------------------------------------------------------------
# audit_model on real data


@pytest.fixture(scope="module")
def adult_small() -> PreparedData:
    if not ADULT.exists():
        pytest.skip(f"needs the Adult data set; looked for {ADULT}")
    table = load_source(str(ADULT))
    frame = table.frame.sample(n=1000, random_state=0)
    # Half the rows are held out, so there are as many non-members as members.
    return prepare_dataset(
        frame, target="income", options=PreprocessOptions(test_fraction=0.5), seed=0, name="adult"
    )


@pytest.fixture(scope="module")
def wine() -> PreparedData:
    table = load_source("builtin:wine")
    return prepare_dataset(table.frame, target=table.default_target, seed=0, name="wine")


def test_audit_model_argument_checks_and_balance(wine: PreparedData) -> None:
    model = make_model(ModelParams(kind="logistic"), n_features=wine.n_features, n_classes=3,
                       rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="train_fn"):
        audit_model(model, wine, delta=1e-4, rng=0, attacks=("lira",))
    with pytest.raises(ValueError, match="unknown attack"):
        audit_model(model, wine, delta=1e-4, rng=0, attacks=("gradient",))
    results = audit_model(model, wine, delta=1e-4, rng=0, max_records=20)
    assert list(results) == ["loss"]  # no train_fn: LiRA is not run by default
    r = results["loss"]
    assert isinstance(r, AuditResult)
    assert r.n_members == r.n_nonmembers == 20
    # An untrained (all-zero) model gives every record the same loss: nothing to see.
    assert r.auc == 0.5 and r.epsilon_lower_bound == 0.0


def test_plain_sgd_train_fn_replays_the_baseline_engine(wine: PreparedData) -> None:
    # The baseline's shadows: same initialisation, batch size, epochs, learning rate and weight
    # decay; on the engine's rows with the engine's seed, the engine's model bit for bit.
    from ppml_lab.engines.base import CancelToken
    from ppml_lab.engines.registry import get_engine

    params = ModelParams(kind="mlp", hidden=8, epochs=3, batch_size=16, learning_rate=0.3, l2=1e-3)
    engine = get_engine("baseline")
    gen = engine.run(wine, params, engine.Params(), seed=5, cancel=CancelToken())
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            result = stop.value
            break
    train = plain_sgd_train_fn(params, n_classes=wine.n_classes)
    replay = train(wine.X_train, wine.y_train, np.random.default_rng(5))
    assert np.array_equal(replay.get_flat(), result.model.get_flat())


def test_plain_sgd_shadows_keep_batch_size_and_epochs(wine: PreparedData, monkeypatch) -> None:
    from ppml_lab.privacy import attacks

    calls: list[tuple[int, int]] = []
    real = attacks.sgd_epoch

    def spy(model, X, y, *, batch_size, **kwargs):  # noqa: ANN001, ANN202
        calls.append((len(y), batch_size))
        return real(model, X, y, batch_size=batch_size, **kwargs)

    monkeypatch.setattr(attacks, "sgd_epoch", spy)
    params = ModelParams(kind="logistic", epochs=4, batch_size=16)
    plain_sgd_train_fn(params, n_classes=3)(wine.X_train[:50], wine.y_train[:50],
                                            np.random.default_rng(0))
    assert calls == [(50, 16)] * 4  # every shadow row once per epoch, in batches of 16


def test_dp_sgd_shadows_use_the_targets_sample_rate_and_steps(wine: PreparedData, monkeypatch) -> None:
    from ppml_lab.engines.dp import dpsgd

    batches: list[int] = []
    expected: list[float] = []
    real_step = dpsgd.dp_sgd_step

    def spy(model, X, y, *, expected_batch, **kwargs):  # noqa: ANN001, ANN202
        batches.append(len(y))
        expected.append(expected_batch)
        return real_step(model, X, y, expected_batch=expected_batch, **kwargs)

    monkeypatch.setattr(dpsgd, "dp_sgd_step", spy)
    params = ModelParams(kind="logistic", epochs=3, batch_size=8)
    # The target's schedule on all training rows: q = 8 / 142, 18 steps per epoch.
    q, per_epoch = dpsgd.poisson_schedule(wine.n_train, params.batch_size)
    train = dpsgd.dp_sgd_train_fn(params, noise_multiplier=1.1, clip_norm=1.0, n_classes=3,
                                  sample_rate=q, steps=3 * per_epoch)
    n_shadow = 60  # a shadow's share of the pool: its own schedule would be q' = 8 / 60, 8 steps
    train(wine.X_train[:n_shadow], wine.y_train[:n_shadow], np.random.default_rng(0))
    assert len(batches) == 3 * per_epoch == 54
    assert expected == [pytest.approx(q * n_shadow)] * 54  # Poisson rate q on the shadow's rows
    assert np.mean(batches) == pytest.approx(q * n_shadow, rel=0.35)
    with pytest.raises(ValueError, match="sample_rate"):
        dpsgd.dp_sgd_train_fn(params, noise_multiplier=1.0, clip_norm=1.0, n_classes=3,
                              sample_rate=0.0, steps=3)
    with pytest.raises(ValueError, match="steps"):
        dpsgd.dp_sgd_train_fn(params, noise_multiplier=1.0, clip_norm=1.0, n_classes=3,
                              sample_rate=0.1, steps=0)


def test_overfitted_mlp_leaks_membership(adult_small: PreparedData) -> None:
    data = adult_small
    train_fn = plain_sgd_train_fn(LEAKY_MLP, n_classes=data.n_classes)
    model = train_fn(data.X_train, data.y_train, np.random.default_rng(0))
    assert accuracy(model, data.X_train, data.y_train) > 0.95
    results = audit_model(
        model, data, delta=1 / (10 * data.n_train), rng=0, train_fn=train_fn, n_shadows=8
    )
    loss, lira = results["loss"], results["lira"]
    assert loss.n_members == loss.n_nonmembers == 500
    # Loss attack: confidently misclassified non-members give a large, significant bound.
    assert loss.auc > 0.54
    assert loss.epsilon_lower_bound > 0.5
    # LiRA: per-record calibration makes the attack much stronger on average.
    assert lira.auc >= 0.6
    assert lira.tpr_at_1pct_fpr > 0.02
    assert lira.epsilon_lower_bound > 0.0
    assert lira.details is not None and lira.details["n_shadows"] == 8


@pytest.mark.parametrize("epsilon", [0.5, 2.0, 8.0])
def test_empirical_bound_never_exceeds_the_accountant(adult_small: PreparedData, epsilon: float) -> None:
    from ppml_lab.engines.dp import DPParams
    from ppml_lab.engines.dp.dpsgd import dp_sgd_train_fn
    from ppml_lab.experiments.config import Experiment
    from ppml_lab.experiments.runner import drive, run_experiment

    # The leaky MLP, but 10 epochs (DP-SGD at these budgets learns little more with longer runs).
    model_params = ModelParams(kind="mlp", hidden=256, epochs=10, batch_size=32, learning_rate=0.5)
    experiment = Experiment(
        pattern="dp", params=DPParams(epsilon=epsilon, clip_norm=1.0), model=model_params, seed=0
    )
    run = drive(run_experiment(experiment, data=adult_small, with_baseline=False))
    privacy = run.engine_result.privacy
    upper = privacy["epsilon"]
    assert 0 < upper <= epsilon
    # Shadows are trained as the engine trains: the run's noise multiplier, q and steps.
    train_fn = dp_sgd_train_fn(
        model_params,
        noise_multiplier=privacy["noise_multiplier"],
        clip_norm=privacy["clip_norm"],
        n_classes=adult_small.n_classes,
        sample_rate=privacy["sample_rate"],
        steps=privacy["steps"],
    )
    results = audit_model(
        run.engine_result.model, adult_small, delta=privacy["delta"], rng=1, train_fn=train_fn
    )
    for r in results.values():
        assert r.epsilon_lower_bound <= upper, r.attack
        # Also with per-threshold intervals, the more optimistic convention.
        lenient = empirical_epsilon(
            r.member_scores, r.nonmember_scores, delta=privacy["delta"], correction="none"
        )
        assert lenient <= upper, r.attack
