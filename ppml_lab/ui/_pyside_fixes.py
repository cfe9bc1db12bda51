"""Work around a reference-counting bug of ``SignalInstance.emit`` in some PySide6 builds.

With PySide6 6.12.0 on CPython 3.11, every ``signal.emit(...)`` made from Python returns ``True``
without taking a reference to it, so each emit steals one reference from ``True``. After a few
thousand emits (ours, pyqtgraph's, pytest-qt's) the count reaches zero and the interpreter aborts
with "Fatal Python error: bool_dealloc: deallocating True or False" - often at exit, sometimes in
the middle of a run. CPython 3.12+ makes ``True`` immortal, which hides the bug there.

:func:`apply` measures whether the running PySide6 has the bug and, only then, wraps ``emit`` so
it adds back the missing reference. On a fixed PySide6 nothing is patched.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

_applied = False


def _emit_steals_a_reference() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    lost = before - sys.getrefcount(True)
    # Give the references back that the probe itself took.
    for _ in range(max(lost, 0)):
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return lost >= 8


def apply() -> bool:
    """Patch ``SignalInstance.emit`` if it leaks; return True if a patch is active."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12):  # True is immortal: a lost reference cannot hurt
        return False
    from PySide6.QtCore import SignalInstance

    if not _emit_steals_a_reference():
        return False
    original = SignalInstance.emit
    incref = ctypes.pythonapi.Py_IncRef
    py_object = ctypes.py_object

    def emit(self: Any, *args: Any) -> Any:
        result = original(self, *args)
        if result is True or result is False:
            incref(py_object(result))
        return result

    emit.__doc__ = original.__doc__
    SignalInstance.emit = emit  # type: ignore[method-assign]
    _applied = True
    return True
