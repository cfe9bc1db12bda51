"""The SMPC pattern in the window: a run with live progress and overheads, cancel, no party left."""

from __future__ import annotations

import os
import time
from pathlib import Path

from window_driving import load, run_to_end


def _party_pids() -> list[int]:
    out = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if b"ppml_lab.engines.smpc.party" in cmd and int(proc.name) != os.getpid():
                out.append(int(proc.name))
    return out


def test_a_secure_run_in_the_window(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("smpc", {"parties": 3, "iterations": 8})
    assert "any 1 of them" in window.pattern_panel.pattern_form.notes_label.text()
    result = run_to_end(window, qtbot, timeout=60_000)
    assert result.status == "completed"
    assert window.plots.loss_plot.getAxis("bottom").labelText == "iteration"
    kinds = [window.results.overhead_table.item(r, 0).text()
             for r in range(window.results.overhead_table.rowCount())]
    assert "communication rounds" in kinds and "plaintext time" in kinds
    assert "data sent (up + down)" in kinds
    words = window.results.privacy_label.text()
    assert "threshold t = 1" in words
    assert window.plots.point_count("bytes:bytes_sent") >= 8
    assert _party_pids() == []
    assert messages.texts == []


def test_two_parties_read_not_private(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("smpc", {"parties": 2, "iterations": 3})
    assert "NOT PRIVATE" in window.pattern_panel.pattern_form.notes_label.text()
    run_to_end(window, qtbot, timeout=60_000)
    assert "NOT PRIVATE (two parties)" in window.results.privacy_label.text()


def test_cancelling_a_secure_run_stops_every_party(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("smpc", {"iterations": 1000, "step_size": 0.01})
    with qtbot.waitSignal(window.run_finished, timeout=60_000):
        assert window.start_run()
        qtbot.waitUntil(lambda: len(_party_pids()) == 3, timeout=20_000)
        qtbot.waitUntil(lambda: window.plots.point_count("bytes:bytes_sent") >= 2, timeout=20_000)
        window.cancel_action.trigger()
    deadline = time.monotonic() + 5
    while _party_pids() and time.monotonic() < deadline:
        qtbot.wait(50)
    assert _party_pids() == []
    assert window.state.startswith("Cancelled")
