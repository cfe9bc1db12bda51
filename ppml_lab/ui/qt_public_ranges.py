"""The public-ranges table: a lowest and highest value per numeric column, categories per text column.

Scaling numbers with the mean and spread of the training rows, or discovering the categories of
a text column from them, reveals a little about those rows, and a privacy budget (epsilon) does
not count it. Ranges and category lists known *without looking at the data* (a codebook, a form's
choices, common sense: age 0 to 120) avoid that: with ``scaling = "bounds"`` numbers are clipped
to their public range and mapped to [-1, 1], and a text column gets exactly its public categories
(plus "(other)").

:class:`PublicRangesWidget` edits ``[dataset.bounds]`` and ``[dataset.categories]`` of an
experiment file: one row per feature column in use. What is typed is kept per column name, so
unticking a column and ticking it again, or switching scaling back and forth, loses nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.data import ColumnInfo
from ppml_lab.lazy import LazyModule
from ppml_lab.ui.qt_number_fields import SEPARATOR, format_number, read_number

# pandas takes about 0.5 s to import: imported on first use, after the window is shown.
pd = LazyModule("pandas")

#: Table columns.
COLUMN, LOW, HIGH, CATEGORIES = range(4)
_NOT_USED = "—"
_RED, _RED_BACKGROUND, _GREY = "#b3261e", "#fdf0ef", "#f1f1f1"

TABLE_TIP = (
    "Public knowledge about the columns, used instead of statistics of the private rows.\n"
    "Numeric columns: the lowest and highest value the column can take, known in advance (a "
    "codebook, a form's limits, common sense: age 0 to 120). Values outside are clipped.\n"
    "Text columns: the possible categories, separated by commas; values not listed, and missing "
    "values, count as \"(other)\". Left empty, the categories are taken from the data.\n"
    "Taking the scale or the categories from the data reveals a little about the training rows "
    "that epsilon does not count; public ranges reveal nothing."
)
_HEADER_TIPS = {
    COLUMN: "A feature column in use (tick or untick columns in the list above)",
    LOW: "The lowest value the column can take, known without looking at the data",
    HIGH: "The highest value the column can take, known without looking at the data",
    CATEGORIES: "The possible categories of a text column, separated by commas (empty: taken "
    "from the data)",
}


def _levels_tip(text: str) -> str:
    levels = split_categories(text)
    if not levels:
        return _HEADER_TIPS[CATEGORIES]
    return f"{len(levels)} categories:\n" + "\n".join(levels[:40]) + ("\n…" if len(levels) > 40 else "")


def exact_text(value: float, locale: Any = None) -> str:
    """``value`` written so that reading it back gives the same float (in ``locale``'s format)."""
    value = float(value)
    text = str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    point = locale.decimalPoint() if locale is not None else "."
    return text.replace(".", point) if point != "." else text


def split_categories(text: str) -> tuple[str, ...]:
    """``"A, B,  C"`` -> ``("A", "B", "C")`` (empty parts dropped, duplicates kept once)."""
    return tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


class _CompactTableWidget(QTableWidget):
    """A table that asks for less height than Qt's default (192 px); it grows with the window."""

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(super().sizeHint().width(), 150)


class PublicRangesWidget(QWidget):
    """The public ranges (numeric columns) and category lists (text columns) of the Data tab.

    Signals
    -------
    changed()
        A cell was edited, or the ranges were replaced or filled.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._columns: list[ColumnInfo] = []
        self._low: dict[str, str] = {}
        self._high: dict[str, str] = {}
        self._levels: dict[str, str] = {}
        self._errors: dict[str, str] = {}
        self._filling = False

        self.title_label = QLabel("<b>Public ranges</b> (known in advance, not read from the data)", self)
        self.title_label.setToolTip(TABLE_TIP)
        self.table = _CompactTableWidget(0, 4, self)
        self.table.setObjectName("publicRangesTable")
        self.table.setToolTip(TABLE_TIP)
        self.table.setHorizontalHeaderLabels(["Column", "Lowest", "Highest", "Categories"])
        for col, tip in _HEADER_TIPS.items():
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(LOW, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(HIGH, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(CATEGORIES, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)  # "Categories", or "Highest" when it is hidden
        header.resizeSection(LOW, 72)
        header.resizeSection(HIGH, 72)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.table.setMinimumHeight(130)
        self.message_label = QLabel(self)
        self.message_label.setObjectName("errorLabel")
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setToolTip("What is missing or wrong in the public ranges")
        self.message_label.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message_label)

        self.table.itemChanged.connect(self._on_table_item_changed)

    # -- API ---------------------------------------------------------------------------------

    def set_columns(self, columns: Sequence[ColumnInfo], frame: pd.DataFrame | None = None) -> None:
        """Show one row per feature column in use.

        Nothing is read from ``frame``: a range taken from the data would not be public (and
        the run would not know it), so there is deliberately no "fill from the data".
        """
        self._columns = list(columns)
        self._rebuild()

    def set_ranges(
        self, bounds: Mapping[str, Sequence[float]], categories: Mapping[str, Sequence[str]]
    ) -> None:
        """Replace every range and category list (e.g. with an experiment file's)."""
        locale = self.locale()
        self._low = {c: exact_text(pair[0], locale) for c, pair in bounds.items()}
        self._high = {c: exact_text(pair[1], locale) for c, pair in bounds.items()}
        self._levels = {c: ", ".join(levels) for c, levels in categories.items()}
        self._rebuild()

    def set_range(self, column: str, low: float | str, high: float | str) -> None:
        """Type ``low`` and ``high`` into the row of numeric ``column`` (as a user would)."""
        row = self._row_of(column)
        for col, value in ((LOW, low), (HIGH, high)):
            text = value if isinstance(value, str) else exact_text(value, self.locale())
            self.table.item(row, col).setText(text)

    def set_categories(self, column: str, levels: Sequence[str] | str) -> None:
        """Type the categories of text ``column`` (a list, or the comma-separated text)."""
        text = levels if isinstance(levels, str) else ", ".join(levels)
        self.table.item(self._row_of(column), CATEGORIES).setText(text)

    def focus_first_missing(self) -> None:
        """Put the cursor in the table: the lowest value of the first numeric column without a
        range (else the first editable cell), ready to type.
        """
        missing = self.missing()
        rows = [self._row_of(missing[0])] if missing else range(len(self._columns))
        for row in rows:
            col = LOW if self._columns[row].kind == "numeric" else CATEGORIES
            item = self.table.item(row, col)
            if item is not None and item.flags() & Qt.ItemFlag.ItemIsEditable:
                self.table.setCurrentCell(row, col)
                self.table.scrollToItem(item)
                break
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def cell(self, column: str, which: int) -> QTableWidgetItem:
        """The cell of ``column``'s row in table column ``which`` (:data:`LOW`, ...)."""
        return self.table.item(self._row_of(column), which)

    def bounds(self) -> dict[str, tuple[float, float]]:
        """The complete, valid ranges of the numeric columns shown."""
        out: dict[str, tuple[float, float]] = {}
        for info in self._numeric():
            low, high, error = self._read_range(info.name)
            if not error and low is not None and high is not None:
                out[info.name] = (low, high)
        return out

    def categories(self) -> dict[str, tuple[str, ...]]:
        """The category lists given for the text columns shown."""
        out: dict[str, tuple[str, ...]] = {}
        for info in self._columns:
            if info.kind != "numeric":
                levels = split_categories(self._levels.get(info.name, ""))
                if levels:
                    out[info.name] = levels
        return out

    def errors(self) -> dict[str, str]:
        """Rows whose text cannot be used (column -> why)."""
        return dict(self._errors)

    def missing(self) -> list[str]:
        """Numeric columns shown without any range."""
        return [
            info.name
            for info in self._numeric()
            if not self._low.get(info.name, "").strip() and not self._high.get(info.name, "").strip()
        ]

    # -- internals ---------------------------------------------------------------------------

    def _numeric(self) -> list[ColumnInfo]:
        return [info for info in self._columns if info.kind == "numeric"]

    def _row_of(self, column: str) -> int:
        for row, info in enumerate(self._columns):
            if info.name == column:
                return row
        raise KeyError(f"no row for column {column!r}")

    def _read_range(self, column: str) -> tuple[float | None, float | None, str]:
        """``(low, high, error)`` of a numeric row; both None and no error when it is empty."""
        locale = self.locale()
        texts = (self._low.get(column, "").strip(), self._high.get(column, "").strip())
        if not any(texts):
            return None, None, ""
        if not all(texts):
            return None, None, f"{column}: give both the lowest and the highest value."
        values: list[float] = []
        for which, text in zip(("lowest", "highest"), texts):
            number, problem, char = read_number(text, locale)
            if problem == SEPARATOR:
                point = locale.decimalPoint()
                return None, None, (
                    f"{column}: the {which} value “{text}” contains “{char}”; write decimals "
                    f"with “{point}” (e.g. {format_number(0.5, locale)}), without thousands "
                    "separators."
                )
            if number is None or problem or not math.isfinite(number):
                return None, None, f"{column}: the {which} value “{text}” is not a number."
            values.append(float(number))
        if not values[0] < values[1]:
            return None, None, (
                f"{column}: the lowest value must be below the highest "
                f"(got {texts[0]} and {texts[1]})."
            )
        return values[0], values[1], ""

    def _rebuild(self) -> None:
        """Fill the table from the columns and the texts kept per column."""
        self._filling = True
        try:
            self.table.setRowCount(len(self._columns))
            for row, info in enumerate(self._columns):
                name = QTableWidgetItem(info.name)
                name.setFlags(Qt.ItemFlag.ItemIsEnabled)
                kind = "numbers" if info.kind == "numeric" else "text"
                name.setToolTip(f"{info.name}: {kind}, {info.n_unique:,} distinct values")
                self.table.setItem(row, COLUMN, name)
                numeric = info.kind == "numeric"
                self.table.setItem(row, LOW, self._cell(self._low.get(info.name, ""), numeric))
                self.table.setItem(row, HIGH, self._cell(self._high.get(info.name, ""), numeric))
                levels = self._cell(self._levels.get(info.name, ""), not numeric)
                if not numeric:
                    levels.setToolTip(_levels_tip(self._levels.get(info.name, "")))
                self.table.setItem(row, CATEGORIES, levels)
        finally:
            self._filling = False
        # Only the kinds of cells this table has: no empty "Categories" for numbers only.
        kinds = {info.kind == "numeric" for info in self._columns}
        self.table.setColumnHidden(LOW, True not in kinds)
        self.table.setColumnHidden(HIGH, True not in kinds)
        self.table.setColumnHidden(CATEGORIES, False not in kinds)
        self._check()

    @staticmethod
    def _cell(text: str, editable: bool) -> QTableWidgetItem:
        if editable:
            return QTableWidgetItem(text)
        item = QTableWidgetItem(_NOT_USED)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        item.setBackground(QBrush(QColor(_GREY)))
        item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        item.setToolTip("Does not apply to this kind of column")
        return item

    def _check(self) -> None:
        """Mark rows that cannot be used in red and say why (and what is missing) below."""
        self._errors = {}
        self._filling = True
        try:
            for row, info in enumerate(self._columns):
                if info.kind != "numeric":
                    continue
                _, _, error = self._read_range(info.name)
                if error:
                    self._errors[info.name] = error
                for col in (LOW, HIGH):
                    item = self.table.item(row, col)
                    item.setBackground(QBrush(QColor(_RED_BACKGROUND)) if error else QBrush())
                    item.setForeground(QBrush(QColor(_RED)) if error else QBrush())
                    item.setToolTip(error or _HEADER_TIPS[col])
        finally:
            self._filling = False
        lines = []
        if self._errors:
            more = len(self._errors) - 1
            lines.append(
                next(iter(self._errors.values()))
                + (f" ({more} more row{'s' if more > 1 else ''} in red.)" if more else "")
            )
        missing = self.missing()
        if missing:
            shown = ", ".join(missing[:3]) + (", …" if len(missing) > 3 else "")
            lines.append(
                f"{len(missing)} numeric column{'s have' if len(missing) != 1 else ' has'} no "
                f"range yet ({shown}); a run needs one for each."
            )
        self.message_label.setText("\n".join(lines))
        self.message_label.setVisible(bool(lines))

    @Slot(QTableWidgetItem)
    def _on_table_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() == COLUMN or item.row() >= len(self._columns):
            return
        name = self._columns[item.row()].name
        store = {LOW: self._low, HIGH: self._high, CATEGORIES: self._levels}[item.column()]
        store[name] = item.text()
        if item.column() == CATEGORIES:
            self._filling = True
            item.setToolTip(_levels_tip(item.text()))
            self._filling = False
        self._check()
        self.changed.emit()


__all__ = [
    "CATEGORIES",
    "COLUMN",
    "HIGH",
    "LOW",
    "PublicRangesWidget",
    "exact_text",
    "split_categories",
]
