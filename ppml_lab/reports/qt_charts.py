"""Draw a report's charts (:class:`~ppml_lab.reports.model.Chart`) with QPainter, as vectors.

QtGui only (no widgets), so it runs headless. The PDF renderer calls :func:`draw_chart` with a
painter on the PDF page: lines, bars and text stay vector graphics and real text at any zoom.
Sizes are given in points and multiplied by ``scale`` (device pixels per point).

Every label sits in the legend or beside its bar, never on top of the data, so nothing covers
anything whatever the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen

from ppml_lab.reports.model import Chart, RefLine, Series

__all__ = ["FONT_FAMILIES", "chart_height", "draw_chart", "plain_font"]

#: Font families in order of preference (the first one installed is used).
FONT_FAMILIES = ["Noto Sans", "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"]
_TEXT = QColor("#1f2933")
_MUTED = QColor("#5f6368")
_GRID = QColor("#e3e6ea")
_AXIS = QColor("#9aa0a6")

# Sizes in points.
_TITLE_PT, _LABEL_PT, _TICK_PT, _LEGEND_PT = 9.5, 8.0, 7.5, 7.5
_BAR_ROW, _BAR_THICK = 22.0, 12.0
_PAD = 4.0


def plain_font() -> QFont:
    """The reports' font: the first installed of :data:`FONT_FAMILIES`, without ligatures, so
    the PDF's text reads back letter for letter ("ff", not "ﬀ": search and copy work).
    """
    font = QFont()
    font.setFamilies(FONT_FAMILIES)
    for tag in ("liga", "clig"):
        found = QFont.Tag.fromString(tag)
        if found is not None:
            font.setFeature(found, 0)
    return font


def _font(pt: float, scale: float, *, bold: bool = False) -> QFont:
    font = plain_font()
    # Pixel sizes in the painter's device units, so the text is the same size on any device.
    font.setPixelSize(max(1, round(pt * scale)))
    font.setBold(bold)
    return font


def _pen(color: str | QColor, width_pt: float, scale: float, *, dashed: bool = False) -> QPen:
    pen = QPen(QColor(color))
    pen.setWidthF(width_pt * scale)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    if dashed:
        pen.setStyle(Qt.PenStyle.CustomDashLine)
        pen.setDashPattern([4.0, 3.0])
    return pen


def _fmt_tick(value: float, percent: bool, log: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    if log:
        return f"{value:g}×" if value >= 1 else f"{value:g}×"
    return f"{value:g}"


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step - 1e-9) * step
    ticks = []
    v = start
    while v <= hi + step * 1e-6:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _log_ticks(lo: float, hi: float) -> list[float]:
    return [10.0 ** e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
            if lo * 0.999 <= 10.0 ** e <= hi * 1.001]


class _Axis:
    """Maps data values to device coordinates along one axis."""

    def __init__(self, lo: float, hi: float, a: float, b: float, log: bool) -> None:
        self.log = log
        self.lo, self.hi = (math.log10(lo), math.log10(hi)) if log else (lo, hi)
        if self.hi <= self.lo:
            self.hi = self.lo + 1.0
        self.a, self.b = a, b

    def __call__(self, v: float) -> float:
        x = math.log10(max(v, 1e-300)) if self.log else v
        return self.a + (x - self.lo) / (self.hi - self.lo) * (self.b - self.a)


# -- legend ----------------------------------------------------------------------------------------


def _legend_items(chart: Chart) -> list[tuple[str, str, bool, bool]]:
    """(text, colour, dashed, marker-only) for every series and reference line."""
    items = [(s.name, s.color, s.dashed, s.points_only) for s in chart.series if s.name]
    items += [(line.label, line.color, line.dashed, False) for line in chart.lines if line.label]
    if chart.diagonal:
        items.append(("a coin toss (guessing)", "#9aa0a6", True, False))
    return items


def _legend_rows(items: list[tuple[str, str, bool, bool]], width: float, scale: float
                 ) -> list[list[tuple[str, str, bool, bool, float]]]:
    fm = QFontMetricsF(_font(_LEGEND_PT, scale))
    sample, gap = 18 * scale, 12 * scale
    rows: list[list[tuple[str, str, bool, bool, float]]] = [[]]
    used = 0.0
    for text, color, dashed, dots in items:
        w = sample + 4 * scale + fm.horizontalAdvance(text)
        if rows[-1] and used + w > width:
            rows.append([])
            used = 0.0
        rows[-1].append((text, color, dashed, dots, w))
        used += w + gap
    return [r for r in rows if r]


def _draw_legend(p: QPainter, rows: list[list[tuple[str, str, bool, bool, float]]], x: float,
                 y: float, scale: float) -> float:
    font = _font(_LEGEND_PT, scale)
    fm = QFontMetricsF(font)
    line_h = fm.height() * 1.25
    p.setFont(font)
    for row in rows:
        cx = x
        mid = y + line_h / 2
        for text, color, dashed, dots, w in row:
            if dots:
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QBrush(QColor(color)))
                p.drawEllipse(QPointF(cx + 9 * scale, mid), 2.2 * scale, 2.2 * scale)
            else:
                p.setPen(_pen(color, 1.6, scale, dashed=dashed))
                p.drawLine(QPointF(cx, mid), QPointF(cx + 18 * scale, mid))
            p.setPen(_TEXT)
            p.drawText(QRectF(cx + 22 * scale, y, w, line_h),
                       int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)
            cx += w + 12 * scale
        y += line_h
    return y


# -- sizes -----------------------------------------------------------------------------------------


def _title_height(scale: float) -> float:
    return QFontMetricsF(_font(_TITLE_PT, scale, bold=True)).height() + _PAD * scale


def _bar_label_width(chart: Chart, width: float, scale: float) -> float:
    fm = QFontMetricsF(_font(_LABEL_PT, scale))
    small = QFontMetricsF(_font(_TICK_PT, scale))
    widest = max([fm.horizontalAdvance(b.label) for b in chart.bars]
                 + [small.horizontalAdvance(b.note) for b in chart.bars if b.note] + [0.0])
    return min(widest + 8 * scale, width * 0.42)


def chart_height(chart: Chart, width: float, scale: float, compact: float = 1.0) -> float:
    """The height (device pixels) the chart needs at ``width``; ``compact`` < 1 makes the plot
    (the bars' rows, the lines' area) that much shorter, with text of the same size.
    """
    tick_h = QFontMetricsF(_font(_TICK_PT, scale)).height()
    legend = _legend_rows(_legend_items(chart), width, scale)
    legend_h = len(legend) * QFontMetricsF(_font(_LEGEND_PT, scale)).height() * 1.25
    if chart.kind == "bars":
        axis = tick_h * 2.4 + _PAD * scale
        return _title_height(scale) + len(chart.bars) * _bar_row(compact) * scale + axis \
            + legend_h + _PAD * scale
    return _title_height(scale) + legend_h + width * chart.aspect * compact + _PAD * scale


def _bar_row(compact: float) -> float:
    """A bar's row height in points (never less than its label needs)."""
    return max(_BAR_ROW * compact, 17.0)


