"""The Qt user interface: the only package that imports QtWidgets and pyqtgraph.

Importing it applies :mod:`ppml_lab.ui._pyside_fixes` (a guarded workaround for a PySide6
reference-counting bug) before any window or plot emits a signal.
"""

from __future__ import annotations

from ppml_lab.ui import _pyside_fixes

_pyside_fixes.apply()
