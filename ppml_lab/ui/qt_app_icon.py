"""The application icon: the PNG renders of ``resources/icons/ppml-lab.svg`` at the usual sizes.

PNGs, not the SVG, so that no SVG plug-in is needed at run time (packaging/render_icons.py makes
them from the SVG source).
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QIcon, QPixmap

from ppml_lab._resources import resource, resource_path

#: The sizes rendered (pixels); the window manager picks the one that fits.
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)
ICON_DIR = "icons"


def icon_file_name(size: int) -> str:
    """The file name of the render at ``size`` pixels."""
    return f"ppml-lab-{size}.png"


@lru_cache(maxsize=1)
def application_icon() -> QIcon:
    """The PPML Lab icon (empty if the package was installed without its icons).

    Needs a ``QGuiApplication`` (pixmaps); cached after the first call.
    """
    icon = QIcon()
    for size in ICON_SIZES:
        if not resource(ICON_DIR, icon_file_name(size)).is_file():
            continue
        with resource_path(ICON_DIR, icon_file_name(size)) as path:
            pixmap = QPixmap(str(path))  # read now: the path may be a temporary copy
        if not pixmap.isNull():
            icon.addPixmap(pixmap)
    return icon


__all__ = ["ICON_DIR", "ICON_SIZES", "application_icon", "icon_file_name"]
