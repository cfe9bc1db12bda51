"""The data preview: the first rows of the loaded table, as read from the file.

:class:`DataPreviewWidget` shows them through :class:`PreviewTableModel`, a small model over
``frame.head(100)`` (never a widget per cell); hovering a column header gives its type and
missing values.
"""

from __future__ import annotations

import html
import math
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.data import ColumnInfo
from ppml_lab.data.source import LoadedTable
from ppml_lab.lazy import LazyModule

# pandas takes about 0.5 s to import: imported on first use, after the window is shown.
pd = LazyModule("pandas")

PREVIEW_ROWS = 100


class PreviewTableModel(QAbstractTableModel):
    """A read-only table model over the first rows of a DataFrame."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._frame: pd.DataFrame | None = None  # nothing loaded (and pandas not imported) yet
        self._schema: dict[str, ColumnInfo] = {}
        self._cells: list[list[tuple[str, bool, int]]] = []
        self._missing_brush = QBrush(QColor("#9a9a9a"))

    def set_frame(self, frame: pd.DataFrame, schema: dict[str, ColumnInfo] | None = None) -> None:
        """Show the first :data:`PREVIEW_ROWS` rows of ``frame``."""
        self.beginResetModel()
        self._frame = frame.head(PREVIEW_ROWS).copy()
        self._schema = dict(schema or {})
        self._cells = self._make_cells(self._frame)
        self.endResetModel()

    @staticmethod
    def _make_cells(frame: pd.DataFrame) -> list[list[tuple[str, bool, int]]]:
        """(text, missing, alignment) of every cell, worked out once.

        The view asks :meth:`data` for every cell several times over (sizing the columns alone
        asks 15,000 times for 100 rows of Adult); reading the frame each time (``iat``) took
        0.3 s of the GUI thread per load, now it is a list lookup.
        """
        left = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        columns = []
        for c in range(frame.shape[1]):
            cells = []
            for value in frame.iloc[:, c].array:  # the same scalars as ``frame.iat[r, c]``
                missing = value is None or value is pd.NA or (
                    isinstance(value, float) and value != value
                )
                if missing:
                    text = "(missing)"
                elif isinstance(value, float):
                    text = f"{value:.6g}"
                else:
                    text = str(value)
                numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
                cells.append((text, missing, right if numeric and not missing else left))
            columns.append(cells)
        return [list(row) for row in zip(*columns, strict=True)] if columns else []

    def column_texts(self, column: int) -> list[str]:
        """The texts shown in ``column``, top to bottom."""
        return [row[column][0] for row in self._cells]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() or self._frame is None else len(self._frame)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() or self._frame is None else self._frame.shape[1]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self._frame is None:
            return None
        text, missing, alignment = self._cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return text
        if role == Qt.ItemDataRole.ForegroundRole and missing:
            return self._missing_brush
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return alignment
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Vertical:
            return section + 1 if role == Qt.ItemDataRole.DisplayRole else None
        if self._frame is None or section >= self._frame.shape[1]:
            return None
        name = str(self._frame.columns[section])
        if role == Qt.ItemDataRole.DisplayRole:
            return name
        if role == Qt.ItemDataRole.ToolTipRole:
            info = self._schema.get(name)
            if info is None:
                return name
            return (
                f"{name}: {info.kind}, {info.n_unique:,} distinct values, "
                f"{info.n_missing:,} missing"
            )
        return None


class DataPreviewWidget(QWidget):
    """The preview table with a caption saying how much of the table is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel("No data loaded.", self)
        self.caption.setObjectName("captionLabel")
        self.caption.setToolTip("How many rows of the table the preview shows")
        self.model = PreviewTableModel(self)
        self.view = QTableView(self)
        self.view.setModel(self.model)
        self.view.setToolTip(
            f"The first {PREVIEW_ROWS} rows as read from the file; hover a column header for "
            "its type and missing values."
        )
        self.view.setAlternatingRowColors(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setDefaultSectionSize(110)
        self.view.verticalHeader().setDefaultSectionSize(22)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.caption)
        layout.addWidget(self.view, 1)

    def set_table(self, table: LoadedTable, schema: dict[str, ColumnInfo]) -> None:
        self.model.set_frame(table.frame, schema)
        n = len(table.frame)
        shown = min(n, PREVIEW_ROWS)
        self.caption.setText(
            f"<b>{html.escape(table.name)}</b> — showing the first {shown:,} of {n:,} rows, "
            f"{table.frame.shape[1]} columns"
        )
        header = self.view.horizontalHeader()
        for col, width in enumerate(self._content_widths()):
            header.resizeSection(col, min(max(width, 60), 220))

    def _content_widths(self) -> list[int]:
        """What ``QTableView.resizeColumnsToContents`` would give each column, in a tenth of
        the time: the widest text plus the item margins and the grid line, or the header's own
        width. Qt asks the model for every cell's data several times (0.05-0.25 s of the GUI
        thread per load); here each text is measured once.
        """
        view = self.view
        metrics = QFontMetricsF(view.font())
        margin = 2 * (view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1)
        margin += 1 if view.showGrid() else 0
        header = view.horizontalHeader()
        widths = []
        for col in range(self.model.columnCount()):
            texts = self.model.column_texts(col)
            content = max((math.ceil(metrics.horizontalAdvance(t)) for t in texts), default=0)
            widths.append(max(content + margin, header.sectionSizeHint(col)))
        return widths
