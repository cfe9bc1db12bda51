"""The History view: every run and sweep saved, reopened, re-run, renamed, deleted, compared.

:class:`HistoryPanel` lists the entries of a :class:`~ppml_lab.experiments.store.RunStore`
(newest first) and draws the test accuracy and test loss of the runs ticked in the list on two
small plots, one curve per run, with a legend naming them. Reopening and re-running are the
window's business: the panel asks with :attr:`HistoryPanel.reopen_requested` and
:attr:`HistoryPanel.rerun_requested`; renaming, deleting (after a confirmation) and exporting
the experiment file it does itself. Keys in the list: Enter reopens, Delete deletes.

The store's folder comes from the settings key :data:`HISTORY_ROOT_KEY` when set (tests point
it at a temporary folder), else from ``QStandardPaths.AppDataLocation``/``runs``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QTableWidgetItem,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.experiments.store import (
    RUN,
    RUNNING,
    RunStore,
    StoredRun,
    StoreError,
)
from ppml_lab.ui.qt_errors import show_exception
from ppml_lab.ui.qt_history_overlay import RunOverlayWidget, when_text
from ppml_lab.ui.qt_history_table import ID_ROLE, NAME, RunTableWidget

#: Settings key of the History's folder (unset: the user's application data folder).
HISTORY_ROOT_KEY = "history/root"


def history_root(settings: QSettings) -> Path:
    """The History's folder: the settings' :data:`HISTORY_ROOT_KEY`, else the app data folder."""
    value = settings.value(HISTORY_ROOT_KEY)
    if value:
        return Path(str(value))
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".ppml-lab") / "runs"


class HistoryPanel(QWidget):
    """The saved runs and sweeps, their actions, and an overlay of the ticked runs' curves.

    Parameters
    ----------
    store : RunStore
        Where the entries live.
    directory : callable, optional
        Returns the folder the export dialog starts in (the window's last folder).

    Signals
    -------
    reopen_requested(str)
        Show this entry's experiment in the forms (the id).
    rerun_requested(str)
        Run this entry's experiment again (the id).
    changed()
        The list was refreshed (after a save, rename or delete).
    """

    reopen_requested = Signal(str)
    rerun_requested = Signal(str)
    changed = Signal()

    def __init__(
        self,
        *,
        store: RunStore,
        directory: Callable[[], str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self._directory = directory or (lambda: str(Path.home()))
        self._busy = False
        self._runs: dict[str, StoredRun] = {}
        self._checked: list[str] = []  # ticked ids, in the order they were ticked

        # A tool bar, not a row of buttons: in a narrow window its last actions fold into its
        # ">>" menu instead of widening the whole window.
        self.toolbar = QToolBar("History", self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.setStyleSheet(
            "QToolButton { border: 1px solid #b8b8b8; border-radius: 3px; padding: 3px 10px; "
            "margin-right: 4px; background: #fafafa; }"
            "QToolButton:hover { background: #eaf1fb; border-color: #1f5fa8; }"
            "QToolButton:disabled { color: #9a9a9a; border-color: #d6d6d6; background: #f4f4f4; }"
        )
        self.reopen_action = self._action(
            "Reopen", "Show this run's data choice and settings in the forms (Enter, or "
            "double-click the run)", self._on_reopen_action_triggered,
        )
        self.rerun_action = self._action(
            "Re-run", "Load this run's settings and run them again", self._on_rerun_action_triggered
        )
        self.rename_action = self._action(
            "Rename…", "Give the run another name in this list", self._on_rename_action_triggered
        )
        self.delete_action = self._action(
            "Delete…", "Remove the run and its saved results from disk (Delete)",
            self._on_delete_action_triggered,
        )
        self.export_action = self._action(
            "Export experiment…", "Save the run's experiment file (TOML or JSON), to run it "
            "again later or elsewhere (ppml-lab run FILE)", self._on_export_action_triggered,
        )

        self.table = RunTableWidget(self)
        self.table.itemSelectionChanged.connect(self._on_table_item_selection_changed)
        self.table.itemChanged.connect(self._on_table_item_changed)
        self.table.cellDoubleClicked.connect(self._on_table_cell_double_clicked)
        self.table.enter_pressed.connect(self._on_reopen_action_triggered)
        self.table.delete_pressed.connect(self._on_delete_action_triggered)

        self.overlay = RunOverlayWidget(self)

        self.folder_label = QLabel(self)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label.setStyleSheet("color: #666")
        # A long path is cut at the panel's edge (the tooltip has it whole), never widening it.
        self.folder_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        top = QWidget(self)
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.toolbar)
        top_layout.addWidget(self.table, 1)
        top_layout.addWidget(self.folder_label)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(top)
        self.splitter.addWidget(self.overlay)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([280, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.splitter)
        self.refresh()

    # ------------------------------------------------------------------ public API ---

    def refresh(self, select: str | None = None) -> None:
        """Read the store again; keep the selection (or select ``select``) and the ticks."""
        current = select or self.selected_id()
        try:
            runs = self.store.runs()
        except OSError as exc:
            runs = []
            self.folder_label.setText(f"The history cannot be read: {exc}")
        else:
            self.folder_label.setText(f"Runs are saved automatically in {self.store.root}")
        self.folder_label.setToolTip(str(self.store.root))
        self._runs = {r.id: r for r in runs}
        self._checked = [i for i in self._checked if i in self._runs]
        self.table.blockSignals(True)
        try:
            self.table.setRowCount(len(runs))
            for row, run in enumerate(runs):
                self.table.fill_row(row, run, checked=run.id in self._checked)
        finally:
            self.table.blockSignals(False)
        row = next((r for r, run in enumerate(runs) if run.id == current), -1)
        if row >= 0:
            self.table.selectRow(row)
        else:
            self.table.clearSelection()
        self._update_actions()
        self._draw_overlay()
        self.changed.emit()

    def runs(self) -> list[StoredRun]:
        """The entries listed, in order."""
        return [self._runs[i] for i in self.table.ids()]

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), NAME)
        return str(item.data(ID_ROLE)) if item is not None else None

    def select(self, run_id: str) -> bool:
        row = self.table.row_of(run_id)
        if row < 0:
            return False
        self.table.selectRow(row)
        self.table.setCurrentCell(row, NAME)
        return True

    def checked_ids(self) -> list[str]:
        """The ticked runs, in the order they were ticked (their curves' order)."""
        return list(self._checked)

    def set_checked(self, run_id: str, checked: bool = True) -> None:
        row = self.table.row_of(run_id)
        item = self.table.item(row, NAME) if row >= 0 else None
        if item is not None and item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def overlay_names(self) -> list[str]:
        """The overlay legend's entries: one per run drawn."""
        return self.overlay.names()

    def set_busy(self, busy: bool) -> None:
        """While the window runs or loads, Reopen and Re-run wait."""
        self._busy = busy
        self._update_actions()

    def rename(self, run_id: str, name: str | None = None) -> bool:
        """Rename an entry (asking for the name when not given); False if nothing changed."""
        run = self._runs.get(run_id)
        if run is None:
            return False
        if name is None:
            name, ok = QInputDialog.getText(self, "Rename run", "Name in the history:", text=run.name)
            if not ok:
                return False
        try:
            self.store.rename(run_id, name)
        except (ValueError, OSError) as exc:
            show_exception(self, "Cannot rename the run", exc)
            return False
        self.refresh(select=run_id)
        return True

    def delete(self, run_id: str, *, confirm: bool = True) -> bool:
        """Delete an entry after asking (unless ``confirm`` is False); True if it was deleted."""
        run = self._runs.get(run_id)
        if run is None or run.status == RUNNING:
            return False
        if confirm:
            box = QMessageBox(self)
            box.setIcon(QMessageBox.Icon.Question)
            box.setWindowTitle("Delete run")
            box.setText(
                f"Delete “{run.name}” ({when_text(run)}) from the history? Its experiment file "
                "and results are removed from disk; this cannot be undone."
            )
            box.setStandardButtons(
                QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel
            )
            box.button(QMessageBox.StandardButton.Ok).setText("Delete")
            box.setDefaultButton(QMessageBox.StandardButton.Cancel)
            answer = int(box.exec())
            box.deleteLater()
            if answer != int(QMessageBox.StandardButton.Ok.value):
                return False
        row = self.table.row_of(run_id)
        try:
            self.store.delete(run_id)
        except (ValueError, OSError) as exc:
            show_exception(self, "Cannot delete the run", exc)
            return False
        ids = self.table.ids()
        following = ids[row + 1] if 0 <= row < len(ids) - 1 else (ids[row - 1] if row > 0 else None)
        self.refresh(select=following)
        return True

    def export_experiment(self, run_id: str, path: str | Path | None = None) -> Path | None:
        """Write an entry's experiment file (asking where when ``path`` is None)."""
        run = self._runs.get(run_id)
        if run is None:
            return None
        if path is None:
            stem = "".join(c if c.isalnum() else "-" for c in run.name.lower()).strip("-")
            suggested = str(Path(self._directory()) / f"{stem or 'experiment'}.toml")
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Export experiment file", suggested,
                "Experiment files (*.toml *.json);;TOML (*.toml);;JSON (*.json)",
            )
            if not chosen:
                return None
            path = chosen if Path(chosen).suffix else chosen + ".toml"
        try:
            return self.store.export_experiment(run_id, path)
        except (ValueError, OSError) as exc:
            show_exception(self, "Cannot export the experiment", exc)
            return None

    # ------------------------------------------------------------------ slots ---

    @Slot()
    def _on_reopen_action_triggered(self) -> None:
        run_id = self.selected_id()
        if run_id is not None and not self._busy:
            self.reopen_requested.emit(run_id)

    @Slot()
    def _on_rerun_action_triggered(self) -> None:
        run_id = self.selected_id()
        run = self._runs.get(run_id or "")
        if run is not None and run.kind == RUN and not self._busy:
            self.rerun_requested.emit(run.id)

    @Slot()
    def _on_rename_action_triggered(self) -> None:
        run_id = self.selected_id()
        if run_id is not None:
            self.rename(run_id)

    @Slot()
    def _on_delete_action_triggered(self) -> None:
        run_id = self.selected_id()
        if run_id is not None:
            self.delete(run_id)

    @Slot()
    def _on_export_action_triggered(self) -> None:
        run_id = self.selected_id()
        if run_id is not None:
            self.export_experiment(run_id)

    @Slot()
    def _on_table_item_selection_changed(self) -> None:
        self._update_actions()

    @Slot(int, int)
    def _on_table_cell_double_clicked(self, row: int, column: int) -> None:
        self._on_reopen_action_triggered()

    @Slot(QTableWidgetItem)
    def _on_table_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != NAME or not item.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            return
        run_id = str(item.data(ID_ROLE))
        ticked = item.checkState() == Qt.CheckState.Checked
        if ticked and run_id not in self._checked:
            self._checked.append(run_id)
        elif not ticked and run_id in self._checked:
            self._checked.remove(run_id)
        else:
            return
        self._draw_overlay()

    # ------------------------------------------------------------------ internals ---

    def _action(self, text: str, tip: str, slot: Callable[[], None]) -> QAction:
        action = self.toolbar.addAction(text)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _update_actions(self) -> None:
        run = self._runs.get(self.selected_id() or "")
        has = run is not None
        self.reopen_action.setEnabled(has and not self._busy)
        self.rerun_action.setEnabled(has and not self._busy and run.kind == RUN)
        self.rename_action.setEnabled(has)
        self.delete_action.setEnabled(has and run.status != RUNNING)
        self.export_action.setEnabled(has)

    def _draw_overlay(self) -> None:
        drawn = []
        for run_id in self._checked:
            run = self._runs.get(run_id)
            if run is None:
                continue
            try:
                drawn.append((run, self.store.document(run_id)))
            except StoreError:
                continue  # deleted meanwhile by another window
        self.overlay.show_runs(drawn)
