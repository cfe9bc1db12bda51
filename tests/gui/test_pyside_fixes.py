"""The guard against PySide6 reference-counting bugs on None/True/False."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from ppml_lab.ui import _pyside_fixes


class _Emitter(QObject):
    ping = Signal()


def test_singletons_survive_many_leaky_calls(qapp) -> None:
    import ppml_lab.ui  # noqa: F401 - applies the guard on import

    emitter = _Emitter()
    for _ in range(20_000):  # more than None's or True's whole reference count at start-up
        emitter.ping.emit()
        emitter.property("missing")
    if _pyside_fixes.is_applied():
        assert sys.getrefcount(True) > 2**39 and sys.getrefcount(None) > 2**39
    else:  # a healthy PySide6 (or CPython 3.12+): nothing was touched
        assert sys.getrefcount(True) < 2**39 or sys.version_info >= (3, 12)
