"""The comparison view: every pattern next to the plaintext baseline, as a table and bar charts.

"Compare all patterns" (:func:`ppml_lab.experiments.compare.run_comparison`) runs the baseline
and each available pattern with its comparison preset on one split. This view shows one row per
pattern as it finishes:

* the table: test accuracy and its change against the plaintext reference (percentage points),
  the guarantee in words and numbers, engine time as "x plaintext", data sent as a multiple of
  the training data's size, and who is kept from seeing what; a pattern that could not run says
  why (not installed, settings the data refuses, a failure) across the row;
* three bar charts: test accuracy (with the majority-class rate, always guessing the commonest
  class), time x plaintext and data sent x training data, the last two on a logarithmic axis
  when the patterns span orders of magnitude.

Everything comes from the rows (:class:`~ppml_lab.experiments.compare.ComparisonRow`), which the
engines' contracts filled in: nothing here names a pattern.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.engines.registry import get_engine
from ppml_lab.experiments.compare import COMPLETED, ComparisonRow
from ppml_lab.params import values_in_words
from ppml_lab.ui.qt_plot_export import add_export_button
from ppml_lab.ui.qt_plot_paint import StagedRepaint
from ppml_lab.ui.qt_plot_style import CLASS_PALETTE, PercentAxisItem, cache_axes, set_title


def _settings_in_words(row: ComparisonRow) -> list[tuple[str, str]]:
    """The row's pattern settings as (label, value in words) for its tooltip."""
    try:
        params_cls = get_engine(row.pattern).Params
    except ValueError:
        return [(k, str(v)) for k, v in row.params.items() if v is not None]
    return values_in_words(params_cls, row.params)


#: Log axis when the largest value is at least this many times the smallest.
LOG_SPAN = 30.0

COLUMNS: list[tuple[str, str]] = [
    ("pattern", "The pattern, run with its comparison preset (hover for the settings)"),
    ("test\naccuracy", "Accuracy of the final model on the held-out test rows (the same split "
     "for every pattern)"),
    ("vs\nplaintext", "Change in test accuracy against the plaintext reference, in percentage "
     "points: the same model trained without protection, with as many passes over the data as "
     "the pattern makes (hover for the reference)"),
    ("guarantee", "How strong the protection is, in words and numbers: the privacy level and "
     "(ε, δ) for differential privacy, otherwise what the run's settings give"),
    ("time\n× plaintext", "Engine time as a multiple of the plaintext reference's"),
    ("data sent\n× data", "Bytes sent between the parties as a multiple of the training data's "
     "size as plain numbers (rows × (features + 1) × 8 bytes: what sending the rows to one "
     "place in the clear would take); — when nothing travels"),
    ("who can see what", "What is kept from whom (hover for what is not protected)"),
]


GUARANTEE_COLUMN, WHO_COLUMN = 3, 6


def _ratio(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}×"
    return f"{value:.3g}×"


