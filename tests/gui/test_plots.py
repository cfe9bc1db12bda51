"""The plots read honestly and can be taken away.

Legends never lie over data, accuracy is in percent on an axis at least 5 points high, the budget
and data-sent axes start at 0, log axes print readable labels, a cancelled run's axes fit the
steps that finished, the plaintext reference is drawn as soon as it is known, further metrics get
plots named from their labels, and every plot can be saved as PNG or SVG or copied from a
visible button.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QFileDialog
from window_driving import load

from ppml_lab.engines.contract import COMMON_LABELS, Label
from ppml_lab.engines.events import BudgetSpent, Metric, Overhead
from ppml_lab.ui.qt_plot_export import export_plot
from ppml_lab.ui.qt_plots import MIN_ACCURACY_SPAN, REFERENCE_ACCURACY, RunPlotsWidget

LABELS = {
    **COMMON_LABELS,
    "clients_selected": Label("clients selected", plot="other"),
    "clients_dropped": Label("clients dropped out", plot="other"),
    "client_drift": Label("drift of the clients", plot="other"),
    "masked_bytes": Label("masked bytes", "B", plot="other"),
    "plaintext_test_accuracy": Label("plaintext test accuracy"),
}


def _label_for(kind: str) -> Label:
    return LABELS.get(kind) or Label(kind.replace("_", " "))


@pytest.fixture
def plots(qtbot) -> RunPlotsWidget:  # noqa: ANN001
    widget = RunPlotsWidget()
    qtbot.addWidget(widget)
    widget.set_labels(_label_for)
    widget.set_step_label("round")
    widget.resize(1100, 620)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _settle(qtbot) -> None:  # noqa: ANN001
    QApplication.processEvents()
    qtbot.wait(20)
    QApplication.processEvents()


def _busy_run(steps: int) -> list[object]:
    """Every kind of curve, rising to the top-right corner, plus a lone final point."""
    events: list[object] = []
    for s in range(1, steps + 1):
        events += [
            Metric(s, "train_loss", 0.7 / s), Metric(s, "test_loss", 0.75 / s),
            Metric(s, "train_accuracy", 0.90 + 0.01 * s), Metric(s, "test_accuracy", 0.89 + 0.01 * s),
            BudgetSpent(s, 0.25 * s, 1e-5),
            Overhead(s, "bytes_sent", 1e4 * s, "B"),
            Metric(s, "clients_selected", 8), Metric(s, "clients_dropped", s % 3),
        ]
    events.append(Metric(steps, "plaintext_test_accuracy", 0.99))  # only at the end
    return events


def _fill(plots: RunPlotsWidget, steps: int = 8) -> None:
    """A busy run's curves and its rows-per-client chart."""
    plots.add_events(_busy_run(steps))
    plots.show_partition({
        "party": "client", "class_names": ["benign", "malignant"],
        "parties": [{"rows": 40 + 10 * i, "class_counts": [30, 10 + 10 * i]} for i in range(6)],
    })
    plots.draw_now()


def _plot_items(plots: RunPlotsWidget) -> list[pg.PlotItem]:
    items = []
    for widget in plots.shown_plots():
        plot = widget if isinstance(widget, pg.PlotWidget) else widget.plot
        items.append(plot.getPlotItem())
    return items


