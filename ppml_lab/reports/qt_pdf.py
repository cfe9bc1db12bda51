"""Print a report to PDF with Qt's own PDF writer: ``QTextDocument`` for the text, ``QPainter``
for the charts, both straight onto a ``QPdfWriter`` page.

Why this path: PySide6 is already the application's toolkit (no new dependency, nothing to
bundle), ``QPdfWriter`` writes vector PDF with embedded, searchable fonts, ``QTextDocument``
lays out and paginates rich text (tables whose header row repeats on every page, lists, page
breaks), and a chart inserted as a custom text object (``QPyTextObject``) is drawn by QPainter on
the PDF page itself, so it stays vector at any zoom. QtGui only: it runs headless (see
:func:`ensure_gui_application`).

The pages are printed by hand rather than with ``QTextDocument.print_`` to add what a report
needs: a running header from page 2, "Page n of N" in every footer, a table of contents with page
numbers (a first layout finds the pages), headings never left alone at the bottom of a page, and
page 1 kept to one page (its chart is made smaller if the words need the room).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QPyTextObject,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextOption,
)

from ppml_lab import __version__
from ppml_lab.reports.html import CSS, chart_marker, heading_text, to_html
from ppml_lab.reports.model import Chart, Report
from ppml_lab.reports.qt_charts import chart_height, draw_chart, plain_font

__all__ = ["PAPERS", "PdfResult", "ReportWriteError", "ensure_gui_application", "write_pdf"]

#: Paper sizes by name.
PAPERS = {"a4": QPageSize.PageSizeId.A4, "letter": QPageSize.PageSizeId.Letter}
#: Device resolution of the layout (the PDF is vector; this only sets the coordinate grid).
RESOLUTION = 600
_MARGINS_MM = QMarginsF(18, 14, 18, 14)
_BAND_PT = 22.0  # header and footer bands, in points
#: Blocks (paragraphs, list items, table cells) after a heading that must be on its page, when
#: the heading is in the lowest part of a page (below this share of its height).
_KEEP_BLOCKS = 6
_LOW_ON_PAGE = 0.6
_CHART_OBJECT = QTextFormat.ObjectTypes.UserObject + 1
_CHART_INDEX = QTextFormat.Property.UserProperty + 1
_APP: QGuiApplication | None = None


class ReportWriteError(OSError):
    """The PDF could not be written (the message says where and why)."""


@dataclass(frozen=True)
class PdfResult:
    """What :func:`write_pdf` wrote: the path, the number of pages and the seconds it took."""

    path: Path
    pages: int
    seconds: float
    summary_pages: int


def ensure_gui_application() -> QGuiApplication:
    """The running Qt application, or a new headless one.

    In the window this is its QApplication. Headless (the CLI, a script), a QGuiApplication is
    created with the "offscreen" platform when there is no display to talk to, so reports work
    on servers and in CI.
    """
    global _APP
    app = QCoreApplication.instance()
    if app is not None:
        if not isinstance(app, QGuiApplication):
            raise RuntimeError("reports need a QGuiApplication; a QCoreApplication is running")
        return app
    args = ["ppml-lab"]
    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if "QT_QPA_PLATFORM" not in os.environ and (
        no_display and not sys.platform.startswith(("win", "darwin"))
    ):
        args += ["-platform", "offscreen"]
    _APP = QGuiApplication(args)
    return _APP


class _ChartObject(QPyTextObject):
    """Draws the chart whose index a text object carries, at the document's width."""

    def __init__(self, charts: list[Chart], scale: float, shrink: float) -> None:
        super().__init__()
        self.charts, self.scale, self.shrink = charts, scale, shrink

    def _chart(self, fmt: QTextFormat) -> tuple[Chart, float]:
        index = int(fmt.property(_CHART_INDEX))
        return self.charts[index], (self.shrink if index == 0 else 1.0)

    def intrinsicSize(self, doc: QTextDocument, pos: int, fmt: QTextFormat) -> QSizeF:  # noqa: N802
        chart, compact = self._chart(fmt)
        width = doc.pageSize().width() * 0.99
        return QSizeF(width, chart_height(chart, width, self.scale, compact))

    def drawObject(self, painter: QPainter, rect: QRectF, doc: QTextDocument, pos: int,  # noqa: N802
                   fmt: QTextFormat) -> None:
        chart, compact = self._chart(fmt)
        draw_chart(painter, rect, chart, self.scale, compact)


