"""Showing errors to people: message boxes for expected problems and an excepthook for bugs.

Expected problems (a bad file, a parameter out of range) are shown with their own message, which
the data and parameter layers write for non-programmers. Unexpected exceptions are caught by
:func:`install_excepthook` and shown in a dialog with the traceback under "Show Details", so a bug
in a slot does not kill the application.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


def show_message(
    parent: QWidget | None,
    title: str,
    text: str,
    *,
    details: str = "",
    icon: QMessageBox.Icon = QMessageBox.Icon.Warning,
) -> None:
    """Show a modal message box (tests patch ``QMessageBox.exec`` to capture it)."""
    box = QMessageBox(parent)
    box.setIcon(icon)
    box.setWindowTitle(title)
    box.setText(text)
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.exec()
    box.deleteLater()


def show_exception(
    parent: QWidget | None, title: str, exc: BaseException, *, expected: bool | None = None
) -> None:
    """Show an exception: its message for expected errors, plus the traceback for others.

    ``expected`` defaults to True for ValueError and OSError (DatasetError, ParamError,
    ConfigError, a missing file ...), whose messages are written for users.
    """
    if expected is None:
        expected = isinstance(exc, (ValueError, OSError))
    message = str(exc).strip() or type(exc).__name__
    if expected:
        show_message(parent, title, message)
        return
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    show_message(
        parent,
        title,
        f"An unexpected error occurred ({type(exc).__name__}): {message}\n\n"
        "The application keeps running. If this happens again, please report it with the "
        "details below.",
        details=details,
        icon=QMessageBox.Icon.Critical,
    )


class _ExceptHook:
    """sys.excepthook that shows the error in a dialog (one at a time) and keeps the app alive."""

    def __init__(self, previous: ExceptHook) -> None:
        self.previous = previous
        self._showing = False

    def __call__(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self.previous(exc_type, exc, tb)
            return
        # Always keep a copy on stderr for bug reports.
        traceback.print_exception(exc_type, exc, tb, file=sys.stderr)
        if self._showing or QApplication.instance() is None:
            return
        self._showing = True
        try:
            exc = exc.with_traceback(tb)
            show_exception(QApplication.activeWindow(), "Unexpected error", exc, expected=False)
        finally:
            self._showing = False


def install_excepthook() -> ExceptHook:
    """Route uncaught exceptions to a dialog; return the previous hook (to restore it)."""
    previous = sys.excepthook
    sys.excepthook = _ExceptHook(previous)
    return previous
