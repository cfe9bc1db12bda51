"""The "Log" view: every message the current run sent (info, warnings, errors), with the time.

Engines tell what they are doing with :class:`~ppml_lab.engines.events.Log` events ("Calibrated
noise multiplier 1.1 for epsilon 1 in 0.4 s", "party 1: ..."). Warnings and errors also go to
the results' warnings box; the info messages are shown only here. The window hands the messages
of each batch of events to :meth:`RunLogWidget.add_logs` (from
:attr:`~ppml_lab.experiments.history.Changes.logs`, the one reducer of run events) and clears the
view when a run starts.

The lines can be copied: select rows and press Ctrl+C, or press "Copy all" (tab-separated: time,
level, message; one line per message).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

#: Table columns.
TIME, LEVEL, MESSAGE = range(3)

#: How each level is written and coloured (unknown levels are shown as they are, in black).
_LEVELS: dict[str, tuple[str, str]] = {
    "info": ("info", "#2b3a4a"),
    "warning": ("warning", "#8a4b00"),
    "error": ("error", "#b3261e"),
}
_EMPTY = "No messages yet. When a run starts, what the engine reports appears here."


class _CopyableTable(QTableWidget):
    """A read-only table whose selected rows Ctrl+C copies as tab-separated text."""

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.matches(QKeySequence.StandardKey.Copy):
            rows = sorted({index.row() for index in self.selectedIndexes()})
            if rows:
                QGuiApplication.clipboard().setText(self.rows_text(rows))
                event.accept()
                return
        super().keyPressEvent(event)

    def rows_text(self, rows: Iterable[int]) -> str:
        lines = []
        for row in rows:
            cells = [self.item(row, col) for col in range(self.columnCount())]
            lines.append("\t".join(c.text() if c is not None else "" for c in cells))
        return "\n".join(lines)


class RunLogWidget(QWidget):
    """Time, level and message of every message of the current run.

    Signals
    -------
    count_changed(int)
        The number of messages shown changed (the window puts it in the tab's title).
    """

    count_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runLog")
        self._started: float | None = None  # time.monotonic() of the run's start
        self._tabs: QTabWidget | None = None
        self.caption = QLabel(_EMPTY, self)
        self.caption.setObjectName("hintLabel")
        self.caption.setWordWrap(True)
        self.caption.setToolTip("What the current run reported, newest last")
        self.copy_button = QPushButton("Copy all", self)
        self.copy_button.setObjectName("copyLogButton")
        self.copy_button.setToolTip(
            "Copy every message (time, level, message; tab-separated) to the clipboard. To copy "
            "some, select their rows and press Ctrl+C."
        )
        self.copy_button.setEnabled(False)
        self.table = _CopyableTable(0, 3, self)
        self.table.setObjectName("runLogTable")
        self.table.setHorizontalHeaderLabels(["Time", "Level", "Message"])
        tips = {
            TIME: "When the window received the message (hover a time for the seconds since the "
            "run started)",
            LEVEL: "info: what the engine is doing; warning: something to know to read the "
            "results; error: why the run stopped",
            MESSAGE: "The message, as the engine wrote it",
        }
        for col, tip in tips.items():
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        header = self.table.horizontalHeader()
        # Fixed widths and row heights measured once per new row: resizing to contents would
        # measure every row again for each message (10 ms and growing during a federated run).
        metrics = self.table.fontMetrics()
        for col, widest in ((TIME, "00:00:00"), (LEVEL, max((w for w, _ in _LEVELS.values()),
                                                            key=metrics.horizontalAdvance))):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Fixed)
            self.table.setColumnWidth(col, metrics.horizontalAdvance(widest) + 24)
        header.setSectionResizeMode(MESSAGE, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        # Long messages wrap inside their row instead of running off to the right.
        self.table.setWordWrap(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setToolTip("Select rows and press Ctrl+C to copy them")

        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)

    # -- API ---------------------------------------------------------------------------------

    def clear(self, title: str = "") -> None:
        """Forget the messages shown (a run starts); ``title`` says which run follows."""
        self.table.setRowCount(0)
        self._started = time.monotonic() if title else None
        self.caption.setText(title or _EMPTY)
        self.copy_button.setEnabled(False)
        self.count_changed.emit(0)

    def add_message(self, message: str, level: str = "info", step: int = -1) -> None:
        """Add one line (the window's own notes, e.g. why a run stopped)."""
        self._append(message, level, step)
        self._after_adding()

    def add_logs(self, logs: Iterable[Any]) -> None:
        """Add :class:`~ppml_lab.engines.events.Log` events (anything with ``message``,
        ``level`` and ``step``).
        """
        added = False
        for log in logs:
            self._append(str(log.message), str(log.level), int(getattr(log, "step", -1)))
            added = True
        if added:
            self._after_adding()

    def follow_in_tab(self, tabs: QTabWidget) -> None:
        """Keep the title of this view's tab in ``tabs`` at "Log (n)" as messages arrive."""
        self._tabs = tabs
        self.count_changed.connect(self._on_count_changed)

    def count(self) -> int:
        """The number of messages shown."""
        return self.table.rowCount()

    def entries(self) -> list[tuple[str, str, str]]:
        """``(time, level, message)`` of every line, oldest first."""
        return [
            tuple(self.table.item(row, col).text() for col in (TIME, LEVEL, MESSAGE))  # type: ignore[misc]
            for row in range(self.table.rowCount())
        ]

    def text(self) -> str:
        """Every line as tab-separated text (what "Copy all" puts on the clipboard)."""
        return self.table.rows_text(range(self.table.rowCount()))

    # -- internals ---------------------------------------------------------------------------

    def _append(self, message: str, level: str, step: int) -> None:
        words, colour = _LEVELS.get(level, (level, "#000000"))
        row = self.table.rowCount()
        self.table.insertRow(row)
        stamp = QTableWidgetItem(time.strftime("%H:%M:%S"))
        if self._started is not None:
            stamp.setToolTip(f"{time.monotonic() - self._started:.1f} s after the run started")
        level_item = QTableWidgetItem(words)
        level_item.setForeground(QBrush(QColor(colour)))
        text = message.strip()
        message_item = QTableWidgetItem(text)
        message_item.setToolTip(text if step < 0 else f"(step {step}) {text}")
        if level in ("warning", "error"):
            message_item.setForeground(QBrush(QColor(colour)))
        for col, item in ((TIME, stamp), (LEVEL, level_item), (MESSAGE, message_item)):
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.table.setItem(row, col, item)
        self.table.resizeRowToContents(row)

    def _after_adding(self) -> None:
        self.copy_button.setEnabled(True)
        self.table.scrollToBottom()
        self.count_changed.emit(self.table.rowCount())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        """The messages wrap anew at the new width: measure every row once, after the layout."""
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            QTimer.singleShot(0, self.table, self.table.resizeRowsToContents)

    @Slot(int)
    def _on_count_changed(self, count: int) -> None:
        tabs = self._tabs
        index = tabs.indexOf(self) if tabs is not None else -1
        if index >= 0:
            tabs.setTabText(index, f"Log ({count})" if count else "Log")

    @Slot()
    def _on_copy_button_clicked(self) -> None:
        QGuiApplication.clipboard().setText(self.text())


__all__ = ["LEVEL", "MESSAGE", "TIME", "RunLogWidget"]
