"""The History's overlay: the test accuracy and test loss of chosen runs, one curve per run.

:class:`RunOverlayWidget` draws saved runs (their results documents' ``history``) on two plots
side by side, a colour per run. The legend naming the runs is a line of text above the plots, not
a box inside one, so it never hides a curve (and long names wrap instead of being cut); with
fewer than two runs the line says what to do.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ppml_lab.experiments.store import StoredRun, curve
from ppml_lab.ui.qt_plot_style import (
    PALETTE,
    TEST_COLOR,
    TRAIN_COLOR,
    IntegerAxisItem,
    cache_axes,
)

#: Curve colours, one per run, in the order they were chosen.
RUN_COLORS = [TRAIN_COLOR, TEST_COLOR, *PALETTE]
#: Longest run name in the legend before it is shortened.
LEGEND_CHARS = 48
#: Curves with at most this many points show a marker on each.
_MAX_POINTS_WITH_SYMBOLS = 40


def when_text(run: StoredRun) -> str:
    """When the entry started, in local time: "today 14:03", "05 Jan 14:03", "05 Jan 2024"."""
    at = run.created_at
    if at is None:
        return "?"
    local = at.astimezone()
    today = datetime.now().astimezone().date()
    if local.date() == today:
        return f"today {local:%H:%M}"
    if local.year == today.year:
        return f"{local:%d %b %H:%M}"
    return f"{local:%d %b %Y}"


def legend_names(runs: Sequence[StoredRun]) -> list[str]:
    """Short names for the legend; runs of the same name are told apart by when they started
    (to the second if need be, then by their place in the legend).
    """
    names = [
        r.name if len(r.name) <= LEGEND_CHARS else r.name[: LEGEND_CHARS - 1].rstrip() + "…"
        for r in runs
    ]
    out = [
        f"{n} ({when_text(r)})" if names.count(n) > 1 else n
        for n, r in zip(names, runs, strict=True)
    ]
    for k, (label, run) in enumerate(zip(out, runs, strict=True)):
        if out.count(label) > 1 and run.created_at is not None:
            out[k] = f"{names[k]} ({run.created_at.astimezone():%H:%M:%S})"
    return [f"{label} #{k + 1}" if out.count(label) > 1 else label for k, label in enumerate(out)]


def _plot(title: str, y_label: str, parent: QWidget, tooltip: str) -> pg.PlotWidget:
    plot = cache_axes(pg.PlotWidget(parent=parent, axisItems={"bottom": IntegerAxisItem("bottom")}))
    plot.setTitle(title, size="10pt")
    plot.setLabel("left", y_label)
    plot.setLabel("bottom", "step")
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.getViewBox().setDefaultPadding(0.05)
    plot.setToolTip(tooltip)
    plot.setMinimumHeight(160)
    return plot


class RunOverlayWidget(QWidget):
    """Test accuracy and test loss of several saved runs on two plots, with a legend."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hint = QLabel(self)
        self.hint.setWordWrap(True)
        self.hint.setTextFormat(Qt.TextFormat.RichText)
        self.accuracy_plot = _plot(
            "Test accuracy", "accuracy", self, "Test accuracy after each step of the ticked runs"
        )
        self.loss_plot = _plot(
            "Test loss", "cross-entropy", self, "Test loss after each step of the ticked runs"
        )
        self._names: list[str] = []
        self._curves: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        plots = QHBoxLayout()
        plots.setContentsMargins(0, 0, 0, 0)
        plots.addWidget(self.accuracy_plot, 1)
        plots.addWidget(self.loss_plot, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.hint)
        layout.addLayout(plots, 1)
        self.show_runs([])

    def show_runs(self, runs: Sequence[tuple[StoredRun, Mapping[str, Any] | None]]) -> None:
        """Draw each ``(run, results document)``; the order gives the colours."""
        for acc_curve, loss_curve in self._curves.values():
            self.accuracy_plot.removeItem(acc_curve)
            self.loss_plot.removeItem(loss_curve)
        self._curves.clear()
        self._names = []
        step_names = sorted({run.step_name for run, _ in runs}) or ["step"]
        for plot in (self.accuracy_plot, self.loss_plot):
            plot.setLabel("bottom", " / ".join(step_names))
        names = legend_names([run for run, _ in runs])
        for k, ((run, document), label) in enumerate(zip(runs, names, strict=True)):
            colour = RUN_COLORS[k % len(RUN_COLORS)]
            drawn = []
            for plot, key in ((self.accuracy_plot, "test_accuracy"), (self.loss_plot, "test_loss")):
                xs, ys = curve(document, key)
                drawn.append(plot.plot(
                    xs, ys, pen=pg.mkPen(colour, width=2),
                    symbol="o" if len(xs) <= _MAX_POINTS_WITH_SYMBOLS else None,
                    symbolSize=5, symbolBrush=colour, symbolPen=colour,
                ))
            self._curves[run.id] = (drawn[0], drawn[1])
            self._names.append(label)
        for plot in (self.accuracy_plot, self.loss_plot):
            plot.enableAutoRange()
        if not runs:
            self.hint.setText(
                "<span style='color:#666'>Tick two or more runs in the list to draw their test "
                "accuracy and loss together here.</span>"
            )
        elif len(runs) == 1:
            self.hint.setText(
                f"{self._legend_html()} &nbsp;&nbsp; <span style='color:#666'>(tick another run "
                "to compare)</span>"
            )
        else:
            self.hint.setText(f"<b>{len(runs)} runs:</b>&nbsp;&nbsp; {self._legend_html()}")

    def names(self) -> list[str]:
        """The legend's entries, one per run drawn."""
        return list(self._names)

    def _legend_html(self) -> str:
        """The legend: each run's colour, then its name."""
        entries = [
            f"<span style='white-space:nowrap'><span style='color:"
            f"{RUN_COLORS[k % len(RUN_COLORS)]}'>━━●</span>&nbsp;{html.escape(label)}</span>"
            for k, label in enumerate(self._names)
        ]
        return " &nbsp;&nbsp; ".join(entries)

    def run_ids(self) -> list[str]:
        """The runs drawn, in order."""
        return list(self._curves)

    def series(self, run_id: str, name: str = "test_accuracy") -> tuple[list[float], list[float]]:
        """The points drawn for a run: ``test_accuracy`` or ``test_loss``."""
        curves = self._curves.get(run_id)
        if curves is None:
            return [], []
        xs, ys = curves[0 if name == "test_accuracy" else 1].getData()
        return ([] if xs is None else list(xs)), ([] if ys is None else list(ys))
