"""Saving and copying plots: a small button in the top-left corner of every plot.

The button opens a menu with **Save as PNG…**, **Save as SVG…** and **Copy image**, so a plot
can be exported without knowing pyqtgraph's right-click menu. The whole plot is exported (title,
legend, axes, curves), drawn as on screen: a PNG (and the copied image) pixel for pixel as the
screen shows it (at its resolution, so twice the pixels on a high-resolution screen), and an SVG
as vector curves with text as text, for documents that are printed or enlarged.

The PNG is rendered by Qt directly, in pyqtgraph's export mode (markers drawn as shapes, not
cached pixmaps): pyqtgraph's ``ImageExporter`` enlarges the text but not the lines when asked for
a larger image. The SVG is pyqtgraph's ``SVGExporter``, made tolerant of the closing "Z" recent
Qt versions write in path data (on which it fails otherwise).
"""

from __future__ import annotations

import html
import importlib
import re
from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
from pyqtgraph.exporters import Exporter
from PySide6.QtCore import QRectF, QSize, Qt, Slot
from PySide6.QtGui import QAction, QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QToolButton, QWidget

from ppml_lab.ui.qt_errors import show_message

_FORMATS = {"png": "PNG image (*.png)", "svg": "SVG drawing (*.svg)"}
_last_folder: Path | None = None


def plot_title(plot_item: pg.PlotItem) -> str:
    """The plot's title as plain text ("" without one)."""
    text = plot_item.titleLabel.text if plot_item.titleLabel.isVisible() else ""
    return html.unescape(re.sub(r"<[^>]+>", "", text or "")).strip()


def file_stem(title: str) -> str:
    """A file name from a title: "Privacy budget spent (ε)" -> "privacy-budget-spent"."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words) or "plot"


class _Items(Exporter):
    """pyqtgraph's list of the items an export paints (for their export mode); writes nothing."""

    def export(self, fileName=None, toBytes=False, copy=False) -> None:  # noqa: ANN001, N803
        raise NotImplementedError


def _render(plot_item: pg.PlotItem, painter: QPainter, size: QSize) -> None:
    """Paint ``plot_item`` with ``painter`` onto a white ``size`` area, in export mode."""
    items = _Items(plot_item)
    target = QRectF(0, 0, size.width(), size.height())
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
    painter.fillRect(target, QColor("white"))
    items.setExportMode(True, {"antialias": True, "background": QColor("white"),
                               "painter": painter, "resolutionScale": 1.0})
    try:
        plot_item.scene().render(painter, target, plot_item.sceneBoundingRect())
    finally:
        items.setExportMode(False)


def _screen_scale(plot_item: pg.PlotItem) -> float:
    views = plot_item.scene().views() if plot_item.scene() is not None else []
    return max((v.devicePixelRatioF() for v in views), default=1.0) or 1.0


