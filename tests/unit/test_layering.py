"""The layering rule import-linter cannot express: QtWidgets only inside ppml_lab/ui."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "ppml_lab"
QT_WIDGETS = re.compile(
    r"^\s*(from\s+PySide6\.QtWidgets|import\s+PySide6\.QtWidgets|from\s+PySide6\s+import\s+.*QtWidgets|"
    r"import\s+pyqtgraph|from\s+pyqtgraph)",
    re.MULTILINE,
)


def test_qtwidgets_and_pyqtgraph_only_in_ui() -> None:
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "ui" not in p.relative_to(PACKAGE).parts[:1] and QT_WIDGETS.search(p.read_text())
    ]
    assert offenders == []


def test_the_rule_detects_an_offending_import(tmp_path: Path) -> None:
    # Guard against a regex that can never match.
    assert QT_WIDGETS.search("from PySide6.QtWidgets import QWidget\n")
    assert QT_WIDGETS.search("from PySide6 import QtCore, QtWidgets\n")
    assert not QT_WIDGETS.search("from PySide6.QtGui import QPdfWriter\n")


def test_no_test_or_source_file_refers_to_an_absolute_path() -> None:
    """The Adult data and everything else are found relative to the repository."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"""["'](/work/|/root/|/home/|/tmp/)""")
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("ppml_lab", "tests", "scripts")  # ppml_lab/ holds resources/ too
        for path in (root / folder).rglob("*")
        if path.suffix in {".py", ".toml", ".sh"}
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_no_module_is_longer_than_500_lines_without_a_reason() -> None:
    """A file over about 500 lines does several jobs; split it, or say at its top why not."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "ppml_lab"
    long = []
    for path in root.rglob("*.py"):
        lines = path.read_text(encoding="utf-8").splitlines()
        head = "\n".join(lines[:30]).lower()
        if len(lines) > 520 and "longer than 500 lines because" not in head:
            long.append(f"{path.relative_to(root)}: {len(lines)} lines")
    assert long == []
