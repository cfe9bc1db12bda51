"""Help > About: what the lab is, its version, and the libraries it is built on, with their
versions and licences.

Versions and licences are read from the installed distributions' metadata
(:mod:`importlib.metadata`, also present in the desktop bundle); when a distribution does not
state its licence in a short form, the licence comes from :data:`LIBRARIES`. An optional
library (Flower, openpyxl, pyarrow) is listed only when it is installed.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from PySide6.QtCore import Qt, QTimer, qVersion
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ppml_lab import __version__
from ppml_lab.ui.qt_app_icon import application_icon


@dataclass(frozen=True)
class Library:
    """A library the lab is built on, as the About dialog lists it."""

    name: str
    distributions: tuple[str, ...]  # distribution names to look up; the first installed wins
    licence: str  # SPDX expression used when the metadata has no short licence
    used_for: str
    optional: bool = False  # listed only when installed


#: The main libraries, in the order the dialog lists them.
LIBRARIES: tuple[Library, ...] = (
    Library("PySide6 (Qt for Python)", ("PySide6_Essentials", "PySide6", "pyside6-essentials"),
            "LGPL-3.0-only", "the window"),
    Library("pyqtgraph", ("pyqtgraph",), "MIT", "live plots"),
    Library("NumPy", ("numpy",), "BSD-3-Clause", "arrays and the models"),
    Library("SciPy", ("scipy",), "BSD-3-Clause", "statistics"),
    Library("pandas", ("pandas",), "BSD-3-Clause", "reading tables"),
    Library("scikit-learn", ("scikit-learn",), "BSD-3-Clause",
            "built-in data sets, reference models, metrics"),
    Library("dp-accounting (Google)", ("dp-accounting", "dp_accounting"), "Apache-2.0",
            "privacy accounting (RDP and PLD)"),
    Library("diffprivlib (IBM)", ("diffprivlib",), "MIT", "differentially private reference models"),
    Library("MPyC", ("mpyc",), "MIT", "secure multi-party computation"),
    Library("gmpy2", ("gmpy2",), "LGPL-3.0-or-later", "fast big-number arithmetic for MPyC"),
    Library("TenSEAL (Microsoft SEAL)", ("tenseal",), "Apache-2.0", "homomorphic encryption (CKKS)"),
    Library("cryptography", ("cryptography",), "Apache-2.0 OR BSD-3-Clause",
            "key agreement and encryption for secure aggregation"),
    Library("Flower", ("flwr",), "Apache-2.0", "federated learning across machines", optional=True),
    Library("openpyxl", ("openpyxl",), "MIT", "Excel files", optional=True),
    Library("pyarrow", ("pyarrow",), "Apache-2.0", "Parquet files", optional=True),
)

#: What the LGPL asks of a program that ships LGPL libraries, said once under the table.
LGPL_NOTE = (
    "Qt, PySide6 and gmpy2 (with GMP, MPFR and MPC) are used under the GNU Lesser General Public "
    "License v3: they are separate shared libraries, which you may replace with your own builds."
)

#: Longest licence text taken from a ``License`` metadata field (longer ones are the whole
#: licence text, not its name).
_SHORT_LICENCE = 80


@dataclass(frozen=True)
class LibraryInfo:
    """One row of the dialog: a library as installed now."""

    name: str
    version: str
    licence: str
    used_for: str


def licence_from_metadata(meta: Any) -> str | None:
    """The licence a distribution's metadata states, in its shortest form, or None.

    ``License-Expression`` (an SPDX expression) first, then a one-line ``License`` field, then the
    ``License ::`` classifiers (e.g. "MIT License").
    """
    expression = (meta.get("License-Expression") or "").strip()
    if expression:
        return expression
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= _SHORT_LICENCE and text.upper() != "UNKNOWN":
        return text
    classifiers = [
        c.rsplit("::", 1)[-1].strip()
        for c in meta.get_all("Classifier") or []
        if c.startswith("License :: OSI Approved ::")
    ]
    return ", ".join(classifiers) or None


def library_info(library: Library) -> LibraryInfo | None:
    """``library`` as installed: its version and licence; None for a missing optional library."""
    for distribution in library.distributions:
        try:
            meta = metadata.metadata(distribution)
        except metadata.PackageNotFoundError:
            continue
        licence = licence_from_metadata(meta) or library.licence
        return LibraryInfo(library.name, str(meta["Version"]), licence, library.used_for)
    if library.optional:
        return None
    return LibraryInfo(library.name, "not installed", library.licence, library.used_for)


def library_rows() -> list[LibraryInfo]:
    """Every row of the dialog's table: Python and Qt first, then :data:`LIBRARIES`."""
    rows = [
        LibraryInfo("Python", platform.python_version(), "PSF-2.0", "the language"),
        LibraryInfo("Qt", qVersion(), "LGPL-3.0-only", "the window (through PySide6)"),
    ]
    rows += [info for info in map(library_info, LIBRARIES) if info is not None]
    return rows


