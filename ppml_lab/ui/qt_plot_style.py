"""What every plot of the window shares: pyqtgraph's settings, the colours, the axes and the legend.

* :class:`IntegerAxisItem`: whole-number ticks (epochs, rounds, clients).
* :class:`PercentAxisItem`: a rate in [0, 1] labelled in percent; on a logarithmic axis only
  decades are labelled, plus 2 and 5 within a decade when there is room for them, so the labels
  never run into each other ("0.1%  1%  10%  100%", never "0.0050.0060.007").
* :func:`make_plot`: a plot over steps with all of the above and a save/copy button.
* :func:`add_legend_above`: the legend sits in a row of its own between the title and the data
  area, never over the curves; its entries wrap into as many rows as the plot's width needs.
* :class:`LineSample`: a legend entry for a reference line (an ``InfiniteLine``), so reference
  lines are named in the legend instead of by a text label drawn over the data.
* The value-axis rules (:func:`percent_range`, :func:`value_range`, :func:`zero_based_range`) and
  the names of plots of further metrics (:func:`group_word`, :func:`metric_plot_names`).

How the live plots read, then:

* Legends sit in a row between the title and the data area, never over a curve; reference lines
  (plaintext baseline, target ε) are named there, not by text drawn on the data.
* Accuracy is in percent on an axis at least :data:`MIN_ACCURACY_SPAN` high (5 percentage
  points), so a wiggle of half a point fills a tenth of the height, not all of it; within that
  it fits the curves and the baseline and stays inside 0-100%. Loss and other metrics fit their
  data, at least :data:`MIN_RELATIVE_SPAN` of their size high.
* ε spent and data sent are cumulative: their axes start at 0 (the ε axis reaches the target).
* Step axes span the planned steps; after a cancel they fit the finished ones.
* Further metrics get plots named from their labels: same unit and first word share one
  ("updates received"/"dropped" make "Updates per round"); bytes go on the data-sent plot.
* Each plot has a button to save it (PNG, SVG) or copy it (:mod:`~ppml_lab.ui.qt_plot_export`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtWidgets import QGraphicsItem, QWidget

from ppml_lab.ui.qt_plot_export import add_export_button

# No global antialiasing: with the software rasteriser it makes a plot repaint 3-5x slower, and
# repaint time during a run is GIL time taken from the engine. Curves are smoothed after a run.
pg.setConfigOptions(antialias=False, foreground="#333333", background="w")

#: Colours of the two splits, and of other series in order.
TRAIN_COLOR = "#1f77b4"
TEST_COLOR = "#ff7f0e"
EPSILON_COLOR = "#8c564b"
PALETTE = ["#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
CLASS_PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
                 "#ff9da7", "#9c755f", "#bab0ac"]
#: A translucent white box for text drawn over a plot (legends of this module need none: they
#: sit outside the data area).
LEGEND_BRUSH = (255, 255, 255, 215)
#: The title row's height (pyqtgraph reserves 30 px).
TITLE_HEIGHT = 24
#: Pixels a labelled log tick needs per decade before 2 and 5 are labelled too.
_ROOM_FOR_1_2_5 = 110


class IntegerAxisItem(pg.AxisItem):
    """An axis whose ticks are whole numbers only (epochs, rounds, clients)."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:  # noqa: N802, N803
        levels = []
        for spacing, values in super().tickValues(minVal, maxVal, size):
            if spacing < 1:
                continue
            levels.append((spacing, [v for v in values if abs(v - round(v)) < 1e-9]))
        if not levels and maxVal - minVal < 1e6:
            levels = [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]
        return levels


def _percent(value: float, places: int | None = None) -> str:
    if places is None:
        return f"{value * 100:.4g}%"
    return f"{value * 100:.{places}f}%"


