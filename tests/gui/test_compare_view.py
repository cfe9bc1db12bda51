"""The comparison view: the table and the bar charts of a tiny comparison, in the window too."""

from __future__ import annotations

import math

import pytest
from window_driving import load

from ppml_lab.engines import registry
from ppml_lab.engines.registry import REFERENCE
from ppml_lab.experiments import jobs
from ppml_lab.experiments.compare import run_comparison
from ppml_lab.experiments.config import DatasetConfig, Experiment
from ppml_lab.experiments.runner import drive
from ppml_lab.models import ModelParams
from ppml_lab.ui.qt_compare_view import COLUMNS, CompareViewWidget
from ppml_lab.ui.qt_worker import live_threads


@pytest.fixture(scope="module")
def tiny_comparison():
    """A tiny comparison of the baseline and two patterns (no process-based one: fast)."""
    names = [n for n in registry.engine_names() if registry.get_engine(n).sweepable][:2]
    experiment = Experiment(name="tiny", dataset=DatasetConfig(source="builtin:breast_cancer"),
                            model=ModelParams(epochs=2))
    return drive(run_comparison(experiment, tiny=True, patterns=names))


def test_the_table_and_bars_show_every_row(qtbot, tiny_comparison) -> None:
    view = CompareViewWidget()
    qtbot.addWidget(view)
    view.start(title="tiny", patterns=[r.pattern for r in tiny_comparison.rows])
    view.add_rows(tiny_comparison.rows[:1])  # rows arrive one by one
    assert view.table.rowCount() == 1
    assert view.table.item(0, 2).text() == "reference"
    view.set_result(tiny_comparison)
    rows = tiny_comparison.rows
    assert view.table.rowCount() == len(rows) == 3
    assert view.table.columnCount() == len(COLUMNS)
    for i, row in enumerate(rows):
        assert view.table.item(i, 0).text() == row.label
        assert view.table.item(i, 1).text() == f"{100 * row.test_accuracy:.1f}%"
        assert view.table.item(i, 6).text() == row.who_sees and row.who_sees
    assert "pts" in view.table.item(1, 2).text()
    assert "ε =" in view.table.item(1, 3).text()  # a private pattern's guarantee in numbers
    bars = view.accuracy_chart.bars
    assert bars is not None and len(bars.opts["height"]) == 3
    assert view.accuracy_chart.values == [r.test_accuracy for r in rows]
    assert view.time_chart.values[0] == pytest.approx(1.0)  # the baseline is 1x plaintext
    # The majority-class line on the accuracy chart.
    majority = tiny_comparison.dataset["majority_class_rate"]
    assert [line.value() for line in view.accuracy_chart.lines] == [pytest.approx(majority)]
    assert "Done" in view.header.text()


def test_unavailable_and_failed_rows_say_why_across_the_row(qtbot, tiny_comparison) -> None:
    from dataclasses import replace

    rows = list(tiny_comparison.rows)
    rows[2] = replace(rows[2], status="unavailable", reason="needs somelib (pip install somelib)",
                      test_accuracy=None)
    view = CompareViewWidget()
    qtbot.addWidget(view)
    view.start(title="tiny", patterns=[r.pattern for r in rows])
    view.add_rows(rows)
    assert view.table.columnSpan(2, 1) == len(COLUMNS) - 1
    assert "not available here: needs somelib" in view.table.item(2, 1).text()
    assert len(view.accuracy_chart.values) == 2  # no bar for a pattern that did not run


def test_log_scale_when_costs_span_orders_of_magnitude(qtbot) -> None:
    view = CompareViewWidget()
    qtbot.addWidget(view)
    chart = view.time_chart
    chart.set_bars(["a", "b", "c"], [1.0, 5.0, 900.0], ["#111", "#222", "#333"], fmt=str)
    assert chart.log
    assert chart.bars.opts["height"][2] == pytest.approx(math.log10(900.0) - chart.bars.opts["y0"])
    chart.set_bars(["a", "b"], [1.0, 3.0], ["#111", "#222"], fmt=str)
    assert not chart.log


def test_compare_all_patterns_from_the_window(window, qtbot, messages, monkeypatch) -> None:
    # Every registered pattern, tiny: the process-based ones too (they start and stop their
    # own processes); an unavailable one is listed with its reason.
    slow = [n for n in registry.engine_names() if n != REFERENCE][-1]
    monkeypatch.setattr(type(registry.get_engine(slow)), "available",
                        lambda self: "needs a library that is not installed")
    monkeypatch.setattr(jobs, "IN_CHILD", False)  # the patch above is in this process only
    assert not window.compare_action.isEnabled()  # no data yet: disabled, with the reason
    assert "Load a dataset" in window.compare_action.toolTip()
    load(window, qtbot, "builtin:breast_cancer")
    assert window.compare_action.isEnabled()
    with qtbot.waitSignal(window.study_finished, timeout=120_000):
        assert window.start_comparison(tiny=True)
        assert window.is_busy and not window.run_action.isEnabled()
        assert window.view_tabs.currentWidget() is window.compare_view
    view = window.compare_view
    assert view.table.rowCount() == len(registry.engine_names())
    row = view.result.row(slow)
    assert row.status == "unavailable" and "not installed" in row.reason
    assert all(r.completed for r in view.result.rows if r.pattern != slow), [
        (r.pattern, r.reason) for r in view.result.rows]
    assert window.state == "Comparison done"
    assert messages.texts == []
    assert live_threads() == []


def test_cancel_keeps_the_finished_rows(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:synthetic")
    window.pattern_panel.model_form.editor("epochs").setValue(200)
    with qtbot.waitSignal(window.study_finished, timeout=60_000):
        assert window.start_comparison()
        qtbot.waitUntil(lambda: len(window.compare_view.rows) >= 1, timeout=30_000)
        window.cancel_action.trigger()  # Esc
    result = window.compare_view.result
    assert result is not None and result.status == "cancelled"
    assert result.rows[0].completed  # the baseline finished before the cancel
    assert any(r.status == "cancelled" for r in result.rows)
    assert window.state.startswith("Comparison cancelled")
    assert live_threads() == []
