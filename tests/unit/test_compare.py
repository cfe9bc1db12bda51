"""Compare all patterns: one split, every available pattern's preset, rows with reasons."""

from __future__ import annotations

import json

import pytest

from ppml_lab.engines import registry
from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.contract import EngineBase, compare_settings
from ppml_lab.engines.events import Progress
from ppml_lab.engines.registry import REFERENCE
from ppml_lab.experiments.compare import (
    CANCELLED,
    COMPLETED,
    REFUSED,
    UNAVAILABLE,
    ComparisonRow,
    run_comparison,
)
from ppml_lab.experiments.config import DatasetConfig, Experiment
from ppml_lab.experiments.runner import drive, prepare_data
from ppml_lab.models import ModelParams


def _experiment(epochs: int = 2, kind: str = "logistic") -> Experiment:
    return Experiment(name="tiny", dataset=DatasetConfig(source="builtin:breast_cancer"),
                      model=ModelParams(kind=kind, epochs=epochs))


@pytest.fixture(scope="module")
def tiny():
    events: list[object] = []
    result = drive(run_comparison(_experiment(), tiny=True), events.append)
    return result, events


def test_every_available_pattern_gets_a_row_the_baseline_first(tiny) -> None:
    result, events = tiny
    assert [r.pattern for r in result.rows] == registry.engine_names()
    assert result.rows[0].pattern == REFERENCE and result.rows[0].is_reference
    assert result.reference is result.rows[0]
    for row in result.rows:
        engine = registry.get_engine(row.pattern)
        if engine.available() is None:
            assert row.status == COMPLETED, (row.pattern, row.reason)
            assert 0.5 < row.test_accuracy <= 1.0
            assert row.who_sees and row.guarantee_text and row.level
        else:
            assert row.status == UNAVAILABLE and row.reason == engine.available()
    base = result.rows[0]
    assert base.change_points == 0.0 and base.time_ratio == pytest.approx(1.0)
    assert base.bytes_sent is None and base.guarantee_text == "none"
    # Rows stream as they finish, with progress in between.
    assert [e.pattern for e in events if isinstance(e, ComparisonRow)] == registry.engine_names()
    assert any(isinstance(e, Progress) for e in events)
    assert result.status == COMPLETED


def test_changes_and_ratios_are_against_the_plaintext_reference(tiny) -> None:
    result, _ = tiny
    for row in result.rows:
        if not row.completed or row.is_reference:
            continue
        assert row.change_points == pytest.approx(
            100 * (row.test_accuracy - row.reference_accuracy))
        assert row.time_ratio == pytest.approx(row.seconds / row.reference_seconds)
        if row.bytes_sent is not None:
            assert row.bytes_ratio == pytest.approx(row.bytes_sent / result.dataset["data_bytes"])
    # Same passes over the data: the plaintext reference of the presets is the baseline row.
    base = result.rows[0]
    same = [r for r in result.rows if r.completed and r.reference_epochs == 2]
    assert len(same) >= 2
    assert all(r.reference_accuracy == pytest.approx(base.test_accuracy) for r in same)


def test_private_rows_give_their_guarantee_in_numbers(tiny) -> None:
    result, _ = tiny
    sweepable = [r for r in result.rows if r.completed and registry.get_engine(r.pattern).sweepable]
    with_eps = [r for r in sweepable if r.epsilon is not None]
    assert with_eps, "a pattern's preset should have an (epsilon, delta) guarantee"
    for row in with_eps:
        assert "ε =" in row.guarantee_text and "δ =" in row.guarantee_text
        assert row.epsilon <= 1.0 + 1e-6  # the preset's target epsilon is 1


def test_the_document_is_strict_json(tiny) -> None:
    result, _ = tiny
    doc = result.to_document()
    text = json.dumps(doc, allow_nan=False)
    assert doc["kind"] == "pattern_comparison" and doc["design"]["tiny"] is True
    assert len(doc["rows"]) == len(result.rows)
    assert doc["dataset"]["rows_train"] + doc["dataset"]["rows_test"] == 569
    assert 0.5 < doc["dataset"]["majority_class_rate"] < 0.7
    assert "guarantee" in doc["rows"][1] and json.loads(text)["status"] == COMPLETED


def test_an_unavailable_pattern_is_listed_with_its_reason(monkeypatch) -> None:
    name = [n for n in registry.engine_names() if n != REFERENCE][0]
    engine = registry.get_engine(name)
    monkeypatch.setattr(type(engine), "available", lambda self: "needs libfoo (pip install foo)")
    result = drive(run_comparison(_experiment(), tiny=True, patterns=[name]))
    assert [r.pattern for r in result.rows] == [REFERENCE, name]
    row = result.row(name)
    assert row.status == UNAVAILABLE and row.reason == "needs libfoo (pip install foo)"
    assert row.test_accuracy is None and name not in result.runs


def test_a_refused_pattern_is_a_row_not_the_end(monkeypatch) -> None:
    names = [n for n in registry.engine_names() if n != REFERENCE][:2]
    engine = registry.get_engine(names[0])

    def refuse(self, data, model, params):  # noqa: ANN001, ANN202
        raise ValueError("too few rows for this setting")

    monkeypatch.setattr(type(engine), "validate", refuse)
    result = drive(run_comparison(_experiment(), tiny=True, patterns=names))
    assert result.row(names[0]).status == REFUSED
    assert "too few rows" in result.row(names[0]).reason
    assert result.row(names[1]).status in (COMPLETED, UNAVAILABLE)


def test_cancel_keeps_the_finished_rows() -> None:
    cancel = CancelToken()
    rows: list[ComparisonRow] = []

    def sink(event: object) -> None:
        if isinstance(event, ComparisonRow):
            rows.append(event)
            cancel.cancel()  # after the baseline's row

    result = drive(run_comparison(_experiment(), tiny=True, cancel=cancel), sink)
    assert result.status == CANCELLED
    assert result.rows[0].status == COMPLETED
    assert all(r.status == CANCELLED for r in result.rows[1:])


def test_the_data_is_prepared_once_and_can_be_given() -> None:
    experiment = _experiment()
    data = prepare_data(experiment)
    result = drive(run_comparison(experiment, data=data, tiny=True, patterns=[REFERENCE]))
    assert result.rows[0].test_accuracy == pytest.approx(
        result.runs[REFERENCE].engine_result.final["test_accuracy"])
    assert result.runs[REFERENCE].data is data


def test_compare_settings_accepts_overrides_without_arguments() -> None:
    class Plain(EngineBase):
        name, label = "plain", "Plain"
        Params = ModelParams

        def compare_preset(self):  # noqa: ANN201 - an override that takes neither argument
            return ModelParams(epochs=1)

    model, params = compare_settings(Plain(), ModelParams(epochs=5), tiny=True)
    assert model.epochs == 5 and params.epochs == 1
    default = EngineBase.compare_preset(Plain(), ModelParams())
    assert default == ModelParams()


def test_presets_use_the_models_passes_and_a_logistic_model_when_they_need_one() -> None:
    mlp = ModelParams(kind="mlp", epochs=7)
    for name in registry.engine_names():
        engine = registry.get_engine(name)
        model, params = compare_settings(engine, mlp)
        assert isinstance(params, engine.Params)
        plan = engine.plan(model, params)
        # Every preset makes as many passes over the data as the model's epochs (or one fit).
        assert plan.reference.epochs == model.epochs