class PercentAxisItem(pg.AxisItem):
    """A rate in [0, 1] (accuracy, false-positive rate) labelled in percent.

    On a linear axis the labels have as many decimals as the tick spacing needs ("95%", "95.5%").
    On a logarithmic axis the ticks are the decades, plus 2 and 5 times each decade when a decade
    is at least 110 px long, and only those are labelled: the minor ticks pyqtgraph adds (2..9 in
    every decade) would print their labels on top of each other.
    """

    def tickStrings(self, values: list, scale: float, spacing: float) -> list[str]:  # noqa: N802
        if self.logMode:
            return self.logTickStrings(values, scale, spacing)
        step = spacing * scale * 100
        places = max(0, math.ceil(-math.log10(step) - 1e-9)) if step > 0 else 0
        return [_percent(v * scale, places) for v in values]

    def logTickValues(self, minVal: float, maxVal: float, size: float, stdTicks: list) -> list:  # noqa: N802, N803
        if not (math.isfinite(minVal) and math.isfinite(maxVal)) or maxVal <= minVal:
            return []
        decades = [float(v) for v in range(math.ceil(minVal - 1e-9), math.floor(maxVal + 1e-9) + 1)]
        per_decade = size / (maxVal - minVal) if size > 0 else 0.0
        levels: list[tuple[float | None, list[float]]] = []
        if len(decades) > 6 and per_decade < 40:
            # Too many decades for every one to be labelled: every other one (or more).
            step = math.ceil(len(decades) / 6)
            levels.append((float(step), [d for d in decades if d % step == 0]))
        else:
            levels.append((1.0, decades))
        if per_decade >= _ROOM_FOR_1_2_5 or len(decades) < 2:
            v1, v2 = math.floor(minVal), math.ceil(maxVal)
            minor = [v + math.log10(m) for v in range(v1, v2) for m in (2, 5)]
            levels.append((None, [x for x in minor if minVal <= x <= maxVal]))
        return levels

    def logTickStrings(self, values: list, scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [_percent(10 ** float(v)) for v in np.asarray(values, dtype=float)]


class LineSample(pg.ItemSample):
    """A legend sample for a reference line (``pg.InfiniteLine``): a short stroke of its pen.

    Clicking it shows or hides the line, as for curves.
    """

    def paint(self, p, *args) -> None:  # noqa: ANN001, ANN002
        if not self.item.isVisible():
            super().paint(p, *args)  # pyqtgraph's "hidden" eye
            return
        p.setPen(self.item.pen)
        p.drawLine(QPointF(0, 11), QPointF(20, 11))


class AboveLegend(pg.LegendItem):
    """A legend in a row of its own above the data area of a plot (see :func:`add_legend_above`).

    Its entries flow like words in a line: as many per row as the plot's width allows, each row
    centred, curves first and reference lines last. The row reserved for it in the plot's layout
    grows and shrinks with it, so the data area never lies under the legend.
    """

    _GAP = 14  # between entries
    _SAMPLE_GAP = 4  # between an entry's sample and its text

    def __init__(self, plot_item: pg.PlotItem, **kwargs) -> None:  # noqa: ANN003
        kwargs.setdefault("labelTextSize", "9pt")
        super().__init__(offset=None, frame=False, **kwargs)
        # It lives outside the view box, so it scales with the plot (as in an enlarged PNG).
        self.setFlag(self.GraphicsItemFlag.ItemIgnoresTransformations, False)
        self._plot_item = plot_item
        self._busy = False
        self._width_laid_out = -1.0
        self._pending: list[tuple[Any, str]] | None = None  # entries between begin() and finish()
        self._shown: list[tuple[int, str]] | None = None  # what finish() last put in the legend
        self.setParentItem(plot_item)
        plot_item.legend = self  # curves plotted with a name join it
        plot_item.vb.sigResized.connect(self._place)
        plot_item.geometryChanged.connect(self._on_plot_resized)
        self.updateSize()

    # The entries are placed by hand (a flow), not by the grid layout pyqtgraph uses.
    def _addItemToLayout(self, sample, label) -> None:  # noqa: ANN001, N802
        sample.setParentItem(self)
        label.setParentItem(self)

    def _removeItemFromLayout(self, *items) -> None:  # noqa: ANN002, N802
        for item in items:
            item.close()
            scene = item.scene()
            if scene is not None:
                scene.removeItem(item)

    def setColumnCount(self, columnCount: int) -> None:  # noqa: N802, N803
        """Ignored: the entries flow into rows by width."""

    def mouseDragEvent(self, ev) -> None:  # noqa: ANN001, N802
        ev.ignore()  # stays in its row

    # Entries drawn again and again (a view redrawn for every new point): begin(), add() each,
    # finish(); the legend is rebuilt only when they changed (each entry rebuilt costs a text
    # layout, and a legend that changes size moves the plot).
    def begin(self) -> None:
        self._pending = []

    def add(self, item: Any, name: str) -> None:
        """An entry: a curve, or a reference line (``pg.InfiniteLine``, drawn as its pen)."""
        if self._pending is None:
            self.addItem(LineSample(item) if isinstance(item, pg.InfiniteLine) else item, name)
        else:
            self._pending.append((item, name))

    def show_line(self, line: pg.InfiniteLine, value: float | None, name: str) -> None:
        """Show reference ``line`` at ``value`` with its entry ``name``; None hides it."""
        line.setVisible(value is not None)
        if value is not None:
            line.setValue(value)
            self.add(line, name)

    def finish(self) -> None:
        pending, self._pending = self._pending or [], None
        key = [(id(item), name) for item, name in pending]
        if key != self._shown:
            self.clear()
            for item, name in pending:
                self.add(item, name)
            self._shown = key

    def entry_texts(self) -> list[str]:
        """The legend's entries, in order."""
        return [label.text for _, label in self._ordered()]

    def _ordered(self) -> list[tuple]:
        curves = [(s, lab) for s, lab in self.items if not isinstance(s, LineSample)]
        lines = [(s, lab) for s, lab in self.items if isinstance(s, LineSample)]
        return curves + lines

    # pyqtgraph calls updateSize whenever an entry is added or removed.
    def updateSize(self) -> None:  # noqa: N802
        """Lay the entries out in rows for the plot's width; reserve their height; place them."""
        if self._busy:
            return
        self._busy = True
        try:
            available = max(self._plot_item.width() - 8, 60.0)
            self._width_laid_out = self._plot_item.width()
            rows: list[list[tuple]] = [[]]
            widths: list[float] = [0.0]
            for sample, label in self._ordered():
                label.resize(label.minimumWidth(), label.minimumHeight())
                width = sample.width() + self._SAMPLE_GAP + label.minimumWidth()
                extra = width + (self._GAP if rows[-1] else 0.0)
                if rows[-1] and widths[-1] + extra > available:
                    rows.append([])
                    widths.append(0.0)
                    extra = width
                rows[-1].append((sample, label, width))
                widths[-1] += extra
            total = max(widths) if self.items else 0.0
            y = 0.0
            for row, row_width in zip(rows, widths, strict=True):
                if not row:
                    continue
                height = max(max(sample.height(), label.minimumHeight()) for sample, label, _ in row)
                x = (total - row_width) / 2
                for sample, label, width in row:
                    sample.setPos(x, y + (height - sample.height()) / 2)
                    label.setPos(x + sample.width() + self._SAMPLE_GAP,
                                 y + (height - label.minimumHeight()) / 2)
                    x += width + self._GAP
                y += height
            self.resize(total, y)
            self._plot_item.layout.setRowFixedHeight(1, math.ceil(y) + 2 if self.items else 0)
            self.setVisible(bool(self.items))
        finally:
            self._busy = False
        self._place()

    def _on_plot_resized(self) -> None:
        if abs(self._plot_item.width() - self._width_laid_out) > 0.5:
            self.updateSize()
        else:
            self._place()

    def _place(self) -> None:
        """Centre the legend over the data area, just above it."""
        view: QRectF = self._plot_item.vb.geometry()
        width = self.width()
        x = view.left() + (view.width() - width) / 2
        x = max(2.0, min(x, self._plot_item.width() - width - 2))
        self.setPos(x, max(view.top() - self.height() - 1, 0.0))


def add_legend_above(plot_item: pg.PlotItem, **kwargs) -> AboveLegend:  # noqa: ANN003
    """Give ``plot_item`` a legend above its data area (curves plotted with a ``name`` join it).

    With :func:`set_title`'s lower title row, the legend row costs the data area little height.
    """
    return AboveLegend(plot_item, **kwargs)


def make_plot(
    title: str, y_label: str, parent: QWidget, tooltip: str, *, left: pg.AxisItem | None = None,
) -> pg.PlotWidget:
    """A plot with title, labels, grid, a legend above the data area and an export button."""
    axes: dict[str, pg.AxisItem] = {"bottom": IntegerAxisItem("bottom")}
    if left is not None:
        axes["left"] = left
    plot = pg.PlotWidget(parent=parent, axisItems=axes)
    item = plot.getPlotItem()
    set_title(item, title)
    plot.setLabel("bottom", "epoch")
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.25)
    plot.setMenuEnabled(True)
    cache_axes(plot)
    add_legend_above(item)
    plot.setToolTip(tooltip)
    plot.setMinimumHeight(170)
    plot.export_button = add_export_button(plot)  # type: ignore[attr-defined]
    return plot


