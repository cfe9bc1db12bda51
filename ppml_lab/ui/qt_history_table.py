"""The History's list: one row per saved run or sweep (:class:`RunTableWidget`).

Columns: name (with a box to tick for the overlay), the pattern's label from the registry, the
data, when it started, the status (incomplete and failed in bold red, with the reason in the
tooltip), the test accuracy and the epsilon spent. Enter and Delete are the list's own keys.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ppml_lab.engines.registry import get_engine
from ppml_lab.experiments.store import (
    CANCELLED,
    COMPARISON,
    COMPLETED,
    FAILED,
    INCOMPLETE,
    RUN,
    RUNNING,
    SWEEP,
    StoredRun,
)
from ppml_lab.ui.qt_history_overlay import when_text

COLUMNS = ("Name", "Pattern", "Data", "When", "Status", "Test acc.", "ε")
NAME, PATTERN, DATA, WHEN, STATUS, ACCURACY, EPSILON = range(len(COLUMNS))
_STATUS_COLORS = {
    CANCELLED: "#8a4b00", INCOMPLETE: "#b3261e", FAILED: "#b3261e", RUNNING: "#1f5fa8",
}
#: Where a row keeps its entry's id (on the name cell).
ID_ROLE = Qt.ItemDataRole.UserRole


def pattern_label(name: str) -> str:
    """The pattern's label from the registry (its name if it is no longer known)."""
    try:
        return get_engine(name).label
    except ValueError:
        return name


def status_text(run: StoredRun) -> str:
    """"completed", "cancelled 3/10", "incomplete 2/10", "completed, 11 points" (a sweep)."""
    if run.kind == SWEEP:
        return f"{run.status}, {run.points or 0} points"
    if run.kind == COMPARISON:
        return f"{run.status}, {run.points or 0} patterns"
    if run.status in (RUNNING, CANCELLED, INCOMPLETE) and run.steps_total:
        return f"{run.status} {run.steps_done or 0}/{run.steps_total}"
    return run.status


def status_tip(run: StoredRun) -> str:
    """The status in a sentence: "cancelled after 3 of 10 epochs", and why when known."""
    text = run.status
    if run.kind == RUN and run.status in (RUNNING, CANCELLED, INCOMPLETE) and run.steps_total:
        unit = run.step_name + ("s" if run.steps_total != 1 else "")
        verb = "so far" if run.status == RUNNING else "finished"
        text += f": {run.steps_done or 0} of {run.steps_total} {unit} {verb}"
    if run.reason:
        text += f" ({run.reason})"
    if run.status in (CANCELLED, INCOMPLETE):
        text += ". The finished steps are kept: reopen, compare or re-run it."
    return text


class RunTableWidget(QTableWidget):
    """The entries of the History, newest first; Enter and Delete are its keys (they do not
    steal the window's shortcuts).
    """

    enter_pressed = Signal()
    delete_pressed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("historyTable")
        self.setToolTip(
            "Every run and sweep, newest first. Enter or double-click reopens the selected run, "
            "Delete deletes it (after asking); tick runs to compare their curves below."
        )
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(40)
        for column, width in ((PATTERN, 135), (DATA, 125), (WHEN, 100), (STATUS, 125),
                              (ACCURACY, 70), (EPSILON, 50)):
            self.setColumnWidth(column, width)
        header_tips = {
            NAME: "Tick runs to draw their curves together below",
            STATUS: "completed; cancelled (stopped by you: the finished steps are kept); "
            "incomplete (the window was closed or the application stopped during the run); "
            "failed (hover for the reason)",
            ACCURACY: "Final test accuracy (the last one recorded for an unfinished run)",
            EPSILON: "Privacy budget spent, for a pattern that has one",
        }
        for column, tip in header_tips.items():
            self.horizontalHeaderItem(column).setToolTip(tip)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentRow() >= 0:
            self.enter_pressed.emit()
            event.accept()
            return
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.currentRow() >= 0:
            self.delete_pressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def ids(self) -> list[str]:
        """The listed entries' ids, top to bottom."""
        ids = []
        for row in range(self.rowCount()):
            item = self.item(row, NAME)
            if item is not None:
                ids.append(str(item.data(ID_ROLE)))
        return ids

    def row_of(self, run_id: str) -> int:
        """The row of an entry (-1 if it is not listed)."""
        ids = self.ids()
        return ids.index(run_id) if run_id in ids else -1

    def fill_row(self, row: int, run: StoredRun, *, checked: bool) -> None:
        """Show ``run`` in ``row`` (its box ticked when ``checked``)."""

        def cell(
            column: int, text: str, tip: str = "", align_right: bool = False
        ) -> QTableWidgetItem:
            item = QTableWidgetItem(text)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            item.setToolTip(tip or text)
            if align_right:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.setItem(row, column, item)
            return item

        name = cell(NAME, run.name, f"{run.name}\n{run.path}")
        name.setData(ID_ROLE, run.id)
        if run.has_curves:
            name.setFlags(name.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            name.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        else:
            name.setToolTip(f"{run.name}\nA {run.kind} has no training curve to compare; reopen "
                            "it to see its settings.")
        label = pattern_label(run.pattern)
        if run.kind == COMPARISON:
            label = "all patterns"
        cell(PATTERN, label + (f" ({run.kind})" if run.kind != RUN else ""))
        cell(DATA, run.dataset, f"{run.dataset}\n{run.source}" if run.source else "")
        at = run.created_at
        cell(WHEN, when_text(run), at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if at else "")
        status = cell(STATUS, status_text(run), status_tip(run))
        colour = _STATUS_COLORS.get(run.status)
        if colour:
            status.setForeground(QColor(colour))
        if run.status in (INCOMPLETE, FAILED):
            font = QFont(status.font())
            font.setBold(True)
            status.setFont(font)
        if run.kind != RUN and run.accuracy_range:
            low, high = run.accuracy_range
            what = "the private points" if run.kind == SWEEP else "the patterns"
            cell(ACCURACY, f"{100 * low:.1f}–{100 * high:.1f}%", f"Test accuracy over {what}, lowest to "
                 "highest", align_right=True)
        elif run.test_accuracy is not None:
            tip = (f"Plaintext baseline on the same split: {100 * run.baseline_accuracy:.1f}%"
                   if run.baseline_accuracy is not None else "")
            if run.status != COMPLETED:
                tip = "The last test accuracy recorded. " + tip
            cell(ACCURACY, f"{100 * run.test_accuracy:.1f}%", tip, align_right=True)
        else:
            cell(ACCURACY, "—", "No test accuracy recorded", align_right=True)
        if run.kind == SWEEP and run.epsilon_range:
            low, high = run.epsilon_range
            cell(EPSILON, f"{low:g}–{high:g}", "The sweep's epsilons", align_right=True)
        elif run.epsilon is not None:
            cell(EPSILON, f"{run.epsilon:.3g}", "Privacy budget spent (ε)", align_right=True)
        else:
            cell(EPSILON, "—", "No privacy budget: the pattern has no ε", align_right=True)
