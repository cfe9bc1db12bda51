"""Rich text that fits its box: the largest font size (up to a maximum) at which it all shows.

A slide cannot scroll. :class:`FitTextWidget` lays its HTML out with a QTextDocument at the
widget's width and picks, by bisection, the largest pixel size between ``min_px`` and
``max_px`` whose layout fits the height (at ``min_px`` it is drawn anyway, clipped). Relative
sizes inside the HTML (``<big>``, headings) scale with it.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QPainter,
    QPalette,
    QTextDocument,
    QTextOption,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from ppml_lab.ui.presenter import qt_theme as theme

#: An HTML style attribute, and a length in em inside one.
_STYLE = re.compile(r"style=(['\"]).*?\1")
_EM = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)em\b")


class FitTextWidget(QWidget):
    """HTML drawn at the largest size that fits.

    Parameters
    ----------
    max_px, min_px : float
        The largest and smallest font size in pixels at scale 1 (see :meth:`set_scale`).
    align : Qt.AlignmentFlag
        Horizontal alignment of the text, and vertical placement of the block (top or centre).
    color : str
        The default text colour.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        max_px: float = theme.BODY_PX,
        min_px: float = theme.HINT_PX,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
        color: str = theme.INK,
        bold: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._html = ""
        self._max_px, self._min_px = float(max_px), float(min_px)
        self._scale = 1.0
        self._align = align
        self._color = color
        self._bold = bold
        self._doc = QTextDocument(self)
        self._doc.setDocumentMargin(0)
        self._fitted_px = 0.0
        self._fitted_for: tuple[int, int, str, float] | None = None

    # -- public ------------------------------------------------------------------------------

    def set_html(self, html_text: str) -> None:
        self._html = html_text
        self._fitted_for = None
        self.setVisible(bool(html_text))
        self.update()

    def html(self) -> str:
        return self._html

    def plain_text(self) -> str:
        """The text as shown (for tests and accessibility)."""
        self._fit()
        return self._doc.toPlainText()

    def set_scale(self, scale: float) -> None:
        if abs(scale - self._scale) > 1e-6:
            self._scale = scale
            self._fitted_for = None
            self.update()

    @property
    def fitted_px(self) -> float:
        """The font size the text is drawn at (pixels); 0 before the first layout."""
        self._fit()
        return self._fitted_px

    def fits(self) -> bool:
        """Whether the whole text shows (it does unless even ``min_px`` is too large)."""
        self._fit()
        return self._doc.size().height() <= self.height() + 1

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(200, 40)

    # -- layout --------------------------------------------------------------------------------

    def _layout(self, px: float) -> float:
        self._doc.setDefaultFont(theme.font(px, bold=self._bold))
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WordWrap)
        horizontal = self._align & Qt.AlignmentFlag.AlignHorizontal_Mask
        option.setAlignment(horizontal)
        self._doc.setDefaultTextOption(option)
        self._doc.setDefaultStyleSheet(f"body {{ color: {self._color}; }}")
        # Qt's rich text ignores em in style sheets: make them pixels at this size.
        html_text = _STYLE.sub(
            lambda st: _EM.sub(lambda m: f"{float(m.group(1)) * px:.0f}px", st.group(0)),
            self._html)
        self._doc.setHtml(f"<body>{html_text}</body>")
        self._doc.setTextWidth(max(10, self.width()))
        if self._doc.idealWidth() > self.width() + 1:  # a word longer than the line: too big
            return float("inf")
        return self._doc.size().height()

    def _fit(self) -> None:
        key = (self.width(), self.height(), self._html, self._scale)
        if self._fitted_for == key:
            return
        self._fitted_for = key
        hi, lo = self._max_px * self._scale, max(6.0, self._min_px * self._scale)
        height = max(1, self.height())
        if self._layout(hi) <= height:
            self._fitted_px = hi
            return
        best = lo
        for _ in range(9):  # bisection to about half a pixel
            mid = (lo + hi) / 2
            if self._layout(mid) <= height:
                best, lo = mid, mid
            else:
                hi = mid
        self._layout(best)
        self._fitted_px = best

    # -- painting ----------------------------------------------------------------------------

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        self._fitted_for = None
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        if not self._html:
            return
        self._fit()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        top = 0.0
        if self._align & Qt.AlignmentFlag.AlignVCenter:
            top = max(0.0, (self.height() - self._doc.size().height()) / 2)
        elif self._align & Qt.AlignmentFlag.AlignBottom:
            top = max(0.0, self.height() - self._doc.size().height())
        painter.translate(0, top)
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, theme.color(self._color))
        context.clip = QRectF(0, 0, self.width(), self.height() - top)
        self._doc.documentLayout().draw(painter, context)
        painter.end()
