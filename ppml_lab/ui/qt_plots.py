"""Live plots of a run: loss, accuracy, epsilon spent, data sent, rows per data owner, other metrics.

Events are buffered by :meth:`RunPlotsWidget.add_events` and drawn by
:meth:`RunPlotsWidget.draw_if_due`, which the window calls from a ~25 Hz timer: one ``setData`` per
curve that changed, never one per event, and no more often than the paint budget allows. Curves
are created once (the first time a metric appears) and emptied, not removed, when a new run
starts. Plots other than loss and accuracy appear when the current run gives them data, and the
plots are packed in rows of two or three so that none gets too narrow or too flat.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QWidget

from ppml_lab.engines.contract import COMMON_LABELS, Label
from ppml_lab.experiments.history import Point, RunState
from ppml_lab.ui.qt_partition_chart import PartitionChartWidget
from ppml_lab.ui.qt_plot_style import (
    EPSILON_COLOR,
    LEGEND_BRUSH,
    PALETTE,
    TEST_COLOR,
    TRAIN_COLOR,
    IntegerAxisItem,
)

_MAX_POINTS_WITH_SYMBOLS = 60

#: Largest share of the GUI thread's time that live plot drawing may take.
PAINT_BUDGET = 0.3


def _common_label(kind: str) -> Label:
    return COMMON_LABELS.get(kind) or Label(kind.replace("_", " "))


def _make_plot(
    title: str, y_label: str, parent: QWidget, tooltip: str, *, legend: str = "top",
    integer_x: bool = True,
) -> pg.PlotWidget:
    """A plot with title, labels, grid and a legend in the corner the curves leave free.

    ``legend="top"`` for falling curves (loss), ``"bottom"`` for rising ones (accuracy, epsilon),
    ``"top-left"`` for curves rising from zero (cumulative counts).
    """
    axes = {"bottom": IntegerAxisItem("bottom")} if integer_x else {}
    plot = pg.PlotWidget(parent=parent, axisItems=axes)
    plot.setTitle(title, size="11pt")
    plot.setLabel("bottom", "epoch")
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMenuEnabled(True)
    plot.getAxis("left").enableAutoSIPrefix(False)
    plot.getAxis("bottom").enableAutoSIPrefix(False)
    offset = {"top": (-10, 10), "bottom": (-10, -10), "top-left": (10, 10)}[legend]
    plot.getPlotItem().addLegend(
        offset=offset, labelTextSize="9pt", brush=pg.mkBrush(*LEGEND_BRUSH)
    )
    plot.setToolTip(tooltip)
    plot.setMinimumHeight(170)
    # Room around the data, so a lone final point (a secure run reveals only its last step) is
    # not drawn half outside the frame.
    plot.getViewBox().setDefaultPadding(0.08)
    return plot


class _Series:
    """Buffered points of one curve, and which plot it belongs to."""

    __slots__ = ("xs", "ys", "dirty", "curve", "symbols", "plot_key", "label")

    def __init__(self, curve: pg.PlotDataItem, plot_key: str, label: str) -> None:
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.dirty = False
        self.curve = curve
        self.symbols = True
        self.plot_key = plot_key
        self.label = label


#: Order of the optional plots in the grid.
_OPTIONAL = ("epsilon", "parties", "bytes", "other")


class RunPlotsWidget(QWidget):
    """Loss and accuracy per step, plus epsilon spent, data sent, the split and other metrics."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._label: Callable[[str], Label] = _common_label
        self.loss_plot = _make_plot(
            "Loss", "cross-entropy", self,
            "Mean cross-entropy loss on the training and test rows after each step (lower is better)",
            legend="top",
        )
        self.accuracy_plot = _make_plot(
            "Accuracy", "accuracy", self,
            "Share of correctly classified rows after each step, training and test; the dashed "
            "line is the plaintext baseline (no privacy) trained on the same split",
            legend="bottom",
        )
        self.accuracy_plot.setLimits(yMin=-0.02, yMax=1.02)
        self.epsilon_plot = _make_plot(
            "Privacy budget spent (ε)", "ε spent so far", self,
            "Cumulative epsilon spent after each step: the privacy loss grows with every pass "
            "over the data. Smaller is more private; the dashed line is the target you set.",
            legend="bottom",
        )
        self.bytes_plot = _make_plot(
            "Data sent (cumulative)", "data sent", self,
            "Bytes the clients and the server exchanged so far (model updates up, the global "
            "model down). With secure aggregation the masking overhead is drawn separately.",
            legend="top-left",
        )
        self.bytes_plot.setLabel("left", "data sent", units="B")
        self.bytes_plot.getAxis("left").enableAutoSIPrefix(True)
        self.other_plot = _make_plot(
            "Other metrics", "value", self, "Further metrics the pattern reports"
        )
        self.partition_chart = PartitionChartWidget(self)
        self.baseline_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen("#555555", style=Qt.PenStyle.DashLine, width=1),
            label="plaintext baseline",
            # Left-aligned text near the left edge, on whichever side of the line has room.
            labelOpts={"position": 0.03, "color": "#555555", "anchors": [(0, 0), (0, 1)],
                       "fill": pg.mkBrush(*LEGEND_BRUSH)},
        )
        self.baseline_line.setVisible(False)
        self.baseline_line.setZValue(20)  # its label stays readable above the curves
        # Counted in the auto-range, so the reference is on screen even above every curve.
        self.accuracy_plot.addItem(self.baseline_line)
        self.epsilon_target_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen("#b3261e", style=Qt.PenStyle.DashLine, width=1),
            label="target ε",
            # Under the line at the left, where the spent curve (rising from the left) is not.
            labelOpts={"position": 0.03, "color": "#b3261e", "anchors": [(0, 0), (0, 0)],
                       "fill": pg.mkBrush(*LEGEND_BRUSH)},
        )
        self.epsilon_target_line.setVisible(False)
        self.epsilon_target_line.setZValue(20)
        self.epsilon_plot.addItem(self.epsilon_target_line)
        self._time_plots = {
            "loss": self.loss_plot, "accuracy": self.accuracy_plot, "epsilon": self.epsilon_plot,
            "bytes": self.bytes_plot, "other": self.other_plot,
        }

        self._series: dict[str, _Series] = {}
        self._planned: int | None = None
        self._smooth = True
        self._next_draw = 0.0
        self._partition_shown = False
        layout = QGridLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(6)
        self._grid = layout
        for col in range(6):
            layout.setColumnStretch(col, 1)
        self._placed: list[QWidget] = []
        self._apply_visibility()

    # -- data --------------------------------------------------------------------------------

    def reset(self, planned_steps: int | None = None) -> None:
        """Empty every curve (they stay in their plots) and hide the optional plots.

        With ``planned_steps`` the step axes span the whole run from the start, so the curves
        grow into an axis that does not jump; without, they follow the data.
        """
        self._next_draw = 0.0
        self._planned = planned_steps if planned_steps and planned_steps > 0 else None
        for plot in self._time_plots.values():
            # Not the previous run's ranges while this one has no data yet.
            if self._planned is not None:
                plot.setXRange(0.5, self._planned + 0.5, padding=0.02)
            plot.setYRange(0, 1, padding=0.02)
            plot.enableAutoRange(axis="y")
        for series in self._series.values():
            series.xs.clear()
            series.ys.clear()
            series.curve.setData([], [])
            series.dirty = False
            if not series.symbols:
                series.curve.setSymbol("o")
                series.symbols = True
            # A curve of an earlier run that this run may not have: out of the legend until then.
            legend = self._time_plots[series.plot_key].getPlotItem().legend
            if legend is not None:
                legend.removeItem(series.curve)
        self.baseline_line.setVisible(False)
        self.epsilon_target_line.setVisible(False)
        self._partition_shown = False
        self._apply_visibility()

    def set_labels(self, label_for: Callable[[str], Label]) -> None:
        """How the coming run's engine names its metrics and costs (its ``label_for``)."""
        self._label = label_for

    def set_step_label(self, text: str) -> None:
        """What one step is ("epoch", "round"): the x-axis label of the time plots."""
        for plot in self._time_plots.values():
            plot.setLabel("bottom", text)

    def set_epsilon_target(self, value: float | None) -> None:
        """Draw the target epsilon of the run as a dashed line on the budget plot (None hides it)."""
        if value is None or not np.isfinite(value):
            self.epsilon_target_line.setVisible(False)
            return
        self.epsilon_target_line.setVisible(True)
        self.epsilon_target_line.setValue(float(value))
        self.epsilon_target_line.label.setFormat(f"target ε = {value:g}")

    def add_points(self, points: Iterable[Point]) -> None:
        """Buffer new values from the run's state (cheap; nothing is drawn until :meth:`refresh`).

        Metrics and the budget are drawn; costs only when their label puts them on the data-sent
        plot.
        """
        shown_before = self._shown_keys()
        for point in points:
            if point.source == "overhead":
                if self._label(point.name).plot == "bytes":
                    self._append(f"bytes:{point.name}", point.step, point.value)
            else:
                self._append(point.name, point.step, point.value)
        if self._shown_keys() != shown_before:
            self._apply_visibility()

    def add_events(self, events: Iterable[object]) -> None:
        """Buffer events (reduced by a throw-away :class:`RunState`): for tests and tools."""
        self.add_points(RunState().apply_all(events).points)

    def draw_if_due(self) -> bool:
        """Draw changed curves unless the paint budget says to wait; True if it drew.

        Repainting plots costs GUI-thread time, and GUI-thread Python time is GIL time taken
        from the engine. The cost of each draw is measured, and the next one waits so drawing
        uses at most :data:`PAINT_BUDGET` of the time: on a fast machine that is every timer
        tick (25 Hz), on a slow or busy one fewer frames and an unslowed engine.
        """
        if not any(s.dirty for s in self._series.values()):
            return False
        if time.perf_counter() < self._next_draw:
            return False
        self.draw_now()
        return True

    def draw_now(self) -> None:
        """Push the changed curves to the plots and repaint them right away."""
        if not any(s.dirty for s in self._series.values()):
            return
        t0 = time.perf_counter()
        self.refresh()
        self.repaint()  # synchronous, so its cost can be measured
        cost = time.perf_counter() - t0
        self._next_draw = time.perf_counter() + cost * (1.0 / PAINT_BUDGET - 1.0)

    def refresh(self) -> None:
        """Update what changed since the last call: one ``setData`` per dirty curve."""
        changed: set[str] = set()
        for series in self._series.values():
            if not series.dirty:
                continue
            # Markers help on short runs and are clutter (and slow) on long ones.
            want_symbols = len(series.xs) <= _MAX_POINTS_WITH_SYMBOLS
            if want_symbols != series.symbols:
                series.curve.setSymbol("o" if want_symbols else None)
                series.symbols = want_symbols
            # A lone point (a one-shot mechanism) needs a marker that can be seen.
            size = 9 if len(series.xs) == 1 else 4
            if series.curve.opts.get("symbolSize") != size:
                series.curve.setSymbolSize(size)
            series.curve.setData(np.asarray(series.xs), np.asarray(series.ys))
            series.dirty = False
            changed.add(series.plot_key)
        for key in changed:
            self._fit_single_step(key)

    def set_smooth(self, smooth: bool) -> None:
        """Antialias the curves (after a run) or not (during a run, where speed matters)."""
        self._smooth = smooth
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
        if value is None or not np.isfinite(value):
            self.baseline_line.setVisible(False)
            return
        # Visible first: the label only re-renders its text while it is shown.
        self.baseline_line.setVisible(True)
        self.baseline_line.setValue(float(value))
        self.baseline_line.label.setFormat(f"plaintext baseline {value:.3f}")

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

    def shown_plots(self) -> list[QWidget]:
        """The plots on screen, in grid order."""
        return list(self._placed)

    # -- internals ---------------------------------------------------------------------------

    def _append(self, name: str, step: float, value: float) -> None:
        series = self._series_for(name)
        if not series.xs:
            legend = self._time_plots[series.plot_key].getPlotItem().legend
            if legend is not None and legend.getLabel(series.curve) is None:
                legend.addItem(series.curve, series.label)
        series.xs.append(float(step))
        series.ys.append(float(value))
        series.dirty = True

    def _series_for(self, name: str) -> _Series:
        series = self._series.get(name)
        if series is not None:
            return series
        if name == "epsilon":
            key, color, label = "epsilon", EPSILON_COLOR, "ε spent"
        elif name.startswith("bytes:"):
            kind = name.removeprefix("bytes:")
            meta = self._label(kind)
            key, label = "bytes", meta.plot_text or meta.text
            color = PALETTE[self._count_in("bytes") % len(PALETTE)]
        elif name.endswith("_loss") or name.endswith("_accuracy"):
            key = "loss" if name.endswith("_loss") else "accuracy"
            color = (
                TRAIN_COLOR if name.startswith("train") else TEST_COLOR if name.startswith("test")
                else PALETTE[self._count_in(key) % len(PALETTE)]
            )
            meta = self._label(name)
            label = meta.plot_text or meta.text
        else:
            meta = self._label(name)
            key, label = "other", meta.plot_text or meta.text
            color = PALETTE[(self._count_in("other") + 2) % len(PALETTE)]
        curve = self._time_plots[key].plot(
            [], [], pen=pg.mkPen(color, width=2), name=label,
            symbol="o", symbolSize=4, symbolBrush=color, symbolPen=None,
            antialias=self._smooth,
        )
        series = _Series(curve, key, label)
        self._series[name] = series
        return series

    def _count_in(self, key: str) -> int:
        return sum(1 for s in self._series.values() if s.plot_key == key)

    def _fit_single_step(self, key: str) -> None:
        """Keep the planned step range; a lone step (a one-shot mechanism) shows x from 0 to 2,
        not -3 to 5.
        """
        xs = [x for s in self._series.values() if s.plot_key == key for x in s.xs]
        lone = [s for s in self._series.values() if s.plot_key == key and s.xs]
        if lone and all(len(s.xs) == 1 for s in lone):
            # Only final values (a secure run reveals nothing before its last step): frame them
            # with room for their markers, which autorange would put on the plot's edge.
            ys = [y for s in lone for y in s.ys if np.isfinite(y)]
            if ys:
                lo, hi = min(ys), max(ys)
                margin = max((hi - lo) * 0.25, abs(hi) * 0.02, 1e-3)
                self._time_plots[key].setYRange(lo - margin, hi + margin, padding=0)
        if xs and self._planned is not None and 0 < min(xs) and max(xs) <= self._planned:
            return  # the axis already spans the run
        if xs and max(xs) - min(xs) < 1:
            self._time_plots[key].setXRange(min(xs) - 1, max(xs) + 1, padding=0)
        elif xs:
            self._time_plots[key].enableAutoRange(x=True)

    def _shown_keys(self) -> list[str]:
        with_data = {s.plot_key for s in self._series.values() if s.xs}
        keys = []
        for key in _OPTIONAL:
            if (key == "parties" and self._partition_shown) or key in with_data:
                keys.append(key)
        return keys

    def _apply_visibility(self) -> None:
        """Pack the plots that have something to show into rows of two or three."""
        widgets = {
            "epsilon": self.epsilon_plot, "parties": self.partition_chart,
            "bytes": self.bytes_plot, "other": self.other_plot,
        }
        keys = self._shown_keys()
        shown: list[QWidget] = [self.loss_plot, self.accuracy_plot] + [widgets[k] for k in keys]
        hidden = [w for k, w in widgets.items() if k not in keys]
        if shown == self._placed:
            return
        for widget in self._placed:
            self._grid.removeWidget(widget)
        for row in range(3):
            self._grid.setRowStretch(row, 0)
        n = len(shown)
        # 2 -> [2], 3 -> [3], 4 -> [2, 2], 5 -> [3, 2], 6 -> [3, 3]: at most three per row.
        per_row = [n] if n <= 3 else [2, 2] if n == 4 else [3, n - 3]
        index = 0
        for row, count in enumerate(per_row):
            span = 6 // count
            for col in range(count):
                self._grid.addWidget(shown[index], row, col * span, 1, span)
                shown[index].setVisible(True)
                index += 1
            self._grid.setRowStretch(row, 1)
        for widget in hidden:
            widget.setVisible(False)
        self._placed = shown
