"""The data preview: the first rows of the loaded table, as read from the file.

:class:`DataPreviewWidget` shows them through :class:`PreviewTableModel`, a small model over
``frame.head(100)`` (never a widget per cell); hovering a column header gives its type and
missing values.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.data import ColumnInfo
from ppml_lab.data.source import LoadedTable

PREVIEW_ROWS = 100


class PreviewTableModel(QAbstractTableModel):
    """A read-only table model over the first rows of a DataFrame."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._frame = pd.DataFrame()
        self._schema: dict[str, ColumnInfo] = {}
        self._missing_brush = QBrush(QColor("#9a9a9a"))

    def set_frame(self, frame: pd.DataFrame, schema: dict[str, ColumnInfo] | None = None) -> None:
        """Show the first :data:`PREVIEW_ROWS` rows of ``frame``."""
        self.beginResetModel()
        self._frame = frame.head(PREVIEW_ROWS).copy()
        self._schema = dict(schema or {})
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._frame)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else self._frame.shape[1]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self._frame.iat[index.row(), index.column()]
        missing = value is None or value is pd.NA or (isinstance(value, float) and value != value)
        if role == Qt.ItemDataRole.DisplayRole:
            if missing:
                return "(missing)"
            if isinstance(value, float):
                return f"{value:.6g}"
            return str(value)
        if role == Qt.ItemDataRole.ForegroundRole and missing:
            return self._missing_brush
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if not missing and isinstance(value, (int, float)) and not isinstance(value, bool):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Vertical:
            return section + 1 if role == Qt.ItemDataRole.DisplayRole else None
        if section >= self._frame.shape[1]:
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
        self.view.resizeColumnsToContents()
        header = self.view.horizontalHeader()
        for col in range(self.model.columnCount()):
            header.resizeSection(col, min(max(header.sectionSize(col), 60), 220))
