"""The start-up trace the start-up benchmark reads (PPML_LAB_STARTUP_TRACE=1), and its absence."""

from __future__ import annotations

import re
import time

from ppml_lab.ui import qt_startup_trace
from ppml_lab.ui.app import open_main_window

LINE = re.compile(r"^ppml-lab startup: (\S+) wall=(\d+\.\d+) age=(\d+\.\d+)$", re.MULTILINE)


def test_the_trace_marks_each_milestone_in_order(qtbot, settings, messages, monkeypatch, capfd):
    monkeypatch.setenv(qt_startup_trace.TRACE_ENV, "1")
    before = time.time()
    window = open_main_window(settings=settings, first_run_tour=False)
    qtbot.addWidget(window)
    err: list[str] = []

    def shown() -> bool:
        err.append(capfd.readouterr().err)
        return "dataset-shown" in "".join(err)

    qtbot.waitUntil(shown, timeout=15_000)
    marks = LINE.findall("".join(err))
    names = [name for name, _, _ in marks]
    assert names[:2] == ["imports-done", "window-built"]
    assert "window-exposed" in names
    assert names[-1] == "dataset-shown" and names.count("dataset-shown") == 1
    walls = [float(wall) for _, wall, _ in marks]
    assert walls == sorted(walls) and before - 1 <= walls[0] <= walls[-1] <= time.time()
    ages = [float(age) for _, _, age in marks]
    assert ages == sorted(ages) and 0 < ages[0]
    assert window.table is not None
    window.shutdown()


def test_no_trace_without_the_variable(qtbot, settings, messages, monkeypatch, capfd):
    monkeypatch.delenv(qt_startup_trace.TRACE_ENV, raising=False)
    window = open_main_window(settings=settings, first_run_tour=False)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.table is not None, timeout=15_000)
    qtbot.wait(50)
    assert "ppml-lab startup:" not in capfd.readouterr().err
    window.shutdown()