def test_no_legend_lies_over_the_data(plots, qtbot) -> None:  # noqa: ANN001
    plots.reset(planned_steps=8)
    plots.set_epsilon_target(2.0)
    plots.set_baseline_accuracy(0.985)
    _fill(plots)
    for width in (1100, 620):  # three plots a row at 1280 px, and a cramped window
        plots.resize(width, 620)
        _settle(qtbot)
        items = _plot_items(plots)
        assert len(items) == 6
        for item in items:
            legend, view = item.legend, item.vb
            assert legend is not None and legend.items, item.titleLabel.text
            legend_rect = legend.sceneBoundingRect()
            data_rect = view.sceneBoundingRect()
            assert not legend_rect.intersects(data_rect), item.titleLabel.text
            assert legend_rect.top() >= item.titleLabel.sceneBoundingRect().top()
            for curve in item.listDataItems():
                xs, ys = curve.getData()
                for x, y in zip(xs if xs is not None else [], ys if ys is not None else [],
                                strict=True):
                    point = view.mapViewToScene(QPointF(x, y))
                    assert data_rect.contains(point), (item.titleLabel.text, x, y)
                    assert not legend_rect.contains(point)
        # Reference lines are named in the legend, not by text drawn on the data.
        assert getattr(plots.baseline_line, "label", None) is None
        assert getattr(plots.epsilon_target_line, "label", None) is None
        accuracy = plots.accuracy_plot.getPlotItem().legend.entry_texts()
        assert accuracy[-1] == "plaintext baseline 98.5%"
        assert "target ε = 2" in plots.epsilon_plot.getPlotItem().legend.entry_texts()


def test_accuracy_is_in_percent_with_a_minimum_span(plots, qtbot) -> None:  # noqa: ANN001
    axis = plots.accuracy_plot.getAxis("left")
    assert axis.tickStrings([0.94, 0.95, 0.96], 1.0, 0.01) == ["94%", "95%", "96%"]
    assert axis.tickStrings([0.945, 0.95], 1.0, 0.005) == ["94.5%", "95.0%"]
    # A wiggle of half a point is not a cliff: the axis is at least 5 points high.
    plots.reset(planned_steps=4)
    wiggle = [0.950, 0.953, 0.948, 0.951]
    plots.add_events([Metric(s + 1, "test_accuracy", v) for s, v in enumerate(wiggle)])
    plots.draw_now()
    low, high = plots.accuracy_plot.getViewBox().viewRange()[1]
    assert high - low >= MIN_ACCURACY_SPAN
    assert low < min(wiggle) and max(wiggle) < high
    assert (max(wiggle) - min(wiggle)) / (high - low) < 0.15
    # A real change fills the axis (not squeezed into 0-100%).
    plots.reset(planned_steps=4)
    plots.add_events([Metric(s + 1, "test_accuracy", v) for s, v in enumerate([0.6, 0.8, 0.9, 0.95])])
    plots.draw_now()
    low, high = plots.accuracy_plot.getViewBox().viewRange()[1]
    assert 0.5 < low < 0.6 and 0.95 < high < 1.0
    # Near 100% the axis stops there (plus room for the markers).
    plots.reset(planned_steps=2)
    plots.add_events([Metric(1, "test_accuracy", 0.99), Metric(2, "test_accuracy", 1.0)])
    plots.draw_now()
    low, high = plots.accuracy_plot.getViewBox().viewRange()[1]
    assert high <= 1.0 + 0.01 and low <= 1.0 - MIN_ACCURACY_SPAN


def test_budget_and_data_sent_axes_start_at_zero(plots, qtbot) -> None:  # noqa: ANN001
    plots.reset(planned_steps=5)
    plots.set_epsilon_target(3.0)
    plots.add_events([BudgetSpent(s, 1.5 + 0.1 * s, 1e-5) for s in range(1, 6)]
                     + [Overhead(s, "bytes_sent", 5e5 + 1e3 * s, "B") for s in range(1, 6)])
    plots.draw_now()
    _settle(qtbot)  # the two plots appear and get their size
    low, high = plots.epsilon_plot.getViewBox().viewRange()[1]
    assert -0.06 * high <= low <= 0 and high >= 3.0  # from 0 to (at least) the target
    low, high = plots.bytes_plot.getViewBox().viewRange()[1]
    assert -0.06 * high <= low <= 0 and high >= 5.05e5
    # And the axes say so: their lowest label is 0.
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        for plot in (plots.epsilon_plot, plots.bytes_plot):
            _, _, texts = plot.getAxis("left").generateDrawSpecs(painter)
            assert any(float(text) == 0 for _, _, text in texts), [t for _, _, t in texts]
    finally:
        painter.end()


