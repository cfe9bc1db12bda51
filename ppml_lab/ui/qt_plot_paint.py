"""Pacing and placing the live plots: one plot repainted per draw, within a share of the GUI
thread's time; the plots packed in rows of at most three.

Qt paints every widget that changed since the last frame in one go. Handing all the new points
to all the plots at once therefore made one event as long as every plot's repaint together
(about 15 ms per plot on this machine, 6 plots in a federated run, and twice that while a worker
thread competes for the interpreter lock: PySide holds it during painting), which is how the
window came to stall 100-500 ms during a run. :class:`PaintPacer` hands the points to one plot
per draw, the plot that has waited longest, so an event costs one plot's repaint; and it spaces
the draws so that drawing takes at most ``budget`` of the GUI thread's time, with the cost of
each draw measured: the time to set the curves' data, plus the time the plot's repaint took,
timed by :class:`PaintCostFilter` when Qt paints it.

Rearranging the plots (:func:`pack_in_rows`) resizes, and so repaints, every one of them: the
plot widget keeps the arrangement of a pattern's last run for its next one (see
``RunPlotsWidget.reset``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QAbstractScrollArea, QGridLayout, QWidget

__all__ = [
    "MAX_POINTS_WITH_SYMBOLS", "PaintCostFilter", "PaintPacer", "Series", "StagedRepaint",
    "pack_in_rows",
]


class PaintCostFilter(QObject):
    """Times every repaint of a plot's data area (the viewport of a pyqtgraph ``PlotWidget``).

    It paints the viewport itself, as the scroll area's own handler would
    (``QAbstractScrollArea.viewportEvent``), between two clock readings, and reports the time.
    """

    def __init__(self, view: QAbstractScrollArea, report: Callable[[float], None]) -> None:
        super().__init__(view)
        self._view = view
        self._report = report
        self._painting = False
        view.viewport().installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() != QEvent.Type.Paint or self._painting:
            return False
        self._painting = True
        t0 = time.perf_counter()
        try:
            self._view.viewportEvent(event)
        finally:
            self._painting = False
        self._report(time.perf_counter() - t0)
        return True


class PaintPacer:
    """Which plot to draw next, and when.

    Parameters
    ----------
    budget : float
        Largest share of the GUI thread's time that drawing may take (0 < budget <= 1).
    """

    def __init__(self, budget: float) -> None:
        self._budget = budget
        self._dirty: dict[str, None] = {}  # plot keys, in the order they got new points
        self._paint: dict[str, float] = {}  # the last repaint time of each plot
        self._next = 0.0

    def watch(self, key: str, view: QAbstractScrollArea) -> None:
        """Time the repaints of the plot ``key`` (the filter lives as long as the plot)."""
        PaintCostFilter(view, partial(self._record_paint, key))

    def _record_paint(self, key: str, seconds: float) -> None:
        self._paint[key] = seconds

    def mark(self, key: str) -> None:
        """The plot ``key`` has points it has not drawn yet."""
        self._dirty.setdefault(key, None)

    @property
    def dirty(self) -> list[str]:
        """Plots with points not drawn yet, the longest waiting first."""
        return list(self._dirty)

    def due(self) -> str | None:
        """The plot to draw now (the one waiting longest), or None: nothing new, or too soon."""
        if not self._dirty or time.perf_counter() < self._next:
            return None
        return next(iter(self._dirty))

    def drawn(self, keys: list[str], seconds: float) -> None:
        """``keys`` were drawn, which took ``seconds`` (plus their repaints): wait before the next
        draw so that drawing stays within the budget.
        """
        for key in keys:
            self._dirty.pop(key, None)
        cost = seconds + sum(self._paint.get(key, 0.0) for key in keys)
        self._next = time.perf_counter() + cost * (1.0 / self._budget - 1.0)

    def reset(self) -> None:
        """Nothing is waiting, and the next draw may come at once."""
        self._dirty.clear()
        self._next = 0.0


class StagedRepaint(QObject):
    """Repaint several plots one per frame instead of all in one.

    Some changes touch every plot at once: a new run empties them, the end of a run draws the
    last points of each and then antialiases every curve, a new arrangement resizes them all.
    Qt would repaint them all in one frame (15-25 ms a plot, so 100 ms and more with six): the
    window would not answer for that long. :meth:`hold` stops the plots repainting (their data
    changes at once: only the painting waits) and a timer lets them repaint one per
    ``interval_ms``, the order in which they were held.
    """

    def __init__(self, parent: QObject, interval_ms: int = 20) -> None:
        super().__init__(parent)
        self._queue: dict[QWidget, None] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._release_one)
        parent.installEventFilter(self)  # hidden (a closed window): nothing left to wait for

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Hide:
            self.release_all()
        return False

    @property
    def pending(self) -> int:
        """How many plots wait for their repaint."""
        return len(self._queue)

    def hold(self, widgets: list[QWidget]) -> None:
        """The visible ``widgets`` repaint one per interval from now on (the first at the next)."""
        for widget in widgets:
            if widget not in self._queue and widget.isVisible():
                widget.setUpdatesEnabled(False)
                self._queue[widget] = None
        if self._queue and not self._timer.isActive():
            self._timer.start()

    @staticmethod
    def warm_up(widgets: list[QWidget]) -> None:
        """Paint hidden ``widgets`` once, off screen: their first appearance (style, layout, the
        glyphs of their texts) then costs less in the frame where a run shows them.
        """
        for widget in widgets:
            if widget.isHidden():
                widget.grab()

    def release_all(self) -> None:
        """Every held plot repaints with the next frame."""
        while self._queue:
            self._release_one()

    def _release_one(self) -> None:
        if self._queue:
            widget = next(iter(self._queue))
            del self._queue[widget]
            widget.setUpdatesEnabled(True)  # and schedules its repaint
        if not self._queue:
            self._timer.stop()


#: Curves with more points than this are drawn without markers (clutter, and slow).
MAX_POINTS_WITH_SYMBOLS = 60


class Series:
    """Buffered points of one curve, and which plot it belongs to."""

    __slots__ = ("xs", "ys", "dirty", "curve", "symbols", "plot_key", "label", "text")

    def __init__(self, curve: pg.PlotDataItem, plot_key: str, label: str, text: str) -> None:
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.dirty = False
        self.curve = curve
        self.symbols = True
        self.plot_key = plot_key
        self.label = label  # its legend entry
        self.text = text  # the metric's name in words (for the titles of metric plots)

    def push(self) -> None:
        """Give the curve the buffered points (one ``setData``)."""
        # Markers help on short runs and are clutter (and slow) on long ones.
        want_symbols = len(self.xs) <= MAX_POINTS_WITH_SYMBOLS
        if want_symbols != self.symbols:
            self.curve.setSymbol("o" if want_symbols else None)
            self.symbols = want_symbols
        # A lone point (a one-shot mechanism) needs a marker that can be seen.
        size = 9 if len(self.xs) == 1 else 5
        if self.curve.opts.get("symbolSize") != size:
            self.curve.setSymbolSize(size)
        self.curve.setData(np.asarray(self.xs), np.asarray(self.ys))
        self.dirty = False


#: The narrowest a plot may get before fewer plots go in a row (its title and legend still fit).
PLOT_MIN_WIDTH = 270


def plots_per_row(width: int) -> int:
    """How many plots fit side by side in ``width`` pixels: 3, 2 or 1."""
    return 3 if width >= 3 * PLOT_MIN_WIDTH else (2 if width >= 2 * PLOT_MIN_WIDTH else 1)


def pack_in_rows(grid: QGridLayout, shown: list[QWidget], hidden: list[QWidget],
                 placed: list[QWidget], max_per_row: int = 3) -> list[QWidget]:
    """Place ``shown`` in ``grid`` (6 columns) in rows of at most ``max_per_row`` (1 to 3), hide
    ``hidden``; return what is placed now. Nothing moves when ``shown`` is what is ``placed``
    already.
    """
    if shown == placed:
        return placed
    for widget in placed:
        grid.removeWidget(widget)
    for row in range(grid.rowCount()):
        grid.setRowStretch(row, 0)
    n = len(shown)
    # 2 -> [2], 3 -> [3], 4 -> [2, 2], 5 -> [3, 2], 6 -> [3, 3], 7 -> [3, 2, 2], ...
    rows = -(-n // max(1, min(3, max_per_row)))
    per_row = [n // rows + (1 if r < n % rows else 0) for r in range(rows)]
    index = 0
    for row, count in enumerate(per_row):
        span = 6 // count
        for col in range(count):
            grid.addWidget(shown[index], row, col * span, 1, span)
            shown[index].setVisible(True)
            index += 1
        grid.setRowStretch(row, 1)
    for widget in hidden:
        widget.setVisible(False)
    return shown