# -- drawing ---------------------------------------------------------------------------------------


def draw_chart(p: QPainter, rect: QRectF, chart: Chart, scale: float,
               compact: float = 1.0) -> None:
    """Draw ``chart`` into ``rect`` (device pixels); ``scale`` is device pixels per point and
    ``compact`` as for :func:`chart_height`.
    """
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setFont(_font(_TITLE_PT, scale, bold=True))
    p.setPen(_TEXT)
    title_h = _title_height(scale)
    p.drawText(QRectF(rect.left(), rect.top(), rect.width(), title_h),
               int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), chart.title)
    body = QRectF(rect.left(), rect.top() + title_h, rect.width(), rect.height() - title_h)
    if chart.kind == "bars":
        _draw_bars(p, body, chart, scale, compact)
    else:
        _draw_lines(p, body, chart, scale)
    p.restore()


def _bar_range(chart: Chart) -> tuple[float, float]:
    if chart.x_range is not None:
        return chart.x_range
    values = [b.value for b in chart.bars] + [line.value for line in chart.lines]
    hi = max(values + [1e-9])
    if chart.x_log:
        lo = min(v for v in values if v > 0)
        return 10 ** math.floor(math.log10(lo)), 10 ** math.ceil(math.log10(hi))
    return 0.0, hi * 1.1


