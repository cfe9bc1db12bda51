"""The one big chart of presenter mode, drawn with QPainter at the screen's scale.

Three kinds (a scenario's ``[run] chart``):

* ``curve``: the test accuracy after each step of the run, growing as the run goes, against a
  dashed line for the same model trained without protection;
* ``bars``: two bars, the run's final test accuracy and the unprotected model's;
* ``patterns``: one bar per pattern of the comparison, the unprotected baseline grey.

Points and bars are revealed smoothly (a 30 Hz timer that runs only while something is still
being revealed): a run that takes a fraction of a second is drawn over a second or two, so the
room sees it grow. The values drawn are the run's own; only the drawing is paced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ppml_lab.ui.presenter import qt_theme as theme

FRAME_MS = 33
#: Bars grow to their height in this many frames.
GROW_FRAMES = 18


@dataclass
class Bar:
    """One bar: its label, value (a fraction; None: did not run), a line under the label."""

    label: str
    value: float | None
    sub: str = ""
    reference: bool = False
    shown: float = 0.0  # 0..1, how far it has grown
    pending: bool = False  # no value yet because the run is still going


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


class BigChartWidget(QWidget):
    """The chart (see the module docstring); :meth:`set_kind` first, then the data."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._kind = "curve"
        self._scale = 1.0
        self._step_name = "step"
        self._total: int | None = None
        self._points: list[tuple[int, float]] = []
        self._shown = 0.0
        self._reference: float | None = None
        self._bars: list[Bar] = []
        self._labels = ("with protection", "without protection")
        self._final: float | None = None
        self._progress: tuple[int, int] | None = None  # step, total while the run goes
        self._timer = QTimer(self)
        self._timer.setObjectName("presenterChartTimer")
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    # -- data ------------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def points(self) -> list[tuple[int, float]]:
        return list(self._points)

    @property
    def bars(self) -> list[Bar]:
        return list(self._bars)

    @property
    def reference(self) -> float | None:
        return self._reference

    @property
    def animating(self) -> bool:
        return self._timer.isActive()

    def set_kind(self, kind: str, *, step_name: str = "step", total: int | None = None,
                 labels: tuple[str, str] = ("with protection", "without protection")) -> None:
        """Start afresh as a ``curve``, ``bars`` or ``patterns`` chart."""
        self._kind = kind
        self._step_name = step_name or "step"
        self._total = total if total and total > 0 else None
        self._labels = labels
        self._points, self._shown, self._reference, self._bars = [], 0.0, None, []
        self._final, self._progress = None, None
        self._timer.stop()
        if kind == "bars":
            self._sync_two_bars()
        self.update()

    def set_scale(self, scale: float) -> None:
        self._scale = scale
        self.update()

    def add_point(self, step: int, value: float) -> None:
        """A curve's value after ``step`` (a later value for the same step replaces it)."""
        if not math.isfinite(value):
            return
        if self._points and self._points[-1][0] == step:
            self._points[-1] = (step, value)
        else:
            self._points.append((step, value))
        self._animate()

    def set_reference(self, value: float | None) -> None:
        """The unprotected model's accuracy (the dashed line; the grey bar of ``bars``)."""
        self._reference = value if value is not None and math.isfinite(value) else None
        if self._kind == "bars":
            self._sync_two_bars()
        self.update()

    def set_final(self, value: float | None) -> None:
        """The run's final accuracy (the coloured bar of ``bars``)."""
        if self._kind == "bars":
            self._final = value
            self._sync_two_bars()

    def set_progress(self, step: int, total: int) -> None:
        """How far the run is, for a ``bars`` chart whose result comes only at the end."""
        self._progress = (step, total) if total > 0 else None
        self.update()

    def end_progress(self) -> None:
        """The run ended: a bar without a value now means it did not run."""
        self._progress = None
        for bar in self._bars:
            bar.pending = False
        self.update()

    def add_bar(self, bar: Bar) -> None:
        """One more bar (``patterns``)."""
        self._bars.append(bar)
        self._animate()

    def finish_animation(self) -> None:
        """Show everything at once (tests, screenshots)."""
        self._shown = float(len(self._points))
        for bar in self._bars:
            bar.shown = 1.0
        self._timer.stop()
        self.update()

    def _sync_two_bars(self) -> None:
        old = {b.reference: b for b in self._bars}
        bars = []
        for value, reference, label in ((self._final, False, self._labels[0]),
                                        (self._reference, True, self._labels[1])):
            bar = old.get(reference) or Bar(label=label, value=value, reference=reference)
            bar.label, bar.value = label, value
            bar.pending = value is None and (not reference) and (
                old.get(reference).pending if reference in old else True)
            bars.append(bar)
        self._bars = bars
        self._animate()

    # -- animation ---------------------------------------------------------------------------

    def _pending(self) -> bool:
        return self._shown < len(self._points) or any(b.shown < 1.0 for b in self._bars)

    def _animate(self) -> None:
        if self._pending() and self.isVisible() and not self._timer.isActive():
            self._timer.start()
        self.update()

    @Slot()
    def _on_timer_timeout(self) -> None:
        n = len(self._points)
        if self._shown < n:
            self._shown = min(float(n), self._shown + max(1 / 6, (n - self._shown) / 25))
        for bar in self._bars:
            if bar.shown < 1.0:
                bar.shown = min(1.0, bar.shown + 1 / GROW_FRAMES)
        if not self._pending():
            self._timer.stop()
        self.update()

    def showEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        super().showEvent(event)
        self._animate()

    def hideEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        self._timer.stop()
        super().hideEvent(event)

    # -- painting ----------------------------------------------------------------------------

    def _px(self, value: float) -> float:
        return value * self._scale

    def paintEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        if self._kind == "curve":
            self._paint_curve(painter)
        else:
            self._paint_bars(painter)
        painter.end()

    def _plot_rect(self, *, right: float) -> QRectF:
        s = self._px
        return QRectF(s(150), s(70), max(10.0, self.width() - s(150) - s(right)),
                      max(10.0, self.height() - s(70) - s(110)))

    def _y_range(self, values: list[float]) -> tuple[float, float]:
        if not values:
            return 0.5, 1.0
        lo = min(values)
        lo = math.floor((lo - 0.03) * 10) / 10
        return max(0.0, min(lo, 0.8)), 1.0

    def _y_axis(self, painter: QPainter, rect: QRectF, lo: float, hi: float, title: str) -> None:
        s = self._px
        step = 0.2 if hi - lo > 0.6 else 0.1 if hi - lo > 0.3 else 0.05
        painter.setFont(theme.font(s(30)))
        tick = lo
        while tick <= hi + 1e-9:
            y = rect.bottom() - (tick - lo) / (hi - lo) * rect.height()
            painter.setPen(QPen(QColor("#e3e7ec"), s(2)))
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(QRectF(0, y - s(22), rect.left() - s(16), s(44)),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             f"{tick * 100:.0f}%")
            tick += step
        painter.setFont(theme.font(s(30), bold=True))
        painter.setPen(QColor(theme.INK))
        painter.drawText(QRectF(rect.left(), 0, rect.width(), s(52)),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title)

    def _paint_curve(self, painter: QPainter) -> None:
        s = self._px
        rect = self._plot_rect(right=300)
        shown = self._points[: math.ceil(self._shown)]
        values = [v for _, v in self._points] + ([self._reference] if self._reference else [])
        lo, hi = self._y_range(values)
        self._y_axis(painter, rect, lo, hi, "Right answers on test data the model never saw")
        last_step = self._points[-1][0] if self._points else 1
        x_max = float(max(self._total or 0, last_step, 1))

        def at(step: float, value: float) -> QPointF:
            return QPointF(rect.left() + step / x_max * rect.width(),
                           rect.bottom() - (value - lo) / (hi - lo) * rect.height())

        # The x axis: the steps, named by the engine's plan ("round", "epoch", ...).
        painter.setPen(QPen(QColor(theme.MUTED), s(3)))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        painter.setFont(theme.font(s(30)))
        for tick in sorted({0, round(x_max / 2), int(x_max)}):
            p = at(tick, lo)
            painter.drawText(QRectF(p.x() - s(60), rect.bottom() + s(8), s(120), s(40)),
                             Qt.AlignmentFlag.AlignCenter, str(tick))
        painter.setPen(QColor(theme.INK))
        painter.drawText(QRectF(rect.left(), rect.bottom() + s(52), rect.width(), s(50)),
                         Qt.AlignmentFlag.AlignCenter, f"{self._step_name} of training")
        ref_y = at(0, self._reference).y() if self._reference is not None else None
        if ref_y is not None:
            pen = QPen(QColor(theme.REFERENCE), s(5), Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(QPointF(rect.left(), ref_y), QPointF(rect.right(), ref_y))
        if not shown:
            if ref_y is not None:
                self._reference_label(painter, rect, ref_y)
            return
        if not shown:
            return
        path = QPainterPath(at(*shown[0]))
        whole = int(self._shown)
        for step, value in shown[1:whole]:
            path.lineTo(at(step, value))
        end = at(*shown[min(whole, len(shown)) - 1]) if whole else at(*shown[0])
        if whole < len(shown) and whole >= 1:  # the segment being drawn
            a, b = at(*shown[whole - 1]), at(*shown[whole])
            frac = self._shown - whole
            end = a + (b - a) * frac
            path.lineTo(end)
        painter.setPen(QPen(QColor(theme.ACCENT), s(7), Qt.PenStyle.SolidLine,
                            Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        painter.setBrush(QColor(theme.ACCENT))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(end, s(11), s(11))
        value = shown[max(0, min(whole, len(shown)) - 1)][1]
        value_y = end.y()
        if ref_y is not None:
            # The two labels at the right end never overlap: the higher value goes above.
            gap = s(84)
            if abs(value_y - ref_y) < gap:
                mid = (value_y + ref_y) / 2
                up = value >= (self._reference or 0.0)
                value_y, ref_y = (mid - gap / 2, mid + gap / 2) if up else (mid + gap / 2, mid - gap / 2)
            self._reference_label(painter, rect, ref_y)
        painter.setFont(theme.font(s(40), bold=True))
        painter.setPen(QColor(theme.ACCENT))
        painter.drawText(QRectF(rect.right() + s(14), value_y - s(30), s(290), s(60)),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, _pct(value))

    def _reference_label(self, painter: QPainter, rect: QRectF, y: float) -> None:
        s = self._px
        painter.setFont(theme.font(s(28)))
        painter.setPen(QColor(theme.REFERENCE))
        painter.drawText(QRectF(rect.right() + s(14), y - s(40), s(290), s(80)),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         f"no protection {_pct(self._reference or 0.0)}")

    def _paint_bars(self, painter: QPainter) -> None:
        s = self._px
        bars = self._bars
        rect = self._plot_rect(right=40)
        rect.setBottom(rect.bottom() - s(70 if self._kind == "patterns" else 20))
        values = [b.value for b in bars if b.value is not None]
        lo, hi = (0.0, 1.0) if self._kind == "bars" else self._y_range(values)
        self._y_axis(painter, rect, lo, hi, "Right answers on test data the model never saw")
        painter.setPen(QPen(QColor(theme.MUTED), s(3)))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        slots = max(len(bars), 2 if self._kind == "bars" else 5)
        slot_w = rect.width() / slots
        bar_w = min(slot_w * 0.6, s(260))
        for i, bar in enumerate(bars):
            cx = rect.left() + slot_w * (i + 0.5)
            label_rect = QRectF(cx - slot_w / 2 + s(6), rect.bottom() + s(10), slot_w - s(12),
                                self.height() - rect.bottom() - s(10))
            label_font = theme.font(s(28 if self._kind == "patterns" else 34), bold=True)
            painter.setFont(label_font)
            painter.setPen(QColor(theme.INK))
            flags = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap
            used = painter.boundingRect(label_rect, flags, bar.label)
            painter.drawText(label_rect, flags, bar.label)
            if bar.sub:  # e.g. "75× the time", lighter, under the name
                painter.setFont(theme.font(s(26)))
                painter.setPen(QColor(theme.MUTED))
                painter.drawText(label_rect.adjusted(0, used.height(), 0, 0), flags, bar.sub)
            if bar.value is None and bar.pending:
                self._paint_pending(painter, rect, cx, bar_w)
                continue
            if bar.value is None:
                if bar.reference:
                    continue
                painter.setFont(theme.font(s(26)))
                painter.setPen(QColor(theme.MUTED))
                painter.drawText(QRectF(cx - slot_w / 2, rect.bottom() - s(80), slot_w, s(70)),
                                 Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                                 "did not run")
                continue
            height = max(0.0, (bar.value - lo) / (hi - lo)) * rect.height() * _grow(bar.shown)
            body = QRectF(cx - bar_w / 2, rect.bottom() - height, bar_w, height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(theme.REFERENCE if bar.reference else theme.ACCENT))
            painter.drawRoundedRect(body, s(8), s(8))
            painter.setFont(theme.font(s(40 if self._kind == "patterns" else 56), bold=True))
            painter.setPen(QColor(theme.REFERENCE if bar.reference else theme.ACCENT))
            painter.drawText(QRectF(cx - slot_w / 2, body.top() - s(70), slot_w, s(64)),
                             Qt.AlignmentFlag.AlignCenter, _pct(bar.value))


    def _paint_pending(self, painter: QPainter, rect: QRectF, cx: float, bar_w: float) -> None:
        """A bar still to come: a dashed outline filling up with the run's progress."""
        s = self._px
        box = QRectF(cx - bar_w / 2, rect.top(), bar_w, rect.height())
        step, total = self._progress or (0, 0)
        if total:
            fill = QRectF(box.left(), box.bottom() - box.height() * min(1.0, step / total),
                          box.width(), box.height() * min(1.0, step / total))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#e3ebf6"))
            painter.drawRoundedRect(fill, s(8), s(8))
        pen = QPen(QColor(theme.ACCENT), s(3), Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(box, s(8), s(8))
        painter.setFont(theme.font(s(30), bold=True))
        painter.setPen(QColor(theme.ACCENT))
        text = f"training…\n{step} of {total}" if total else "starting…"
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)


def _grow(t: float) -> float:
    """Ease out: bars shoot up, then settle."""
    t = min(1.0, max(0.0, t))
    return 1 - (1 - t) ** 3
