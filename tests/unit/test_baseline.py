"""The plaintext baseline engine and the experiment runner, driven synchronously."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ppml_lab.engines.base import Cancelled, CancelToken
from ppml_lab.engines.baseline import BaselineEngine, BaselineParams
from ppml_lab.engines.events import Metric, Overhead, Progress
from ppml_lab.engines.registry import engine_names, get_engine
from ppml_lab.experiments.config import Experiment, load_experiment
from ppml_lab.experiments.runner import drive, prepare_data, run_experiment
from ppml_lab.models import ModelParams

REPO = Path(__file__).resolve().parents[2]
ADULT = REPO.parent / "shared/datasets/adult.csv"
METRICS = {"train_loss", "train_accuracy", "test_loss", "test_accuracy"}


@pytest.fixture(scope="module")
def cancer():
    return prepare_data(Experiment())  # builtin:breast_cancer, seed 0


@pytest.fixture(scope="module")
def adult():
    if not ADULT.exists():
        pytest.skip(f"the Adult data set is not at {ADULT}")
    experiment = load_experiment(REPO / "ppml_lab/resources/experiments/adult_baseline.toml")
    assert Path(experiment.dataset.source) == ADULT.resolve()
    return experiment, prepare_data(experiment)


def run_engine(data, model: ModelParams, seed: int = 0, cancel: CancelToken | None = None):
    events: list = []
    result = drive(
        BaselineEngine().run(data, model, BaselineParams(), seed=seed, cancel=cancel or CancelToken()),
        events.append,
    )
    return result, events


def test_breast_cancer_accuracy(cancer):
    result, _ = run_engine(cancer, ModelParams())
    assert result.final["test_accuracy"] >= 0.95
    assert result.final["train_accuracy"] >= 0.95
    assert cancer.n_classes == 2 and cancer.n_train == 456


def test_breast_cancer_mlp_learns(cancer):
    result, _ = run_engine(cancer, ModelParams(kind="mlp", hidden=16, epochs=10))
    assert result.final["test_accuracy"] >= 0.93


def test_adult_accuracy_matches_scikit_learn(adult):
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    experiment, data = adult
    assert (experiment.model.kind, experiment.model.batch_size) == ("logistic", 256)
    assert (experiment.model.learning_rate, experiment.model.epochs, experiment.seed) == (0.5, 10, 0)
    assert data.n_train + len(data.y_test) == 30_162
    result = drive(run_experiment(experiment, data=data))
    ours = result.engine_result.final["test_accuracy"]
    # One BLAS thread: on a busy 2-core machine threaded L-BFGS is ~5x slower, not faster.
    with threadpool_limits(1):
        reference = LogisticRegression(max_iter=2000).fit(data.X_train, data.y_train)
    theirs = float(reference.score(data.X_test, data.y_test))
    assert ours >= 0.84
    assert abs(ours - theirs) <= 0.005, (ours, theirs)


def test_same_seed_same_result_bitwise(cancer):
    model = ModelParams(kind="mlp", hidden=8, epochs=3, batch_size=32)
    a, events_a = run_engine(cancer, model, seed=11)
    b, events_b = run_engine(cancer, model, seed=11)
    assert a.final == b.final
    for pa, pb in zip(a.model.params, b.model.params):
        np.testing.assert_array_equal(pa, pb)
    metrics = [e for e in events_a if isinstance(e, Metric)]
    assert metrics == [e for e in events_b if isinstance(e, Metric)]


def test_different_seed_different_result(cancer):
    model = ModelParams(epochs=2, batch_size=32)
    a, _ = run_engine(cancer, model, seed=1)
    b, _ = run_engine(cancer, model, seed=2)
    assert not np.array_equal(a.model.get_flat(), b.model.get_flat())
    assert a.final["train_loss"] != b.final["train_loss"]


def test_experiment_seed_controls_the_whole_run():
    exp = replace(Experiment(), model=ModelParams(epochs=2))
    a = drive(run_experiment(exp)).engine_result
    b = drive(run_experiment(exp)).engine_result
    c = drive(run_experiment(replace(exp, seed=5))).engine_result
    assert a.final == b.final
    np.testing.assert_array_equal(a.model.get_flat(), b.model.get_flat())
    assert not np.array_equal(a.model.get_flat(), c.model.get_flat())


def test_events_one_metric_per_name_per_epoch(cancer):
    epochs = 4
    result, events = run_engine(cancer, ModelParams(epochs=epochs))
    metrics = [e for e in events if isinstance(e, Metric)]
    counts = Counter((m.step, m.name) for m in metrics)
    assert set(counts) == {(s, n) for s in range(1, epochs + 1) for n in METRICS}
    assert set(counts.values()) == {1}
    progress = [e for e in events if isinstance(e, Progress)]
    assert [(p.step, p.total) for p in progress] == [(s, epochs) for s in range(1, epochs + 1)]
    seconds = [e.value for e in events if isinstance(e, Overhead) and e.kind == "seconds"]
    assert len(seconds) == epochs and seconds == sorted(seconds)
    last = {m.name: m.value for m in metrics if m.step == epochs}
    assert last == result.final
    assert result.overhead["seconds"] == seconds[-1]


def test_cancel_inside_the_engine_raises_cancelled(cancer):
    token = CancelToken()
    gen = BaselineEngine().run(cancer, ModelParams(epochs=5), BaselineParams(), seed=0, cancel=token)
    first = next(gen)
    assert isinstance(first, Metric) and first.step == 1
    token.cancel()
    with pytest.raises(Cancelled):
        for _ in gen:
            pass


def test_cancel_after_first_epoch_keeps_partial_history():
    token = CancelToken()
    exp = replace(Experiment(), model=ModelParams(epochs=8))
    seen: list = []

    def sink(event):
        seen.append(event)
        if isinstance(event, Progress) and event.step == 1:
            token.cancel()

    result = drive(run_experiment(exp, cancel=token), sink)
    assert result.status == "cancelled"
    assert result.engine_result is None
    rows = result.history.rows()
    assert [r["step"] for r in rows] == [1]
    assert METRICS <= set(rows[0])
    assert max(e.step for e in seen if isinstance(e, Metric)) == 1
    doc = result.to_document()
    assert doc["status"] == "cancelled" and len(doc["history"]) == 1
    json.dumps(doc, allow_nan=False)


def test_results_document_is_strict_json(cancer):
    exp = replace(Experiment(), model=ModelParams(epochs=3))
    result = drive(run_experiment(exp, data=cancer))
    doc = result.to_document()
    text = json.dumps(doc, allow_nan=False)
    back = json.loads(text)
    assert back["status"] == "completed"
    assert [row["step"] for row in back["history"]] == [1, 2, 3]
    assert back["final"]["test_accuracy"] == result.engine_result.final["test_accuracy"]
    assert back["baseline"]["test_accuracy"] == back["final"]["test_accuracy"]
    assert back["dataset"]["rows_train"] == 456 and back["dataset"]["rows_test"] == 113
    assert back["overhead"]["seconds"] > 0


def test_registry():
    assert isinstance(get_engine("baseline"), BaselineEngine)
    assert engine_names()[0] == "baseline"
    with pytest.raises(ValueError, match="unknown pattern 'no-such-engine'.*baseline"):
        get_engine("no-such-engine")


def test_unknown_pattern_in_an_experiment_raises_value_error(cancer):
    with pytest.raises(ValueError, match="unknown pattern 'no-such-engine'"):
        Experiment(pattern="no-such-engine")
    exp = Experiment(pattern="no-such-engine", params=BaselineParams())
    with pytest.raises(ValueError, match="unknown pattern 'no-such-engine'"):
        drive(run_experiment(exp, data=cancer))