class _BarChart:
    """One bar per pattern in a small plot; linear or logarithmic value axis."""

    def __init__(self, parent: QWidget, title: str, *, percent: bool = False) -> None:
        axis = {"left": PercentAxisItem("left")} if percent else {}
        self.plot = cache_axes(pg.PlotWidget(parent=parent, axisItems=axis))
        self.title = title
        set_title(self.plot.getPlotItem(), title)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.getAxis("bottom").setHeight(8)
        self.plot.setMinimumHeight(200)
        self.export_button = add_export_button(self.plot)
        self.bars: pg.BarGraphItem | None = None
        self.texts: list[pg.TextItem] = []
        self.lines: list[pg.InfiniteLine] = []
        self.log = False
        self.values: list[float | None] = []
        # The items are made once and reused (hidden when not needed): removing and re-adding
        # them for every finished row took 80 ms of the GUI thread per row.
        self._bar_item: pg.BarGraphItem | None = None
        self._text_pool: list[pg.TextItem] = []
        self._line_pool: list[pg.InfiniteLine] = []

    def clear(self) -> None:
        for item in [self.bars, *self.texts, *self.lines]:
            if item is not None:
                item.setVisible(False)
        self.bars, self.texts, self.lines = None, [], []
        self.values = []

    def set_bars(
        self, labels: Sequence[str], values: Sequence[float | None], colors: Sequence[str],
        *, fmt: Any, percent: bool = False, lines: Iterable[tuple[float, str, Any]] = (),
    ) -> None:
        self.clear()
        self.values = list(values)
        n = len(labels)
        x = np.arange(n, dtype=float)
        shown = [v for v in values if v is not None and v > 0]
        self.log = (not percent and len(shown) >= 2 and max(shown) / min(shown) >= LOG_SPAN)
        # The bars are named by colour in the legend above the charts (and in the table).
        self.plot.getAxis("bottom").setTicks([[(float(i), "") for i in range(n)]])
        if self.log:
            floor = math.floor(math.log10(min(shown))) - 0.3
            heights = [math.log10(v) - floor if v is not None and v > 0 else 0.0 for v in values]
            y0 = floor
            top = math.log10(max(shown))
            ticks = [(float(d), _ratio(10.0 ** d)) for d in range(math.ceil(floor), math.ceil(top) + 1)]
            self.plot.getAxis("left").setTicks([ticks])
            self.plot.setYRange(floor, top + 0.35, padding=0)
        else:
            heights = [v if v is not None else 0.0 for v in values]
            y0 = 0.0
            if not percent:
                self.plot.getAxis("left").setTicks(None)
                self.plot.setYRange(0, max(heights + [1e-9]) * 1.18, padding=0)
        brushes = [pg.mkBrush(c) for c in colors]
        opts = {"x": x, "height": heights, "y0": y0, "width": 0.65, "brushes": brushes,
                "pen": pg.mkPen("w")}
        if self._bar_item is None:
            self._bar_item = pg.BarGraphItem(**opts)
            self.plot.addItem(self._bar_item)
        else:
            self._bar_item.setOpts(**opts)
        self._bar_item.setVisible(True)
        self.bars = self._bar_item
        for i, v in enumerate(values):
            words = fmt(v) if v is not None else "—"
            if i < len(self._text_pool):
                text = self._text_pool[i]
                text.setText(words)
            else:
                text = pg.TextItem(words, color="#333", anchor=(0.5, 1.0))
                self.plot.addItem(text)
                self._text_pool.append(text)
            text.setPos(float(i), y0 + heights[i])
            text.setVisible(True)
            self.texts.append(text)
        for value, name, pen in lines:
            if self.log:
                if value <= 0:
                    continue
                value = math.log10(value)
            if len(self.lines) < len(self._line_pool):
                line = self._line_pool[len(self.lines)]
                line.setPen(pen)
                line.setValue(value)
            else:
                line = pg.InfiniteLine(pos=value, angle=0, pen=pen)
                self.plot.addItem(line)
                self._line_pool.append(line)
            line.setToolTip(name)
            line.setVisible(True)
            self.lines.append(line)
        self.plot.setXRange(-0.6, max(n - 0.4, 0.6), padding=0)


