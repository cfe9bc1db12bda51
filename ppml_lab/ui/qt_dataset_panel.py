"""The Data tab's controls: source picker, target, columns to use and a summary of the columns.

The table itself is loaded by the window in a worker thread
(:mod:`ppml_lab.ui.qt_main_window_loading`) and previewed by
:class:`~ppml_lab.ui.qt_data_preview.DataPreviewWidget`; how the columns are turned into numbers
(test share, scaling, public ranges) is edited in
:class:`~ppml_lab.ui.qt_preprocessing_panel.PreprocessingPanel`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.data import BUILTINS, ColumnInfo
from ppml_lab.data.source import LoadedTable


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


def _classes(n: int) -> str:
    """``"1 class"``, ``"2 classes"``."""
    return f"{n:,} class" if n == 1 else f"{n:,} classes"


class _CompactListWidget(QListWidget):
    """A list that asks for less height than Qt's default (192 px), so that the Data tab fits a
    800-pixel-high window with the public-ranges table shown; it still grows with the window.
    """

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(super().sizeHint().width(), 120)


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

        self.columns_list = _CompactListWidget(self)
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

    def used_columns(self) -> list[ColumnInfo]:
        """What was inferred about the ticked feature columns, in the table's order."""
        ticked = {
            self.columns_list.item(row).data(Qt.ItemDataRole.UserRole)
            for row in range(self.columns_list.count())
            if self.columns_list.item(row).checkState() == Qt.CheckState.Checked
        }
        return [info for name, info in self._schema.items() if name in ticked]

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
            f"<b>{len(frame):,}</b> row{'s' if len(frame) != 1 else ''} · <b>{len(used)}</b> "
            f"feature{'s' if len(used) != 1 else ''} ({n_num} numeric, {n_cat} categorical)"
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
                lines.append(f"target <b>{html.escape(target)}</b>: {_classes(len(counts))} ({parts})")
            else:
                lines.append(f"target <b>{html.escape(target)}</b>: {_classes(len(counts))}")
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
