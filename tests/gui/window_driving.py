"""Driving the main window from tests: load a dataset, run to the end (shared by the GUI tests)."""

from __future__ import annotations

from ppml_lab.ui.qt_main_window import MainWindow


def load(window: MainWindow, qtbot, source: str) -> None:  # noqa: ANN001
    with qtbot.waitSignal(window.dataset_loaded, timeout=15_000):
        window.load_source(source)
    qtbot.waitUntil(lambda: not window.is_busy, timeout=5000)  # the job has fully ended


def run_to_end(window: MainWindow, qtbot, timeout: int = 30_000):  # noqa: ANN001, ANN201
    with qtbot.waitSignal(window.run_finished, timeout=timeout) as blocker:
        assert window.start_run()
    assert not window.is_busy
    return blocker.args[0]
