"""Words, controls and layout: choices in words, the log pane, public bounds from a warning, the
test share and categories of the run, a fake workbook, and what fits at 1024 px."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QComboBox, QFileDialog
from window_driving import load, run_to_end

from ppml_lab.engines.registry import all_engines
from ppml_lab.experiments.config import load_experiment
from ppml_lab.params import describe
from ppml_lab.ui.qt_param_field import choice_literal
from ppml_lab.ui.qt_public_ranges import LOW
from ppml_lab.ui.qt_warning_actions import PUBLIC_BOUNDS_LINK
from ppml_lab.ui.run_readiness import RunReadiness, split_sizes

CHOICES = [
    (engine.name, spec) for engine in all_engines() for spec in describe(engine.Params)
    if spec.choices is not None
]


@pytest.mark.parametrize(("pattern", "spec"), CHOICES, ids=[f"{p}.{s.name}" for p, s in CHOICES])
def test_a_choice_shows_words_and_saves_its_value(
    window, qtbot, messages, tmp_path, monkeypatch, pattern, spec
) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    panel = window.pattern_panel
    panel.set_pattern(pattern)
    combo = panel.pattern_form.editor(spec.name)
    assert isinstance(combo, QComboBox)
    shown = [combo.itemText(i) for i in range(combo.count())]
    assert shown == [spec.choice_text(c) for c in spec.choices]
    assert not set(map(str, spec.choices)) & set(shown)  # no key is shown as a choice
    saved = tmp_path / "saved.toml"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(saved), ""))
    )
    set_box = panel.pattern_form.set_checkbox(spec.name)
    if set_box is not None:
        set_box.setChecked(True)  # an optional choice: give it a value
    for index, value in enumerate(spec.choices):
        tip = combo.itemData(index, Qt.ItemDataRole.ToolTipRole)
        assert f"In experiment files: {spec.name} = {choice_literal(value)}" in tip
        combo.setCurrentIndex(index)  # what a click on the words does
        if panel.pattern_form.validate():
            continue  # a choice that needs another setting first (e.g. a client column)
        assert panel.pattern_form.values()[spec.name] == value
        # Round trip through an experiment file: the key is saved, the words come back.
        window.save_experiment_action.trigger()
        assert getattr(load_experiment(saved).params, spec.name) == value
        assert f"{spec.name} = {choice_literal(value)}" in saved.read_text(encoding="utf-8")
        panel.set_pattern(pattern, {spec.name: spec.choices[(index + 1) % len(spec.choices)]})
        assert window.open_experiment(saved)
        combo = panel.pattern_form.editor(spec.name)
        assert combo.currentIndex() == index and combo.currentText() == spec.choice_text(value)
    assert messages.texts == []


def test_the_model_and_scaling_choices_show_words(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:wine")
    kind = window.pattern_panel.model_form.editor("kind")
    assert [kind.itemText(i) for i in range(kind.count())] == [
        "Logistic regression", "Neural network (MLP)"
    ]
    kind.setCurrentIndex(1)
    assert window.build_experiment().model.kind == "mlp"
    scaling = window.preprocessing_panel.form.editor("scaling")
    assert scaling.currentText() == "Standardise (from the data)"
    assert 'scaling = "standard"' in scaling.itemData(0, Qt.ItemDataRole.ToolTipRole)
    assert "mean" in scaling.itemData(0, Qt.ItemDataRole.ToolTipRole)  # and what it does


def test_the_log_shows_the_runs_info_messages(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    log = window.log_view
    assert log.count() == 0 and window.view_tabs.tabText(window.view_tabs.indexOf(log)) == "Log"
    window.pattern_panel.set_pattern("dp", {"mechanism": "dp-sgd", "epsilon": 1.0})
    window.pattern_panel.model_form.set_values({"epochs": 2})
    result = run_to_end(window, qtbot, timeout=60_000)
    assert result is not None and result.status == "completed"
    entries = log.entries()
    levels = [level for _, level, _ in entries]
    texts = [text for _, _, text in entries]
    # DP-SGD's calibration is an info message: shown nowhere else in the window.
    assert any(t.startswith("Calibrated noise multiplier") and lvl == "info"
               for _, lvl, t in entries), entries
    assert "warning" in levels  # warnings too (standardised features), in their order
    assert all(len(when) == 8 and when.count(":") == 2 for when, _, _ in entries)  # HH:MM:SS
    assert window.view_tabs.tabText(window.view_tabs.indexOf(log)) == f"Log ({len(entries)})"
    assert "Differential privacy" in log.caption.text()
    # Copyable: every line, tab-separated.
    log.copy_button.click()
    copied = QGuiApplication.clipboard().text().splitlines()
    assert len(copied) == len(entries) and copied[0].split("\t")[2] == texts[0]
    # A new run starts with an empty log (the baseline sends no calibration message).
    window.pattern_panel.set_pattern("baseline")
    run_to_end(window, qtbot)
    assert not any(t.startswith("Calibrated") for _, _, t in log.entries())
    assert messages.texts == []


def test_a_warning_asking_for_public_bounds_opens_their_editor(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:wine")
    window.pattern_panel.set_pattern("dp", {"mechanism": "dp-sgd", "epsilon": 1.0})
    window.pattern_panel.model_form.set_values({"epochs": 1})
    run_to_end(window, qtbot, timeout=60_000)
    box = window.results.warnings_label
    assert not box.isHidden() and "public feature bounds" in box.text()
    assert window.warning_actions.has_link() and "Give public bounds" in box.text()
    panel = window.preprocessing_panel
    window.setup_tabs.setCurrentIndex(1)  # the user is looking at the pattern's settings
    assert panel.ranges.isHidden()
    box.linkActivated.emit(PUBLIC_BOUNDS_LINK)  # a click on the link
    assert window.setup_tabs.currentIndex() == 0
    assert panel.form.raw_values()["scaling"] == "bounds" and not panel.ranges.isHidden()
    table = panel.ranges.table
    first_missing = panel.missing_ranges()[0]
    assert table.currentRow() == [c.name for c in panel.ranges._columns].index(first_missing)
    assert table.currentColumn() == LOW
    assert window.build_experiment().dataset.scaling == "bounds"


def test_test_share_and_categories_change_the_run(window, qtbot, messages, tmp_path: Path) -> None:
    rows = ["age,ward,outcome"]
    rows += [f"{20 + i % 50},{'ABCD'[i % 4]},{'yes' if i % 3 else 'no'}" for i in range(120)]
    path = tmp_path / "clinic.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    load(window, qtbot, str(path))
    panel = window.preprocessing_panel
    panel.form.editor("test_fraction").setValue(0.4)
    combo = panel.form.editor("scaling")
    combo.setCurrentIndex(combo.findData("bounds"))
    panel.ranges.set_range("age", 0, 120)
    panel.ranges.set_categories("ward", "A, B")  # C and D count as "(other)"
    window.pattern_panel.model_form.set_values({"epochs": 1})
    result = run_to_end(window, qtbot)
    assert result is not None and result.status == "completed"
    dataset = result.experiment.dataset
    assert dataset.test_fraction == pytest.approx(0.4)
    assert (dataset.bounds, dataset.categories) == ({"age": (0.0, 120.0)}, {"ward": ("A", "B")})
    counts, _ = RunReadiness().target_problem(window.table.frame, "outcome")
    assert (result.data.n_train, len(result.data.y_test)) == split_sizes(counts, 0.4) == (72, 48)
    wards = [f for f in result.data.feature_names if f.startswith("ward")]
    assert len(wards) == 3 and not any("C" in f or "D" in f for f in wards), wards
    assert messages.texts == []


def test_a_text_file_named_xlsx_gets_our_message(window, qtbot, messages, tmp_path: Path) -> None:
    path = tmp_path / "renamed.xlsx"
    path.write_text("age,label\n31,yes\n45,no\n", encoding="utf-8")
    with qtbot.waitSignal(window.dataset_failed, timeout=10_000):
        window.load_source(str(path))
    (title, text), = messages.boxes
    assert title == "Cannot load the data"
    assert "renamed.xlsx is not an Excel workbook: it is a text file" in text
    assert "engine" not in text
    qtbot.waitUntil(lambda: not window.is_busy, timeout=5000)


def test_the_selected_tab_is_marked_and_every_tab_fits_at_1024(window, qtbot, messages) -> None:
    from ppml_lab.ui.app import load_style_sheet

    style = load_style_sheet()
    assert "QTabBar::tab:selected" in style and "border-top: 3px solid" in style
    window.setStyleSheet(style)
    load(window, qtbot, "builtin:breast_cancer")
    window.resize(1024, 768)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=2000)
    assert window.minimumSizeHint().width() <= 1024
    for tabs in (window.setup_tabs, window.view_tabs):
        bar = tabs.tabBar()
        needed = sum(bar.tabSizeHint(i).width() for i in range(bar.count()))
        assert needed <= tabs.width(), (tabs.objectName(), needed, tabs.width())
        for i in range(bar.count()):
            assert bar.tabRect(i).right() <= bar.width()  # no tab is scrolled out of view


def test_log_rows_fit_their_wrapped_message_without_measuring_every_row_again(qtbot) -> None:  # noqa: ANN001
    from ppml_lab.ui.qt_log_pane import RunLogWidget

    pane = RunLogWidget()
    qtbot.addWidget(pane)
    pane.resize(420, 400)
    pane.show()
    pane.add_message("short")
    pane.add_message("a long message that has to wrap over several lines " * 6, "warning")
    short, long = pane.table.rowHeight(0), pane.table.rowHeight(1)
    assert long > 2 * short  # the long one wrapped, and its row grew to show it
    pane.resize(1400, 400)  # wider: the long message needs fewer lines
    qtbot.waitUntil(lambda: pane.table.rowHeight(1) < long)