def cache_axes(plot: pg.PlotWidget) -> pg.PlotWidget:
    """Keep ``plot``'s axes as pixmaps: replaying an axis's drawing (its texts) took 10-15 ms per
    axis at every repaint of the plot, now only when its range, size or labels change.

    And no automatic SI prefix: the lab's axes say their own units, and on an axis whose ticks
    are set by hand (a log ε axis) pyqtgraph's prefix wrote a false "(x0.001)" after the label.
    A plot that wants the prefix (bytes) enables it again.
    """
    for name in ("left", "bottom", "top", "right"):
        axis = plot.getPlotItem().getAxis(name)
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        axis.enableAutoSIPrefix(False)
    return plot


def reference_line(plot: pg.PlotWidget, color: str) -> pg.InfiniteLine:
    """A dashed horizontal reference line on ``plot``, hidden until it has a value; it lies
    under the curves and does not count in the auto-range (named in the legend with
    :class:`LineSample`).
    """
    line = pg.InfiniteLine(angle=0, pen=pg.mkPen(color, style=Qt.PenStyle.DashLine, width=1.5))
    line.setVisible(False)
    line.setZValue(-5)
    plot.addItem(line, ignoreBounds=True)
    return line


def set_title(plot_item: pg.PlotItem, title: str) -> None:
    """Set a plot's title in the shared size, in a slightly lower row than pyqtgraph's."""
    plot_item.setTitle(title, size="11pt")
    plot_item.layout.setRowFixedHeight(0, TITLE_HEIGHT)
    plot_item.titleLabel.setMaximumHeight(TITLE_HEIGHT)