@dataclass
class _Layout:
    doc: QTextDocument
    handler: _ChartObject
    body: QSizeF
    headings: dict[int, int]  # section number -> page (1-based)
    summary_pages: int


def _body_font() -> QFont:
    font = plain_font()
    font.setPointSizeF(10.0)
    return font


def _page_of(doc: QTextDocument, block: Any, height: float) -> int:
    top = doc.documentLayout().blockBoundingRect(block).top()
    return int(top // height) + 1


def _layout(report: Report, writer: QPdfWriter, toc: dict[int, int] | None,
            shrink: float) -> _Layout:
    html, charts = to_html(report, toc)
    scale = writer.resolution() / 72.0
    paint = writer.pageLayout().paintRectPixels(writer.resolution())
    band = _BAND_PT * scale
    body = QSizeF(paint.width(), paint.height() - 2 * band)
    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(writer)
    doc.setDefaultFont(_body_font())
    doc.setDefaultStyleSheet(CSS)
    doc.setDocumentMargin(0)
    option = doc.defaultTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    doc.setDefaultTextOption(option)
    doc.setHtml(html)
    handler = _ChartObject(charts, scale, shrink)
    doc.documentLayout().registerHandler(_CHART_OBJECT, handler)
    for index in range(len(charts)):
        cursor = doc.find(chart_marker(index))
        if cursor.isNull():
            continue
        fmt = QTextCharFormat()
        fmt.setObjectType(_CHART_OBJECT)
        fmt.setProperty(_CHART_INDEX, index)
        cursor.insertText("\ufffc", fmt)
    # The page size last: setting it lays the whole document out again. Edits after a layout
    # (inserting the charts) are laid out lazily and may be skipped when printing.
    doc.setPageSize(body)
    _keep_headings_with_text(doc, body)
    headings: dict[int, int] = {}
    contents_page = 0
    titles = {heading_text(n, s.title): n for n, s in enumerate(report.sections, 1)}
    block = doc.begin()
    while block.isValid():
        if block.blockFormat().headingLevel() == 2:
            text = block.text().strip()
            if text == "Contents" and not contents_page:
                contents_page = _page_of(doc, block, body.height())
            elif text in titles:
                headings[titles[text]] = _page_of(doc, block, body.height())
        block = block.next()
    summary_pages = (contents_page - 1) if contents_page else doc.pageCount()
    return _Layout(doc, handler, body, headings, summary_pages)


def _keep_headings_with_text(doc: QTextDocument, body: QSizeF, rounds: int = 12) -> None:
    """Move a heading left alone at the bottom of a page to the next page (a few rounds: each
    move can shift the pages after it).
    """
    height = body.height()
    for _ in range(rounds):
        moved = False
        block = doc.begin()
        while block.isValid():
            if block.blockFormat().headingLevel() not in (2, 3, 4):
                block = block.next()
                continue
            # A run of headings (a section's title and its first sub-heading) moves as one, with
            # at least the first few lines (or table cells) of what follows.
            text = block.next()
            while text.isValid() and text.blockFormat().headingLevel() in (2, 3, 4):
                text = text.next()
            ahead, last = text, text
            for _ in range(_KEEP_BLOCKS):
                if not ahead.isValid() or ahead.blockFormat().headingLevel():
                    break
                last, ahead = ahead, ahead.next()
            policy = block.blockFormat().pageBreakPolicy()
            already = bool(policy & QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
            top = doc.documentLayout().blockBoundingRect(block).top() % height
            if (text.isValid() and not already and top > _LOW_ON_PAGE * height
                    and _page_of(doc, last, height) > _page_of(doc, block, height)):
                fmt = QTextBlockFormat(block.blockFormat())
                fmt.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
                QTextCursor(block).setBlockFormat(fmt)
                doc.setPageSize(QSizeF())  # a full layout again (see _layout)
                doc.setPageSize(body)
                moved = True
                break
            block = text
        if not moved:
            return


def _paint_bands(p: QPainter, report: Report, page: int, pages: int, width: float,
                 body_height: float, scale: float, made: str) -> None:
    band = _BAND_PT * scale
    font = plain_font()
    font.setPixelSize(round(7.5 * scale))
    p.setFont(font)
    fm = QFontMetricsF(font)
    muted = QColor("#5f6368")
    rule = QPen(QColor("#c5ccd6"))
    rule.setWidthF(0.5 * scale)
    if page > 1:
        p.setPen(muted)
        header = QRectF(0, 0, width, band - 6 * scale)
        title = fm.elidedText(report.running_title or report.title, Qt.TextElideMode.ElideRight,
                              width * 0.7)
        p.drawText(header, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom), title)
        p.drawText(header, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom),
                   "PPML Lab privacy report")
        p.setPen(rule)
        p.drawLine(0, int(band - 3 * scale), int(width), int(band - 3 * scale))
    top = band + body_height
    p.setPen(rule)
    p.drawLine(0, int(top + 3 * scale), int(width), int(top + 3 * scale))
    footer = QRectF(0, top + 6 * scale, width, band - 6 * scale)
    p.setPen(muted)
    p.drawText(footer, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop),
               f"Made with PPML Lab {__version__} · {made}")
    if report.contains_records:
        p.setPen(QColor("#b3261e"))
        p.drawText(footer, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop),
                   "CONTAINS RAW RECORDS")
        p.setPen(muted)
    p.drawText(footer, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop),
               f"Page {page} of {pages}")