class CompareViewWidget(QWidget):
    """The comparison of all patterns: a table and three bar charts, filled row by row.

    Signals
    -------
    run_requested()
        The Compare button was pressed (the window starts the comparison).
    cancel_requested()
        The Cancel button was pressed.
    """

    run_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel(self)
        self.header.setObjectName("hintLabel")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.run_button = QPushButton("▶  Compare all patterns", self)
        self.run_button.setObjectName("compareRunButton")
        self.cancel_button = QPushButton("■  Cancel", self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("Stop the comparison; the finished rows are kept (Esc)")
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.header, 1)
        top.addWidget(self.run_button, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignTop)

        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("compareTable")
        self.table.setHorizontalHeaderLabels([c for c, _ in COLUMNS])
        for col, (_, tip) in enumerate(COLUMNS):
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS)):
            # The two sentence columns share the width left and wrap; the figures fit theirs.
            mode = (QHeaderView.ResizeMode.Stretch if col in (GUARANTEE_COLUMN, WHO_COLUMN)
                    else QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(col, mode)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)  # long names wrap
        self.table.setColumnWidth(0, 130)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("One row per pattern, the plaintext baseline first; hover a cell "
                              "for its details, a column header for what it means")

        self.accuracy_chart = _BarChart(self, "Test accuracy", percent=True)
        self.time_chart = _BarChart(self, "Time × plaintext")
        self.bytes_chart = _BarChart(self, "Data sent × training data")
        self._staged = StagedRepaint(self)
        self.legend = QLabel(self)
        self.legend.setObjectName("compareLegend")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignCenter)
        charts = QWidget(self)
        charts_layout = QHBoxLayout(charts)
        charts_layout.setContentsMargins(0, 0, 0, 0)
        for chart in (self.accuracy_chart, self.time_chart, self.bytes_chart):
            charts_layout.addWidget(chart.plot, 1)
        self.note = QLabel(self)
        self.note.setObjectName("hintLabel")
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.RichText)
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.legend)
        lower_layout.addWidget(charts, 1)
        lower_layout.addWidget(self.note)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        self.rows: list[ComparisonRow] = []
        self.total = 0
        self.dataset: dict[str, Any] = {}
        self.result: Any = None
        self._colors: dict[str, str] = {}
        self.clear()

    # ------------------------------------------------------------------ API ---

    def clear(self, message: str = "") -> None:
        self.rows = []
        self.total = 0
        self.result = None
        self.dataset = {}
        self.table.setRowCount(0)
        for chart in (self.accuracy_chart, self.time_chart, self.bytes_chart):
            chart.clear()
        self.note.setText("")
        self.legend.setText("")
        self.header.setText(message or (
            "<span style='color:#666'><b>Compare all patterns</b> runs the plaintext baseline and "
            "every available pattern with a typical preset on the loaded data, the same split "
            "and the same model, and puts accuracy, the guarantee and the costs side by side "
            "(Run &gt; Compare all patterns, Ctrl+Shift+R).</span>"
        ))

    def set_availability(self, reason: str | None) -> None:
        self.run_button.setEnabled(reason is None)
        self.run_button.setToolTip(reason or "Run the baseline and every pattern's preset "
                                   "on this data (Ctrl+Shift+R)")

    def set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        if running:
            self.run_button.setEnabled(False)

    def start(self, *, title: str, patterns: Sequence[str]) -> None:
        """A comparison of ``patterns`` begins (colours are given in this order)."""
        self.clear()
        self.total = len(patterns)
        self._colors = {p: CLASS_PALETTE[i % len(CLASS_PALETTE)] for i, p in enumerate(patterns)}
        self._title = title
        self.set_status(f"0 of {self.total} patterns done")

    def set_status(self, text: str) -> None:
        title = html.escape(getattr(self, "_title", ""))
        self.header.setText(f"<b>{title}</b><br>{html.escape(text)}" if title
                            else html.escape(text))

    def add_rows(self, rows: Iterable[ComparisonRow]) -> None:
        """Show finished rows (a row for a pattern already shown replaces it)."""
        for row in rows:
            if not isinstance(row, ComparisonRow):
                continue
            self.rows = [r for r in self.rows if r.pattern != row.pattern] + [row]
        self._fill_table()
        self._draw_charts()

    def set_result(self, result: Any) -> None:
        """The comparison ended (completed or cancelled)."""
        self.result = result
        self.dataset = dict(result.dataset)
        self.rows = []
        self.add_rows(result.rows)
        done = sum(1 for r in result.rows if r.completed)
        state = "Cancelled" if result.status == "cancelled" else "Done"
        self.set_status(f"{state} — {done} of {len(result.rows)} patterns ran, "
                        f"in {result.wall_seconds:.1f} s")
        facts = self.dataset
        if facts:
            self.note.setText(
                f"Same split for every pattern: {facts.get('rows_train', 0):,} training and "
                f"{facts.get('rows_test', 0):,} test rows, {facts.get('features', 0)} features. "
                f"'Data sent × training data' divides by {facts.get('data_bytes', 0):,} bytes "
                "(the training rows as plain 8-byte numbers). The grey dotted line is always "
                "guessing the commonest class."
            )
        self._draw_charts()

    # ------------------------------------------------------------------ table ---

    def _fill_table(self) -> None:
        table = self.table
        table.clearSpans()
        table.setRowCount(len(self.rows))
        for i, row in enumerate(self.rows):
            name = QTableWidgetItem(row.label)
            settings = ", ".join(f"{k}: {v}" for k, v in _settings_in_words(row))
            name.setToolTip(f"{row.label}\nsettings: {settings or 'defaults'}")
            color = self._colors.get(row.pattern)
            if color:
                name.setForeground(QBrush(QColor(color).darker(130)))
            table.setItem(i, 0, name)
            if not row.completed:
                what = {"unavailable": "not available here", "refused": "cannot run on this data",
                        "failed": "failed", "cancelled": "not run"}.get(row.status, row.status)
                item = QTableWidgetItem(f"{what}: {row.reason}")
                item.setForeground(QBrush(QColor("#b3261e" if row.status == "failed"
                                                 else "#777777")))
                item.setToolTip(row.reason)
                table.setItem(i, 1, item)
                for col in range(2, len(COLUMNS)):
                    table.setItem(i, col, QTableWidgetItem(""))
                table.setSpan(i, 1, 1, len(COLUMNS) - 1)
                continue
            acc = "—" if row.test_accuracy is None else f"{100 * row.test_accuracy:.1f}%"
            if row.is_reference:
                change = "reference"
            elif row.change_points is None:
                change = "—"
            else:
                change = f"{row.change_points:+.1f} pts"
            cells = [acc, change, row.guarantee_text, _ratio(row.time_ratio),
                     _ratio(row.bytes_ratio), row.who_sees]
            tips = [
                "", self._reference_tip(row),
                "\n".join(row.in_this_run) or row.guarantee_text,
                f"engine time {row.seconds:.3g} s; plaintext reference {row.reference_seconds:.3g} s"
                if row.seconds is not None and row.reference_seconds is not None else "",
                f"{row.bytes_sent:,.0f} bytes sent" if row.bytes_sent is not None
                else "nothing is sent between parties",
                f"Protects: {row.protects}\nFrom: {row.adversary or '—'}",
            ]
            for col, (text, tip) in enumerate(zip(cells, tips, strict=True), start=1):
                item = QTableWidgetItem(text)
                if tip:
                    item.setToolTip(tip)
                if col in (1, 2, 4, 5):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if col == 3 and row.not_private:
                    item.setForeground(QBrush(QColor("#b3261e")))
                table.setItem(i, col, item)
        table.resizeRowsToContents()

    @staticmethod
    def _reference_tip(row: ComparisonRow) -> str:
        if row.reference_accuracy is None:
            return ""
        epochs = f", {row.reference_epochs} epochs" if row.reference_epochs else ""
        acc = f"{100 * row.reference_accuracy:.1f}%"
        return f"plaintext reference{epochs}: {acc} on the same train/test split"

    # ------------------------------------------------------------------ charts ---

    def _draw_charts(self) -> None:
        # The three charts change together: repainted one per frame, not all in one.
        self._staged.hold([c.plot for c in (self.accuracy_chart, self.time_chart, self.bytes_chart)])
        done = [r for r in self.rows if r.status == COMPLETED]
        labels = [r.label for r in done]
        colors = [self._colors.get(r.pattern, CLASS_PALETTE[0]) for r in done]
        self.legend.setText("&nbsp;&nbsp;&nbsp;".join(
            f"<span style='color:{c}; font-size:14pt'>■</span>&nbsp;{html.escape(lab)}"
            for lab, c in zip(labels, colors, strict=True)))
        accs = [r.test_accuracy for r in done]
        majority = self.dataset.get("majority_class_rate")
        lines = []
        if isinstance(majority, (int, float)) and math.isfinite(majority):
            lines.append((float(majority), "always guessing the commonest class",
                          pg.mkPen("#7f7f7f", width=1.5, style=Qt.PenStyle.DotLine)))
        self.accuracy_chart.set_bars(labels, accs, colors, fmt=lambda v: f"{100 * v:.1f}%",
                                     percent=True, lines=lines)
        low = [v for v in accs if v is not None] + [v for v, _, _ in lines]
        if low:
            self.accuracy_chart.plot.setYRange(max(0.0, min(low) - 0.05), 1.02, padding=0)
        one = pg.mkPen("#1f77b4", style=Qt.PenStyle.DashLine)
        self.time_chart.set_bars(labels, [r.time_ratio for r in done], colors, fmt=_ratio,
                                 lines=[(1.0, "as long as the plaintext reference", one)])
        self.bytes_chart.set_bars(labels, [r.bytes_ratio for r in done], colors, fmt=_ratio,
                                  lines=[(1.0, "the training data's size", one)])


__all__ = ["COLUMNS", "CompareViewWidget"]
