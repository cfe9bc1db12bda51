"""Live plots of a run: loss, accuracy, epsilon spent, other metrics and the federated partition.

Events are buffered by :meth:`RunPlotsWidget.add_events` and drawn by
:meth:`RunPlotsWidget.draw_if_due`, which the window calls from a ~25 Hz timer: one ``setData`` per
curve that changed, never one per event, and no more often than the paint budget allows. Curves
are created once (the first time a metric appears) and emptied, not removed, when a new run
starts. Plots other than loss and accuracy appear when they have data.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from ppml_lab.engines.events import BudgetSpent, Metric

# No global antialiasing: with the software rasteriser it makes a plot repaint 3-5x slower, and
# repaint time during a run is GIL time taken from the engine. Curves are smoothed after a run.
pg.setConfigOptions(antialias=False, foreground="#333333", background="w")

#: Colours of the two splits, and of other series in order.
TRAIN_COLOR = "#1f77b4"
TEST_COLOR = "#ff7f0e"
PALETTE = ["#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
CLASS_PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
                 "#ff9da7", "#9c755f", "#bab0ac"]

_MAX_POINTS_WITH_SYMBOLS = 60

#: Largest share of the GUI thread's time that live plot drawing may take.
PAINT_BUDGET = 0.3

_PRETTY = {
    "train_loss": "train",
    "test_loss": "test",
    "train_accuracy": "train",
    "test_accuracy": "test",
}


def _make_plot(
    title: str, y_label: str, parent: QWidget, tooltip: str, *, legend: str = "top"
) -> pg.PlotWidget:
    """A plot with title, labels, grid and a legend in the corner the curves leave free.

    ``legend="top"`` for falling curves (loss), ``"bottom"`` for rising ones (accuracy, epsilon).
    """
    plot = pg.PlotWidget(parent=parent)
    plot.setTitle(title, size="11pt")
    plot.setLabel("bottom", "step (epoch or round)")
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMenuEnabled(True)
    plot.getAxis("left").enableAutoSIPrefix(False)
    plot.getAxis("bottom").enableAutoSIPrefix(False)
    offset = (-10, 10) if legend == "top" else (-10, -10)
    plot.getPlotItem().addLegend(offset=offset, labelTextSize="9pt")
    plot.setToolTip(tooltip)
    plot.setMinimumHeight(180)
    return plot


class _Series:
    """Buffered points of one curve."""

    __slots__ = ("xs", "ys", "dirty", "curve", "symbols")

    def __init__(self, curve: pg.PlotDataItem) -> None:
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.dirty = False
        self.curve = curve
        self.symbols = True


class PartitionChartWidget(QWidget):
    """A stacked bar chart of rows per client, coloured by class.

    :meth:`set_payload` takes a ``partition`` artifact payload shaped like
    ``{"clients": [{"rows": int, "class_counts": [int, ...]}, ...], "class_names": [...],
    "empty_clients": [...]}``. Missing keys are tolerated: without class counts each client is
    one bar of its rows; a list of numbers instead of dicts is read as rows per client.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(parent=self)
        self.plot.setTitle("Data per client", size="11pt")
        self.plot.setLabel("bottom", "client")
        self.plot.setLabel("left", "rows")
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.setMouseEnabled(x=False, y=False)
        # One row of class names above the bars (the y range leaves room for it).
        self.legend = self.plot.getPlotItem().addLegend(
            offset=(10, 5), labelTextSize="9pt", colCount=4
        )
        self.plot.setToolTip(
            "How the training rows were split between the federated clients: bar height is the "
            "number of rows a client holds, colours are the classes."
        )
        self.note = QLabel(self)
        self.note.setObjectName("hintLabel")
        self.note.setWordWrap(True)
        self.note.setToolTip("Clients that received no rows")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.note)
        self._bars: list[pg.BarGraphItem] = []
        self.rows: list[int] = []
        self.setMinimumHeight(180)

    def set_payload(self, payload: Any) -> None:
        """Draw a partition payload (see the class docstring); bad shapes draw nothing."""
        rows, counts, class_names, empty = _parse_partition(payload)
        for bar in self._bars:
            self.plot.removeItem(bar)
        self._bars = []
        self.legend.clear()
        self.rows = rows
        n = len(rows)
        x = np.arange(1, n + 1, dtype=float)
        width = 0.7
        if counts is not None and counts.size:
            bottom = np.zeros(n)
            for c in range(counts.shape[1]):
                color = CLASS_PALETTE[c % len(CLASS_PALETTE)]
                name = class_names[c] if c < len(class_names) else f"class {c}"
                bar = pg.BarGraphItem(
                    x=x, height=counts[:, c], y0=bottom, width=width, brush=color, pen=pg.mkPen("w")
                )
                self.plot.addItem(bar)
                self.legend.addItem(bar, html.escape(str(name)))  # '<=50K' is not a tag
                self._bars.append(bar)
                bottom = bottom + counts[:, c]
        elif n:
            bar = pg.BarGraphItem(x=x, height=np.asarray(rows, float), width=width, brush=CLASS_PALETTE[0])
            self.plot.addItem(bar)
            self._bars.append(bar)
        axis = self.plot.getAxis("bottom")
        step = max(1, n // 20)
        axis.setTicks([[(i, str(i)) for i in range(1, n + 1, step)]])
        if n:
            self.plot.setXRange(0.4, n + 0.6, padding=0)
            self.plot.setYRange(0, max(max(rows), 1) * 1.3, padding=0)
        if empty:
            shown = ", ".join(str(c) for c in empty[:10])
            self.note.setText(f"Clients with no rows: {shown}{' …' if len(empty) > 10 else ''}")
        else:
            self.note.setText("")
        self.note.setVisible(bool(empty))


def _parse_partition(payload: Any) -> tuple[list[int], np.ndarray | None, list[str], list[Any]]:
    """Read a partition payload defensively: (rows per client, counts (n, k) or None, names, empty)."""
    if not isinstance(payload, Mapping):
        return [], None, [], []
    clients = payload.get("clients") or []
    rows: list[int] = []
    count_rows: list[list[float]] = []
    for client in clients if isinstance(clients, Sequence) else []:
        if isinstance(client, Mapping):
            cc = client.get("class_counts")
            cc_list = [float(v) for v in cc] if isinstance(cc, Sequence) else []
            r = client.get("rows")
            rows.append(int(r) if isinstance(r, (int, float)) else int(sum(cc_list)))
            count_rows.append(cc_list)
        elif isinstance(client, (int, float)):
            rows.append(int(client))
            count_rows.append([])
    counts: np.ndarray | None = None
    k = max((len(c) for c in count_rows), default=0)
    if k:
        counts = np.zeros((len(count_rows), k))
        for i, cc in enumerate(count_rows):
            counts[i, : len(cc)] = cc
    names = payload.get("class_names") or []
    names = [str(n) for n in names] if isinstance(names, Sequence) else []
    empty = payload.get("empty_clients")
    if not isinstance(empty, Sequence) or isinstance(empty, str):
        empty = [i + 1 for i, r in enumerate(rows) if r == 0]
    return rows, counts, names, list(empty)


class RunPlotsWidget(QWidget):
    """Loss and accuracy per step, plus epsilon spent, other metrics and partition when present."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = _make_plot(
            "Loss", "cross-entropy", self,
            "Mean cross-entropy loss on the training and test rows after each step (lower is better)",
            legend="top",
        )
        self.accuracy_plot = _make_plot(
            "Accuracy", "accuracy", self,
            "Share of correctly classified rows after each step, training and test; the dashed "
            "line is the plaintext baseline trained on the same split",
            legend="bottom",
        )
        self.accuracy_plot.setLimits(yMin=-0.02, yMax=1.02)
        self.epsilon_plot = _make_plot(
            "Privacy budget spent", "epsilon (ε)", self,
            "Cumulative epsilon spent so far (smaller means more private)",
            legend="bottom",
        )
        self.other_plot = _make_plot(
            "Other metrics", "value", self, "Further metrics the pattern reports"
        )
        self.partition_chart = PartitionChartWidget(self)
        self.audit_plot = _make_plot(
            "Membership attack (ROC)", "members caught (TPR)", self,
            "How well membership-inference attacks tell training rows from unseen rows: the "
            "diagonal is guessing. For a DP model, the shaded region is where differential "
            "privacy allows any attack to be (TPR <= e^ε · FPR + δ); the curves must stay in it.",
            legend="bottom",
        )
        self.audit_plot.setLabel("bottom", "outsiders wrongly flagged (FPR)")
        self.audit_plot.setXRange(0, 1, padding=0.02)
        self.audit_plot.setYRange(0, 1, padding=0.02)
        self.baseline_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen("#555555", style=Qt.PenStyle.DashLine, width=1),
            label="plaintext baseline",
            # Left-aligned text near the left edge, on whichever side of the line has room.
            labelOpts={"position": 0.03, "color": "#555555", "anchors": [(0, 0), (0, 1)]},
        )
        self.baseline_line.setVisible(False)
        # Counted in the auto-range, so the reference is on screen even above every curve.
        self.accuracy_plot.addItem(self.baseline_line)

        self._series: dict[str, _Series] = {}
        self._smooth = True
        self._next_draw = 0.0
        self._extra_visible = {"epsilon": False, "other": False, "partition": False, "audit": False}
        layout = QGridLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(6)
        self._grid = layout
        layout.setColumnStretch(0, 1)
        layout.setColumnStretch(1, 1)
        self._placed: list[QWidget] = []
        self._apply_visibility()

    # -- data --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Empty every curve (they stay in their plots) and hide the optional plots."""
        self._next_draw = 0.0
        for series in self._series.values():
            series.xs.clear()
            series.ys.clear()
            series.curve.setData([], [])
            series.dirty = False
            if not series.symbols:
                series.curve.setSymbol("o")
                series.symbols = True
        self.baseline_line.setVisible(False)
        self.audit_plot.clear()
        self._extra_visible = {"epsilon": False, "other": False, "partition": False, "audit": False}
        self._apply_visibility()

    def add_events(self, events: Iterable[object]) -> None:
        """Buffer metric and budget events (cheap; nothing is drawn until :meth:`refresh`)."""
        for event in events:
            if isinstance(event, Metric):
                series = self._series_for(event.name)
                series.xs.append(float(event.step))
                series.ys.append(float(event.value))
                series.dirty = True
            elif isinstance(event, BudgetSpent):
                series = self._series_for("epsilon")
                series.xs.append(float(event.step))
                series.ys.append(float(event.epsilon))
                series.dirty = True

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
        for series in self._series.values():
            if not series.dirty:
                continue
            # Markers help on short runs and are clutter (and slow) on long ones.
            want_symbols = len(series.xs) <= _MAX_POINTS_WITH_SYMBOLS
            if want_symbols != series.symbols:
                series.curve.setSymbol("o" if want_symbols else None)
                series.symbols = want_symbols
            series.curve.setData(np.asarray(series.xs), np.asarray(series.ys))
            series.dirty = False

    def set_smooth(self, smooth: bool) -> None:
        """Antialias the curves (after a run) or not (during a run, where speed matters)."""
        self._smooth = smooth
        for series in self._series.values():
            if series.curve.opts.get("antialias") != smooth:
                series.curve.opts["antialias"] = smooth
                series.curve.updateItems(styleUpdate=True)

    def show_partition(self, payload: Any) -> None:
        """Artifact hook for ``partition``: draw rows per client stacked by class."""
        self.partition_chart.set_payload(payload)
        self._extra_visible["partition"] = True
        self._apply_visibility()

    def show_audit(self, audit: Any) -> None:
        """Draw a membership audit (``extra["audit"]`` of a run): ROC per attack and the DP bound."""
        plot = self.audit_plot
        plot.clear()
        try:
            attacks = dict(audit["attacks"])
        except (KeyError, TypeError, ValueError):
            return
        grid = np.linspace(0.0, 1.0, 201)
        plot.plot(grid, grid, pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine), name="guessing")
        eps, delta = audit.get("accountant_epsilon"), float(audit.get("delta") or 0.0)
        if isinstance(eps, (int, float)) and np.isfinite(eps):
            bound = np.minimum(1.0, np.exp(float(eps)) * grid + delta)
            upper = plot.plot(grid, bound, pen=pg.mkPen("#2e7d32", width=1.5),
                              name=f"DP limit (ε = {eps:.2g})")
            lower = plot.plot(grid, np.zeros_like(grid), pen=None)
            plot.addItem(pg.FillBetweenItem(upper, lower, brush=pg.mkBrush(46, 125, 50, 70)))
        for i, (name, attack) in enumerate(attacks.items()):
            roc = attack.get("roc") or {}
            fpr, tpr = np.asarray(roc.get("fpr", []), float), np.asarray(roc.get("tpr", []), float)
            if fpr.size == 0 or fpr.size != tpr.size:
                continue
            auc = attack.get("auc")
            label = f"{html.escape(str(name))} attack" + (f" (AUC {auc:.2f})" if auc is not None else "")
            color = PALETTE[(i + 1) % len(PALETTE)]  # PALETTE[0] is the DP limit's green
            plot.plot(fpr, tpr, pen=pg.mkPen(color, width=2), name=label)
        plot.setXRange(0, 1, padding=0.02)
        plot.setYRange(0, 1, padding=0.02)
        self._extra_visible["audit"] = True
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
        """The points drawn for ``name`` (e.g. ``"test_accuracy"``, ``"epsilon"``)."""
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

    # -- internals ---------------------------------------------------------------------------

    def _series_for(self, name: str) -> _Series:
        series = self._series.get(name)
        if series is not None:
            return series
        if name == "epsilon":
            plot, color, label = self.epsilon_plot, PALETTE[3], "ε spent"
            self._extra_visible["epsilon"] = True
        elif name.endswith("_loss"):
            plot = self.loss_plot
            color = TRAIN_COLOR if name.startswith("train") else TEST_COLOR if name.startswith("test") else PALETTE[len(self._series) % len(PALETTE)]
            label = _PRETTY.get(name, name)
        elif name.endswith("_accuracy"):
            plot = self.accuracy_plot
            color = TRAIN_COLOR if name.startswith("train") else TEST_COLOR if name.startswith("test") else PALETTE[len(self._series) % len(PALETTE)]
            label = _PRETTY.get(name, name)
        else:
            plot, color, label = self.other_plot, PALETTE[len(self._series) % len(PALETTE)], name
            self._extra_visible["other"] = True
        curve = plot.plot(
            [], [], pen=pg.mkPen(color, width=2), name=label,
            symbol="o", symbolSize=4, symbolBrush=color, symbolPen=None,
            antialias=self._smooth,
        )
        series = _Series(curve)
        self._series[name] = series
        self._apply_visibility()
        return series

    def _apply_visibility(self) -> None:
        """Pack the plots that have something to show into two columns, in a fixed order."""
        shown: list[QWidget] = [self.loss_plot, self.accuracy_plot]
        hidden: list[QWidget] = []
        for key, widget in (
            ("epsilon", self.epsilon_plot),
            ("partition", self.partition_chart),
            ("other", self.other_plot),
            ("audit", self.audit_plot),
        ):
            (shown if self._extra_visible[key] else hidden).append(widget)
        if shown == self._placed:
            return
        for widget in self._placed:
            self._grid.removeWidget(widget)
        for row in range(4):
            self._grid.setRowStretch(row, 0)
        for index, widget in enumerate(shown):
            row, col = divmod(index, 2)
            alone = col == 0 and index == len(shown) - 1
            self._grid.addWidget(widget, row, col, 1, 2 if alone else 1)
            self._grid.setRowStretch(row, 1)
            widget.setVisible(True)
        for widget in hidden:
            widget.setVisible(False)
        self._placed = shown