def test_log_axes_of_the_audit_print_readable_labels(qtbot) -> None:  # noqa: ANN001
    from ppml_lab.ui.qt_audit import AuditViewWidget

    view = AuditViewWidget()
    qtbot.addWidget(view)
    view.resize(900, 640)
    view.show()
    qtbot.waitExposed(view)
    fpr = np.linspace(0, 1, 60) ** 2
    roc = {"fpr": fpr.tolist(), "tpr": np.sqrt(fpr).tolist()}
    attack = {"auc": 0.6, "tpr_at_1pct_fpr": 0.02, "epsilon_lower_bound": 0.1, "roc": roc,
              "n_members": 113, "n_nonmembers": 113}
    view.set_audit({"attacks": {"loss": attack, "lira": dict(attack)},
                    "accountant_epsilon": 1.0, "delta": 1e-4, "records_per_side": 113})
    view.log_check.setChecked(True)
    _settle(qtbot)
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        for side in ("left", "bottom"):
            axis = view.plot.getAxis(side)
            _, _, texts = axis.generateDrawSpecs(painter)
            strings = [text for _, _, text in texts]
            # One number per label, and the decades are there.
            assert all(re.fullmatch(r"\d+(\.\d+)?%", s) for s in strings), strings
            assert {"1%", "10%", "100%"} <= set(strings), strings
            for (r1, _, s1), (r2, _, s2) in itertools.combinations(texts, 2):
                assert not r1.intersects(r2), (side, s1, s2)
    finally:
        painter.end()
    # At typical ranges only decades and 1-2-5 steps are labelled, never 3, 4, 6, 7, 8, 9.
    axis = view.plot.getAxis("bottom")
    for low, size in ((np.log10(1 / 113), 700), (np.log10(1 / 5000), 300), (-1.3, 500)):
        for _, values in axis.tickValues(low, 0.0, size):
            labels = axis.tickStrings(values, 1.0, 1.0)
            assert all(re.fullmatch(r"(0\.)?0*[125]0*%", s) for s in labels), labels


def test_axes_fit_the_finished_steps_after_a_cancel(plots, qtbot) -> None:  # noqa: ANN001
    plots.reset(planned_steps=1000)
    plots.add_events([Overhead(s, "bytes_sent", 1e3 * (s + 1), "B") for s in range(0, 23)]
                     + [Metric(s, "train_loss", 1 / s) for s in range(1, 23)])
    plots.draw_now()
    assert plots.bytes_plot.getViewBox().viewRange()[0][1] > 1000  # the plan while running
    plots.fit_finished_steps()
    for plot in (plots.bytes_plot, plots.loss_plot, plots.accuracy_plot):
        low, high = plot.getViewBox().viewRange()[0]
        assert -0.6 <= low <= 0.5 and 22 <= high <= 23, plot.getPlotItem().titleLabel.text


def test_a_cancelled_run_in_the_window_shows_its_finished_steps(window, qtbot, messages) -> None:  # noqa: ANN001
    load(window, qtbot, "builtin:synthetic")
    window.pattern_panel.model_form.set_values({"epochs": 300})
    with qtbot.waitSignal(window.run_finished, timeout=30_000) as finished:
        with qtbot.waitSignal(window.run_progressed, timeout=15_000):
            assert window.start_run()
        window.cancel_action.trigger()
    result = finished.args[0]
    assert result.status == "cancelled"
    done = max(result.history.steps())
    low, high = window.plots.loss_plot.getViewBox().viewRange()[0]
    assert done < 300 and high <= done + 0.5 + 1e-9
    assert messages.texts == []