def _draw_bars(p: QPainter, rect: QRectF, chart: Chart, scale: float, compact: float) -> None:
    label_w = _bar_label_width(chart, rect.width(), scale)
    value_font = _font(_LABEL_PT, scale, bold=True)
    value_w = QFontMetricsF(value_font).horizontalAdvance("100.0%  ") + 4 * scale
    left, right = rect.left() + label_w, rect.right() - value_w
    lo, hi = _bar_range(chart)
    axis = _Axis(lo, hi, left, right, chart.x_log)
    row = _bar_row(compact) * scale
    top = rect.top()
    bottom = top + row * len(chart.bars)
    ticks = _log_ticks(lo, hi) if chart.x_log else _nice_ticks(lo, hi)
    tick_font = _font(_TICK_PT, scale)
    tick_h = QFontMetricsF(tick_font).height()
    # Grid and ticks.
    p.setFont(tick_font)
    for t in ticks:
        x = axis(t)
        p.setPen(_pen(_GRID, 0.6, scale))
        p.drawLine(QPointF(x, top), QPointF(x, bottom))
        p.setPen(_MUTED)
        p.drawText(QRectF(x - 30 * scale, bottom + 2 * scale, 60 * scale, tick_h),
                   int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
                   _fmt_tick(t, chart.percent, chart.x_log))
    if chart.x_label:
        p.drawText(QRectF(left, bottom + 2 * scale + tick_h, right - left, tick_h * 1.2),
                   int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), chart.x_label)
    label_font, note_font = _font(_LABEL_PT, scale), _font(_TICK_PT, scale)
    for i, bar in enumerate(chart.bars):
        y = top + i * row
        mid = y + row / 2
        thick = _BAR_THICK * scale
        p.setFont(label_font)
        p.setPen(_TEXT)
        label_rect = QRectF(rect.left(), y, label_w - 8 * scale, row)
        if bar.note:
            p.drawText(QRectF(label_rect.left(), y, label_rect.width(), row / 2 + 1 * scale),
                       int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom),
                       _elide(bar.label, label_font, label_rect.width()))
            p.setFont(note_font)
            p.setPen(_MUTED)
            p.drawText(QRectF(label_rect.left(), mid, label_rect.width(), row / 2),
                       int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
                       _elide(bar.note, note_font, label_rect.width()))
        else:
            p.drawText(label_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                       _elide(bar.label, label_font, label_rect.width()))
        x0 = axis(lo if chart.x_log else max(lo, 0.0))
        x1 = axis(min(max(bar.value, lo), hi))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(QColor(bar.color)))
        p.drawRect(QRectF(x0, mid - thick / 2, max(x1 - x0, 0.8 * scale), thick))
        if bar.text:
            p.setFont(value_font)
            p.setPen(_TEXT)
            p.drawText(QRectF(x1 + 4 * scale, y, value_w, row),
                       int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), bar.text)
    p.setPen(_pen(_AXIS, 0.8, scale))
    p.drawLine(QPointF(left, top), QPointF(left, bottom))
    for line in chart.lines:
        if line.vertical and lo <= line.value <= hi:
            p.setPen(_pen(line.color, 1.4, scale, dashed=line.dashed))
            p.drawLine(QPointF(axis(line.value), top), QPointF(axis(line.value), bottom))
    legend = _legend_rows(_legend_items(chart), rect.width() - label_w, scale)
    _draw_legend(p, legend, left, bottom + tick_h * 2.3 + _PAD * scale, scale)