# -- value axes ------------------------------------------------------------------------------

#: Smallest span of an accuracy axis (a share: 0.05 = 5 percentage points).
MIN_ACCURACY_SPAN = 0.05
#: Smallest span of a loss or metric axis, as a share of the largest absolute value drawn.
MIN_RELATIVE_SPAN = 0.1
#: Room above and below the data, as a share of the axis span (markers are not cut in half).
Y_MARGIN = 0.07
#: Pixels below 0 on an axis that starts at 0: a tick label that does not fit inside the axis is
#: not drawn at all, and the axis should say "0".
ZERO_LABEL_PX = 8


def percent_range(lo: float, hi: float) -> tuple[float, float]:
    """An accuracy axis: at least :data:`MIN_ACCURACY_SPAN` wide, inside 0..1, with a margin."""
    span = max(hi - lo, MIN_ACCURACY_SPAN)
    low = (lo + hi) / 2 - span / 2
    high = low + span
    if high > 1.0:
        low, high = low - (high - 1.0), 1.0
    if low < 0.0:
        low, high = 0.0, min(high - low, 1.0)
    margin = span * Y_MARGIN
    return low - margin, high + margin


def value_range(lo: float, hi: float) -> tuple[float, float]:
    """A loss or metric axis: the data, at least :data:`MIN_RELATIVE_SPAN` of its size wide."""
    span = max(hi - lo, MIN_RELATIVE_SPAN * max(abs(lo), abs(hi)), 1e-9)
    low = (lo + hi) / 2 - span / 2
    margin = span * Y_MARGIN
    return low - margin, low + span + margin


def zero_based_range(top: float, view_height: float) -> tuple[float, float]:
    """A cumulative axis (ε spent, data sent): from 0 (a few pixels below) to ``top`` plus room."""
    below = ZERO_LABEL_PX / (view_height - ZERO_LABEL_PX) if view_height > 60 else 0.05
    return -top * below, top * (1 + Y_MARGIN)


