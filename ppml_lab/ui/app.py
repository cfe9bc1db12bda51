"""Start the PPML Lab window: ``ppml-lab`` (or ``ppml-lab gui [EXPERIMENT]``)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication

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
    style = load_style_sheet()
    if style:
        app.setStyleSheet(style)


def main(experiment: str | None = None) -> int:
    """Open the main window (with ``experiment`` loaded if given) and run the event loop.

    Returns
    -------
    int
        The exit code of the event loop.
    """
    from ppml_lab.ui.qt_errors import install_excepthook
    from ppml_lab.ui.qt_main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    configure_application(app)
    previous_hook = install_excepthook()
    try:
        window = MainWindow(settings=QSettings())
        # Quitting through the OS (logout, Ctrl+C handler, ...) still stops the workers.
        app.aboutToQuit.connect(window.shutdown)
        window.show()
        window.load_initial(experiment)
        return int(app.exec())
    finally:
        sys.excepthook = previous_hook


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
