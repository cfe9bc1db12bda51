"""The DP engine as a user meets it: the live budget curve, refused settings through the CLI,
central against local DP at epsilon 1, the membership audit of DP and baseline runs, public
preprocessing with categories, and (slow) utility on Adult.

The accounting, clipping, seeding and sampling properties are in ``test_dp_sgd.py``.
"""

from __future__ import annotations

from pathlib import Path

import dp_accounting
import numpy as np
import pandas as pd
import pytest
from dp_accounting.pld import PLDAccountant
from dp_accounting.rdp import RdpAccountant

from ppml_lab import cli
from ppml_lab.data import PreprocessOptions, load_source, prepare_dataset
from ppml_lab.engines.base import Cancelled, CancelToken
from ppml_lab.engines.dp import DPEngine, DPParams
from ppml_lab.engines.dp.dpsgd import NOISE_STREAM, dp_sgd_train_fn
from ppml_lab.engines.events import BudgetSpent, Log, Progress
from ppml_lab.engines.registry import get_engine
from ppml_lab.experiments.config import Experiment, experiment_from_dict
from ppml_lab.experiments.runner import drive, prepare_data
from ppml_lab.models import ModelParams
from ppml_lab.privacy import accounting

ADULT = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "adult.csv"


@pytest.fixture(scope="module")
def cancer():
    return prepare_data(Experiment())  # builtin:breast_cancer, 455 training rows


def run(engine, data, model, params, seed=0, cancel=None):
    events: list = []
    gen = engine.run(data, model, params, seed=seed, cancel=cancel or CancelToken())
    while True:
        try:
            events.append(next(gen))
        except StopIteration as stop:
            return stop.value, events


# --------------------------------------------------------------------------------------------
# The live budget curve


@pytest.mark.parametrize("accountant", ["pld", "rdp"])
def test_every_point_of_the_budget_curve_is_an_upper_bound(cancer, accountant):
    model = ModelParams(kind="logistic", epochs=6, batch_size=32, learning_rate=0.3)
    result, events = run(
        DPEngine(), cancer, model, DPParams(noise_multiplier=1.5, accountant=accountant)
    )
    p = result.privacy
    curve = [e for e in events if isinstance(e, BudgetSpent)]
    assert [e.step for e in curve] == list(range(1, 7))
    per_epoch = p["steps"] // model.epochs
    for e in curve:
        exact = accounting.epsilon_for(
            noise_multiplier=1.5,
            sample_rate=p["sample_rate"],
            steps=e.step * per_epoch,
            delta=p["delta"],
            accountant=accountant,
        )
        # Intermediate points may be a hair above the exact epsilon (never below it); the
        # last one is the exact, reported value.
        assert exact <= e.epsilon <= exact * 1.01
        assert e.delta == p["delta"]
    assert curve[-1].epsilon == p["epsilon"]
    assert [e.epsilon for e in curve] == sorted(e.epsilon for e in curve)
    # The reported value is dp-accounting's own, computed here without our code.
    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(p["sample_rate"], dp_accounting.GaussianDpEvent(1.5)),
        p["steps"],
    )
    independent = PLDAccountant() if accountant == "pld" else RdpAccountant(list(accounting.RDP_ORDERS))
    assert p["epsilon"] == independent.compose(event).get_epsilon(p["delta"])


# --------------------------------------------------------------------------------------------
# Refused settings, through the command line


