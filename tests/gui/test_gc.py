"""The garbage collector runs on the GUI thread only (a worker thread collecting Qt wrappers
deadlocked the window, see ppml_lab.ui.qt_gc)."""

from __future__ import annotations

import gc
import threading

from ppml_lab.ui import qt_gc


def test_the_window_turns_automatic_collection_off_and_collects_on_the_gui_thread(window, qtbot):
    assert not gc.isenabled()
    collector = qt_gc.install()
    assert collector is qt_gc.install()  # once per application

    collected_on: list[str] = []

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            collected_on.append(threading.current_thread().name)

    gc.callbacks.append(callback)
    try:
        # A worker allocating far past every threshold never collects...
        def allocate() -> None:
            junk = []
            for _ in range(50_000):
                a: list = []
                a.append(a)
                junk.append(a)

        worker = threading.Thread(target=allocate, name="worker")
        worker.start()
        worker.join()
        assert collected_on == []
        # ...the GUI thread's timer does.
        qtbot.waitUntil(lambda: bool(collected_on), timeout=3000)
    finally:
        gc.callbacks.remove(callback)
    assert set(collected_on) == {threading.main_thread().name}
