"""The headline's figures: the model on the test split against scikit-learn, the guessing rule,
the majority-class rate, the like-for-like cost, and the results document's evaluation section."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics

from ppml_lab import cli
from ppml_lab.engines.registry import REFERENCE
from ppml_lab.experiments.config import experiment_from_dict
from ppml_lab.experiments.evaluation import (
    GUESSING_RULE,
    Headline,
    Spread,
    evaluate_model,
    guessing_test,
    level_in_words,
    like_for_like,
    majority_class_rate,
    within_noise,
)
from ppml_lab.experiments.runner import drive, run_experiment
from ppml_lab.models import LinearModel

# --------------------------------------------------------------------------------------------
# The model on the test split, against scikit-learn


def _model(n_features: int, n_classes: int, seed: int) -> LinearModel:
    return LinearModel(n_features=n_features, n_classes=n_classes, rng=np.random.default_rng(seed))


def _data(n: int, n_features: int, n_classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    y = rng.integers(0, n_classes, size=n)
    X[:, 0] += y  # some signal, so the figures are not all 0.5
    return X, y


def test_two_classes_match_scikit_learn():
    X, y = _data(200, 4, 2, seed=1)
    model = _model(4, 2, seed=2)
    ev = evaluate_model(model, X, y, ("no", "yes"))
    proba = model.predict_proba(X)
    pred = model.predict(X)
    assert ev["accuracy"] == pytest.approx(metrics.accuracy_score(y, pred))
    assert ev["balanced_accuracy"] == pytest.approx(metrics.balanced_accuracy_score(y, pred))
    assert ev["roc_auc"] == pytest.approx(metrics.roc_auc_score(y, proba[:, 1]))
    assert ev["roc_auc_method"] == "two classes"
    assert ev["confusion_matrix"]["classes"] == ["no", "yes"]
    assert ev["confusion_matrix"]["counts"] == metrics.confusion_matrix(y, pred).tolist()
    assert ev["test_rows"] == 200


def test_three_classes_use_one_vs_rest_macro_auc():
    X, y = _data(300, 5, 3, seed=3)
    model = _model(5, 3, seed=4)
    ev = evaluate_model(model, X, y, ("a", "b", "c"))
    proba = model.predict_proba(X)
    assert ev["roc_auc"] == pytest.approx(
        metrics.roc_auc_score(y, proba, multi_class="ovr", average="macro")
    )
    assert ev["roc_auc_method"] == "one-vs-rest, macro average"
    assert np.array(ev["confusion_matrix"]["counts"]).sum() == 300


def test_auc_is_none_when_a_class_is_absent_from_the_test_rows():
    X, y = _data(60, 3, 3, seed=5)
    y[y == 2] = 1  # class "c" never occurs
    ev = evaluate_model(_model(3, 3, seed=6), X, y, ("a", "b", "c"))
    assert ev["roc_auc"] is None
    assert ev["balanced_accuracy"] is not None
    assert len(ev["confusion_matrix"]["counts"]) == 3  # still one row per class


def test_without_a_model_only_the_guess_and_the_engines_accuracy_remain():
    y = np.array([0, 0, 0, 1])
    ev = evaluate_model(None, np.zeros((4, 2)), y, ("a", "b"), accuracy=0.75)
    assert ev["balanced_accuracy"] is None and ev["confusion_matrix"] is None
    assert ev["accuracy"] == 0.75 and ev["majority_class_rate"] == 0.75
    assert ev["no_better_than_guessing"] is True
    cancelled = evaluate_model(None, np.zeros((4, 2)), y, ("a", "b"))
    assert cancelled["accuracy"] is None and cancelled["no_better_than_guessing"] is None


# --------------------------------------------------------------------------------------------
# The majority-class rate and the guessing rule


def test_majority_class_rate():
    assert majority_class_rate(np.array([0, 1, 1, 2])) == (1, 0.5)
    assert majority_class_rate(np.array([2, 2, 0, 0]), 3) == (0, 0.5)  # ties: the lowest class
    cls, rate = majority_class_rate(np.array([], dtype=int))
    assert np.isnan(rate)


def test_the_guessing_rule_is_a_one_sided_exact_binomial_test():
    n, p0 = 113, 71 / 113
    for k in (60, 71, 75, 80, 90):
        out = guessing_test(k, n, p0)
        expected = stats.binomtest(k, n, p0, alternative="greater").pvalue
        assert out["p_value"] == pytest.approx(expected, rel=1e-9)
        assert out["no_better_than_guessing"] is bool(expected > 0.05)
    assert "one-sided exact binomial test" in GUESSING_RULE


def test_accuracy_needed_is_the_smallest_accuracy_that_passes():
    n, p0 = 113, 71 / 113
    needed = guessing_test(0, n, p0)["accuracy_needed"]
    k = round(needed * n)
    assert guessing_test(k, n, p0)["no_better_than_guessing"] is False
    assert guessing_test(k - 1, n, p0)["no_better_than_guessing"] is True
    # Brute force: the smallest k with P(X >= k) <= 5%.
    assert k == min(j for j in range(n + 1) if stats.binom.sf(j - 1, n, p0) <= 0.05)


def test_always_guessing_the_commonest_class_is_flagged_and_a_good_model_is_not():
    y = np.array([0] * 70 + [1] * 43)
    X = np.zeros((len(y), 2))
    constant = _model(2, 2, seed=0)
    constant.params = [np.zeros((2, 1)), np.array([-3.0])]  # always class 0
    ev = evaluate_model(constant, X, y, ("benign", "malignant"))
    assert ev["accuracy"] == pytest.approx(ev["majority_class_rate"])
    assert ev["balanced_accuracy"] == pytest.approx(0.5)
    assert ev["no_better_than_guessing"] is True and ev["majority_class"] == "benign"
    good = guessing_test(100, 113, 70 / 113)
    assert good["no_better_than_guessing"] is False


def test_one_class_in_the_test_rows_cannot_be_beaten():
    out = guessing_test(10, 10, 1.0)
    assert out["no_better_than_guessing"] is True and out["accuracy_needed"] is None
    assert guessing_test(0, 0, float("nan"))["no_better_than_guessing"] is None


# --------------------------------------------------------------------------------------------
# Like-for-like cost and run-to-run noise


def test_like_for_like_prefers_the_engines_training_time():
    costs = {"seconds": 8.0, "train_seconds": 2.0, "calibration_seconds": 5.5,
             "accounting_seconds": 0.5}
    one_off = {"calibration_seconds": "noise calibration", "accounting_seconds": "accounting"}
    out = like_for_like(costs, 1.0, one_off)
    assert out["training_seconds"] == 2.0 and out["measured_as"] == "train_seconds"
    assert out["ratio"] == pytest.approx(2.0)  # not 8x: the one-off work is apart
    assert out["one_off_seconds"] == pytest.approx(6.0)
    assert [i["kind"] for i in out["one_off"]] == ["calibration_seconds", "accounting_seconds"]


def test_like_for_like_subtracts_one_off_work_from_the_engine_time():
    costs = {"seconds": 10.0, "connect_seconds": 3.0, "setup_seconds": 1.0, "bytes_sent": 5e6}
    out = like_for_like(costs, 2.0, {"connect_seconds": "start-up", "setup_seconds": "set-up"})
    assert out["training_seconds"] == pytest.approx(6.0)
    assert out["measured_as"] == "seconds minus one-off work"
    assert out["ratio"] == pytest.approx(3.0)
    plain = like_for_like({"seconds": 4.0}, None, {})
    assert plain["ratio"] is None and plain["measured_as"] == "seconds" and plain["one_off"] == []
    assert like_for_like({"bytes_sent": 1.0}, 1.0, {}) is None


def test_within_noise_is_two_standard_deviations_of_the_difference():
    assert within_noise(0.01, None) is None
    assert within_noise(0.01, Spread(n_runs=1, sd=0.0)) is None
    assert within_noise(0.019, Spread(n_runs=5, sd=0.01)) is True
    assert within_noise(-0.021, Spread(n_runs=5, sd=0.01)) is False
    # Both sides vary: 2 * sqrt(0.01^2 + 0.01^2) = 0.028.
    assert within_noise(0.027, Spread(n_runs=5, sd=0.01, reference_sd=0.01)) is True


def test_level_in_words_never_reads_as_good_news_for_a_useless_model():
    assert level_in_words("strong") == "strong privacy (ε at most 1)"
    assert level_in_words("moderate", epsilon=2.0) == "moderate privacy (ε = 2)"
    assert level_in_words("strong", useless=True).endswith("but the model learned nothing useful")
    assert level_in_words("none") == "no privacy protection"
    assert level_in_words("none", covers="the raw rows; and more") == (
        "no formal privacy guarantee (no ε); it protects the raw rows"
    )
    assert level_in_words("NOT PRIVATE (two parties)") == "NOT PRIVATE (two parties)"


# --------------------------------------------------------------------------------------------
# The results document and the CLI


def _document(pattern: dict, epochs: int = 4) -> dict:
    exp = experiment_from_dict({"model": {"epochs": epochs}, "pattern": pattern})
    result = drive(run_experiment(exp))
    return json.loads(json.dumps(result.to_document(), allow_nan=False))


@pytest.fixture(scope="module")
def baseline_doc() -> dict:
    return _document({"name": REFERENCE})


@pytest.fixture(scope="module")
def local_dp_doc() -> dict:
    # Local DP at epsilon 1 on breast cancer: the model answers "benign" for every row.
    return _document({"name": "dp", "mechanism": "local", "epsilon": 1.0}, epochs=10)


def test_the_document_gains_an_evaluation_section_and_keeps_every_other_key(baseline_doc):
    for key in ("status", "experiment", "dataset", "history", "final", "baseline", "privacy",
                "protection", "overhead", "warnings", "extra", "fidelity", "environment"):
        assert key in baseline_doc
    ev = baseline_doc["evaluation"]
    assert ev["majority_class"] == "benign"
    assert ev["confusion_matrix"]["classes"] == baseline_doc["dataset"]["classes"]
    assert ev["accuracy"] == pytest.approx(baseline_doc["final"]["test_accuracy"])
    assert ev["no_better_than_guessing"] is False and ev["roc_auc"] > 0.9
    assert ev["guessing_test"]["rule"] == GUESSING_RULE
    assert ev["like_for_like"]["ratio"] == pytest.approx(1.0)


def test_local_dp_at_epsilon_one_is_no_better_than_guessing(local_dp_doc):
    ev = local_dp_doc["evaluation"]
    assert ev["no_better_than_guessing"] is True
    headline = Headline.from_document(local_dp_doc, is_reference=False)
    line = headline.one_line()
    assert "NO BETTER THAN GUESSING" in line
    assert "strong privacy (ε = 1), but the model learned nothing useful" in line
    assert "single run" in line and "vs always guessing the commonest class 62.8%" in line


def test_a_dp_sgd_run_counts_calibration_and_accounting_apart():
    doc = _document({"name": "dp", "epsilon": 1.0}, epochs=2)
    cost = doc["evaluation"]["like_for_like"]
    assert cost["measured_as"] == "train_seconds"
    assert cost["training_seconds"] == pytest.approx(doc["overhead"]["train_seconds"])
    assert {i["kind"] for i in cost["one_off"]} == {"calibration_seconds", "accounting_seconds"}
    assert cost["ratio"] == pytest.approx(
        doc["overhead"]["train_seconds"] / doc["baseline"]["seconds"]
    )
    words = Headline.from_document(doc, is_reference=False).cost_words()
    assert "outside training (" in words and "noise calibration" in words


def test_a_spread_over_seeds_replaces_single_run(local_dp_doc):
    spread = Spread(n_runs=5, sd=0.01)
    words = Headline.from_document(local_dp_doc, is_reference=False, spread=spread).noise_words()
    assert words.startswith("±1.0 points over 5 seeds")
    assert "larger than run-to-run noise" in words  # 62.8% against about 95%


def test_the_cli_summary_prints_the_headline_in_one_line(baseline_doc, capsys):
    cli._print_summary(baseline_doc)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("headline:")]
    assert len(lines) == 1
    assert "% test accuracy" in lines[0] and "single run" in lines[0]
    assert "no privacy protection" in lines[0]
