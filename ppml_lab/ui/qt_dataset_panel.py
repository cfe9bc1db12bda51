"""The dataset side of the window: source picker, target, columns to use, schema summary, preview.

:class:`DatasetPanel` holds the controls; :class:`DataPreviewWidget` shows the first rows through
:class:`PreviewTableModel` (a small model over ``frame.head(100)``, never a widget per cell).
Loading itself happens in the window's worker thread through :func:`load_and_inspect`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.data import BUILTINS, ColumnInfo, infer_schema, load_source
from ppml_lab.data.loading import ProgressCallback
from ppml_lab.data.source import LoadedTable

PREVIEW_ROWS = 100
FILE_FILTER = (
    "Data files (*.csv *.tsv *.txt *.data *.xlsx *.xlsm *.xls *.parquet *.pq);;"
    "CSV / TSV (*.csv *.tsv *.txt *.data);;Excel (*.xlsx *.xlsm *.xls);;"
    "Parquet (*.parquet *.pq);;All files (*)"
)


@dataclass(frozen=True, kw_only=True)
class InspectedTable:
    """A loaded table with its inferred schema (both computed in the worker thread)."""

    table: LoadedTable
    schema: dict[str, ColumnInfo]


def load_and_inspect(source: str, *, progress: ProgressCallback | None = None) -> InspectedTable:
    """Load ``source`` and infer its schema; meant to run in a worker thread.

    Raises
    ------
    DatasetError
        For any problem with the file (the message is meant for the user).
    LoadCancelled
        When ``progress`` returned False.
    """
    table = load_source(source, progress=progress)
    return InspectedTable(table=table, schema=infer_schema(table.frame))


def exclusion_reason(info: ColumnInfo) -> str:
    """Why a column is left out by default ("" when it is not)."""
    if info.id_like:
        return (
            "Left out by default: it looks like an identifier (a name like '..._id' or a "
            "different value in every row). A model must not learn from record ids."
        )
    if info.constant:
        return "Left out by default: it has a single value, so it carries no information."
    return ""


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


class DatasetPanel(QWidget):
    """Dataset controls: built-in picker, "Open file...", target, columns to use, summary.

    Signals
    -------
    source_requested(str)
        The user picked a built-in dataset (``builtin:<name>``).
    open_file_requested()
        The user clicked "Open file..." (the window shows the file dialog).
    selection_changed()
        The target or the set of columns changed.
    """

    source_requested = Signal(str)
    open_file_requested = Signal()
    selection_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._table: LoadedTable | None = None
        self._schema: dict[str, ColumnInfo] = {}
        self._updating = False

        self.source_combo = QComboBox(self)
        self.source_combo.setObjectName("sourceCombo")
        self.source_combo.setToolTip(
            "Built-in datasets ship with PPML Lab (no download). Pick one, or open your own file."
        )
        for name, info in BUILTINS.items():
            self.source_combo.addItem(info.label, f"builtin:{name}")
            self.source_combo.setItemData(
                self.source_combo.count() - 1, info.description, Qt.ItemDataRole.ToolTipRole
            )
        self.open_button = QPushButton("Open file…", self)
        self.open_button.setObjectName("openFileButton")
        self.open_button.setToolTip("Open a CSV, TSV, Excel or Parquet file (Ctrl+O)")
        self.description_label = QLabel(self)
        self.description_label.setObjectName("hintLabel")
        self.description_label.setWordWrap(True)
        self.description_label.setToolTip("What this dataset is")
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFormat("Loading… %p%")
        self.progress_bar.setToolTip("Reading the file; press Esc or Cancel to stop")
        self.progress_bar.setVisible(False)

        self.target_combo = QComboBox(self)
        self.target_combo.setObjectName("targetCombo")
        self.target_combo.setToolTip(
            "The column the model learns to predict (a category such as yes/no)."
        )
        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("summaryLabel")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label.setToolTip("What PPML Lab inferred about the columns")

        self.columns_list = QListWidget(self)
        self.columns_list.setObjectName("columnsList")
        self.columns_list.setToolTip(
            "Untick a column to leave it out of training. Identifier-like and constant columns "
            "start unticked; hover a column to see why."
        )
        self.columns_list.setAlternatingRowColors(True)
        self.summary_label.setVisible(False)
        self.columns_label = QLabel("Feature columns (untick to leave out):", self)
        self.columns_label.setToolTip(self.columns_list.toolTip())

        source_row = QHBoxLayout()
        source_row.addWidget(self.source_combo, 1)
        source_row.addWidget(self.open_button)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        data_label = QLabel("Data:", self)
        data_label.setToolTip(self.source_combo.toolTip())
        form.addRow(data_label, source_row)
        target_label = QLabel("Target:", self)
        target_label.setToolTip(self.target_combo.toolTip())
        target_label.setBuddy(self.target_combo)
        form.addRow(target_label, self.target_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(form)
        layout.addWidget(self.description_label)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.columns_label)
        layout.addWidget(self.columns_list, 1)

        self.source_combo.activated.connect(self._on_source_combo_activated)
        self.open_button.clicked.connect(self.open_file_requested)
        self.target_combo.currentIndexChanged.connect(self._on_target_combo_changed)
        self.columns_list.itemChanged.connect(self._on_columns_list_item_changed)

    # -- state -------------------------------------------------------------------------------

    @property
    def table(self) -> LoadedTable | None:
        return self._table

    @property
    def schema(self) -> dict[str, ColumnInfo]:
        return self._schema

    def set_loading(self, fraction: float | None) -> None:
        """Show the progress bar at ``fraction`` (0..1), or hide it with None.

        At 1.0 the file is read and the columns are being checked, which reports no progress:
        the bar turns into a busy indicator.
        """
        if fraction is None:
            self.progress_bar.setVisible(False)
            self.progress_bar.setRange(0, 1000)
            self.source_combo.setEnabled(True)
            self.open_button.setEnabled(True)
            return
        self.progress_bar.setVisible(True)
        if fraction >= 1.0:
            self.progress_bar.setRange(0, 0)
            self.progress_bar.setFormat("Checking the columns…")
        else:
            self.progress_bar.setRange(0, 1000)
            self.progress_bar.setFormat("Loading… %p%")
            self.progress_bar.setValue(int(max(0.0, fraction) * 1000))
        self.source_combo.setEnabled(False)
        self.open_button.setEnabled(False)

    def set_table(self, table: LoadedTable, schema: dict[str, ColumnInfo]) -> None:
        """Show a newly loaded table; the target defaults to the table's suggestion."""
        self._table = table
        self._schema = dict(schema)
        self._updating = True
        try:
            self._select_source_item(table)
            self.description_label.setText(table.description)
            self.target_combo.clear()
            for col in map(str, table.frame.columns):
                self.target_combo.addItem(col, col)
            index = self.target_combo.findData(table.default_target)
            self.target_combo.setCurrentIndex(index if index >= 0 else self.target_combo.count() - 1)
            self._fill_columns(exclude=None, include=())
        finally:
            self._updating = False
        self._update_summary()
        self.selection_changed.emit()

    def apply_selection(
        self, *, target: str | None, exclude: Sequence[str] = (), include: Sequence[str] = ()
    ) -> list[str]:
        """Apply a target and column choices (from an experiment file); return unknown names."""
        unknown: list[str] = []
        self._updating = True
        try:
            if target:
                index = self.target_combo.findData(target)
                if index >= 0:
                    self.target_combo.setCurrentIndex(index)
                else:
                    unknown.append(target)
            unknown += [c for c in [*exclude, *include] if c not in self._schema]
            self._fill_columns(exclude=exclude, include=include)
        finally:
            self._updating = False
        self._update_summary()
        self.selection_changed.emit()
        return unknown

    def target(self) -> str | None:
        data = self.target_combo.currentData()
        return str(data) if data is not None else None

    def selection(self) -> tuple[str, str | None, tuple[str, ...], tuple[str, ...]]:
        """``(source, target, exclude, include)`` for a :class:`DatasetConfig`.

        ``exclude`` lists the unticked columns; ``include`` lists identifier-like or constant
        columns the user ticked (kept although they would be left out by default).
        """
        if self._table is None:
            raise ValueError("No dataset is loaded yet.")
        exclude: list[str] = []
        include: list[str] = []
        for row in range(self.columns_list.count()):
            item = self.columns_list.item(row)
            name = str(item.data(Qt.ItemDataRole.UserRole))
            checked = item.checkState() == Qt.CheckState.Checked
            info = self._schema.get(name)
            flagged = info is not None and info.excluded_by_default
            if not checked:
                exclude.append(name)
            elif flagged:
                include.append(name)
        return self._table.source, self.target(), tuple(exclude), tuple(include)

    def feature_columns(self) -> list[tuple[str, str]]:
        """The ticked feature columns as ``(name, description)``, fewest distinct values first.

        Used to offer a column where a setting names one (the federated 'column' split): a
        column with few values (a site, a region) is the likely choice.
        """
        out: list[tuple[int, str, str]] = []
        for row in range(self.columns_list.count()):
            item = self.columns_list.item(row)
            if item.checkState() != Qt.CheckState.Checked:
                continue
            name = str(item.data(Qt.ItemDataRole.UserRole))
            info = self._schema.get(name)
            n_unique = info.n_unique if info is not None else 0
            kind = info.kind if info is not None else "column"
            out.append((n_unique, name, f"{kind}, {n_unique:,} distinct values"))
        out.sort(key=lambda t: t[0])
        return [(name, text) for _, name, text in out]

    def column_item(self, name: str) -> QListWidgetItem | None:
        """The list item of column ``name`` (None for the target or an unknown name)."""
        for row in range(self.columns_list.count()):
            item = self.columns_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == name:
                return item
        return None

    # -- internals ---------------------------------------------------------------------------

    def _select_source_item(self, table: LoadedTable) -> None:
        index = self.source_combo.findData(table.source)
        if index < 0:
            # A user file: one entry at the top that always holds the latest file.
            if self.source_combo.count() > len(BUILTINS):
                self.source_combo.removeItem(0)
            self.source_combo.insertItem(0, f"File: {table.name}", table.source)
            self.source_combo.setItemData(0, table.source, Qt.ItemDataRole.ToolTipRole)
            index = 0
        self.source_combo.setCurrentIndex(index)

    def _fill_columns(self, *, exclude: Sequence[str] | None, include: Sequence[str]) -> None:
        """Rebuild the checkable column list (every column but the target)."""
        previous = {}
        if exclude is None:
            for row in range(self.columns_list.count()):
                item = self.columns_list.item(row)
                previous[item.data(Qt.ItemDataRole.UserRole)] = item.checkState()
        self.columns_list.blockSignals(True)
        try:
            self.columns_list.clear()
            target = self.target()
            bold = QFont()
            bold.setItalic(True)
            for name, info in self._schema.items():
                if name == target:
                    continue
                item = QListWidgetItem(self._item_text(info))
                item.setData(Qt.ItemDataRole.UserRole, name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                reason = exclusion_reason(info)
                if exclude is not None:
                    use = name not in exclude and (not info.excluded_by_default or name in include)
                    state = Qt.CheckState.Checked if use else Qt.CheckState.Unchecked
                elif name in previous:
                    state = previous[name]
                else:
                    state = Qt.CheckState.Unchecked if reason else Qt.CheckState.Checked
                item.setCheckState(state)
                tip = [f"{name}: {info.kind}, {info.n_unique:,} distinct values, "
                       f"{info.n_missing:,} missing."]
                if reason:
                    tip.append(reason + " Tick it to use it anyway.")
                    item.setFont(bold)
                    item.setForeground(QBrush(QColor("#8a6d00")))
                if info.bad_numeric_row is not None:
                    tip.append(
                        f"Warning: this column holds numbers, but data row {info.bad_numeric_row + 1} "
                        f"has the text {info.bad_numeric_value!r}. Training will stop with an error "
                        "unless you fix that value or untick the column."
                    )
                    item.setForeground(QBrush(QColor("#b3261e")))
                item.setToolTip("\n".join(tip))
                self.columns_list.addItem(item)
        finally:
            self.columns_list.blockSignals(False)

    @staticmethod
    def _item_text(info: ColumnInfo) -> str:
        notes = [info.kind]
        if info.n_missing:
            notes.append(f"{info.n_missing:,} missing")
        if info.id_like:
            notes.append("identifier?")
        elif info.constant:
            notes.append("constant")
        if info.bad_numeric_row is not None:
            notes.append("text in numbers!")
        return f"{info.name}  ({', '.join(notes)})"

    def _update_summary(self) -> None:
        if self._table is None:
            self.summary_label.setText("")
            self.summary_label.setVisible(False)
            return
        self.summary_label.setVisible(True)
        frame = self._table.frame
        _, target, exclude, _ = self.selection()
        used = [c for c in self._schema if c != target and c not in exclude]
        n_num = sum(1 for c in used if self._schema[c].kind == "numeric")
        n_cat = len(used) - n_num
        missing_cols = [c for c in used if self._schema[c].n_missing]
        n_missing = sum(self._schema[c].n_missing for c in used)
        lines = [
            f"<b>{len(frame):,}</b> rows · <b>{len(used)}</b> features "
            f"({n_num} numeric, {n_cat} categorical)"
        ]
        if n_missing:
            lines.append(
                f"{n_missing:,} missing values in {len(missing_cols)} column"
                f"{'s' if len(missing_cols) != 1 else ''} (filled in during preparation)"
            )
        else:
            lines.append("no missing values")
        if target is not None and target in frame.columns:
            counts = frame[target].astype("string").value_counts(dropna=True)
            if len(counts) <= 8:
                # Escaped: class names such as '<=50K' are not tags (the label is rich text).
                parts = ", ".join(f"{html.escape(str(k))} {v:,}" for k, v in counts.items())
                lines.append(f"target <b>{html.escape(target)}</b>: {len(counts)} classes ({parts})")
            else:
                lines.append(f"target <b>{html.escape(target)}</b>: {len(counts)} classes")
            if len(counts) < 2:
                lines.append(
                    "<span style='color:#b3261e'>the target has a single value: "
                    "choose another target column</span>"
                )
        flagged = [c for c in self._schema if c != target and self._schema[c].excluded_by_default]
        if flagged:
            shown = ", ".join(html.escape(c) for c in flagged[:5])
            lines.append(f"left out by default: {shown}{' …' if len(flagged) > 5 else ''}")
        bad = [c for c in used if self._schema[c].bad_numeric_row is not None]
        if bad:
            lines.append(
                f"<span style='color:#b3261e'>text in numeric column{'s' if len(bad) > 1 else ''}: "
                f"{html.escape(', '.join(bad[:3]))} (hover the column for the row)</span>"
            )
        self.summary_label.setText("<br>".join(lines))

    # -- slots -------------------------------------------------------------------------------

    @Slot(int)
    def _on_source_combo_activated(self, index: int) -> None:
        source = self.source_combo.itemData(index)
        if source and (self._table is None or source != self._table.source):
            self.source_requested.emit(str(source))

    @Slot(int)
    def _on_target_combo_changed(self, index: int) -> None:
        if self._updating or self._table is None:
            return
        self._fill_columns(exclude=None, include=())
        self._update_summary()
        self.selection_changed.emit()

    @Slot(QListWidgetItem)
    def _on_columns_list_item_changed(self, item: QListWidgetItem) -> None:
        if self._updating:
            return
        self._update_summary()
        self.selection_changed.emit()
