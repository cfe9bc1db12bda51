"""Colours and type sizes of presenter mode, scaled to the window (1920 x 1080 is scale 1).

Sizes are in pixels of a 1920 x 1080 screen; :func:`scale_for` gives the factor for a window,
so a 1280 x 800 laptop gets the same layout about two thirds as large. Projectors wash out pale
colours, so the text is near black on white and the two data colours differ in hue and in
lightness (readable data orange, locked data dark blue).
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QFont

#: Near-black text, grey secondary text, and the accent (headings, the live curve).
INK = "#1b2430"
MUTED = "#5b6573"
FAINT = "#9aa3ae"
ACCENT = "#1f5fa8"
BACKGROUND = "#ffffff"
PANEL = "#f2f5f9"
#: Readable data (anyone who holds it can read it) and locked data (nobody on the way can).
READABLE = "#d0641a"
LOCKED = "#1f4e8c"
#: Good news, and what must be read first (NOT PRIVATE, no better than guessing).
GOOD = "#1b7f3b"
ALARM = "#b3261e"
#: The unprotected reference (dashed line, grey bar).
REFERENCE = "#7b8794"

#: The design size: everything is drawn for it and scaled.
DESIGN = QSize(1920, 1080)

#: Type sizes (pixels at scale 1).
TITLE_PX = 68
BODY_PX = 44
SMALL_PX = 28
HINT_PX = 22


def scale_for(size: QSize) -> float:
    """How much smaller (or larger) than 1920 x 1080 a window of ``size`` is drawn."""
    if size.width() <= 0 or size.height() <= 0:
        return 1.0
    return max(0.35, min(size.width() / DESIGN.width(), size.height() / DESIGN.height()))


def font(px: float, *, bold: bool = False) -> QFont:
    """The presenter's sans-serif font at ``px`` pixels (already scaled)."""
    f = QFont()
    f.setFamilies(["Noto Sans", "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica"])
    f.setPixelSize(max(8, round(px)))
    f.setBold(bold)
    return f


def color(name: str) -> QColor:
    return QColor(name)
