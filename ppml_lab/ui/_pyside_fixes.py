"""Work around PySide6 reference-counting bugs that crash CPython 3.11 on ``None``/``True``.

Measured with PySide6 6.12.0 on CPython 3.11 (see ``tests/gui/test_pyside_fixes.py``):

* every ``signal.emit(...)`` made from Python returns ``True`` without a reference to it;
* every call of a Python override of a C++ virtual method (``paintEvent``, pyqtgraph's
  ``paint``, ...) that returns ``None`` loses a reference to ``None``;
* ``QObject.property()`` and ``QComboBox.currentData()`` returning ``None`` do the same.

Each lost reference lowers the singleton's count by one. After enough repaints and signals the
count reaches zero and the interpreter aborts with "Fatal Python error: none_dealloc" (or
``bool_dealloc``) - typically at exit, possibly mid-run. CPython 3.12+ makes these singletons
immortal (PEP 683), which hides the bug there.

:func:`apply` probes whether the running PySide6 loses references and, only then, gives
``None``, ``True`` and ``False`` a reference count so large that it can never reach zero, which
is what PEP 683 does. They are never deallocated in a healthy interpreter anyway. On a PySide6
without the bug, or on CPython 3.12+, nothing is changed.
"""

from __future__ import annotations

import ctypes
import sys

#: Added to the reference counts (2**40: a million years of leaks at a million per second).
_BOOST = 1 << 40

_applied = False


def _probe() -> dict[str, int]:
    """References to None/True lost per call of the operations known to leak (0 = healthy)."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    n = 8
    lost: dict[str, int] = {}
    before = sys.getrefcount(True)
    for _ in range(n):
        probe.ping.emit()
    lost["emit -> True"] = (before - sys.getrefcount(True)) // n
    before = sys.getrefcount(None)
    for _ in range(n):
        probe.property("ppml_lab_probe")
    lost["property -> None"] = (before - sys.getrefcount(None)) // n
    return lost


def _boost(obj: object) -> None:
    # ob_refcnt is the first field of every PyObject.
    ctypes.c_ssize_t.from_address(id(obj)).value += _BOOST


def apply() -> bool:
    """Protect None/True/False if the running PySide6 loses references to them.

    Returns True if the protection is active.
    """
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not any(v > 0 for v in _probe().values()):
        return False
    for singleton in (None, True, False):
        _boost(singleton)
    _applied = True
    return True


def is_applied() -> bool:
    """Whether :func:`apply` found the bug and protected the singletons."""
    return _applied
