"""The Data tab's preprocessing box: test share, scaling and public ranges, as saved in [dataset]."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from window_driving import load, run_to_end

from ppml_lab.experiments.config import load_experiment
from ppml_lab.params import ParamError
from ppml_lab.ui.qt_public_ranges import CATEGORIES, HIGH, LOW

EXPERIMENT = """\
name = "Clinic, public bounds"
seed = 3

[dataset]
source = "clinic.csv"
target = "outcome"
test_fraction = 0.25
scaling = "bounds"

[dataset.bounds]
age = [0, 120]
weight = [20.5, 250]

[dataset.categories]
ward = ["A", "B", "C"]

[model]
epochs = 2
"""


def _clinic(tmp_path: Path) -> Path:
    rows = ["age,weight,ward,outcome"]
    rows += [
        f"{20 + i % 60},{55.5 + i % 40},{'ABC'[i % 3]},{'yes' if i % 2 else 'no'}" for i in range(80)
    ]
    (tmp_path / "clinic.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = tmp_path / "clinic.toml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    return path


def _open(window, qtbot, path: Path) -> None:  # noqa: ANN001
    with qtbot.waitSignal(window.dataset_loaded, timeout=15_000):
        assert window.open_experiment(path)
    qtbot.waitUntil(lambda: not window.is_busy, timeout=5000)


def test_an_experiment_with_public_bounds_shows_them(window, qtbot, messages, tmp_path) -> None:
    path = _clinic(tmp_path)
    _open(window, qtbot, path)
    panel = window.preprocessing_panel
    assert panel.form.raw_values() == {"test_fraction": 0.25, "scaling": "bounds"}
    assert panel.form.editor("scaling").currentText().startswith("Public bounds")
    ranges = panel.ranges
    assert not ranges.isHidden() and panel.kept_label.isHidden()
    assert [ranges.cell("age", c).text() for c in (LOW, HIGH)] == ["0", "120"]
    assert [ranges.cell("weight", c).text() for c in (LOW, HIGH)] == ["20.5", "250"]
    assert ranges.cell("ward", CATEGORIES).text() == "A, B, C"
    assert not ranges.cell("ward", LOW).flags() & Qt.ItemFlag.ItemIsEditable  # no range for text
    assert ranges.message_label.isHidden()
    # What the window would save is what the file says.
    assert window.build_experiment().dataset == load_experiment(path).dataset
    assert "known in advance" in ranges.table.toolTip()
    assert messages.texts == []


def test_editing_the_public_ranges_changes_the_experiment(window, qtbot, messages, tmp_path) -> None:
    _open(window, qtbot, _clinic(tmp_path))
    panel = window.preprocessing_panel
    ranges = panel.ranges
    ranges.cell("age", HIGH).setText("99")  # as typed in the cell
    ranges.set_categories("ward", "A, B, C, D")
    panel.form.editor("test_fraction").setValue(0.3)
    dataset = window.build_experiment().dataset
    assert dataset.bounds == {"age": (0.0, 99.0), "weight": (20.5, 250.0)}
    assert dataset.categories == {"ward": ("A", "B", "C", "D")}
    assert dataset.test_fraction == pytest.approx(0.3)

    # A range that cannot be used is red, explained, and stops Run (on the Data tab).
    ranges.set_range("weight", "300", "250")
    assert ranges.cell("weight", LOW).background().color().name() == "#fdf0ef"
    assert "lowest value must be below the highest" in ranges.message_label.text()
    with pytest.raises(ParamError, match="weight"):
        window.build_experiment()
    window.setup_tabs.setCurrentIndex(1)
    assert window.start_run() is False
    assert window.setup_tabs.currentIndex() == 0
    assert "weight" in messages.texts[-1]

    # Unticking a column takes its row away; ticking it again brings back what was typed.
    ranges.set_range("weight", "30", "250")
    window.dataset_panel.column_item("weight").setCheckState(Qt.CheckState.Unchecked)
    assert window.build_experiment().dataset.bounds == {"age": (0.0, 99.0)}
    window.dataset_panel.column_item("weight").setCheckState(Qt.CheckState.Checked)
    assert window.build_experiment().dataset.bounds["weight"] == (30.0, 250.0)

    # Another scaling: the table goes away; its ranges are kept but neither used nor saved,
    # while public category lists apply with every scaling, so they stay (and the note says so).
    combo = panel.form.editor("scaling")
    categories = window.build_experiment().dataset.categories
    combo.setCurrentIndex(combo.findData("standard"))
    assert ranges.isHidden() and not panel.kept_label.isHidden()
    dataset = window.build_experiment().dataset
    assert (dataset.scaling, dataset.bounds, dataset.categories) == ("standard", {}, categories)
    if categories:
        assert "used with every scaling" in panel.kept_label.text()
    combo.setCurrentIndex(combo.findData("bounds"))
    assert window.build_experiment().dataset.bounds["age"] == (0.0, 99.0)


def test_public_ranges_round_trip_through_a_saved_file(
    window, qtbot, messages, tmp_path, monkeypatch
) -> None:
    _open(window, qtbot, _clinic(tmp_path))
    window.preprocessing_panel.ranges.set_range("age", 18, 95.5)
    saved = tmp_path / "saved.toml"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(saved), "")))
    window.save_experiment_action.trigger()
    exp = load_experiment(saved)
    assert exp.dataset.bounds == {"age": (18.0, 95.5), "weight": (20.5, 250.0)}
    assert exp.dataset.categories == {"ward": ("A", "B", "C")}
    assert (exp.dataset.scaling, exp.dataset.test_fraction) == ("bounds", 0.25)

    # Other data and default settings, then the saved file again: everything comes back.
    load(window, qtbot, "builtin:wine")
    combo = window.preprocessing_panel.form.editor("scaling")
    combo.setCurrentIndex(combo.findData("none"))
    _open(window, qtbot, saved)
    assert window.preprocessing_panel.ranges.cell("age", HIGH).text() == "95.5"
    assert window.build_experiment() == exp
    assert messages.texts == []


def test_missing_ranges_stop_the_run_until_they_are_given(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:wine")
    panel = window.preprocessing_panel
    assert panel.ranges.isHidden()  # standard scaling: no table
    assert "privacy budget does not cover" in panel.form.notes_label.text()
    combo = panel.form.editor("scaling")
    combo.setCurrentIndex(combo.findData("bounds"))
    assert not panel.ranges.isHidden()
    assert panel.ranges.table.isColumnHidden(CATEGORIES)  # wine has numbers only
    assert "13 numeric columns have no range yet" in panel.ranges.message_label.text()
    assert window.start_run() is False
    assert "alcohol" in messages.texts[-1] and "public bounds" in messages.texts[-1]

    # There is no "fill from the data": ranges read off the data would not be public, and the
    # run could not tell. The user types ranges known in advance.
    assert not hasattr(panel.ranges, "fill_button")
    for column in panel.missing_ranges():
        panel.ranges.set_range(column, 0, 2000)
    assert panel.missing_ranges() == []
    window.pattern_panel.model_form.editor("epochs").setValue(2)
    messages.boxes.clear()
    result = run_to_end(window, qtbot)
    assert result is not None and result.status == "completed"
    assert result.experiment.dataset.scaling == "bounds"
    assert set(result.experiment.dataset.bounds) == set(result.data.columns_used)
    assert any("public bounds" in note for note in result.data.notes)
    assert messages.texts == []
