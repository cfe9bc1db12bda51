"""Render the application icon's SVG source to PNGs with Qt's SVG renderer.

Run from the repository root after changing ``ppml_lab/resources/icons/ppml-lab.svg``::

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py

It writes ``ppml_lab/resources/icons/ppml-lab-<size>.png`` for every size in :data:`SIZES` (the
usual desktop icon sizes); the PNGs are committed, so neither installing nor running the app
needs the SVG renderer.
"""

from __future__ import annotations

import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "ppml_lab" / "resources" / "icons"
SOURCE = ICONS / "ppml-lab.svg"
SIZES = (16, 32, 48, 64, 128, 256, 512)


def render(source: Path = SOURCE, folder: Path = ICONS, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    """Render ``source`` at every size into ``folder``; return the files written."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(source))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {source} is not a valid SVG file")
    written = []
    for size in sizes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        out = folder / f"ppml-lab-{size}.png"
        if not image.save(str(out), "PNG"):
            raise SystemExit(f"render_icons: could not write {out}")
        written.append(out)
    return written


if __name__ == "__main__":
    for path in render():
        print(path.relative_to(ICONS.parents[2]))