def details_text(rows: list[LibraryInfo] | None = None) -> str:
    """The dialog's facts as plain text (the "Copy details" button), e.g. for a bug report."""
    rows = library_rows() if rows is None else rows
    width = max(len(r.name) for r in rows)
    lines = [f"PPML Lab {__version__} on {platform.platform(terse=True)}", ""]
    lines += [f"{r.name:<{width}}  {r.version:<12} {r.licence}" for r in rows]
    return "\n".join(lines) + "\n"


class AboutDialog(QDialog):
    """Help > About PPML Lab: the lab, its version and the libraries under it.

    Parameters
    ----------
    intro_html : str
        What the lab does (rich text), shown under the title.
    parent : QWidget, optional
        The main window.
    """

    def __init__(self, *, intro_html: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About PPML Lab")
        self.rows = library_rows()

        icon = QLabel(self)
        icon.setPixmap(application_icon().pixmap(64, 64))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.intro_label = QLabel(intro_html or f"<h3>PPML Lab {__version__}</h3>", self)
        self.intro_label.setWordWrap(True)
        self.intro_label.setTextFormat(Qt.TextFormat.RichText)
        header = QHBoxLayout()
        header.addWidget(icon, 0)
        header.addWidget(self.intro_label, 1)

        caption = QLabel("<b>Built on</b> (versions installed now, and their licences):", self)
        self.table = QTableWidget(len(self.rows), 4, self)
        self.table.setObjectName("aboutLibraries")
        self.table.setHorizontalHeaderLabels(["Library", "Version", "Licence", "Used for"])
        for row, info in enumerate(self.rows):
            for column, text in enumerate((info.name, info.version, info.licence, info.used_for)):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a list to read, not a form
        head = self.table.horizontalHeader()
        for column in (0, 1):
            head.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        # A long licence expression (NumPy's) wraps instead of squeezing "Used for".
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        head.resizeSection(2, 210)
        head.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)

        note = QLabel(
            f"{LGPL_NOTE} PPML Lab itself is MIT-licensed. Python {platform.python_version()}, "
            f"Qt {qVersion()}, {platform.system()} {platform.machine()}.",
            self,
        )
        note.setWordWrap(True)
        note.setObjectName("aboutLicenceNote")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = QPushButton("Copy details", self)
        self.copy_button.setToolTip("Copy the versions and licences as text (e.g. for a bug report)")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(self._on_copy_button_clicked)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(caption)
        layout.addWidget(self.table, 1)
        layout.addWidget(note)
        layout.addWidget(buttons)
        buttons.button(QDialogButtonBox.StandardButton.Close).setDefault(True)
        self.resize(820, 620)

    # Wrapped cells get their height again once the columns have their widths: after the
    # layout has run, i.e. on the next turn of the event loop after a show or a resize.
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        QTimer.singleShot(0, self, self._fit_rows)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        QTimer.singleShot(0, self, self._fit_rows)

    def _fit_rows(self) -> None:
        self.table.resizeRowsToContents()

    def _on_copy_button_clicked(self) -> None:
        QApplication.clipboard().setText(details_text(self.rows))


def show_about_dialog(parent: QWidget, intro_html: str) -> AboutDialog:
    """Open the About dialog over ``parent`` (window-modal, returns at once)."""
    dialog = AboutDialog(intro_html=intro_html, parent=parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


__all__ = [
    "LGPL_NOTE",
    "LIBRARIES",
    "AboutDialog",
    "Library",
    "LibraryInfo",
    "details_text",
    "library_info",
    "library_rows",
    "licence_from_metadata",
    "show_about_dialog",
]
