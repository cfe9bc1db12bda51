"""The report model as HTML (Qt's rich-text subset), with a marker where each chart goes.

Pure text work, no Qt: :mod:`.qt_pdf` lays the HTML out with ``QTextDocument``, puts each chart
(drawn as vectors) where its marker is, and prints the pages. One style sheet (:data:`CSS`) gives
every report the same typography.
"""

from __future__ import annotations

import html
from collections.abc import Mapping

from ppml_lab.reports.model import (
    Block,
    Bullets,
    Callout,
    Chart,
    Paragraph,
    Preformatted,
    Report,
    Table,
)

__all__ = ["CSS", "chart_marker", "heading_text", "to_html"]

CSS = """
body { color: #1f2933; }
h1 { font-size: 19pt; font-weight: 600; margin-top: 0px; margin-bottom: 2px; color: #12263a; }
h2 { font-size: 13.5pt; font-weight: 600; margin-top: 14px; margin-bottom: 6px;
     color: #12263a; }
p { margin-top: 3px; margin-bottom: 3px; line-height: 125%; }
li { margin-bottom: 2px; line-height: 125%; }
ul { margin-top: 2px; margin-bottom: 4px; }
p.subtitle { color: #5f6368; font-size: 9.5pt; margin-bottom: 10px; }
p.lead { font-size: 11pt; margin-top: 4px; }
p.small { font-size: 8.5pt; }
p.muted { color: #5f6368; }
h4 { font-size: 9.5pt; font-weight: 600; margin-top: 6px; margin-bottom: 1px; color: #3c4043; }
h3 { font-size: 10.5pt; font-weight: 600; margin-top: 10px; margin-bottom: 2px; color: #12263a; }
p.caption { font-size: 8.5pt; color: #5f6368; margin-top: 0px; margin-bottom: 10px; }
p.chart { margin-top: 8px; margin-bottom: 2px; line-height: 100%; }
td, th { font-size: 9pt; }
table.small td, table.small th { font-size: 8.5pt; }
th { background-color: #eef1f5; font-weight: 600; }
pre { font-size: 7.5pt; }
td.callout-title { font-weight: 600; font-size: 10pt; }
"""

_TONES = {
    "alert": ("#fdf3f2", "#d93025", "#b3261e"),
    "verdict": ("#f1f7f2", "#8fc79e", "#1b5e20"),
    "note": ("#f5f7fa", "#c5ccd6", "#3c4043"),
}


def chart_marker(index: int) -> str:
    """The text that stands for chart ``index`` until the PDF renderer draws it there."""
    return f"[[chart:{index}]]"


def heading_text(number: int, title: str) -> str:
    """A section heading as it appears in the text and in the table of contents."""
    return f"{number}. {title}"


def _e(text: object) -> str:
    return html.escape(str(text), quote=False)


def _paragraph(b: Paragraph) -> str:
    if b.style in ("h3", "h4"):
        return f"<{b.style}>{_e(b.text)}</{b.style}>"
    cls = f' class="{b.style}"' if b.style else ""
    prefix = f"<b>{_e(b.bold_prefix)}</b> " if b.bold_prefix else ""
    return f"<p{cls}>{prefix}{_e(b.text)}</p>"


def _bullets(b: Bullets) -> str:
    items = []
    for item in b.items:
        if isinstance(item, tuple):
            items.append(f"<li><b>{_e(item[0])}</b>{_e(item[1])}</li>")
        else:
            items.append(f"<li>{_e(item)}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _table(b: Table) -> str:
    widths = list(b.widths) + [0] * (len(b.header) - len(b.widths))
    cls = ' class="small"' if b.small else ""
    out = [f'<table{cls} width="100%" cellspacing="0" cellpadding="4" border="0.5" '
           'style="border-collapse: collapse; border-color: #d0d5dc; margin-top: 4px; '
           'margin-bottom: 4px;">']
    if any(h for h in b.header):
        out.append("<thead><tr>")
        for i, h in enumerate(b.header):
            width = f' width="{widths[i]}%"' if widths[i] else ""
            align = ' align="right"' if i in b.numeric_columns else ' align="left"'
            out.append(f"<th{width}{align}>{_e(h)}</th>")
        out.append("</tr></thead>")
    for r, row in enumerate(b.rows):
        bg = ' bgcolor="#fff8e1"' if r == b.emphasis else ""
        out.append(f"<tr{bg}>")
        for i, cell in enumerate(row):
            width = f' width="{widths[i]}%"' if widths[i] and r == 0 and not any(b.header) else ""
            align = ' align="right"' if i in b.numeric_columns else ""
            text = f"<b>{_e(cell)}</b>" if i == 0 and b.first_column_bold else _e(cell)
            out.append(f'<td{width}{align} valign="top">{text}</td>')
        out.append("</tr>")
    out.append("</table>")
    if b.caption:
        out.append(f'<p class="caption">{_e(b.caption)}</p>')
    return "".join(out)


def _callout(b: Callout) -> str:
    bg, border, title_color = _TONES.get(b.tone, _TONES["note"])
    lines = "".join(f"<p>{_e(line)}</p>" for line in b.lines)
    return (
        f'<table width="100%" cellspacing="0" cellpadding="7" border="1" '
        f'style="border-style: solid; border-color: {border}; margin-top: 6px; '
        f'margin-bottom: 6px;" bgcolor="{bg}"><tr><td>'
        f'<p style="font-weight: 600; color: {title_color};">{_e(b.title)}</p>{lines}'
        "</td></tr></table>"
    )


def _pre(b: Preformatted) -> str:
    return f"<pre>{_e(b.text)}</pre>"


def _block(b: Block, charts: list[Chart]) -> str:
    if isinstance(b, Paragraph):
        return _paragraph(b)
    if isinstance(b, Bullets):
        return _bullets(b)
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Callout):
        return _callout(b)
    if isinstance(b, Preformatted):
        return _pre(b)
    charts.append(b)
    caption = f'<p class="caption">{_e(b.caption)}</p>' if b.caption else ""
    return f'<p class="chart" align="center">{chart_marker(len(charts) - 1)}</p>{caption}'


def to_html(report: Report, toc_pages: Mapping[int, int] | None = None) -> tuple[str, list[Chart]]:
    """The report as HTML, and its charts in the order of their markers.

    ``toc_pages`` maps a section's number to its page (from a first layout); without it the
    table of contents shows placeholders of the same width.
    """
    charts: list[Chart] = []
    out = [f"<h1>{_e(report.title)}</h1>"]
    if report.subtitle:
        out.append(f'<p class="subtitle">{_e(report.subtitle)}</p>')
    out += [_block(b, charts) for b in report.summary]
    if report.sections:
        out.append('<h2 style="page-break-before: always;">Contents</h2>')
        out.append('<table width="70%" cellspacing="0" cellpadding="2" border="0">')
        for number, section in enumerate(report.sections, 1):
            page = (toc_pages or {}).get(number)
            shown = str(page) if page is not None else "00"
            out.append(f"<tr><td>{_e(heading_text(number, section.title))}</td>"
                       f'<td align="right" width="12%">{shown}</td></tr>')
        out.append("</table>")
    for number, section in enumerate(report.sections, 1):
        style = ' style="page-break-before: always;"' if section.new_page else ""
        out.append(f"<h2{style}>{_e(heading_text(number, section.title))}</h2>")
        out += [_block(b, charts) for b in section.blocks]
    return "\n".join(out), charts
