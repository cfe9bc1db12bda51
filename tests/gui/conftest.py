"""GUI test set-up: offscreen Qt, isolated QSettings and History, captured message boxes, leak
checks.

``QT_QPA_PLATFORM`` must be set before anything imports Qt, so it is set at the top of this file
(pytest imports conftest files before the test modules).
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import (  # noqa: E402
    QCoreApplication,
    QSettings,
    QStandardPaths,
    QThread,
    QTimer,
)
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from ppml_lab.ui import qt_gc, qt_worker  # noqa: E402
from ppml_lab.ui.qt_history_panel import HISTORY_ROOT_KEY  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _isolated_qsettings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every ``QSettings()`` in the tests writes to a temporary INI file, never the user's, and
    the History (saved runs) goes to a temporary folder, never the user's data directory."""
    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
    QCoreApplication.setOrganizationName("PPMLLabTests")
    QCoreApplication.setApplicationName("ppml-lab-gui-tests")
    QStandardPaths.setTestModeEnabled(True)  # in case a window is built without the key
    QSettings().setValue(HISTORY_ROOT_KEY, str(folder / "runs"))
    yield folder


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """A fresh settings file for one test, with its own History folder (``tmp_path/runs``)."""
    fresh = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    fresh.setValue(HISTORY_ROOT_KEY, str(tmp_path / "runs"))
    return fresh


@dataclass
class CapturedMessages:
    """Message boxes shown during a test (instead of blocking on them)."""

    boxes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [text for _, text in self.boxes]

    def __len__(self) -> int:
        return len(self.boxes)


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> CapturedMessages:
    """Patch QMessageBox so a test records the boxes instead of waiting for a click."""
    captured = CapturedMessages()

    def fake_exec(box: QMessageBox) -> int:
        captured.boxes.append((box.windowTitle(), box.text()))
        return int(QMessageBox.StandardButton.Ok.value)

    def fake_about(parent: object, title: str, text: str) -> None:
        captured.boxes.append((title, text))

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    monkeypatch.setattr(QMessageBox, "about", staticmethod(fake_about))
    return captured


@pytest.fixture
def window(qtbot, settings: QSettings, messages: CapturedMessages):  # noqa: ANN001, ANN201
    """A shown main window with nothing loaded yet (closed by pytest-qt after the test)."""
    from ppml_lab.ui.qt_main_window import MainWindow

    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    return win


def _running_threads() -> list[QThread]:
    return qt_worker.live_threads()


def _stop_leaked_jobs() -> None:
    for job in qt_worker.live_jobs():  # do not let one leak break every later test
        job.stop(5000)


def _active_timers(app: QApplication) -> list[str]:
    owners = list(app.topLevelWidgets()) + [app]
    active = []
    for owner in owners:
        for timer in owner.findChildren(QTimer):
            if timer.isActive():
                active.append(f"{timer.objectName() or 'QTimer'} in {type(owner).__name__}")
    return active


@pytest.fixture(autouse=True)
def _no_leaked_threads_or_timers(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a worker thread running or a timer active.

    pytest-qt closes the widgets registered with ``qtbot.addWidget`` before fixtures are torn
    down, so this checks what a *closed* window left behind.
    """
    yield
    qapp.processEvents()
    qt_gc.uninstall()  # collect here, on the GUI thread; the next window installs it again
    threads = _running_threads()
    timers = _active_timers(qapp)
    _stop_leaked_jobs()
    qapp.processEvents()
    for widget in qapp.topLevelWidgets():
        for timer in widget.findChildren(QTimer):
            timer.stop()
    assert not threads, f"worker threads still running after the test: {threads}"
    assert not timers, f"timers still active after the test: {timers}"


@pytest.fixture
def fake_engine(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Add the test patterns "fake" and "stubborn" for one test, as a new pattern is added: one
    line each in the registry's discovery list (removed afterwards, with their registration).
    """
    import sys

    from ppml_lab.engines import registry

    registry.all_engines()  # the real engines register into the shared table first
    monkeypatch.setattr(registry, "_ENGINES", dict(registry._ENGINES))
    monkeypatch.setitem(registry.DISCOVERY, "fake", "fake_engine")
    monkeypatch.setitem(registry.DISCOVERY, "stubborn", "fake_engine")
    sys.modules.pop("fake_engine", None)  # import (and so register) afresh
    return registry.get_engine("fake")
