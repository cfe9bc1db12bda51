"""Start the PPML Lab window: ``ppml-lab`` (or ``ppml-lab gui [EXPERIMENT]``)."""

from __future__ import annotations

import sys
from typing import Any

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication, QWidget

from ppml_lab._resources import style_sheet

ORGANIZATION = "PPML Lab"
ORGANIZATION_DOMAIN = "ppml-lab.org"
APPLICATION = "PPML Lab"


def load_style_sheet() -> str:
    """The application style sheet (``ppml_lab/resources/style``), or "" when it is missing."""
    try:
        return style_sheet()
    except (OSError, UnicodeDecodeError):
        return ""


def configure_application(app: QApplication) -> None:
    """Names (so QSettings has a home) and look of the application."""
    from ppml_lab import __version__

    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setOrganizationDomain(ORGANIZATION_DOMAIN)
    QCoreApplication.setApplicationName(APPLICATION)
    QCoreApplication.setApplicationVersion(__version__)
    QApplication.setDesktopFileName("ppml-lab")
    app.setStyle("Fusion")  # the same look on every platform; the style sheet builds on it
    from ppml_lab.ui.qt_app_icon import application_icon

    app.setWindowIcon(application_icon())  # every window and dialog, and the task bar
    style = load_style_sheet()
    if style:
        app.setStyleSheet(style)


def open_main_window(
    experiment: str | None = None, *, settings: QSettings | None = None, first_run_tour: bool = True
) -> Any:
    """Build and show the main window, load ``experiment`` (or the last or default dataset), and
    on the very first launch show the "start here" tour (:mod:`ppml_lab.ui.qt_start_tour`).

    Returns
    -------
    MainWindow
        The window, shown.
    """
    from ppml_lab.ui import qt_startup_trace as trace
    from ppml_lab.ui.qt_main_window import MainWindow

    trace.mark("imports-done")
    settings = settings if settings is not None else QSettings()
    window = MainWindow(settings=settings)
    trace.mark("window-built")
    if settings.value("window/geometry") is None:
        _fit_to_screen(window)
    window.show()
    trace.watch_window(window)
    window.load_initial(experiment)
    if first_run_tour:
        from ppml_lab.ui.qt_start_tour import start_tour_on_first_run

        start_tour_on_first_run(window, settings)
    return window


def _fit_to_screen(window: QWidget) -> None:
    """A first window no larger than the screen's free area (a laptop's 1280x800, say)."""
    screen = window.screen() or QApplication.primaryScreen()
    if screen is None:
        return
    free = screen.availableGeometry()
    width, height = min(window.width(), free.width()), min(window.height(), free.height() - 40)
    if (width, height) != (window.width(), window.height()):
        window.resize(width, max(height, 480))
        window.move(free.topLeft())


def main(experiment: str | None = None) -> int:
    """Open the main window (with ``experiment`` loaded if given) and run the event loop.

    Returns
    -------
    int
        The exit code of the event loop.
    """
    from ppml_lab.ui.qt_errors import install_excepthook

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    configure_application(app)
    previous_hook = install_excepthook()
    try:
        window = open_main_window(experiment)
        # Quitting through the OS (logout, Ctrl+C handler, ...) still stops the workers.
        app.aboutToQuit.connect(window.shutdown)
        return int(app.exec())
    finally:
        sys.excepthook = previous_hook


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