def test_the_reference_line_is_drawn_once_the_reference_is_trained(plots, qtbot) -> None:  # noqa: ANN001
    plots.reset(planned_steps=10)
    plots.add_events([Metric(0, REFERENCE_ACCURACY, 0.962)])  # before any step of the pattern
    assert plots.baseline_line.isVisible() and plots.baseline_line.value() == pytest.approx(0.962)
    assert "plaintext baseline 96.2%" in plots.accuracy_plot.getPlotItem().legend.entry_texts()
    assert plots.point_count(REFERENCE_ACCURACY) == 0  # a line, not a curve
    low, high = plots.accuracy_plot.getViewBox().viewRange()[1]
    assert low < 0.962 < high and high - low < 0.1
    plots.reset(planned_steps=10)
    assert not plots.baseline_line.isVisible()
    assert plots.accuracy_plot.getPlotItem().legend.entry_texts() == []


def test_further_metrics_get_plots_named_from_their_labels(plots, qtbot) -> None:  # noqa: ANN001
    plots.reset(planned_steps=3)
    plots.add_events([
        event for s in range(1, 4) for event in (
            Metric(s, "clients_selected", 8), Metric(s, "clients_dropped", s % 2),
            Metric(s, "client_drift", 0.1 * s), Metric(s, "masked_bytes", 100.0 * s),
        )
    ])
    plots.draw_now()
    clients, drift = plots.plot_of("clients_selected"), plots.plot_of("client_drift")
    assert plots.plot_of("clients_dropped") is clients and drift is not clients
    assert plots.plot_of("masked_bytes") is plots.bytes_plot  # bytes go where bytes are drawn
    titles = [item.titleLabel.text for item in _plot_items(plots)]
    assert "Clients per round" in titles and "Drift of the clients" in titles
    assert not any("Other" in t for t in titles)
    assert clients.getPlotItem().legend.entry_texts() == ["selected", "dropped out"]
    assert clients.getAxis("left").labelText == "clients"
    assert drift.getPlotItem().legend.entry_texts() == ["drift of the clients"]
    # A new run without them hides their plots again.
    plots.reset(planned_steps=3)
    assert clients.isHidden() and drift.isHidden()


def test_every_plot_has_a_visible_export_button(plots, qtbot) -> None:  # noqa: ANN001
    plots.reset(planned_steps=8)
    _fill(plots)
    _settle(qtbot)
    buttons = plots.export_buttons()
    assert len(buttons) == len(plots.shown_plots()) == 6
    for button in buttons:
        assert button.isVisible() and button.toolTip()
        texts = [a.text() for a in button.menu().actions()]
        assert texts == ["Save as PNG…", "Save as SVG…", "Copy image"]


def test_export_writes_png_and_svg(plots, qtbot, monkeypatch, messages, tmp_path: Path) -> None:  # noqa: ANN001
    plots.reset(planned_steps=8)
    plots.set_baseline_accuracy(0.95)
    _fill(plots)
    _settle(qtbot)
    asked: list[str] = []

    def fake_dialog(parent, caption, suggested, filters):  # noqa: ANN001, ANN202
        asked.append(suggested)
        return str(tmp_path / "accuracy-plot"), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    button = plots.accuracy_plot.export_button
    button.save_png_action.trigger()
    button.save_svg_action.trigger()
    assert asked[0].endswith("accuracy.png") and asked[1].endswith("accuracy.svg")
    png, svg = tmp_path / "accuracy-plot.png", tmp_path / "accuracy-plot.svg"
    image = QImage(str(png))
    assert not image.isNull()
    assert image.width() >= plots.accuracy_plot.getPlotItem().sceneBoundingRect().width() - 1
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text and "plaintext baseline 95.0%" in text and "Accuracy" in text
    assert "<polyline" in text or "<path" in text  # curves as vectors, not a picture
    # Bars are exported with their outline unscaled (no scaling transform left on them).
    bars = export_plot(plots.partition_chart.plot.getPlotItem(), tmp_path / "rows.svg").read_text(
        encoding="utf-8")
    assert bars.count("<rect") >= 12 and "matrix(" not in bars.split("BarGraphItem", 1)[1][:400]
    # Cancelling the dialog writes nothing.
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: ("", "")))
    assert button.save("png") is None
    assert messages.texts == []


