"""Live plots of a run: loss, accuracy, ε spent, data sent, rows per data owner, and a plot for
each further kind of metric the pattern reports.

Events are buffered (:meth:`RunPlotsWidget.add_events`) and drawn from a ~25 Hz timer
(:meth:`RunPlotsWidget.draw_if_due`): one ``setData`` per changed curve, one plot per call, within
the paint budget (:mod:`~ppml_lab.ui.qt_plot_paint`). Curves are made once and emptied for a new
run; plots other than loss and accuracy appear when the run gives them data (or stay from the last
run of the same pattern), at most three a row. How they read: :mod:`~ppml_lab.ui.qt_plot_style`.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QWidget

from ppml_lab.engines.contract import COMMON_LABELS, Label
from ppml_lab.engines.events import REFERENCE_ACCURACY  # drawn as the dashed baseline at once
from ppml_lab.experiments.history import Point, RunState
from ppml_lab.ui.qt_partition_chart import PartitionChartWidget
from ppml_lab.ui.qt_plot_export import PlotExportButton
from ppml_lab.ui.qt_plot_paint import PaintPacer, Series, StagedRepaint, pack_in_rows, plots_per_row
from ppml_lab.ui.qt_plot_style import (
    MIN_ACCURACY_SPAN,
    MIN_RELATIVE_SPAN,
    AboveLegend,
    LineSample,
    PercentAxisItem,
    make_plot,
    metric_plot_names,
    percent_range,
    reference_line,
    route,
    set_title,
    steady_range,
    value_range,
    zero_based_range,
)

#: Largest share of the GUI thread's time that live plot drawing may take.
PAINT_BUDGET = 0.3
#: Work one draw may do before the rest waits: a new plot costs it all, a legend entry one unit.
BUILD_BUDGET = 3
#: A spare plot for further metrics is built this long after start-up and after each run.
SPARE_DELAY_MS = 1500
_METRIC_TIP = "Further per-step metrics the pattern reports, named by its labels"


__all__ = ["MIN_ACCURACY_SPAN", "MIN_RELATIVE_SPAN", "PAINT_BUDGET", "REFERENCE_ACCURACY",
           "RunPlotsWidget"]


def _common_label(kind: str) -> Label:
    return COMMON_LABELS.get(kind) or Label(kind.replace("_", " "))


def _legend(plot: pg.PlotWidget) -> AboveLegend:
    return plot.getPlotItem().legend


#: Order of the fixed optional plots in the grid (metric plots follow, in order of appearance).
_OPTIONAL = ("epsilon", "parties", "bytes")


class RunPlotsWidget(QWidget):
    """Loss and accuracy per step, plus epsilon spent, data sent, the split and further metrics."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._label: Callable[[str], Label] = _common_label
        self._step_name = "epoch"
        self.loss_plot = make_plot(
            "Loss", "cross-entropy", self,
            "Mean cross-entropy loss on the training and test rows after each step (lower is better)",
        )
        self.accuracy_plot = make_plot(
            "Accuracy", "accuracy", self,
            "Share of correctly classified rows after each step, training and test; the dashed "
            "line is the plaintext baseline (no privacy) trained on the same split. The axis "
            "spans at least 5 percentage points, so small changes are not magnified into cliffs.",
            left=PercentAxisItem("left"),
        )
        self.accuracy_plot.setLimits(yMin=-0.02, yMax=1.02)
        self.epsilon_plot = make_plot(
            "Privacy budget spent (ε)", "ε spent so far", self,
            "Cumulative epsilon spent after each step: the privacy loss grows with every pass "
            "over the data. Smaller is more private; the dashed line is the target you set.",
        )
        self.bytes_plot = make_plot(
            "Data sent (cumulative)", "data sent", self,
            "Bytes the data owners exchanged so far. With secure aggregation the masking "
            "overhead is drawn separately.",
        )
        self.bytes_plot.setLabel("left", "data sent", units="B")
        self.bytes_plot.getAxis("left").enableAutoSIPrefix(True)
        self.partition_chart = PartitionChartWidget(self)
        self.baseline_line = reference_line(self.accuracy_plot, "#555555")
        self.epsilon_target_line = reference_line(self.epsilon_plot, "#b3261e")
        self._plots: dict[str, pg.PlotWidget] = {
            "loss": self.loss_plot, "accuracy": self.accuracy_plot, "epsilon": self.epsilon_plot,
            "bytes": self.bytes_plot,
        }
        self._metric_keys: list[str] = []  # plots of further metrics, in order of appearance
        self._pacer = PaintPacer(PAINT_BUDGET)
        self._staged = StagedRepaint(self)  # changes to every plot: repainted one per frame
        self._spare: pg.PlotWidget | None = None  # a metric plot built ahead (see _make_spare)
        self._running = False  # between reset() and settle_layout(): no spare built then
        QTimer.singleShot(SPARE_DELAY_MS, self, self._make_spare)
        for key, plot in self._plots.items():
            self._pacer.watch(key, plot)
        self._held: list[Point] = []  # points for a plot not built yet (one is built per draw)
        # Their room below 0 is in pixels: fitted again when their size changes.
        self.epsilon_plot.getViewBox().sigResized.connect(self._on_zero_based_plot_resized)
        self.bytes_plot.getViewBox().sigResized.connect(self._on_zero_based_plot_resized)

        self._series: dict[str, Series] = {}
        self._planned: int | None = None
        self._smooth = True
        self._partition_shown = False
        self._layout: str | None = None
        self._layouts: dict[str, list[str]] = {}  # layout name -> optional plots it showed
        self._layout_curves: dict[str, set[str]] = {}  # layout name -> curves it drew
        self._expected: set[str] = set()
        layout = QGridLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(6)
        self._grid = layout
        for col in range(6):
            layout.setColumnStretch(col, 1)
        self._placed: list[QWidget] = []
        self._per_row = 3  # plots side by side (fewer when narrow: resizeEvent)
        self._apply_visibility()

    # -- data --------------------------------------------------------------------------------

    def reset(self, planned_steps: int | None = None, *, layout: str | None = None) -> None:
        """Empty every curve (they stay in their plots) and hide the optional plots.

        With ``planned_steps`` the step axes span the whole run from the start, so the curves
        grow into an axis that does not jump; without, they follow the data. With ``layout``
        (the pattern's name), the optional plots that the last run of that name showed stay in
        place, empty, until :meth:`settle_layout`: rearranging resizes and repaints every plot,
        twice per run when a run hides what the next one shows again.
        """
        self._pacer.reset()
        self._running = True
        self._staged.hold(self._placed)
        self._held.clear()
        self._planned = planned_steps if planned_steps and planned_steps > 0 else None
        # The legends keep the curves this layout's last run drew: a legend that changes size
        # moves every plot of its row, and that repaints them all in one frame.
        keep = self._layout_curves.get(layout, set()) if layout else set()
        for name, series in self._series.items():
            series.xs.clear()
            series.ys.clear()
            series.curve.setData([], [])
            series.dirty = False
            if not series.symbols:
                series.curve.setSymbol("o")
                series.symbols = True
            if name not in keep:  # an earlier run's curve: out of the legend until it has data
                _legend(self._plots[series.plot_key]).removeItem(series.curve)
        self.set_baseline_accuracy(None)
        self.set_epsilon_target(None)
        for key, plot in self._plots.items():
            # Not the previous run's ranges while this one has no data yet.
            if self._planned is not None:
                plot.setXRange(0.5, self._planned + 0.5, padding=0)
            plot.setYRange(0, 1, padding=0.02 if key != "accuracy" else 0)
        self._partition_shown = False
        self._layout = layout
        self._expected = set(self._layouts.get(layout, ())) if layout else set()
        if "parties" in self._expected:
            self.partition_chart.set_payload(None)  # not the last run's split
        self._apply_visibility()

    def hold_repaints(self) -> None:
        """The window is about to change around the plots: they repaint one per frame after."""
        self._staged.hold(self._placed)

    def settle_layout(self) -> None:
        """The run has ended: remember its plots for its ``layout``; hide those it left empty."""
        self._expected, self._running = set(), False
        if self._layout:
            self._layouts[self._layout] = self._shown_keys()
            self._layout_curves[self._layout] = {n for n, s in self._series.items() if s.xs}
        for series in (s for s in self._series.values() if not s.xs):  # kept, but drew nothing
            _legend(self._plots[series.plot_key]).removeItem(series.curve)
        self._apply_visibility()
        QTimer.singleShot(SPARE_DELAY_MS, self, self._make_spare)

    def set_labels(self, label_for: Callable[[str], Label]) -> None:
        """How the coming run's engine names its metrics and costs (its ``label_for``)."""
        self._label = label_for

    def set_step_label(self, text: str) -> None:
        """What one step is ("epoch", "round"): the x-axis label of the time plots."""
        self._step_name = text
        for plot in self._plots.values():
            plot.setLabel("bottom", text)
        for key in self._metric_keys:
            self._name_metric_plot(key)

    def set_epsilon_target(self, value: float | None) -> None:
        """Draw the target epsilon of the run as a dashed line on the budget plot (None hides it)."""
        self._set_reference("epsilon", self.epsilon_target_line, value, "target ε = {:g}")

    def _set_reference(self, key: str, line: pg.InfiniteLine, value: float | None, text: str) -> None:
        legend = _legend(self._plots[key])
        legend.removeItem(line)
        if value is None or not np.isfinite(value):
            line.setVisible(False)
            return
        line.setVisible(True)
        line.setValue(float(value))
        legend.addItem(LineSample(line), text.format(value))
        self._fit(key)

    def add_points(self, points: Iterable[Point], *, build_all: bool = False) -> None:
        """Buffer new values from the run's state (cheap; nothing is drawn until :meth:`refresh`).

        Metrics and the budget are drawn; costs only on the data-sent plot; the reference's
        accuracy (:data:`REFERENCE_ACCURACY`) is the baseline line. Work per call is bounded
        (:data:`BUILD_BUDGET`); points past it wait for the next (:meth:`draw_if_due`) unless
        ``build_all`` (:meth:`draw_now`).
        """
        queue, self._held = [*self._held, *points], []
        spent = 0
        for i, point in enumerate(queue):
            if point.source == "overhead" and self._label(point.name).plot != "bytes":
                continue
            if point.name == REFERENCE_ACCURACY and point.source != "overhead":
                self.set_baseline_accuracy(point.value)
                continue
            name = f"bytes:{point.name}" if point.source == "overhead" else point.name
            cost = BUILD_BUDGET if self._needs_new_plot(name) else int(self._new_entry(name))
            if cost and not build_all:
                if spent and spent + cost > BUILD_BUDGET:
                    self._held = queue[i:]
                    break
                spent += cost
            self._append(name, point.step, point.value)
        if not self._held:  # rearranged once every new plot is built (a no-op if none is)
            self._apply_visibility()

    def add_events(self, events: Iterable[object]) -> None:
        """Buffer events (reduced by a throw-away :class:`RunState`): for tests and tools."""
        self.add_points(RunState().apply_all(events).points)

    def draw_if_due(self) -> bool:
        """Draw the changed curves of one plot unless the paint budget says to wait; True if it
        drew.

        Repainting plots costs GUI-thread time, and GUI-thread time is interpreter time taken
        from the engine. One plot per call (the one waiting longest), so one event never holds
        the repaints of every plot; the cost of each draw is measured, and the next one waits so
        drawing uses at most :data:`PAINT_BUDGET` of the time: on a fast machine that is every
        timer tick (25 Hz), on a slow or busy one fewer frames and an unslowed engine.
        """
        if self._held:
            self.add_points([])  # build the next plot that is waiting
        key = self._pacer.due()
        if key is None:
            return False
        t0 = time.perf_counter()
        self._refresh_plots([key])
        self._pacer.drawn([key], time.perf_counter() - t0)
        return True

    def draw_now(self) -> None:
        """Push every point to the plots now (they repaint at Qt's next frame)."""
        if self._held:
            self.add_points([], build_all=True)
        keys = self._pacer.dirty
        if not keys:
            return
        if len(keys) > 1:
            self._staged.hold([self._plots[key] for key in keys])
        t0 = time.perf_counter()
        self._refresh_plots(keys)
        self._pacer.drawn(keys, time.perf_counter() - t0)

    def refresh(self) -> None:
        """Update what changed since the last call: one ``setData`` per dirty curve."""
        self._refresh_plots(self._pacer.dirty)
        self._pacer.reset()

    def _refresh_plots(self, keys: list[str]) -> None:
        for key in keys:
            for series in self._series.values():
                if series.dirty and series.plot_key == key:
                    series.push()
            self._fit(key)

    def fit_finished_steps(self) -> None:
        """Fit the step axes to the steps that finished (after a cancel), not the planned ones."""
        self.refresh()
        last = max((max(s.xs) for s in self._series.values() if s.xs), default=None)
        if last is None:
            return
        self._planned = max(int(np.ceil(last)), 1)
        for key in self._plots:
            self._fit(key)

    def set_smooth(self, smooth: bool) -> None:
        """Antialias the curves (after a run) or not (during a run, where speed matters)."""
        self._smooth = smooth
        self._staged.hold(self._placed)
        for series in self._series.values():
            if series.curve.opts.get("antialias") != smooth:
                series.curve.opts["antialias"] = smooth
                series.curve.updateItems(styleUpdate=True)

    def show_partition(self, payload: Any) -> None:
        """Artifact hook for ``rows_per_party``: draw rows per owner stacked by class."""
        self.partition_chart.set_payload(payload)
        self._partition_shown = True
        self._apply_visibility()

    def set_baseline_accuracy(self, value: float | None) -> None:
        """Draw the plaintext test accuracy as a dashed reference line (None hides it)."""
        self._set_reference("accuracy", self.baseline_line, value, "plaintext baseline {:.1%}")

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The points drawn for ``name`` (e.g. ``"test_accuracy"``, ``"epsilon"``,
        ``"bytes:bytes_sent"``).
        """
        series = self._series.get(name)
        if series is None:
            return np.zeros(0), np.zeros(0)
        xs, ys = series.curve.getData()
        if xs is None:
            return np.zeros(0), np.zeros(0)
        return np.asarray(xs), np.asarray(ys)

    def point_count(self, name: str) -> int:
        """How many points the curve ``name`` shows."""
        return len(self.series(name)[0])

    def plot_of(self, name: str) -> pg.PlotWidget | None:
        """The plot the curve ``name`` is drawn on (None before it has appeared)."""
        series = self._series.get(name)
        return self._plots[series.plot_key] if series is not None else None

    def shown_plots(self) -> list[QWidget]:
        """The plots on screen, in grid order."""
        return list(self._placed)

    def export_buttons(self) -> list[PlotExportButton]:
        """The save/copy buttons of the plots on screen, in grid order."""
        return [w.export_button for w in self._placed if hasattr(w, "export_button")]

    # -- internals ---------------------------------------------------------------------------

    @Slot()
    def _on_zero_based_plot_resized(self) -> None:
        if not self.epsilon_plot.isHidden():
            self._fit("epsilon")
        if not self.bytes_plot.isHidden():
            self._fit("bytes")

    def _append(self, name: str, step: float, value: float) -> None:
        series = self._series_for(name)
        first = not series.xs
        series.xs.append(float(step))
        series.ys.append(float(value))
        series.dirty = True
        self._pacer.mark(series.plot_key)
        if first:
            legend = _legend(self._plots[series.plot_key])
            if legend.getLabel(series.curve) is None:
                legend.addItem(series.curve, series.label)
            if series.plot_key in self._metric_keys:
                self._name_metric_plot(series.plot_key)

    def _route(self, name: str) -> tuple[str, str, str, str]:
        """Where ``name`` is drawn: (plot key, colour, legend entry, name in words)."""
        return route(name, self._label, self._count_in)

    def _new_entry(self, name: str) -> bool:
        """``name``'s first point will add an entry to a legend."""
        series = self._series.get(name)
        legend = _legend(self._plots[series.plot_key]) if series is not None else None
        return legend is None or (not series.xs and legend.getLabel(series.curve) is None)

    def _needs_new_plot(self, name: str) -> bool:
        series = self._series.get(name)
        return not (series is not None and series.xs) and self._route(name)[0] not in self._plots

    def _series_for(self, name: str) -> Series:
        series = self._series.get(name)
        if series is not None and series.xs:
            return series
        key, color, label, text = self._route(name)
        if series is not None and series.plot_key == key:
            series.label, series.text = label, text
            return series
        if series is not None:
            # This run's engine names it differently: drawn where its label now puts it.
            _legend(self._plots[series.plot_key]).removeItem(series.curve)
            self._plots[series.plot_key].removeItem(series.curve)
        plot = self._plots.get(key) or self._add_metric_plot(key)
        curve = plot.plot(
            [], [], pen=pg.mkPen(color, width=2),
            symbol="o", symbolSize=5, symbolBrush=color, symbolPen=None,
            antialias=self._smooth,
        )
        series = Series(curve, key, label, text)
        self._series[name] = series
        return series

    def _make_spare(self) -> None:
        """While idle: build a metric plot ahead (40-100 ms), paint the hidden plots once."""
        if self._spare is None and not self._running:
            self._spare = make_plot("", "", self, _METRIC_TIP)
            self._spare.setVisible(False)
            StagedRepaint.warm_up([self.epsilon_plot, self.bytes_plot, self._spare])

    def _add_metric_plot(self, key: str) -> pg.PlotWidget:
        plot, self._spare = self._spare or make_plot("", "", self, _METRIC_TIP), None
        plot.setLabel("left", key.split(":", 2)[1])
        plot.setLabel("bottom", self._step_name)
        self._plots[key] = plot
        self._pacer.watch(key, plot)
        self._metric_keys.append(key)
        plot.setVisible(False)
        return plot

    def _name_metric_plot(self, key: str) -> None:
        """Title, axis and legend of a metric plot from the labels of the metrics it shows."""
        members = [s for s in self._series.values() if s.plot_key == key and s.xs]
        if not members:
            return
        plot = self._plots[key]
        unit = key.split(":", 2)[1]
        title, common, entries = metric_plot_names([s.text for s in members], self._step_name)
        set_title(plot.getPlotItem(), html.escape(title))
        plot.setLabel("left", unit or common)
        plot.setToolTip(
            f"{html.escape(title)}: further metrics the pattern reports after each "
            f"{html.escape(self._step_name)}"
        )
        legend = _legend(plot)
        for series, short in zip(members, entries, strict=True):
            entry = short if series.label == series.text else series.label  # plot_text wins
            label = legend.getLabel(series.curve)
            if label is not None and label.text != entry:
                label.setText(entry)
        legend.updateSize()

    def _count_in(self, key: str) -> int:
        return sum(1 for s in self._series.values() if s.plot_key == key)

    def _fit(self, key: str) -> None:
        """Set a plot's ranges: the steps (planned or done) and the values (kept if they fit)."""
        plot = self._plots[key]
        members = [s for s in self._series.values() if s.plot_key == key and s.xs]
        xs = np.concatenate([np.asarray(s.xs) for s in members]) if members else np.zeros(0)
        ys = np.concatenate([np.asarray(s.ys) for s in members]) if members else np.zeros(0)
        ys = ys[np.isfinite(ys)]
        # Steps: from the first step (or 0 if something happened before it) to the last planned.
        if xs.size or self._planned is not None:
            lo = min(1.0, float(xs.min())) if xs.size else 1.0
            hi = max(float(self._planned or 0), float(xs.max()) if xs.size else 0.0)
            plot.setXRange(lo - 0.5, max(hi, lo) + 0.5, padding=0)
        want = None  # the value range, by the rules in qt_plot_style
        if key == "accuracy":
            if self.baseline_line.isVisible():
                ys = np.append(ys, self.baseline_line.value())
            want = percent_range(float(ys.min()), float(ys.max())) if ys.size else None
        elif key in ("epsilon", "bytes"):
            if key == "epsilon" and self.epsilon_target_line.isVisible():
                ys = np.append(ys, self.epsilon_target_line.value())
            top = float(ys.max()) if ys.size else 0.0
            want = zero_based_range(top, plot.getViewBox().height()) if top > 0 else None
        elif ys.size:
            want = value_range(float(ys.min()), float(ys.max()))
        grows = key in ("epsilon", "bytes")
        if want and (new := steady_range(plot.getViewBox().viewRange()[1], want, grows=grows)):
            plot.setYRange(*new, padding=0)  # else the axis stays, and so does its drawing

    def _shown_keys(self) -> list[str]:
        with_data = {s.plot_key for s in self._series.values() if s.xs}
        keys = []
        for key in (*_OPTIONAL, *self._metric_keys):
            if (key == "parties" and self._partition_shown) or key in with_data or (
                key in self._expected and (key == "parties" or key in self._plots)
            ):
                keys.append(key)
        return keys

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (fewer plots a row if narrow)
        super().resizeEvent(event)
        per_row = plots_per_row(event.size().width())
        if per_row != self._per_row:
            self._per_row = per_row
            self._placed = []  # pack again
            self._apply_visibility()

    def _apply_visibility(self) -> None:
        """Pack the plots that have something to show into rows of at most three."""
        widgets: dict[str, QWidget] = {
            "epsilon": self.epsilon_plot, "parties": self.partition_chart,
            "bytes": self.bytes_plot, **{k: self._plots[k] for k in self._metric_keys},
        }
        keys = self._shown_keys()
        shown: list[QWidget] = [self.loss_plot, self.accuracy_plot] + [widgets[k] for k in keys]
        hidden = [w for k, w in widgets.items() if k not in keys]
        placed = pack_in_rows(self._grid, shown, hidden, self._placed, self._per_row)
        if placed is not self._placed:  # moved: every plot repaints
            self._staged.hold(placed)
        self._placed = placed
