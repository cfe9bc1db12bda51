"""The DP pattern's engine: accounting equals dp-accounting, clipping, seeded noise, calibration,
refused settings, the other mechanisms and the preprocessing warning."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace

import dp_accounting
import numpy as np
import pytest
from dp_accounting.pld import pld_privacy_accountant
from dp_accounting.rdp import rdp_privacy_accountant

from ppml_lab.data import PreprocessOptions, prepare_dataset
from ppml_lab.data.catalog import load_builtin
from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.dp import DPEngine, DPParams
from ppml_lab.engines.dp.dpsgd import dp_sgd_step
from ppml_lab.engines.dp.sampling import poisson_batch, poisson_batches
from ppml_lab.engines.events import BudgetSpent, Log, Metric
from ppml_lab.experiments.config import Experiment, experiment_from_dict
from ppml_lab.experiments.runner import prepare_data
from ppml_lab.models import ModelParams, make_model


@pytest.fixture(scope="module")
def cancer():
    return prepare_data(Experiment())  # builtin:breast_cancer, 455 training rows


def run(data, model: ModelParams, params: DPParams, seed: int = 0):
    events: list = []
    gen = DPEngine().run(data, model, params, seed=seed, cancel=CancelToken())
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return stop.value, events


def independent_epsilon(sigma, q, steps, delta, accountant):
    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma)), steps
    )
    if accountant == "pld":
        acc = pld_privacy_accountant.PLDAccountant(value_discretization_interval=1e-4)
    else:
        acc = rdp_privacy_accountant.RdpAccountant(
            orders=[1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64)) + [128, 256, 512]
        )
    acc.compose(event)
    return acc.get_epsilon(delta)


@pytest.mark.parametrize(
    ("sigma", "batch", "epochs", "delta"),
    [(1.0, 32, 3, 1e-4), (2.0, 64, 5, 1e-5), (0.8, 100, 2, 1e-3), (4.0, 16, 4, 1e-6)],
)
def test_engine_epsilon_equals_independent_dp_accounting(cancer, sigma, batch, epochs, delta):
    model = ModelParams(kind="logistic", epochs=epochs, batch_size=batch, learning_rate=0.2)
    spent = {}
    for accountant in ("pld", "rdp"):
        result, events = run(cancer, model, DPParams(noise_multiplier=sigma, delta=delta, accountant=accountant))
        p = result.privacy
        q = batch / cancer.n_train
        steps = round(1 / q) * epochs
        assert p["sample_rate"] == pytest.approx(q) and p["steps"] == steps
        assert p["noise_multiplier"] == sigma and p["delta"] == delta and p["accountant"] == accountant
        assert p["epsilon"] == pytest.approx(independent_epsilon(sigma, q, steps, delta, accountant), rel=1e-3)
        # The live curve: one point per epoch, non-decreasing, ending at the reported epsilon.
        curve = [e.epsilon for e in events if isinstance(e, BudgetSpent)]
        assert len(curve) == epochs and curve == sorted(curve) and curve[-1] == p["epsilon"]
        spent[accountant] = p["epsilon"]
    assert spent["rdp"] >= spent["pld"]


def test_calibrated_run_spends_at_most_the_target(cancer):
    model = ModelParams(kind="logistic", epochs=5, batch_size=64, learning_rate=0.5)
    for target in (0.5, 2.0):
        result, _ = run(cancer, model, DPParams(epsilon=target))
        eps = result.privacy["epsilon"]
        assert 0.99 * target <= eps <= target
        assert result.privacy["calibrated"] and result.privacy["target_epsilon"] == target


@pytest.mark.parametrize("kind", ["logistic", "mlp"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_clipping_bounds_every_contribution(kind, n_classes):
    rng = np.random.default_rng(0)
    X = rng.normal(0, 3, size=(40, 5))
    y = rng.integers(0, n_classes, 40)
    model = make_model(ModelParams(kind=kind, hidden=6), n_features=5, n_classes=n_classes, rng=rng)
    clip = 0.3
    G = model.per_example_grads(X, y)  # materialised, (B, n_params)
    scale = np.minimum(1.0, clip / np.linalg.norm(G, axis=1))
    clipped = G * scale[:, None]
    assert np.all(np.linalg.norm(clipped, axis=1) <= clip * (1 + 1e-9))
    assert np.linalg.norm(G, axis=1).max() > clip  # the test does clip something
    before = model.get_flat()
    lr, expected_batch = 0.7, 50.0
    dp_sgd_step(model, X, y, clip_norm=clip, noise_std=0.0, expected_batch=expected_batch,
                learning_rate=lr, rng=rng)
    step = (before - model.get_flat()) / lr
    np.testing.assert_allclose(step, clipped.sum(axis=0) / expected_batch, rtol=1e-9, atol=1e-12)
    # So no single example can move the noiseless update by more than clip / expected batch.
    assert np.all(np.linalg.norm(clipped / expected_batch, axis=1) <= clip / expected_batch * (1 + 1e-9))


def test_noise_has_standard_deviation_sigma_times_clip():
    rng = np.random.default_rng(1)
    model = make_model(ModelParams(kind="logistic"), n_features=2000, n_classes=2, rng=rng)
    X, y = np.zeros((0, 2000)), np.zeros(0, dtype=int)  # an empty Poisson batch: pure noise
    dp_sgd_step(model, X, y, clip_norm=2.0, noise_std=3.0, expected_batch=1.0, learning_rate=1.0, rng=rng)
    assert np.std(model.get_flat()) == pytest.approx(3.0, rel=0.05)


def test_noise_comes_from_the_os_unless_deterministic_noise_is_asked_for(cancer):
    model = ModelParams(kind="mlp", hidden=8, epochs=2, batch_size=32, learning_rate=0.2)
    # Default: the same seed (same split, same initialisation) gives different models, because
    # the batches and the noise come from the operating system: nobody can replay the run.
    a, _ = run(cancer, model, DPParams(noise_multiplier=1.0), seed=5)
    b, _ = run(cancer, model, DPParams(noise_multiplier=1.0), seed=5)
    assert not np.allclose(a.model.get_flat(), b.model.get_flat())
    assert a.privacy["noise_source"] == "os" and not any("NOT PRIVATE" in w for w in a.warnings)
    # The initialisation still comes from the seed: identical before the first noisy step.
    zero = ModelParams(kind="mlp", hidden=8, epochs=1, batch_size=32, learning_rate=0.0)
    z1, _ = run(cancer, zero, DPParams(noise_multiplier=1.0), seed=5)
    z2, _ = run(cancer, zero, DPParams(noise_multiplier=1.0), seed=5)
    assert np.array_equal(z1.model.get_flat(), z2.model.get_flat())
    # Opt-in deterministic noise: replayable from the seed, and labelled NOT private.
    seeded = DPParams(noise_multiplier=1.0, deterministic_noise=True)
    c, _ = run(cancer, model, seeded, seed=5)
    d, _ = run(cancer, model, seeded, seed=5)
    e, _ = run(cancer, model, seeded, seed=6)
    assert np.array_equal(c.model.get_flat(), d.model.get_flat())
    assert not np.allclose(c.model.get_flat(), e.model.get_flat())
    assert c.privacy["noise_source"] == "seeded"
    assert any(w.startswith("NOT PRIVATE") for w in c.warnings)


def test_poisson_batches_are_bernoulli_and_seeded():
    n, q = 500, 0.04
    sizes, counts = [], np.zeros(n)
    rng = np.random.default_rng(0)
    for _ in range(100):
        for idx in poisson_batches(n, q, 20, rng):
            assert np.all(np.diff(idx) > 0) and (idx.size == 0 or (idx[0] >= 0 and idx[-1] < n))
            sizes.append(idx.size)
            counts[idx] += 1
    # Batch size ~ Binomial(n, q); each record joins a step with probability q.
    assert np.mean(sizes) == pytest.approx(n * q, rel=0.03)
    assert np.var(sizes) == pytest.approx(n * q * (1 - q), rel=0.15)
    assert counts.mean() / 2000 == pytest.approx(q, rel=0.03)
    one = poisson_batch(n, q, np.random.default_rng(3))
    assert np.array_equal(one, poisson_batch(n, q, np.random.default_rng(3)))
    assert poisson_batches(n, 1.0, 2, rng)[1].size == n


def test_delta_of_one_over_n_or_more_is_refused(cancer):
    model = ModelParams(kind="logistic", epochs=1)
    with pytest.raises(ValueError, match="too large"):
        run(cancer, model, DPParams(epsilon=1.0, delta=1.0 / cancer.n_train))
    result, _ = run(cancer, model, DPParams(epsilon=1.0))
    assert result.privacy["delta"] == pytest.approx(1 / (10 * cancer.n_train))


@pytest.mark.parametrize("bad", [0, -1, 1000])
def test_epsilon_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match="epsilon"):
        experiment_from_dict({"pattern": {"name": "dp", "epsilon": bad}}, where="x.toml")


def test_noise_multiplier_is_only_for_dp_sgd():
    with pytest.raises(ValueError, match="'dp-sgd' only"):
        DPParams(mechanism="objective", noise_multiplier=1.0)


def test_bad_privacy_settings_exit_2_with_one_line(tmp_path):
    exp = tmp_path / "dp.toml"
    exp.write_text('[pattern]\nname = "dp"\nepsilon = 1.0\ndelta = 0.01\n', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "ppml_lab", "run", str(exp), "-q"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "delta" in lines[0] and "Traceback" not in proc.stderr


def test_objective_and_local_mechanisms(cancer):
    model = ModelParams(kind="logistic", epochs=10, batch_size=32, learning_rate=0.1)
    eps = 10.0  # 455 rows: objective perturbation needs a generous budget to be accurate
    central = [run(cancer, model, DPParams(mechanism="objective", epsilon=eps), seed=s)[0] for s in range(3)]
    local = [run(cancer, model, DPParams(mechanism="local", epsilon=eps), seed=s)[0] for s in range(3)]
    assert central[0].privacy["mechanism"] == "objective" and central[0].privacy["delta"] == 0.0
    assert local[0].privacy["mechanism"] == "local"
    # Sequential composition: half for the label, the rest shared by the feature attributes.
    p = local[0].privacy
    assert p["epsilon_label"] == pytest.approx(eps / 2)
    assert p["epsilon_label"] + (p["attributes"] - 1) * p["epsilon_per_attribute"] == pytest.approx(eps)
    central_acc = np.mean([r.final["test_accuracy"] for r in central])
    local_acc = np.mean([r.final["test_accuracy"] for r in local])
    assert central_acc > 0.9
    # Randomising every record at the same epsilon destroys much more signal.
    assert local_acc < central_acc - 0.05


def test_randomized_response_keeps_the_true_value_with_the_right_probability():
    from ppml_lab.engines.dp.local import randomized_response

    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, 200_000)
    out = randomized_response(codes, 4, 1.0, rng)
    keep = math.e / (math.e + 3)
    assert np.mean(out == codes) == pytest.approx(keep, abs=0.005)
    # The others are uniform: each wrong value with probability (1 - keep) / 3.
    wrong = out[out != codes] - codes[out != codes]
    assert np.bincount(wrong % 4, minlength=4)[1:] / wrong.size == pytest.approx([1 / 3] * 3, abs=0.01)


def test_data_dependent_preprocessing_warning():
    frame, _ = load_builtin("builtin:wine")
    target = frame.columns[-1]
    model = ModelParams(kind="logistic", epochs=2, batch_size=16)
    data = prepare_dataset(frame, target=target, seed=0)
    result, events = run(data, model, DPParams(epsilon=3.0))
    assert any("does not count that leak" in w for w in result.warnings)
    assert any(isinstance(e, Log) and e.level == "warning" for e in events)
    numeric = [c for c in frame.columns if c != target]
    bounds = {c: (float(frame[c].min()) - 1.0, float(frame[c].max()) + 1.0) for c in numeric}
    public = prepare_dataset(
        frame, target=target, seed=0, options=PreprocessOptions(scaling="bounds", bounds=bounds)
    )
    assert not public.data_dependent_steps
    result, _ = run(public, model, DPParams(epsilon=3.0))
    assert not result.warnings


def test_per_epoch_metrics(cancer):
    model = ModelParams(kind="logistic", epochs=3, batch_size=32)
    _, events = run(cancer, model, DPParams(epsilon=2.0))
    acc = [e for e in events if isinstance(e, Metric) and e.name == "test_accuracy"]
    assert [e.step for e in acc] == [1, 2, 3]
    _ = replace


def test_membership_audit_of_a_dp_run(cancer):
    model = ModelParams(kind="logistic", epochs=3, batch_size=32, learning_rate=0.5)
    result, events = run(cancer, model, DPParams(epsilon=1.0, audit=True))
    audit = result.extra["audit"]
    assert set(audit["attacks"]) == {"loss", "lira"}
    assert audit["accountant_epsilon"] == result.privacy["epsilon"]
    assert audit["delta"] == result.privacy["delta"]
    for name, attack in audit["attacks"].items():
        assert 0.0 <= attack["auc"] <= 1.0
        assert len(attack["roc"]["fpr"]) == len(attack["roc"]["tpr"]) > 2
        # The empirical lower bound can never exceed the accountant's upper bound.
        assert attack["epsilon_lower_bound"] <= result.privacy["epsilon"]
        assert result.privacy["audit"][name]["auc"] == attack["auc"]
    assert any(isinstance(e, Log) and e.message.startswith("Membership audit") for e in events)


def test_audit_is_a_pattern_key_and_off_in_sweeps():
    from ppml_lab.experiments.sweep import with_epsilon

    exp = experiment_from_dict({"pattern": {"name": "dp", "epsilon": 2.0, "audit": True}}, where="x.toml")
    assert exp.params.audit is True
    assert with_epsilon(exp, 0.5).params.audit is False
    base = experiment_from_dict({"pattern": {"name": "baseline", "audit": True}}, where="x.toml")
    assert base.params.audit is True


def test_debiasing_undoes_randomised_response_in_expectation():
    from ppml_lab.engines.dp.local import debias, randomize_features

    rng = np.random.default_rng(0)
    n, k = 200_000, 4
    codes = rng.choice(k, size=n, p=[0.7, 0.1, 0.1, 0.1])
    X = np.zeros((n, k))
    X[np.arange(n), codes] = 1.0
    groups = [("onehot", list(range(k)))]
    noisy = randomize_features(X, groups, 1.0, rng)
    assert noisy[:, 0].mean() < 0.5  # randomised response pulls the 70% level towards 1/k
    scaled, scale = debias(noisy, groups, 1.0)
    np.testing.assert_allclose((scaled * scale).mean(axis=0), [0.7, 0.1, 0.1, 0.1], atol=0.01)


def test_local_dp_on_adult_is_no_worse_than_the_majority_class():
    from pathlib import Path

    adult = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "adult.csv"
    if not adult.exists():
        pytest.skip(f"the Adult data set is not at {adult}")
    exp = experiment_from_dict(
        {"dataset": {"source": str(adult), "target": "income"},
         "model": {"epochs": 3, "batch_size": 256, "learning_rate": 0.5},
         "pattern": {"name": "dp", "mechanism": "local", "epsilon": 3.0}},
        where="x.toml",
    )
    data = prepare_data(exp)
    result, _ = run(data, exp.model, exp.params)
    majority = max(np.mean(data.y_test), 1 - np.mean(data.y_test))
    assert result.final["test_accuracy"] >= majority - 0.01