def test_copy_puts_the_plot_on_the_clipboard(plots, qtbot) -> None:  # noqa: ANN001
    plots.reset(planned_steps=8)
    _fill(plots)
    _settle(qtbot)
    clipboard = QApplication.clipboard()
    clipboard.clear()
    plots.partition_chart.export_button.copy_action.trigger()
    image = clipboard.image()
    assert not image.isNull() and image.width() > 200 and image.height() > 100


def test_a_narrow_view_puts_fewer_plots_in_a_row_so_none_is_cut(qtbot) -> None:  # noqa: ANN001
    plots = RunPlotsWidget()
    qtbot.addWidget(plots)
    plots.resize(1400, 700)
    plots.show()
    # loss, accuracy and ε: three plots
    plots.add_events([e for e in _busy_run(3) if isinstance(e, BudgetSpent) or (
        isinstance(e, Metric) and e.name.endswith(("_loss", "_accuracy")))])
    plots.draw_now()

    def rows() -> int:
        return len({w.geometry().top() for w in plots.shown_plots()})

    qtbot.waitUntil(lambda: len(plots.shown_plots()) >= 3 and rows() == 1)
    plots.resize(580, 700)  # the Training view of a 1024-pixel window
    qtbot.waitUntil(lambda: rows() == 2)
    for widget in plots.shown_plots():
        assert widget.geometry().right() <= plots.width()  # nothing sticks out of the view
    plots.resize(1400, 700)
    qtbot.waitUntil(lambda: rows() == 1)


def test_value_axes_stay_while_the_data_fits_them() -> None:
    from ppml_lab.ui.qt_plot_style import GROWTH_ROOM, LOOSE_AXIS, steady_range

    # Inside, and filling enough of it: the axis (and its drawing) stays.
    assert steady_range((0.90, 0.96), (0.905, 0.955)) is None
    # Data outside, or using too little of the axis: fitted anew, exactly.
    assert steady_range((0.90, 0.96), (0.89, 0.95)) == (0.89, 0.95)
    small = (0.92, 0.92 + 0.06 * LOOSE_AXIS * 0.9)
    assert steady_range((0.90, 0.96), small) == small
    # A cumulative axis that must grow gets room for the next values...
    assert steady_range((-0.1, 2.0), (-0.11, 2.2), grows=True) == (-0.11 * GROWTH_ROOM, 2.2 * GROWTH_ROOM)
    # ...keeps while the values fit...
    assert steady_range((-0.12, 2.4), (-0.11, 2.2), grows=True) is None
    # ...and is fitted anew when its room below 0 (in pixels) changed with the plot's height.
    assert steady_range((-0.3, 2.4), (-0.11, 2.2), grows=True) == (-0.11, 2.2)


def test_no_axis_invents_a_scale_factor(window, qtbot) -> None:  # noqa: ANN001
    """pyqtgraph's SI prefix wrote "(x0.001)" after the sweep's log ε label (its ticks are set
    by hand); only the data-sent axis, in bytes, scales (kB, MB)."""
    plots = [window.sweep_view.plot, window.sweep_view.audit_panel.plot, window.audit_view.plot,
             window.compare_view.accuracy_chart.plot, window.plots.loss_plot,
             window.plots.accuracy_plot, window.plots.epsilon_plot]
    for plot in plots:
        for name in ("left", "bottom"):
            assert not plot.getAxis(name).autoSIPrefix, (plot, name)
    assert window.plots.bytes_plot.getAxis("left").autoSIPrefix
    axis = window.sweep_view.plot.getAxis("bottom")
    window.sweep_view.plot.setXRange(-0.45, 0.45, padding=0)
    assert "x0.001" not in axis.labelString()