@pytest.mark.parametrize(
    ("pattern", "fragments"),
    [
        ('epsilon = 0.0', ("epsilon", "out of range")),
        ('epsilon = -1.0', ("epsilon", "out of range")),
        ('epsilon = 1.0\ndelta = 0.01', ("delta", "too large", "must be below 1/")),
        ('mechanism = "objective"\nnoise_multiplier = 1.0', ("noise_multiplier", "dp-sgd")),
    ],
)
def test_bad_privacy_settings_exit_2_with_one_line(tmp_path, capsys, pattern, fragments):
    exp = tmp_path / "dp.toml"
    exp.write_text(f'[model]\nepochs = 1\n\n[pattern]\nname = "dp"\n{pattern}\n', encoding="utf-8")
    assert cli.main(["run", str(exp), "-q"]) == cli.EXIT_BAD_INPUT
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith("ppml-lab: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


# --------------------------------------------------------------------------------------------
# Mechanisms at the same epsilon


def test_central_dp_beats_local_dp_at_epsilon_one(cancer):
    model = ModelParams(kind="logistic", epochs=10, batch_size=32, learning_rate=0.1)

    def mean_accuracy(mechanism: str) -> float:
        return float(
            np.mean(
                [
                    run(DPEngine(), cancer, model, DPParams(mechanism=mechanism, epsilon=1.0), seed=s)[
                        0
                    ].final["test_accuracy"]
                    for s in range(3)
                ]
            )
        )

    dp_sgd, objective, local = (mean_accuracy(m) for m in ("dp-sgd", "objective", "local"))
    assert dp_sgd > 0.9
    # Randomising every record before it is shared destroys far more signal than adding noise
    # once to a model trained on the clear data (measured: about 0.95 / 0.74 / 0.39).
    assert local < dp_sgd - 0.2
    assert local < objective


# --------------------------------------------------------------------------------------------
# Membership audit


def test_dp_sgd_train_fn_replays_the_engine_exactly(cancer):
    model = ModelParams(kind="mlp", hidden=8, epochs=2, batch_size=32, learning_rate=0.2)
    result, _ = run(
        DPEngine(), cancer, model,
        DPParams(noise_multiplier=1.3, clip_norm=0.7, deterministic_noise=True),
    )
    privacy = result.privacy
    train = dp_sgd_train_fn(
        model, noise_multiplier=1.3, clip_norm=0.7, n_classes=cancer.n_classes,
        sample_rate=privacy["sample_rate"], steps=privacy["steps"],
    )
    # Same generators, same draws: with the run's q and steps on the full training set the
    # shadow procedure is the engine's procedure. (Only a deterministic-noise run can be
    # replayed; the engine's noise stream is seed 0, stream 301.)
    shadow = train(
        cancer.X_train, cancer.y_train, np.random.default_rng(0),
        noise_rng=np.random.default_rng([0, NOISE_STREAM]),
    )
    assert np.array_equal(shadow.get_flat(), result.model.get_flat())
    other = train(cancer.X_train, cancer.y_train, np.random.default_rng(1))
    assert not np.allclose(other.get_flat(), result.model.get_flat())


def test_audit_shadows_use_the_targets_sample_rate_and_steps(cancer, monkeypatch):
    from ppml_lab.engines.dp import dpsgd

    epochs: list[dict] = []
    steps_taken: list[int] = []
    real_epoch, real_step = dpsgd.dp_sgd_epoch, dpsgd.dp_sgd_step

    def spy_epoch(model, X, y, x_sqnorms, **kwargs):
        epochs.append({"rows": len(y), **{k: kwargs[k] for k in ("sample_rate", "steps",
                                                                 "noise_std", "clip_norm")}})
        return real_epoch(model, X, y, x_sqnorms, **kwargs)

    def spy_step(*args, **kwargs):
        steps_taken.append(1)
        return real_step(*args, **kwargs)

    monkeypatch.setattr(dpsgd, "dp_sgd_epoch", spy_epoch)
    monkeypatch.setattr(dpsgd, "dp_sgd_step", spy_step)
    model = ModelParams(kind="logistic", epochs=3, batch_size=32)
    result, _ = run(DPEngine(), cancer, model, DPParams(epsilon=2.0, clip_norm=0.8, audit=True))
    p = result.privacy
    shadows = result.extra["audit"]["shadows"]
    # The engine's own epochs come first, then each shadow model's.
    assert shadows == 8 and len(epochs) == model.epochs * (1 + shadows)
    trainings = [epochs[i:i + model.epochs] for i in range(0, len(epochs), model.epochs)]
    for calls in trainings:
        assert sum(c["steps"] for c in calls) == p["steps"]
        for c in calls:
            assert c["sample_rate"] == p["sample_rate"]
            assert c["noise_std"] == pytest.approx(p["noise_multiplier"] * p["clip_norm"])
            assert c["clip_norm"] == p["clip_norm"]
    assert {c["rows"] for c in trainings[0]} == {cancer.n_train}
    # Shadows train on about half the pool, far fewer rows than the target: their own
    # batch_size / rows would be a different q and step count, hence another privacy cost.
    assert all(c["rows"] < 0.7 * cancer.n_train for calls in trainings[1:] for c in calls)
    assert len(steps_taken) == (1 + shadows) * p["steps"]


@pytest.mark.parametrize("epsilon", [1.0, 8.0])
def test_dp_audit_states_its_ceiling_and_whether_it_can_test_the_guarantee(cancer, epsilon):
    from ppml_lab.privacy.attacks import audit_ceiling

    model = ModelParams(kind="logistic", epochs=3, batch_size=32, learning_rate=0.5)
    result, events = run(DPEngine(), cancer, model, DPParams(epsilon=epsilon, audit=True))
    audit, proven = result.extra["audit"], result.privacy["epsilon"]
    n = audit["records_per_side"]
    assert n == len(cancer.y_test)  # ~114 test rows: every one is attacked
    ceiling = audit_ceiling(n, n, delta=result.privacy["delta"])
    assert audit["ceiling"] == ceiling == pytest.approx(2.57, abs=0.05)
    for name, attack in audit["attacks"].items():
        assert attack["epsilon_ceiling"] == ceiling
        assert result.privacy["audit"][name]["epsilon_ceiling"] == ceiling
        assert attack["epsilon_lower_bound"] <= min(ceiling, proven)
    (line,) = [e.message for e in events if isinstance(e, Log) and e.message.startswith("Membership audit")]
    assert audit["verdict"] in line
    if epsilon == 8.0:  # proven epsilon ~8, the audit can show at most ~2.57
        assert ceiling < proven and audit["can_test_guarantee"] is False
        assert audit["verdict"] == (
            f"This audit could demonstrate at most epsilon {ceiling:.3g} with {n} + {n} records, "
            f"below the proven {proven:.3g}, so it cannot confirm or refute the accountant."
        )
        assert "exceeded" not in line
    else:  # proven epsilon ~1 < 2.57: a violation could have been seen
        assert ceiling > proven and audit["can_test_guarantee"] is True
        assert audit["verdict"].startswith(f"No attack exceeded the proven epsilon {proven:.3g}.")
        assert f"up to {ceiling:.3g}" in line and "not a proof of privacy" in line
        assert f"vs the accountant's {proven:.3g} (the proven upper bound)" in line
        assert "cannot confirm" not in line


def test_baseline_audit_goes_to_extra_only(cancer):
    model = ModelParams(kind="logistic", epochs=3, batch_size=32)
    engine = get_engine("baseline")
    result, events = run(engine, cancer, model, engine.Params(audit=True))
    audit = result.extra["audit"]
    assert audit["accountant_epsilon"] is None and audit["can_test_guarantee"] is None
    assert audit["delta"] == pytest.approx(1 / (10 * cancer.n_train))
    assert audit["ceiling"] == audit["attacks"]["loss"]["epsilon_ceiling"] > 0
    assert set(audit["attacks"]) == {"loss", "lira"}
    for attack in audit["attacks"].values():
        assert {"auc", "tpr_at_1pct_fpr", "epsilon_lower_bound", "roc"} <= set(attack)
        assert attack["roc"]["fpr"][0] == 0.0 and attack["roc"]["tpr"][-1] == 1.0
    assert result.privacy == {}
    assert any(isinstance(e, Log) and e.message.startswith("Membership audit") for e in events)
    # Off by default: no audit, no extra time.
    plain, _ = run(engine, cancer, model, engine.Params())
    assert "audit" not in plain.extra


def test_baseline_audit_warns_when_an_overfitted_model_leaks():
    # 300 members, 30 noisy features, a wide MLP trained to 100 % training accuracy: it
    # memorises, and the attacks prove it (measured: loss AUC 0.77, LiRA 0.86, bound 2.9).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 30))
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(30)])
    frame["y"] = (X[:, 0] + 1.5 * rng.normal(size=600) > 0).astype(int)
    data = prepare_dataset(frame, target="y", seed=0, options=PreprocessOptions(test_fraction=0.5))
    model = ModelParams(kind="mlp", hidden=64, epochs=60, batch_size=16, learning_rate=0.5)
    engine = get_engine("baseline")
    result, events = run(engine, data, model, engine.Params(audit=True))
    assert result.final["train_accuracy"] == 1.0
    bound = max(a["epsilon_lower_bound"] for a in result.extra["audit"]["attacks"].values())
    assert bound > 0.5
    warnings = [e.message for e in events if isinstance(e, Log) and e.level == "warning"]
    assert any("measurable membership leakage" in w for w in warnings)


