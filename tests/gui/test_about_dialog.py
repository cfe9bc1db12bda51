"""Help > About: the versions and licences of the libraries, read from their metadata."""

from __future__ import annotations

from email.message import Message
from importlib import metadata

import numpy
import PySide6
import pytest
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QApplication

from ppml_lab import __version__
from ppml_lab.ui.qt_about_dialog import (
    LIBRARIES,
    AboutDialog,
    Library,
    details_text,
    library_info,
    library_rows,
    licence_from_metadata,
)
from ppml_lab.ui.qt_app_icon import ICON_SIZES, application_icon


def _meta(**fields: object) -> Message:
    meta = Message()
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            meta[key.replace("_", "-")] = item
    return meta


def test_the_licence_comes_from_the_shortest_metadata_field() -> None:
    assert licence_from_metadata(_meta(License_Expression="BSD-3-Clause", License="x")) == (
        "BSD-3-Clause"
    )
    assert licence_from_metadata(_meta(License="MIT")) == "MIT"
    long_text = "Copyright (c) 2001 somebody\nAll rights reserved.\n" + "x" * 500
    classifier = "License :: OSI Approved :: BSD License"
    assert licence_from_metadata(_meta(License=long_text, Classifier=[classifier])) == "BSD License"
    assert licence_from_metadata(_meta(License="UNKNOWN")) is None
    assert licence_from_metadata(_meta(Classifier=["License :: OSI Approved"])) is None


def test_missing_libraries_fall_back_to_the_table_or_are_left_out() -> None:
    required = Library("Nothing", ("no-such-distribution-xyz",), "MIT", "tests")
    info = library_info(required)
    assert (info.version, info.licence) == ("not installed", "MIT")
    optional = Library("Nothing", ("no-such-distribution-xyz",), "MIT", "tests", optional=True)
    assert library_info(optional) is None


def test_rows_hold_the_installed_versions_and_licences() -> None:
    rows = {row.name: row for row in library_rows()}
    assert rows["NumPy"].version == numpy.__version__
    assert rows["Qt"].version == qVersion()
    assert rows["PySide6 (Qt for Python)"].version == PySide6.__version__
    assert "LGPL-3.0" in rows["PySide6 (Qt for Python)"].licence
    assert "LGPL" in rows["gmpy2"].licence
    for name in ("pyqtgraph", "SciPy", "pandas", "scikit-learn", "dp-accounting (Google)",
                 "diffprivlib (IBM)", "MPyC", "TenSEAL (Microsoft SEAL)"):
        assert rows[name].version != "not installed", name
        assert rows[name].licence, name
    assert rows["pandas"].licence == metadata.metadata("pandas")["License-Expression"]
    try:
        flower = metadata.version("flwr")
    except metadata.PackageNotFoundError:
        assert "Flower" not in rows
    else:
        assert rows["Flower"].version == flower
    assert {lib.name for lib in LIBRARIES if not lib.optional} <= set(rows)


def test_help_about_opens_the_dialog_without_blocking(window, qtbot) -> None:
    window.about_action.trigger()
    dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, AboutDialog)]
    assert len(dialogs) == 1
    dialog = dialogs[0]
    qtbot.waitExposed(dialog)
    assert dialog.isVisible() and dialog.windowTitle() == "About PPML Lab"
    assert f"PPML Lab {__version__}" in dialog.intro_label.text()
    table = dialog.table
    assert table.rowCount() == len(library_rows())
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert "MPyC" in names and "TenSEAL (Microsoft SEAL)" in names
    row = names.index("NumPy")
    assert table.item(row, 1).text() == numpy.__version__
    dialog.copy_button.click()
    copied = QApplication.clipboard().text()
    assert copied == details_text(dialog.rows)
    assert "NumPy" in copied and numpy.__version__ in copied
    dialog.close()


@pytest.mark.parametrize("size", [16, 64, 256])
def test_the_application_icon_has_every_size(qapp, size) -> None:
    icon = application_icon()
    assert not icon.isNull()
    assert {s.width() for s in icon.availableSizes()} == set(ICON_SIZES)
    assert icon.pixmap(size, size).width() == size
