"""Garbage collection on the GUI thread only.

Python's cyclic garbage collector runs in whichever thread happens to allocate when a threshold
is crossed. If that is a worker thread (an engine importing scikit-learn, say) and the garbage
holds Qt wrappers (a closed dialog, a replaced plot), their C++ objects are destroyed off the GUI
thread: Qt takes an object mutex while shiboken waits for the GIL the GUI thread needs to finish
its own deletions, and both threads stop for good. This was seen as a hung window after a run
(and a hung test) in a `QObject::~QObject` / `Shiboken::GilState::acquire` pair.

:func:`install` turns the automatic collector off and collects from a timer on the GUI thread,
one generation at a time as the thresholds say, so worker threads never collect.

A collection stops the GUI thread for as long as it takes, so two rules keep it short:

* :func:`install` freezes the objects that exist by then (modules, classes, functions: the
  program itself, about 160,000 objects) with :func:`gc.freeze`, so a full collection never
  scans them again;
* a full (generation 2) collection waits while a :class:`~ppml_lab.ui.qt_worker.WorkerThread`
  is running, and for :data:`FULL_COLLECTION_IDLE_MS` after the last one ended: with a run's
  objects and the libraries it imported on first use (scikit-learn, dp-accounting, SciPy) it
  took 145-700 ms, a stall the window must not have while a run, a sweep or a load is going.
  The young generations are still collected during jobs (a few ms each, more often and so
  smaller: every :data:`INTERVAL_MS`).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QObject, QTimer

from ppml_lab.ui.qt_worker import live_jobs

#: How often the GUI thread looks at the collector's counts.
INTERVAL_MS = 100
#: How long no job may have run before a full collection (generation 2) is done.
FULL_COLLECTION_IDLE_MS = 1000


class GuiThreadCollector(QObject):
    """Collect the generation whose threshold has been crossed, on the GUI thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threshold = gc.get_threshold()
        gc.disable()
        self._idle = QElapsedTimer()  # since the last time a job was seen running
        self._idle.start()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> int | None:
        """Collect the oldest generation due, if any; return it (None when none was due)."""
        counts = gc.get_count()
        full_allowed = self._full_collection_allowed()
        for generation in (2, 1, 0):
            if generation == 2 and not full_allowed:
                continue
            if counts[generation] > self._threshold[generation]:
                gc.collect(generation)
                return generation
        return None

    def _full_collection_allowed(self) -> bool:
        if live_jobs():
            self._idle.start()
            return False
        return self._idle.elapsed() >= FULL_COLLECTION_IDLE_MS


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
        gc.freeze()  # the program's own objects: never scanned by a collection again
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