#: A value axis is re-fitted when the data would need less than this share of it.
LOOSE_AXIS = 1 / 1.5
#: Room a re-fitted cumulative axis leaves for the values still to come.
GROWTH_ROOM = 1.2


def steady_range(current: Sequence[float], want: tuple[float, float], *,
                 grows: bool = False) -> tuple[float, float] | None:
    """The range to give a value axis that shows ``current`` and should show ``want``; None to
    keep ``current``: it holds ``want`` and is not much larger (:data:`LOOSE_AXIS`).

    Every new range redraws the axis (its ticks and texts, about 10 ms), so live plots change
    their value axes only when the data leaves them or fills too little of them. A cumulative
    axis (``grows``) that must grow gets :data:`GROWTH_ROOM` for the next values.
    """
    lo, hi = float(current[0]), float(current[1])
    span = want[1] - want[0]
    fits = lo <= want[0] and want[1] <= hi and span >= LOOSE_AXIS * (hi - lo)
    if grows:  # and its room below 0 is in pixels: the same share of the height, or fitted anew
        fits = fits and hi > 0 and math.isclose(lo / hi, want[0] / want[1], rel_tol=0.02)
    if fits:
        return None
    if grows and want[1] > hi:
        return want[0] * GROWTH_ROOM, want[1] * GROWTH_ROOM
    return want


# -- plots of further metrics ----------------------------------------------------------------

#: Words that do not name what a metric counts: metrics starting with them are not grouped.
_FILLER_WORDS = {"a", "an", "the", "of", "per", "in", "on", "mean", "average", "total", "share",
                 "number", "fraction", "rate"}


def group_word(text: str) -> str:
    """What a metric named ``text`` is grouped by: its first word ("updates received" ->
    "updates"), or the whole name when that word says nothing ("the drift", "mean loss").
    """
    words = text.lower().split()
    return words[0] if words and words[0] not in _FILLER_WORDS else text.lower()


def route(name: str, label_for: Callable[[str], Any], count_in: Callable[[str], int]
          ) -> tuple[str, str, str, str]:
    """Where the live plots draw the metric ``name``: (plot key, colour, legend entry, name in
    words). ``label_for`` is the engine's labels, ``count_in(key)`` the curves a plot has.
    """
    if name == "epsilon":
        return "epsilon", EPSILON_COLOR, "ε spent", "ε spent"
    if name.startswith("bytes:"):
        meta = label_for(name.removeprefix("bytes:"))
        color = PALETTE[count_in("bytes") % len(PALETTE)]
        return "bytes", color, meta.plot_text or meta.text, meta.text
    meta = label_for(name)
    text = meta.plot_text or meta.text
    if name.endswith("_loss") or name.endswith("_accuracy"):
        key = "loss" if name.endswith("_loss") else "accuracy"
        color = (
            TRAIN_COLOR if name.startswith("train") else TEST_COLOR if name.startswith("test")
            else PALETTE[(count_in(key) + 2) % len(PALETTE)]
        )
        return key, color, text, meta.text
    if meta.unit == "B":
        return "bytes", PALETTE[count_in("bytes") % len(PALETTE)], text, meta.text
    key = f"metric:{meta.unit}:{group_word(meta.text)}"
    return key, PALETTE[(count_in(key) * 3 + 2) % len(PALETTE)], text, meta.text


def metric_plot_names(texts: list[str], step_name: str) -> tuple[str, str, list[str]]:
    """Title, axis label and legend entries of a plot of the metrics named ``texts``.

    One metric: its name is the title ("Drift of the clients") and the entry. Several: the
    leading words they share make the title and the axis label, and the rest of each name its
    entry ("updates received", "updates dropped" -> "Updates per round", "updates",
    ["received", "dropped"]); without shared words the names are listed.
    """
    if len(texts) == 1:
        return _capitalised(texts[0]), "", list(texts)
    split = [t.split() for t in texts]
    common: list[str] = []
    for words in zip(*split, strict=False):
        if any(w.lower() != words[0].lower() for w in words):
            break
        common.append(words[0])
    if not common:
        return _capitalised(", ".join(texts)), "", list(texts)
    entries = [" ".join(w[len(common):]) or t for w, t in zip(split, texts, strict=True)]
    shared = " ".join(common)
    return f"{_capitalised(shared)} per {step_name}", shared, entries


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
