"""The report model: plain, Qt-free data a report is made of, before it is rendered.

A :class:`Report` is page 1 (its :attr:`Report.summary` blocks, readable in a minute) and then
:class:`Section` objects, each a list of blocks: :class:`Paragraph`, :class:`Bullets`,
:class:`Table`, :class:`Callout`, :class:`Preformatted` and :class:`Chart`. Text is plain text
(the HTML step escapes it). A chart holds its data (bars, series, reference lines), not a picture:
the PDF renderer draws it as vector graphics at print quality.

"Collect pure, render late" (ARCHITECTURE section 5): the builders (``build_*``) make this model
from results documents, :mod:`.html` turns it into HTML, :mod:`.qt_pdf` prints that to a PDF.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Bar",
    "Block",
    "Bullets",
    "Callout",
    "Chart",
    "Paragraph",
    "Preformatted",
    "RefLine",
    "Report",
    "Section",
    "Series",
    "Table",
]

#: The protection levels' colours (the window's headline card uses the same ones).
LEVEL_COLORS = {
    "strong": "#1b7f3b",
    "moderate": "#8a6d00",
    "weak": "#c05a00",
    "very weak": "#b3261e",
    "none": "#5f6368",
}
#: Colours of a report's charts: the plaintext reference, guessing, series.
REFERENCE_COLOR = "#3c4043"
GUESSING_COLOR = "#b3261e"
SERIES_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


@dataclass(frozen=True)
class Paragraph:
    """A paragraph; ``style`` is "" (body), "lead" (larger), "small" or "muted"."""

    text: str
    style: str = ""
    bold_prefix: str = ""


@dataclass(frozen=True)
class Bullets:
    """A bulleted list; an item may be ``(bold words, the rest)``."""

    items: tuple[str | tuple[str, str], ...]
    style: str = ""


@dataclass(frozen=True, kw_only=True)
class Table:
    """A table with a header row (repeated on every page it spans).

    ``widths`` are relative column widths (percent of the text width); ``emphasis`` is the
    index of a row to highlight (-1 for none).
    """

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[int, ...] = ()
    caption: str = ""
    first_column_bold: bool = False
    emphasis: int = -1
    small: bool = False
    numeric_columns: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Callout:
    """A boxed note: ``tone`` "alert" (red: no protection, a useless model), "verdict", "note"."""

    title: str
    lines: tuple[str, ...]
    tone: Literal["alert", "verdict", "note"] = "note"


@dataclass(frozen=True)
class Preformatted:
    """Text shown as is, in a fixed-width font (the experiment file)."""

    text: str


@dataclass(frozen=True, kw_only=True)
class Bar:
    """One bar of a bar chart: a value (a fraction for percent charts) and its words."""

    label: str
    value: float
    color: str = SERIES_COLORS[0]
    text: str = ""
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class Series:
    """One line (or set of points) of a line chart.

    ``errors`` gives a half-width per point (drawn as error bars); ``points_only`` draws the
    markers without a line.
    """

    name: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    color: str = SERIES_COLORS[0]
    dashed: bool = False
    markers: bool = True
    points_only: bool = False
    errors: tuple[float, ...] = ()
    width: float = 1.6


@dataclass(frozen=True, kw_only=True)
class RefLine:
    """A labelled reference line: horizontal at ``value`` (vertical with ``vertical``)."""

    value: float
    label: str
    color: str = REFERENCE_COLOR
    dashed: bool = True
    vertical: bool = False


@dataclass(frozen=True, kw_only=True)
class Chart:
    """A chart drawn from data.

    Attributes
    ----------
    kind : {"bars", "lines"}
        Horizontal bars (one per :class:`Bar`) or lines over an x axis.
    title, caption : str
        Above the chart, and a sentence under it saying how to read it.
    x_label, y_label : str
        Axis titles (bars: ``x_label`` is the value axis).
    percent : bool
        Values (bars' values, lines' y) are fractions shown as percentages.
    x_log, y_log : bool
        Logarithmic axes (lines only).
    x_range, y_range : (float, float) or None
        Fixed axis ranges; None fits the data.
    diagonal : bool
        Draw the y = x diagonal (ROC curves: what guessing achieves).
    aspect : float
        Height over width of the plot.
    """

    kind: Literal["bars", "lines"]
    title: str
    caption: str = ""
    bars: tuple[Bar, ...] = ()
    series: tuple[Series, ...] = ()
    lines: tuple[RefLine, ...] = ()
    x_label: str = ""
    y_label: str = ""
    percent: bool = False
    x_log: bool = False
    y_log: bool = False
    x_range: tuple[float, float] | None = None
    y_range: tuple[float, float] | None = None
    diagonal: bool = False
    aspect: float = 0.42
    x_ticks: tuple[tuple[float, str], ...] = ()


Block = Paragraph | Bullets | Table | Callout | Preformatted | Chart


@dataclass(kw_only=True)
class Section:
    """A numbered section with a title in the table of contents."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    new_page: bool = False


@dataclass(kw_only=True)
class Report:
    """A whole report.

    Attributes
    ----------
    kind : {"run", "comparison", "sweep"}
    title, subtitle : str
        The title on page 1 and a line under it (data, date).
    running_title : str
        The short title in the header of pages 2 and later.
    summary : list of Block
        Page 1: the question, the protection, the narrative, the verdict and the one chart.
    sections : list of Section
        Everything after page 1 (charts, who can see what, parameters, glossary, appendix).
    contains_records : bool
        Whether the report shows raw records (only with an explicit data preview).
    """

    kind: str
    title: str
    subtitle: str = ""
    running_title: str = ""
    summary: list[Block] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    contains_records: bool = False

    def charts(self) -> list[Chart]:
        """Every chart, page 1's first."""
        blocks = [*self.summary, *(b for s in self.sections for b in s.blocks)]
        return [b for b in blocks if isinstance(b, Chart)]

    def text(self) -> str:
        """The report's words as plain text (tests, a quick look): titles and paragraphs."""
        out = [self.title, self.subtitle]
        for block in [*self.summary, *(b for s in self.sections for b in (*s.blocks,))]:
            out.extend(_block_text(block))
        for s in self.sections:
            out.append(s.title)
        return "\n".join(t for t in out if t)


def _block_text(block: Block) -> list[str]:
    if isinstance(block, Paragraph):
        return [f"{block.bold_prefix} {block.text}".strip()]
    if isinstance(block, Bullets):
        return [" ".join(i) if isinstance(i, tuple) else i for i in block.items]
    if isinstance(block, Table):
        return [" | ".join(r) for r in (block.header, *block.rows)]
    if isinstance(block, Callout):
        return [block.title, *block.lines]
    if isinstance(block, Preformatted):
        return [block.text]
    return [block.title, block.caption]