def _writable_temp(out: Path) -> Path:
    """A temporary file next to ``out`` (so the final move is atomic), or ReportWriteError."""
    if out.exists() and out.is_dir():
        raise ReportWriteError(f"cannot write the report to {out}: it is a folder")
    if not out.parent.is_dir():
        raise ReportWriteError(f"cannot write the report to {out}: the folder {out.parent} "
                               "does not exist")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb"):
            pass
    except OSError as exc:
        raise ReportWriteError(f"cannot write the report to {out}: "
                               f"{(exc.strerror or str(exc)).lower()}") from None
    return tmp


def write_pdf(report: Report, path: str | Path, *, paper: str = "a4") -> PdfResult:
    """Print ``report`` to a PDF file at ``path`` (written atomically).

    Parameters
    ----------
    paper : {"a4", "letter"}
        The paper size.

    Raises
    ------
    ValueError
        For an unknown paper size.
    ReportWriteError
        When the file cannot be written (the folder is missing, no permission, ...).
    """
    t0 = time.perf_counter()
    key = str(paper).lower()
    if key not in PAPERS:
        raise ValueError(f"unknown paper size {paper!r}; choose one of: {', '.join(PAPERS)}")
    ensure_gui_application()
    out = Path(path)
    tmp = _writable_temp(out)
    try:
        writer = QPdfWriter(str(tmp))
        writer.setResolution(RESOLUTION)
        writer.setPageLayout(QPageLayout(QPageSize(PAPERS[key]), QPageLayout.Orientation.Portrait,
                                         _MARGINS_MM, QPageLayout.Unit.Millimeter))
        writer.setTitle(report.title)
        writer.setCreator(f"PPML Lab {__version__}")
        layout = None
        for shrink in (1.0, 0.8, 0.62, 0.45):
            layout = _layout(report, writer, None, shrink)
            if layout.summary_pages <= 1:
                break
        assert layout is not None
        shrink = layout.handler.shrink
        for _ in range(3):  # the page numbers in the contents take no more room than "00"
            final = _layout(report, writer, layout.headings, shrink)
            if final.headings == layout.headings:
                break
            layout = final
        layout = final
        made = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
        scale = writer.resolution() / 72.0
        band = _BAND_PT * scale
        pages = layout.doc.pageCount()
        painter = QPainter()
        if not painter.begin(writer):
            raise ReportWriteError(f"cannot write the report to {out}: the PDF writer refused it")
        try:
            for index in range(pages):
                if index:
                    writer.newPage()
                top = index * layout.body.height()
                painter.save()
                painter.translate(0, band - top)
                clip = QRectF(0, top, layout.body.width(), layout.body.height())
                painter.setClipRect(clip)
                context = QAbstractTextDocumentLayout.PaintContext()
                context.clip = clip
                layout.doc.documentLayout().draw(painter, context)
                painter.restore()
                _paint_bands(painter, report, index + 1, pages, layout.body.width(),
                             layout.body.height(), scale, made)
        finally:
            painter.end()
        del writer
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return PdfResult(out, pages, time.perf_counter() - t0, layout.summary_pages)
