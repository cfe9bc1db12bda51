"""Start-up trace for the start-up benchmark (``tests/benchmarks/bench_startup.py``).

With ``PPML_LAB_STARTUP_TRACE=1`` in the environment, the window prints one line on stderr per
milestone of its start::

    ppml-lab startup: window-exposed wall=1764662400.123 age=1.84

``wall`` is the clock time (``time.time()``, comparable with the launching process's clock) and
``age`` the seconds since this process started. Milestones: ``imports-done`` (the window's
modules are imported), ``window-built``, ``window-exposed`` (the first time the window is on
screen), ``dataset-shown`` (the default or last dataset is loaded and painted). Without the
variable nothing is printed and nothing is installed.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QWidget

from ppml_lab.process_age import process_age

#: The environment variable that turns the trace on.
TRACE_ENV = "PPML_LAB_STARTUP_TRACE"
_PREFIX = "ppml-lab startup:"


def enabled() -> bool:
    """Whether the trace is on (the environment variable is set to 1)."""
    return os.environ.get(TRACE_ENV, "") == "1"


def mark(milestone: str) -> None:
    """Print ``milestone`` with the clock time and the process age, if the trace is on."""
    if enabled():
        print(f"{_PREFIX} {milestone} wall={time.time():.3f} age={process_age():.3f}",
              file=sys.stderr, flush=True)


class _ExposeWatcher(QObject):
    """Marks ``window-exposed`` the first time the window is exposed, then removes itself."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Expose and isinstance(watched, QWindow) and watched.isExposed():
            mark("window-exposed")
            watched.removeEventFilter(self)
        return False


def watch_window(window: QWidget) -> None:
    """Mark ``window-exposed`` and ``dataset-shown`` for ``window`` (a MainWindow), if on.

    Call it right after ``window.show()``: the expose events go to the window's native
    ``QWindow``, which exists from then on.
    """
    if not enabled():
        return
    handle = window.windowHandle()
    if handle is not None:
        if handle.isExposed():
            mark("window-exposed")
        else:
            handle.installEventFilter(_ExposeWatcher(window))
    signal = getattr(window, "dataset_loaded", None)
    if signal is not None:
        done: list[bool] = []

        def on_loaded(_table: object) -> None:
            if not done:
                done.append(True)
                # After the slots that fill the panels, and the paint they cause.
                QTimer.singleShot(0, lambda: mark("dataset-shown"))

        signal.connect(on_loaded)


__all__ = ["TRACE_ENV", "enabled", "mark", "process_age", "watch_window"]