def _elide(text: str, font: QFont, width: float) -> str:
    return QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, width)


def _series_range(values: Sequence[float], lines: Sequence[float], fixed: tuple[float, float] | None,
                  *, log: bool, percent: bool) -> tuple[float, float]:
    if fixed is not None:
        return fixed
    vals = [v for v in (*values, *lines) if math.isfinite(v) and (v > 0 or not log)]
    if not vals:
        return (0.1, 10.0) if log else (0.0, 1.0)
    lo, hi = min(vals), max(vals)
    if log:
        return lo / 1.6, hi * 1.6
    span = hi - lo or max(abs(hi), 1e-3) * 0.2
    lo, hi = lo - span * 0.08, hi + span * 0.08
    if percent:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return lo, hi


def line_x_ticks(chart: Chart, x_lo: float, x_hi: float) -> list[tuple[float, str]]:
    """The ticks of a line chart's x axis: the chart's own, decades on a log axis, else round
    numbers; a linear axis without a fixed range counts steps (epochs, rounds), so whole numbers
    only (a 2-round run reads "1, 2", not "1, 1.2, 1.4 ...").
    """
    if chart.x_ticks:
        return [(v, t) for v, t in chart.x_ticks]
    if chart.x_log:
        return [(v, f"{v:g}") for v in _log_ticks(x_lo, x_hi)]
    return [(v, _fmt_tick(v, False, False)) for v in _nice_ticks(x_lo, x_hi, 6)
            if chart.x_range is not None or v == int(v)]