def test_audit_of_objective_perturbation_uses_the_loss_attack(cancer):
    model = ModelParams(kind="logistic", epochs=3, batch_size=32)
    result, _ = run(DPEngine(), cancer, model, DPParams(mechanism="objective", epsilon=2.0, audit=True))
    assert list(result.extra["audit"]["attacks"]) == ["loss"]
    assert result.extra["audit"]["attacks"]["loss"]["epsilon_lower_bound"] <= result.privacy["epsilon"]


def test_cancel_during_the_audit_stops_the_run(cancer):
    model = ModelParams(kind="logistic", epochs=2, batch_size=32)
    cancel = CancelToken()
    gen = DPEngine().run(cancer, model, DPParams(epsilon=1.0, audit=True), seed=0, cancel=cancel)
    with pytest.raises(Cancelled):
        for event in gen:
            if isinstance(event, Progress) and "audit" in event.message:
                cancel.cancel()


def test_audit_key_in_experiment_files():
    for name in ("dp", "baseline"):
        exp = experiment_from_dict({"pattern": {"name": name, "audit": True}}, where="x.toml")
        assert exp.params.audit is True
        assert experiment_from_dict({"pattern": {"name": name}}, where="x.toml").params.audit is False


# --------------------------------------------------------------------------------------------
# Honest preprocessing with categories


