"""The main window end to end: load, run, cancel, close mid-run, errors, files and settings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog
from window_driving import load, run_to_end

from ppml_lab.experiments.config import load_experiment
from ppml_lab.ui.qt_main_window import MainWindow
from ppml_lab.ui.qt_worker import live_threads


def test_loads_a_builtin_and_runs_the_baseline(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    panel = window.dataset_panel
    assert panel.target() == "diagnosis"
    assert window.preview.model.rowCount() == 100
    assert window.preview.model.columnCount() == 31
    assert "569" in panel.summary_label.text() and "30" in panel.summary_label.text()
    assert "569 tumour biopsies" in panel.description_label.text()
    assert panel.columns_list.count() == 30  # every column except the target
    window.pattern_panel.model_form.editor("epochs").setValue(6)

    result = run_to_end(window, qtbot)

    assert result is not None and result.status == "completed"
    for name in ("train_accuracy", "test_accuracy", "train_loss", "test_loss"):
        assert window.plots.point_count(name) == 6, name
    xs, ys = window.plots.series("test_accuracy")
    assert list(xs) == [1, 2, 3, 4, 5, 6]
    assert ys[-1] == pytest.approx(result.engine_result.final["test_accuracy"])
    assert window.state == "Done"
    assert "Test accuracy" in window.results.summary_label.text()
    assert window.results.overhead_table.rowCount() >= 1  # the "seconds" overhead
    assert window.plots.epsilon_plot.isHidden()
    assert messages.texts == []
    assert window.run_action.isEnabled() and not window.cancel_action.isEnabled()
    # the run's process was started below the window's priority (the GUI thread comes first)
    from ppml_lab.engines.runtime import child_niceness
    from ppml_lab.ui.qt_main_window import BACKGROUND_NICENESS

    assert child_niceness() == BACKGROUND_NICENESS > 0


def test_cancel_mid_run_keeps_the_partial_history(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:synthetic")
    window.pattern_panel.model_form.editor("epochs").setValue(300)
    with qtbot.waitSignal(window.run_finished, timeout=30_000) as finished:
        with qtbot.waitSignal(window.run_progressed, timeout=15_000):
            assert window.start_run()
        assert window.cancel_action.isEnabled()
        window.cancel_action.trigger()  # what Esc does
    result = finished.args[0]
    assert result is not None and result.status == "cancelled"
    n = window.plots.point_count("test_accuracy")
    assert 1 <= n < 300
    assert len(result.history.steps()) == n  # the plot shows every step the run recorded
    assert window.state.startswith("Cancelled")
    assert "Cancelled" in window.results.summary_label.text()
    assert messages.texts == []
    assert live_threads() == []


def test_closing_the_window_mid_run_stops_the_thread(qtbot, settings, messages, qtlog) -> None:
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    load(win, qtbot, "builtin:synthetic")
    win.pattern_panel.model_form.editor("epochs").setValue(300)
    with qtbot.waitSignal(win.run_progressed, timeout=15_000):
        assert win.start_run()
    assert win.is_busy
    assert win.close()  # cancels, waits for the thread (with a timeout), then closes
    assert not win.isVisible()
    assert live_threads() == []
    # The queued end-of-run signals still arrive at the closed window, harmlessly.
    qtbot.waitUntil(lambda: win._run_job is None, timeout=5000)
    assert not win._paint_timer.isActive()
    assert not any("Destroyed while thread" in r.message for r in qtlog.records)
    assert messages.texts == []


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "is empty"),
        ("bad.unknown", b"a,b\n1,2\n", "unknown file type"),
        ("header_only.csv", b"a,b,c\n", "no data rows"),
    ],
)
def test_unreadable_files_show_the_error_and_keep_the_window(
    window, qtbot, messages, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with qtbot.waitSignal(window.dataset_failed, timeout=10_000):
        window.load_source(str(path))
    assert len(messages) == 1
    title, text = messages.boxes[0]
    assert title == "Cannot load the data"
    assert expected in text
    qtbot.waitUntil(lambda: not window.is_busy, timeout=5000)
    # The window still works: a built-in loads and the last good table is kept meanwhile.
    load(window, qtbot, "builtin:wine")
    assert window.table.name == "Wine"


def test_missing_file_shows_the_error(window, qtbot, messages, tmp_path: Path) -> None:
    with qtbot.waitSignal(window.dataset_failed, timeout=10_000):
        window.load_source(str(tmp_path / "nope.csv"))
    assert "does not exist" in messages.texts[0]


def _write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_single_class_target_disables_run_with_the_reason(window, qtbot, messages, tmp_path: Path) -> None:
    rows = ["age,income,group,label"]
    rows += [f"{20 + i % 7},{1000 + 10 * (i % 5)},{'ab'[i % 2]},yes" for i in range(40)]
    path = _write_csv(tmp_path / "one_class.csv", rows)
    load(window, qtbot, str(path))
    assert window.dataset_panel.target() == "label"  # the last column by default
    summary = window.dataset_panel.summary_label.text()
    assert "single value" in summary and "1 class " in summary and "1 classes" not in summary
    # Run is off, and says why: under the button, in its tooltip, in the status bar.
    assert not window.run_button.isEnabled() and not window.run_action.isEnabled()
    assert "only one value" in window.run_blocked_label.text()
    assert "only one value" in window.run_button.toolTip()
    assert window.state.startswith("Cannot run: ") and "'label'" in window.state
    assert window.start_run() is False  # Ctrl+R cannot start it either
    assert len(messages) == 1
    title, text = messages.boxes[0]
    assert title == "Cannot run"
    assert "only one value" in text and "label" in text
    assert live_threads() == []
    # A target with two values: Run is on again and the reason is gone.
    combo = window.dataset_panel.target_combo
    combo.setCurrentIndex(combo.findData("group"))
    assert window.run_button.isEnabled() and window.run_blocked_label.isHidden()
    assert not window.state.startswith("Cannot run")


def test_a_few_texts_in_a_numeric_column_are_missing_values(window, qtbot, messages, tmp_path: Path) -> None:
    rows = ["height,weight,age,label"]
    rows += [f"{150 + i},{50 + i % 7},{20 + i % 11},{'a' if i % 2 else 'b'}" for i in range(60)]
    rows[17] = "oops,55,30,a"  # one text cell in a column of numbers
    path = _write_csv(tmp_path / "one_text_in_numbers.csv", rows)
    load(window, qtbot, str(path))
    result = run_to_end(window, qtbot)
    assert result is not None and result.status == "completed"
    assert "height" in result.data.columns_used
    assert 'height: 1 text value treated as missing ("oops" x1).' in result.data.notes
    assert messages.texts == []


def test_text_in_a_numeric_column_is_reported(window, qtbot, messages, tmp_path: Path) -> None:
    rows = ["height,weight,age,label"]
    rows += [f"{150 + i},{50 + i % 7},{20 + i % 11},{'a' if i % 2 else 'b'}" for i in range(100)]
    for k, row in enumerate((17, 30, 45, 60, 75, 90)):  # six different texts: too many
        rows[row] = f"oops{k or ''},55,30,a"
    path = _write_csv(tmp_path / "text_in_numbers.csv", rows)
    load(window, qtbot, str(path))
    item = window.dataset_panel.column_item("height")
    assert item is not None and "oops" in item.toolTip()
    assert run_to_end(window, qtbot) is None
    assert len(messages) == 1 and "'oops'" in messages.texts[0]
    assert "row 17" in messages.texts[0]
    # Leaving the column out fixes it.
    item.setCheckState(Qt.CheckState.Unchecked)
    messages.boxes.clear()
    result = run_to_end(window, qtbot)
    assert result is not None and result.status == "completed"
    assert "height" not in result.data.columns_used
    assert messages.texts == []


def test_latin1_bytes_and_id_columns(window, qtbot, messages, tmp_path: Path) -> None:
    lines = ["patient_id;city;score;constant;label"]
    lines += [f"{1000 + i};{'Zürich' if i % 3 else 'Genève'};{i % 10};1;{'x' if i % 2 else 'y'}" for i in range(50)]
    path = tmp_path / "latin1.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    load(window, qtbot, str(path))
    panel = window.dataset_panel
    pid = panel.column_item("patient_id")
    const = panel.column_item("constant")
    assert pid is not None and pid.checkState() == Qt.CheckState.Unchecked
    assert "identifier" in pid.toolTip()
    assert const is not None and const.checkState() == Qt.CheckState.Unchecked
    assert "single value" in const.toolTip()
    _, _, exclude, include = panel.selection()
    assert set(exclude) == {"patient_id", "constant"} and include == ()
    # Ticking an id-like column keeps it on purpose.
    pid.setCheckState(Qt.CheckState.Checked)
    _, _, exclude, include = panel.selection()
    assert include == ("patient_id",) and "patient_id" not in exclude
    cities = {window.preview.model.index(r, 1).data() for r in range(5)}
    assert cities == {"Zürich", "Genève"}
    assert messages.texts == []


def test_target_choice_rebuilds_the_column_list(window, qtbot) -> None:
    load(window, qtbot, "builtin:wine")
    panel = window.dataset_panel
    assert panel.column_item("cultivar") is None
    panel.target_combo.setCurrentIndex(panel.target_combo.findData("alcohol"))
    assert panel.column_item("alcohol") is None
    assert panel.column_item("cultivar") is not None
    assert window.build_experiment().dataset.target == "alcohol"


def test_private_pattern_events_fill_every_view(window, fake_engine, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("fake", {"rounds": 4})
    result = run_to_end(window, qtbot)
    assert result.status == "completed"
    plots = window.plots
    assert plots.point_count("epsilon") == 4
    assert not plots.epsilon_plot.isHidden()
    assert not plots.partition_chart.isHidden()
    assert plots.partition_chart.rows == [30, 25, 0]
    assert "3" in plots.partition_chart.note.text()
    assert plots.point_count("client_drift") == 4 and not plots.plot_of("client_drift").isHidden()
    assert plots.baseline_line.isVisible()
    assert plots.baseline_line.value() == pytest.approx(result.baseline["test_accuracy"])
    summary = window.results.summary_label.text()
    assert "plaintext baseline" in summary and "ε = <b>0.8</b>" in summary
    warnings = window.results.warnings_label.text()
    assert not window.results.warnings_label.isHidden()
    assert "fake engine result warning" in warnings and "only a test" in warnings
    kinds = [window.results.overhead_table.item(r, 0).text()
             for r in range(window.results.overhead_table.rowCount())]
    assert "data sent (up + down)" in kinds
    # Bytes are drawn per round too, and every optional plot is on screen.
    assert plots.point_count("bytes:bytes_sent") == 4 and not plots.bytes_plot.isHidden()
    assert len(plots.shown_plots()) == 6
    # The next run starts from empty curves (no clear(), same items).
    curve = plots._series["test_accuracy"].curve
    window.pattern_panel.set_pattern("baseline")
    window.pattern_panel.model_form.editor("epochs").setValue(2)
    run_to_end(window, qtbot)
    assert plots._series["test_accuracy"].curve is curve
    assert plots.point_count("test_accuracy") == 2
    assert plots.epsilon_plot.isHidden() and plots.partition_chart.isHidden()
    assert messages.texts == []


def test_partition_chart_tolerates_odd_payloads(qtbot) -> None:
    from ppml_lab.ui.qt_partition_chart import PartitionChartWidget

    chart = PartitionChartWidget()
    qtbot.addWidget(chart)
    for payload in (None, {}, {"parties": "x"}, {"parties": [3, 4, 0]},
                    {"parties": [{"class_counts": [1, 2]}, {"rows": 5}], "party": "site"}):
        chart.set_payload(payload)
    assert chart.rows == [3, 5]
    assert chart.plot.getPlotItem().titleLabel.text.startswith("Rows per site")


def test_experiment_save_open_and_export(window, qtbot, messages, tmp_path: Path, monkeypatch) -> None:
    load(window, qtbot, "builtin:wine")
    window.pattern_panel.model_form.editor("epochs").setValue(3)
    window.pattern_panel.seed_spin.setValue(5)
    window.pattern_panel.name_edit.setText("Wine test")
    window.dataset_panel.column_item("alcohol").setCheckState(Qt.CheckState.Unchecked)
    target = tmp_path / "wine.toml"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    window.save_experiment_action.trigger()
    exp = load_experiment(target)
    assert (exp.name, exp.seed, exp.model.epochs) == ("Wine test", 5, 3)
    assert exp.dataset.source == "builtin:wine" and exp.dataset.exclude == ("alcohol",)

    # Change things, then open the file again: the window shows the saved choices.
    window.pattern_panel.model_form.editor("epochs").setValue(9)
    load(window, qtbot, "builtin:breast_cancer")
    with qtbot.waitSignal(window.dataset_loaded, timeout=15_000):
        assert window.open_experiment(target)
    assert window.table.source == "builtin:wine"
    assert window.pattern_panel.model_form.editor("epochs").value() == 3
    assert window.dataset_panel.column_item("alcohol").checkState() == Qt.CheckState.Unchecked
    assert window.build_experiment() == exp

    assert not window.export_results_action.isEnabled()
    run_to_end(window, qtbot)
    out = tmp_path / "results.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    window.export_results_action.trigger()
    doc = json.loads(out.read_text())
    assert doc["status"] == "completed" and len(doc["history"]) == 3
    assert messages.texts == []


def test_a_bad_experiment_file_shows_a_message(window, qtbot, messages, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[model]\nepochs = 0\n', encoding="utf-8")
    assert window.open_experiment(bad) is False
    assert "epochs" in messages.texts[0] and "out of range" in messages.texts[0]


def test_open_data_menu_uses_the_file_dialog_and_remembers(qtbot, settings, messages, tmp_path: Path, monkeypatch) -> None:
    csv = _write_csv(tmp_path / "small.csv", ["a,b,y"] + [f"{i},{i * 2},{i % 2}" for i in range(30)])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(csv), "")))
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.dataset_loaded, timeout=10_000):
        win.open_data_action.trigger()
    assert win.table.source == str(csv)
    assert win.dataset_panel.source_combo.currentText() == "File: small.csv"
    win.resize(win.minimumSizeHint().width() + 11, 520)
    size = (win.width(), win.height())
    win.close()
    assert settings.value("data/last_source") == str(csv)
    assert settings.value("paths/last_dir") == str(tmp_path)

    again = MainWindow(settings=QSettings(settings.fileName(), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == size
    with qtbot.waitSignal(again.dataset_loaded, timeout=10_000):
        again.load_initial()
    assert again.table.source == str(csv)


def test_shortcuts_and_tooltips(window) -> None:
    keys = {a.text(): [s.toString() for s in a.shortcuts()] for a in window.actions()}
    assert keys["&Run"] == ["Ctrl+R"]
    assert keys["&Presenter mode…"] == ["F5"]  # F5 starts a presentation, as in slide software
    assert keys["&Cancel"] == ["Esc"]
    assert keys["&Quit"] == ["Ctrl+Q"]
    assert keys["&Open data…"] == ["Ctrl+O"]
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractSpinBox,
        QComboBox,
        QLineEdit,
        QListWidget,
        QTabBar,
        QTableView,
        QWidget,
    )

    controls = (QAbstractButton, QComboBox, QLineEdit, QListWidget, QAbstractSpinBox, QTableView)
    internal = (QComboBox, QAbstractSpinBox, QTabBar)  # their own editors and arrow buttons
    missing = [
        f"{type(w).__name__} {w.objectName()!r} {getattr(w, 'text', lambda: '')()!r}"
        for w in window.findChildren(QWidget)
        if isinstance(w, controls)
        and not isinstance(w.parent(), internal)
        and not w.objectName().startswith("qt_")  # Qt's private helpers (scroll buttons, ...)
        and not w.toolTip()
    ]
    assert missing == []


def test_excepthook_shows_a_dialog_instead_of_crashing(qapp, messages) -> None:
    from ppml_lab.ui.qt_errors import install_excepthook

    previous = install_excepthook()
    try:
        try:
            raise RuntimeError("boom in a slot")
        except RuntimeError as exc:
            sys.excepthook(type(exc), exc, exc.__traceback__)
    finally:
        sys.excepthook = previous
    assert len(messages) == 1
    assert "boom in a slot" in messages.texts[0] and "RuntimeError" in messages.texts[0]


def test_loading_a_large_file_reports_progress_and_can_be_cancelled(
    window, qtbot, messages, tmp_path: Path
) -> None:
    load(window, qtbot, "builtin:wine")
    path = tmp_path / "large.csv"
    # 450,000 rows: three chunks of the chunked reader, so there is progress to report.
    path.write_text(
        "a,b,y\n" + "".join(f"{i},{i % 97},{'p' if i % 3 else 'q'}\n" for i in range(450_000)),
        encoding="utf-8",
    )
    seen: list[float] = []
    window.load_source(str(path))
    assert window.cancel_action.isEnabled() and not window.run_action.isEnabled()
    job = window._load_job
    job.yielded.connect(seen.extend)
    job.yielded.connect(window._on_cancel_triggered)  # cancel at the first progress report
    qtbot.waitUntil(lambda: not window.is_busy, timeout=20_000)
    assert seen and 0 < seen[0] < 1
    assert window.state == "Loading cancelled"
    assert window.table.name == "Wine"  # the previous table is still the one in use

    # Picking another source while a load's end is still queued loads the new one after it.
    with qtbot.waitSignal(window.dataset_loaded, timeout=15_000):
        window.load_source("builtin:breast_cancer")
        window.load_source("builtin:wine")
    qtbot.waitUntil(lambda: not window.is_busy and window.table.name == "Wine", timeout=15_000)
    assert window.dataset_panel.progress_bar.isHidden()
    assert window.run_action.isEnabled()
    assert messages.texts == []


def test_closing_during_a_step_that_ignores_cancel_hides_then_closes(
    qtbot, settings, messages, fake_engine, monkeypatch, qtlog
) -> None:
    from ppml_lab.ui import qt_main_window

    monkeypatch.setattr(qt_main_window, "CLOSE_TIMEOUT_MS", 50)
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    load(win, qtbot, "builtin:wine")
    win.pattern_panel.set_pattern("stubborn")
    # Step 1 of the stubborn pattern, not the "training the plaintext reference" progress (step
    # 0) that comes first: closing during the reference would stop at once.
    with qtbot.waitSignal(
        win.run_progressed, timeout=10_000, check_params_cb=lambda step, total: step >= 1
    ):
        assert win.start_run()
    assert win.close() is False  # the step is still running: not closed yet ...
    assert not win.isVisible()  # ... but gone from the screen at once
    assert live_threads() != []
    qtbot.waitUntil(lambda: live_threads() == [] and win._run_job is None, timeout=10_000)
    assert win._close_pending is False  # closed for real once the thread ended
    assert not any("Destroyed while thread" in r.message for r in qtlog.records)


def test_an_invalid_experiment_at_start_falls_back_to_the_default_data(
    window, qtbot, messages, tmp_path: Path
) -> None:
    bad = tmp_path / "broken.toml"
    bad.write_text("this is not toml = = =", encoding="utf-8")
    with qtbot.waitSignal(window.dataset_loaded, timeout=15_000):
        window.load_initial(str(bad))
    assert "not a valid TOML" in messages.texts[0]
    assert window.table.source == "builtin:breast_cancer"
    qtbot.waitUntil(lambda: not window.is_busy, timeout=5000)
    from PySide6.QtCore import QCoreApplication, QEvent

    from ppml_lab.ui.qt_worker import WorkerThread

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    assert window.findChildren(WorkerThread) == []  # finished jobs are deleted


def test_about_lists_only_the_patterns_that_exist() -> None:
    from ppml_lab.engines.registry import engine_names, get_engine
    from ppml_lab.ui.qt_main_window import about_text

    text = about_text()
    for name in engine_names():
        if name != "baseline":
            assert get_engine(name).label.lower() in text
    for missing in ("multi-party", "homomorphic"):
        if not any(missing in get_engine(n).label.lower() for n in engine_names()):
            assert missing not in text
