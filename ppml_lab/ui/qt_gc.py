"""Garbage collection on the GUI thread only.

Python's cyclic garbage collector runs in whichever thread happens to allocate when a threshold
is crossed. If that is a worker thread (an engine importing scikit-learn, say) and the garbage
holds Qt wrappers (a closed dialog, a replaced plot), their C++ objects are destroyed off the GUI
thread: Qt takes an object mutex while shiboken waits for the GIL the GUI thread needs to finish
its own deletions, and both threads stop for good. This was seen as a hung window after a run
(and a hung test) in a `QObject::~QObject` / `Shiboken::GilState::acquire` pair.

:func:`install` turns the automatic collector off and collects from a timer on the GUI thread,
one generation at a time as the thresholds say, so worker threads never collect.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QTimer

#: How often the GUI thread looks at the collector's counts.
INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Collect the generation whose threshold has been crossed, on the GUI thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> int | None:
        """Collect the oldest generation due, if any; return it (None when none was due)."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._threshold[generation]:
                gc.collect(generation)
                return generation
        return None


_collector: GuiThreadCollector | None = None


def install() -> GuiThreadCollector | None:
    """Install the GUI-thread collector once per application (needs a QCoreApplication)."""
    global _collector
    app = QCoreApplication.instance()
    if app is None:
        return None
    try:
        current = _collector is not None and _collector.parent() is app
    except RuntimeError:  # the collector went with an earlier application
        current = False
    if not current:
        _collector = GuiThreadCollector(app)
    return _collector


def uninstall() -> None:
    """Collect once on this (the GUI) thread and give collection back to Python (for tests)."""
    global _collector
    if _collector is not None:
        try:
            _collector._timer.stop()
            _collector.deleteLater()
        except RuntimeError:
            pass
        _collector = None
    gc.collect()
    gc.enable()