def test_public_bounds_and_categories_remove_the_preprocessing_warning():
    rng = np.random.default_rng(0)
    n = 400
    colour = rng.choice(["red", "green", "blue"], n)
    x = rng.normal(0, 1, n)
    frame = pd.DataFrame({"x": x, "colour": colour, "y": ((x + (colour == "red")) > 0.5).astype(int)})
    model = ModelParams(kind="logistic", epochs=2, batch_size=32)

    derived = prepare_dataset(frame, target="y", seed=0)
    result, _ = run(DPEngine(), derived, model, DPParams(epsilon=2.0))
    assert any("category lists" in w for w in result.warnings)

    public = PreprocessOptions(
        scaling="bounds",
        bounds={"x": (-5.0, 5.0)},
        categories={"colour": ["red", "green", "blue"]},
    )
    clean = prepare_dataset(frame, target="y", seed=0, options=public)
    assert not clean.data_dependent_steps
    result, events = run(DPEngine(), clean, model, DPParams(epsilon=2.0))
    assert not result.warnings
    assert not any(isinstance(e, Log) and e.level == "warning" for e in events)


# --------------------------------------------------------------------------------------------
# Utility on Adult (the targets)


@pytest.mark.slow
@pytest.mark.skipif(not ADULT.exists(), reason=f"needs the Adult data set; looked for {ADULT}")
def test_adult_utility_close_to_non_private():
    frame = load_source(str(ADULT)).frame
    model = ModelParams(kind="logistic", epochs=20, batch_size=256, learning_rate=0.5)
    baseline = get_engine("baseline")
    acc: dict[object, list[float]] = {"plain": [], 1.0: [], 0.3: []}
    for seed in range(5):
        data = prepare_dataset(frame, target="income", seed=seed)
        acc["plain"].append(
            drive(baseline.run(data, model, baseline.Params(), seed=seed, cancel=CancelToken()))
            .final["test_accuracy"]
        )
        for eps in (1.0, 0.3):
            result = drive(
                DPEngine().run(
                    data, model, DPParams(epsilon=eps, delta=1e-5), seed=seed, cancel=CancelToken()
                )
            )
            assert result.privacy["epsilon"] <= eps
            acc[eps].append(result.final["test_accuracy"])
    plain = np.mean(acc["plain"])
    assert np.mean(acc[1.0]) >= plain - 0.010
    assert np.mean(acc[0.3]) >= plain - 0.025
