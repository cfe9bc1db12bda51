"""The History view: runs saved automatically, reopened, re-run, renamed, deleted, exported,
compared on one plot; cancelled and interrupted runs keep what finished."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox
from window_driving import load, run_to_end

from ppml_lab.experiments.config import load_experiment
from ppml_lab.experiments.store import RunStore
from ppml_lab.ui.qt_history_panel import HistoryPanel
from ppml_lab.ui.qt_history_table import ACCURACY, EPSILON, NAME, STATUS
from ppml_lab.ui.qt_main_window import MainWindow


def _history_tab(window) -> int:  # noqa: ANN001
    return window.view_tabs.indexOf(window.history_panel)


def _cells(panel: HistoryPanel, column: int) -> list[str]:
    return [panel.table.item(row, column).text() for row in range(panel.table.rowCount())]


def _run(window, qtbot, name: str, epochs: int, **model) -> object:  # noqa: ANN001
    window.pattern_panel.name_edit.setText(name)
    window.pattern_panel.model_form.set_values({"epochs": epochs, **model})
    return run_to_end(window, qtbot)


def test_the_history_lives_where_the_settings_say(window, settings) -> None:
    assert window.view_tabs.tabText(_history_tab(window)) == "History"
    root = Path(str(settings.value("history/root")))
    assert window.history_panel.store.root == root  # a temporary folder, never the user's
    assert window.history_panel.table.rowCount() == 0
    assert str(root) in window.history_panel.folder_label.text()


def test_a_run_appears_in_the_history_and_reopens_with_its_settings(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:wine")
    window.pattern_panel.seed_spin.setValue(5)
    window.dataset_panel.column_item("alcohol").setCheckState(Qt.CheckState.Unchecked)
    result = _run(window, qtbot, "Wine without alcohol", 3)
    expected = window.build_experiment()
    panel = window.history_panel
    (entry,) = panel.runs()
    assert (entry.name, entry.status, entry.steps_done) == ("Wine without alcohol", "completed", 3)
    assert _cells(panel, NAME) == ["Wine without alcohol"]
    assert _cells(panel, STATUS) == ["completed"]
    assert _cells(panel, ACCURACY) == [f"{100 * result.engine_result.final['test_accuracy']:.1f}%"]
    assert _cells(panel, EPSILON) == ["—"]  # the plaintext baseline has no budget
    assert panel.table.item(0, 1).text() == "Plaintext baseline"  # the registry's label
    assert panel.store.document(entry.id)["final"] == json.loads(
        json.dumps(result.to_document()["final"])
    )

    # Change everything, then reopen the run from the list with Enter.
    window.pattern_panel.model_form.set_values({"epochs": 9})
    window.pattern_panel.seed_spin.setValue(1)
    load(window, qtbot, "builtin:breast_cancer")
    window.view_tabs.setCurrentIndex(_history_tab(window))
    panel.select(entry.id)
    panel.table.setFocus()
    with qtbot.waitSignal(window.dataset_loaded, timeout=15_000):
        qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.is_busy, timeout=5000)
    assert window.table.source == "builtin:wine"
    assert window.build_experiment() == expected
    assert window.dataset_panel.column_item("alcohol").checkState() == Qt.CheckState.Unchecked
    assert "Reopened" in window.state or window.state.startswith("Ready")
    assert messages.texts == []


def test_overlay_of_two_runs_draws_two_curves_with_a_legend(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    _run(window, qtbot, "Slow learner", 3, learning_rate=0.01)
    _run(window, qtbot, "Fast learner", 5, learning_rate=0.5)
    panel = window.history_panel
    slow, fast = sorted(panel.runs(), key=lambda r: r.steps_done)
    assert panel.overlay_names() == []
    panel.set_checked(fast.id)
    assert panel.overlay_names() == ["Fast learner"]
    assert "tick another run" in panel.overlay.hint.text()
    panel.set_checked(slow.id)
    assert panel.overlay_names() == ["Fast learner", "Slow learner"]
    assert "2 runs" in panel.overlay.hint.text()
    xs, ys = panel.overlay.series(slow.id)
    assert xs == [1, 2, 3] and ys == pytest.approx(panel.store.curve(slow.id, "test_accuracy")[1])
    assert len(panel.overlay.series(fast.id, "test_loss")[0]) == 5
    assert panel.overlay.accuracy_plot.getPlotItem().getAxis("bottom").labelText == "epoch"
    panel.set_checked(fast.id, False)
    assert panel.overlay_names() == ["Slow learner"]
    # Two runs of the same name are told apart in the legend by when they ran.
    panel.rename(fast.id, "Slow learner")
    panel.set_checked(fast.id)
    assert len(set(panel.overlay_names())) == 2
    assert all(n.startswith("Slow learner (") for n in panel.overlay_names())
    assert messages.texts == []


def test_delete_asks_first_and_removes_the_run(window, qtbot, messages, monkeypatch) -> None:
    load(window, qtbot, "builtin:wine")
    _run(window, qtbot, "Keep me", 2)
    _run(window, qtbot, "Delete me", 2)
    panel = window.history_panel
    doomed = panel.runs()[0]
    assert doomed.name == "Delete me"
    panel.select(doomed.id)

    # Answering Cancel keeps it.
    monkeypatch.setattr(QMessageBox, "exec",
                        lambda box: int(QMessageBox.StandardButton.Cancel.value))
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    assert [r.name for r in panel.runs()] == ["Delete me", "Keep me"]
    monkeypatch.undo()

    # Answering Delete removes it, from the list and from disk.
    monkeypatch.setattr(QMessageBox, "exec", lambda box: (
        messages.boxes.append((box.windowTitle(), box.text())),
        int(QMessageBox.StandardButton.Ok.value),
    )[1])
    panel.select(doomed.id)
    qtbot.keyClick(panel.table, Qt.Key.Key_Delete)
    assert messages.boxes[-1][0] == "Delete run" and "Delete me" in messages.boxes[-1][1]
    assert [r.name for r in panel.runs()] == ["Keep me"]
    assert not doomed.path.exists()
    assert panel.selected_id() == panel.runs()[0].id  # the next run is selected


def test_rename_export_and_rerun(window, qtbot, messages, monkeypatch, tmp_path: Path) -> None:
    load(window, qtbot, "builtin:wine")
    first = _run(window, qtbot, "Wine", 2)
    panel = window.history_panel
    entry = panel.runs()[0]
    panel.select(entry.id)

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("Wine, first", True)))
    panel.rename_action.trigger()
    assert _cells(panel, NAME) == ["Wine, first"]
    assert panel.store.experiment(entry.id).name == "Wine"  # the experiment is unchanged

    target = tmp_path / "exported.toml"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "")))
    panel.export_action.trigger()
    assert load_experiment(target) == first.experiment

    # Re-run: the same experiment, again, as a new entry (the data is loaded first if needed).
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.model_form.set_values({"epochs": 7})
    panel.select(entry.id)
    with qtbot.waitSignal(window.run_finished, timeout=30_000) as finished:
        panel.rerun_action.trigger()
    again = finished.args[0]
    assert again.experiment == first.experiment
    qtbot.waitUntil(lambda: len(panel.runs()) == 2, timeout=5000)
    assert [r.name for r in panel.runs()] == ["Wine", "Wine, first"]
    assert messages.texts == []


def test_a_cancelled_run_is_listed_as_cancelled_with_its_finished_steps(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:synthetic")
    window.pattern_panel.name_edit.setText("Stopped early")
    window.pattern_panel.model_form.set_values({"epochs": 300})
    with qtbot.waitSignal(window.run_finished, timeout=30_000) as finished:
        with qtbot.waitSignal(window.run_progressed, timeout=15_000):
            assert window.start_run()
        # While it runs, the History lists it as running (and will not delete it).
        assert window.history_panel.runs()[0].status == "running"
        window.cancel_action.trigger()
    result = finished.args[0]
    assert result.status == "cancelled"
    panel = window.history_panel
    (entry,) = panel.runs()
    steps = len(result.history.steps())
    assert entry.status == "cancelled" and entry.steps_done == steps and 1 <= steps < 300
    assert _cells(panel, STATUS) == [f"cancelled {steps}/300"]
    assert f"{steps} of 300 epochs finished" in panel.table.item(0, STATUS).toolTip()
    assert len(panel.store.curve(entry.id, "test_accuracy")[0]) == steps
    panel.set_checked(entry.id)
    assert len(panel.overlay.series(entry.id)[0]) == steps  # a cancelled run can be compared
    assert messages.texts == []


def test_cancel_during_the_audit_keeps_the_training_result(
    window, qtbot, messages, monkeypatch
) -> None:
    # The audit waits (in the worker thread) until the user has pressed Cancel, so the cancel
    # lands inside the audit however fast the machine is.
    from ppml_lab.engines import audit as audit_module

    started = threading.Event()
    real_audit_model = audit_module.audit_model

    def audit_model_after_cancel(*args, cancel, **kwargs):  # noqa: ANN002, ANN003, ANN202
        started.set()
        for _ in range(1000):
            if cancel.cancelled:
                break
            time.sleep(0.01)
        return real_audit_model(*args, cancel=cancel, **kwargs)

    monkeypatch.setattr(audit_module, "audit_model", audit_model_after_cancel)
    from ppml_lab.experiments import jobs

    monkeypatch.setattr(jobs, "IN_CHILD", False)  # the patch above is in this process only
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("baseline", {"audit": True})
    window.pattern_panel.model_form.set_values({"epochs": 4})
    with qtbot.waitSignal(window.run_finished, timeout=60_000) as finished:
        assert window.start_run()
        qtbot.waitUntil(started.is_set, timeout=30_000)
        window.cancel_action.trigger()
    result = finished.args[0]
    assert result.status == "cancelled"
    assert result.engine_result is not None and result.engine_result.extra["audit"] == {
        "cancelled": True
    }
    assert "training results are kept" in window.state
    assert "cancelled" in window.audit_view.status_label.text()
    assert "Test accuracy" in window.results.summary_label.text()
    (entry,) = window.history_panel.runs()
    assert entry.status == "cancelled" and entry.steps_done == 4 and "audit" in entry.reason
    assert entry.test_accuracy == pytest.approx(result.engine_result.final["test_accuracy"])
    assert messages.texts == []


def test_closing_the_window_mid_run_leaves_an_incomplete_entry(qtbot, settings, messages) -> None:
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    load(win, qtbot, "builtin:synthetic")
    win.pattern_panel.model_form.set_values({"epochs": 300})
    with qtbot.waitSignal(win.run_progressed, timeout=15_000):
        assert win.start_run()
    assert win.close()
    qtbot.waitUntil(lambda: win._run_job is None, timeout=5000)
    (entry,) = RunStore(Path(str(settings.value("history/root")))).runs()
    assert entry.status == "incomplete" and "window was closed" in entry.reason
    assert 1 <= entry.steps_done < 300


def test_a_run_whose_process_died_is_listed_as_incomplete(window, settings) -> None:
    store = RunStore(Path(str(settings.value("history/root"))))
    code = (
        "import os, sys; from ppml_lab.experiments.config import Experiment; "
        "from ppml_lab.experiments.store import RunStore; s = RunStore(sys.argv[1]); "
        "i = s.start_run(Experiment(name='Crashed')); "
        "s.save_progress(i, [{'step': 1, 'test_accuracy': 0.9}]); os._exit(1)"
    )
    subprocess.run([sys.executable, "-c", code, str(store.root)], check=False, timeout=120)
    panel = window.history_panel
    panel.refresh()
    assert _cells(panel, NAME) == ["Crashed"]
    status = panel.table.item(0, STATUS)
    assert status.text().startswith("incomplete 1/")
    assert "stopped" in status.toolTip() and status.font().bold()