def plot_image(plot_item: pg.PlotItem, scale: float | None = None) -> QImage:
    """The plot as an image, as the screen shows it (``scale``: device pixels per pixel)."""
    scale = scale or _screen_scale(plot_item)
    size = plot_item.sceneBoundingRect().size().toSize()
    image = QImage(size * scale, QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(scale)
    painter = QPainter(image)
    try:
        _render(plot_item, painter, size)
    finally:
        painter.end()
    image.setDevicePixelRatio(1.0)
    return image


def _keeping_closepath(correct: Callable[..., None]) -> Callable[..., None]:
    """The ``correctCoordinates`` of pyqtgraph, tolerant of the "Z" (close path) that recent Qt
    versions write in SVG path data: the Zs are set aside, the coordinates corrected, and the
    Zs put back where they were (the correction maps one token to one token).
    """

    def correct_coordinates(node, defs, item, options) -> None:  # noqa: ANN001
        closed = []
        for path in node.getElementsByTagName("path"):
            tokens = path.getAttribute("d").split()
            where = [i for i, token in enumerate(tokens) if token in ("Z", "z")]
            if where and len(where) < len(tokens):
                path.setAttribute("d", " ".join(t for t in tokens if t not in ("Z", "z")))
                closed.append((path, where))
        correct(node, defs, item, options)
        for path, where in closed:
            tokens = path.getAttribute("d").split()
            for i in where:
                tokens.insert(i, "Z")
            path.setAttribute("d", " ".join(tokens))
        _place_rects(node)

    return correct_coordinates


def _place_rects(node) -> None:  # noqa: ANN001
    """Give rectangles (bars) their final coordinates instead of a scaling transform, as pyqtgraph
    does for paths: renderers without "non-scaling-stroke" would widen their outline with it.
    """
    for group in node.getElementsByTagName("g"):
        match = re.fullmatch(r"matrix\(([^)]*)\)", group.getAttribute("transform"))
        kids = [ch for ch in group.childNodes if ch.nodeType == ch.ELEMENT_NODE]
        if match is None or not kids or any(ch.tagName != "rect" for ch in kids):
            continue
        a, b, c, d, e, f = (float(v) for v in match.group(1).split(","))
        if b or c:
            continue
        for rect in kids:
            x, y, w, h = (float(rect.getAttribute(k) or 0) for k in ("x", "y", "width", "height"))
            x0, x1 = sorted((a * x + e, a * (x + w) + e))
            y0, y1 = sorted((d * y + f, d * (y + h) + f))
            for key, value in (("x", x0), ("y", y0), ("width", x1 - x0), ("height", y1 - y0)):
                rect.setAttribute(key, f"{value:.6g}")
        group.removeAttribute("transform")


def write_svg(plot_item: pg.PlotItem, path: str | Path) -> None:
    """Write the plot as an SVG drawing (vector curves, text as text), with pyqtgraph's
    ``SVGExporter`` (which makes Qt's SVG output readable by browsers and drawing programs).
    """
    module = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    original = module.correctCoordinates
    module.correctCoordinates = _keeping_closepath(original)
    try:
        module.SVGExporter(plot_item).export(str(path))
    finally:
        module.correctCoordinates = original


def export_plot(plot_item: pg.PlotItem, path: str | Path) -> Path:
    """Write the plot to ``path``: SVG for a ``.svg`` suffix, else PNG (``.png`` is added)."""
    path = Path(path)
    if path.suffix.lower() == ".svg":
        write_svg(plot_item, path)
        return path
    if path.suffix.lower() != ".png":
        path = path.with_name(path.name + ".png")
    if not plot_image(plot_item).save(str(path), "PNG"):
        raise OSError(f"cannot write {path}")
    return path


def copy_plot(plot_item: pg.PlotItem) -> None:
    """Put the plot on the clipboard as an image."""
    QApplication.clipboard().setImage(plot_image(plot_item))


class PlotExportButton(QToolButton):
    """The save/copy button of one plot, kept in the plot's top-left corner (titles are centred
    over the data area, right of the axis, so that corner stays free).

    ``plot_item`` is the pyqtgraph item exported; ``host`` the widget the button sits on (the
    plot widget itself, or a widget that holds it).
    """

    def __init__(self, host: QWidget, plot_item: pg.PlotItem) -> None:
        super().__init__(host)
        self.plot_item = plot_item
        self.setObjectName("plotExportButton")
        self.setText("⤓")
        self.setAutoRaise(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setStyleSheet(
            "QToolButton { color: #555; font-size: 13px; padding: 0 3px; border: 1px solid #ccc;"
            " border-radius: 3px; background: rgba(255, 255, 255, 220); }"
            "QToolButton:hover { color: #000; border-color: #888; }"
            "QToolButton::menu-indicator { image: none; width: 0; }"
        )
        self.setFixedSize(22, 20)
        menu = QMenu(self)
        self.save_png_action = QAction("Save as PNG…", self)
        self.save_svg_action = QAction("Save as SVG…", self)
        self.copy_action = QAction("Copy image", self)
        for action in (self.save_png_action, self.save_svg_action, self.copy_action):
            menu.addAction(action)
        self.setMenu(menu)
        self.save_png_action.triggered.connect(self._on_save_png_triggered)
        self.save_svg_action.triggered.connect(self._on_save_svg_triggered)
        self.copy_action.triggered.connect(self._on_copy_triggered)
        self.setToolTip("Save this plot as PNG or SVG, or copy it as an image")
        self.move(3, 3)
        self.raise_()

    def save(self, fmt: str) -> Path | None:
        """Ask where to save the plot as ``fmt`` ("png" or "svg") and write it; None if cancelled."""
        global _last_folder
        title = plot_title(self.plot_item)
        folder = _last_folder or Path.cwd()
        suggested = str(folder / f"{file_stem(title)}.{fmt}")
        name, _ = QFileDialog.getSaveFileName(
            self.window(), f"Save the plot as {fmt.upper()}", suggested, _FORMATS[fmt]
        )
        if not name:
            return None
        path = Path(name)
        if path.suffix.lower() != f".{fmt}":
            path = path.with_name(path.name + f".{fmt}")
        try:
            written = export_plot(self.plot_item, path)
        except (OSError, RuntimeError, ValueError) as exc:
            show_message(self.window(), "Could not save the plot", f"{path}: {exc}")
            return None
        if not written.exists():
            show_message(self.window(), "Could not save the plot", f"Nothing was written to {path}.")
            return None
        _last_folder = written.parent
        return written

    @Slot()
    def _on_save_png_triggered(self) -> None:
        self.save("png")

    @Slot()
    def _on_save_svg_triggered(self) -> None:
        self.save("svg")

    @Slot()
    def _on_copy_triggered(self) -> None:
        copy_plot(self.plot_item)


def add_export_button(plot: pg.PlotWidget, host: QWidget | None = None) -> PlotExportButton:
    """Put a save/copy button in the top-left corner of ``plot`` (or of ``host``)."""
    button = PlotExportButton(host or plot, plot.getPlotItem())
    return button


__all__ = [
    "PlotExportButton",
    "add_export_button",
    "copy_plot",
    "export_plot",
    "file_stem",
    "plot_image",
    "plot_title",
    "write_svg",
]