def _draw_lines(p: QPainter, rect: QRectF, chart: Chart, scale: float) -> None:
    legend = _legend_rows(_legend_items(chart), rect.width(), scale)
    y = _draw_legend(p, legend, rect.left(), rect.top(), scale)
    tick_font = _font(_TICK_PT, scale)
    fm = QFontMetricsF(tick_font)
    tick_h = fm.height()
    xs = [v for s in chart.series for v in s.x]
    ys = [v for s in chart.series for v in s.y]
    ys += [s.y[i] + e for s in chart.series for i, e in enumerate(s.errors) if i < len(s.y)]
    ys += [s.y[i] - e for s in chart.series for i, e in enumerate(s.errors) if i < len(s.y)]
    hlines = [line for line in chart.lines if not line.vertical]
    vlines = [line for line in chart.lines if line.vertical]
    y_lo, y_hi = _series_range(ys, [line.value for line in hlines], chart.y_range, log=chart.y_log,
                               percent=chart.percent)
    x_lo, x_hi = _series_range(xs, [line.value for line in vlines], chart.x_range, log=chart.x_log,
                               percent=False)
    if not chart.x_log and chart.x_range is None and xs:
        x_lo, x_hi = min(xs + [line.value for line in vlines]), max(xs + [line.value
                                                                          for line in vlines])
        if x_hi <= x_lo:
            x_lo, x_hi = x_lo - 1, x_hi + 1
    y_ticks = _log_ticks(y_lo, y_hi) if chart.y_log else _nice_ticks(y_lo, y_hi)
    y_labels = [_fmt_tick(t, chart.percent, False) for t in y_ticks]
    label_w = max([fm.horizontalAdvance(t) for t in y_labels] + [0.0]) + 6 * scale
    axis_title_w = tick_h * 1.3 if chart.y_label else 0.0
    plot = QRectF(rect.left() + axis_title_w + label_w, y + 4 * scale,
                  rect.width() - axis_title_w - label_w - 6 * scale,
                  rect.bottom() - y - 4 * scale - tick_h * 2.6)
    ax = _Axis(x_lo, x_hi, plot.left(), plot.right(), chart.x_log)
    ay = _Axis(y_lo, y_hi, plot.bottom(), plot.top(), chart.y_log)
    p.setFont(tick_font)
    for t, text in zip(y_ticks, y_labels):
        if not y_lo - 1e-12 <= t <= y_hi + 1e-12:
            continue
        py = ay(t)
        p.setPen(_pen(_GRID, 0.6, scale))
        p.drawLine(QPointF(plot.left(), py), QPointF(plot.right(), py))
        p.setPen(_MUTED)
        p.drawText(QRectF(plot.left() - label_w, py - tick_h / 2, label_w - 4 * scale, tick_h),
                   int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text)
    for v, text in line_x_ticks(chart, x_lo, x_hi):
        if not x_lo - 1e-12 <= v <= x_hi + 1e-12:
            continue
        px = ax(v)
        p.setPen(_pen(_GRID, 0.6, scale))
        p.drawLine(QPointF(px, plot.top()), QPointF(px, plot.bottom()))
        p.setPen(_MUTED)
        p.drawText(QRectF(px - 30 * scale, plot.bottom() + 2 * scale, 60 * scale, tick_h),
                   int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), text)
    if chart.x_label:
        p.drawText(QRectF(plot.left(), plot.bottom() + 2 * scale + tick_h, plot.width(),
                          tick_h * 1.3),
                   int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), chart.x_label)
    if chart.y_label:
        p.save()
        p.translate(rect.left(), plot.center().y())
        p.rotate(-90)
        p.drawText(QRectF(-plot.height() / 2, 0, plot.height(), axis_title_w),
                   int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), chart.y_label)
        p.restore()
    p.setPen(_pen(_AXIS, 0.8, scale))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRect(plot)
    p.save()
    # Intersect, never replace: the page's own clip must still hold (a chart split by a page
    # boundary would otherwise draw into the footer of the page before).
    p.setClipRect(plot.adjusted(-3 * scale, -3 * scale, 3 * scale, 3 * scale),
                  Qt.ClipOperation.IntersectClip)
    if chart.diagonal:
        p.setPen(_pen("#9aa0a6", 1.0, scale, dashed=True))
        p.drawLine(QPointF(ax(x_lo), ay(max(x_lo, y_lo))), QPointF(ax(x_hi), ay(min(x_hi, y_hi))))
    for line in chart.lines:
        _draw_ref_line(p, line, ax, ay, plot, scale)
    for series in chart.series:
        _draw_series(p, series, ax, ay, scale)
    p.restore()


def _draw_ref_line(p: QPainter, line: RefLine, ax: _Axis, ay: _Axis, plot: QRectF,
                   scale: float) -> None:
    p.setPen(_pen(line.color, 1.3, scale, dashed=line.dashed))
    if line.vertical:
        x = ax(line.value)
        p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
    else:
        y = ay(line.value)
        p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))


def _draw_series(p: QPainter, s: Series, ax: _Axis, ay: _Axis, scale: float) -> None:
    pts = [QPointF(ax(x), ay(y)) for x, y in zip(s.x, s.y) if math.isfinite(x) and math.isfinite(y)]
    if not pts:
        return
    color = QColor(s.color)
    if s.errors:
        p.setPen(_pen(color, 0.9, scale))
        cap = 3 * scale
        for x, y, e in zip(s.x, s.y, s.errors):
            if not (e and math.isfinite(e)):
                continue
            px, top, bottom = ax(x), ay(y + e), ay(y - e)
            p.drawLine(QPointF(px, top), QPointF(px, bottom))
            p.drawLine(QPointF(px - cap, top), QPointF(px + cap, top))
            p.drawLine(QPointF(px - cap, bottom), QPointF(px + cap, bottom))
    if not s.points_only and len(pts) > 1:
        path = QPainterPath(pts[0])
        for pt in pts[1:]:
            path.lineTo(pt)
        p.setPen(_pen(color, s.width, scale, dashed=s.dashed))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
    if s.markers or s.points_only:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(color))
        r = (2.0 if s.points_only else 2.4) * scale
        for pt in pts:
            p.drawEllipse(pt, r, r)
