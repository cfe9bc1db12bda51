"""The main window: data and pattern on the left, live plots and results on the right.

All long work (reading a file, running an experiment) happens in a :class:`WorkerThread` owned
by this window; a run's events are buffered and painted by a ~25 Hz timer. Closing the window
during a run cancels it and waits (with a timeout) for the thread to stop.

The window is one class made of parts, one file per job:

=================================  ==========================================================
``qt_main_window.py`` (this file)  signals, state, which actions are enabled, closing, the
                                   remembered geometry
``qt_main_window_layout.py``       the widgets, actions and menus (:class:`MainWindowLayout`)
``qt_main_window_loading.py``      loading a table in a worker thread (:class:`DataLoadingMixin`)
``qt_main_window_runs.py``         a run's worker, its events and the paint timer
                                   (:class:`RunLifecycleMixin`)
``qt_main_window_files.py``        the experiment the forms describe, experiment files, results
                                   export (:class:`ExperimentFilesMixin`)
``qt_main_window_studies.py``      comparing all patterns and the privacy-budget sweep, each in
                                   a worker thread (:class:`StudiesMixin`)
=================================  ==========================================================
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QSettings, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QMainWindow, QWidget

from ppml_lab import __version__
from ppml_lab._resources import EXPERIMENTS_DIR, resource_path
from ppml_lab.engines.registry import REFERENCE, engine_names, get_engine
from ppml_lab.engines.runtime.context import set_child_niceness
from ppml_lab.ui import qt_gc
from ppml_lab.ui.qt_errors import show_message
from ppml_lab.ui.qt_main_window_files import ExperimentFilesMixin
from ppml_lab.ui.qt_main_window_layout import MainWindowLayout
from ppml_lab.ui.qt_main_window_loading import DataLoadingMixin
from ppml_lab.ui.qt_main_window_present import PresentingMixin
from ppml_lab.ui.qt_main_window_runs import RunLifecycleMixin
from ppml_lab.ui.qt_main_window_studies import StudiesMixin
from ppml_lab.ui.qt_run_readiness import RunReadinessMixin
from ppml_lab.ui.qt_worker import WorkerThread

#: How much lower than the window the engines' processes run (POSIX niceness; see
#: :func:`~ppml_lab.engines.runtime.context.set_child_niceness`). Measured on 2 cores
#: (bench_responsiveness, 3 alternating sittings of 3 runs): p99 latency during a DP run 14-31 ms
#: at 10 against 24-34 ms at 0, federated 17-36 ms against 26-51 ms.
BACKGROUND_NICENESS = 10

CLOSE_TIMEOUT_MS = 5000


def about_text() -> str:
    """The About box: what the lab does, with the patterns this build really has."""
    labels = [get_engine(name).label for name in engine_names() if name != REFERENCE]
    listed = ", ".join(labels[:-1]) + (" and " if len(labels) > 1 else "") + labels[-1]
    return (
        f"<h3>PPML Lab {__version__}</h3>"
        "<p>A desktop lab for privacy-preserving machine learning on your own tabular data. "
        f"Patterns in this version: {html.escape(listed.lower())}, each compared with a "
        "plaintext baseline on the same split.</p>"
        "<p>Shortcuts: Ctrl+O open data · Ctrl+R run · F5 presenter mode · "
        "Ctrl+Shift+R compare all patterns · "
        "Ctrl+E export the report (PDF) · "
        "Esc cancel · Ctrl+Q quit</p>"
    )


class MainWindow(
    MainWindowLayout, DataLoadingMixin, RunLifecycleMixin, StudiesMixin, ExperimentFilesMixin,
    RunReadinessMixin, PresentingMixin, QMainWindow,
):
    """The PPML Lab main window.

    Parameters
    ----------
    settings : QSettings, optional
        Where geometry, the last directory and the last dataset are remembered; defaults to the
        application's ``QSettings()`` (tests pass an isolated one).

    Signals
    -------
    dataset_loaded(object)
        A table finished loading (the :class:`~ppml_lab.data.source.LoadedTable`).
    dataset_failed(str)
        Loading failed; the message shown to the user.
    run_started()
        A run was started.
    run_progressed(int, int)
        Step and total of the latest progress drawn (emitted at most once per paint tick).
    run_finished(object)
        A run ended (completed, cancelled or failed); the RunResult, or None if it failed.
    study_finished(str)
        A comparison (``"comparison"``) or a sweep (``"sweep"``) ended, however it ended.
    """

    dataset_loaded = Signal(object)
    dataset_failed = Signal(str)
    run_started = Signal()
    run_progressed = Signal(int, int)
    run_finished = Signal(object)
    study_finished = Signal(str)

    def __init__(self, *, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        qt_gc.install()  # worker threads must never run the garbage collector (see qt_gc)
        set_child_niceness(BACKGROUND_NICENESS)  # engines yield a core to the GUI thread
        self.settings = settings if settings is not None else QSettings()
        self.setWindowTitle("PPML Lab")
        self.setObjectName("MainWindow")
        self._closing = False
        self._close_pending = False
        self._state = "Ready"
        self._init_data_loading()
        self._build_widgets()
        self._build_actions()
        self._build_menus()
        self._init_runs()
        self._init_studies()
        self._init_presenting()  # View > Presenter mode, Help > Which pattern fits?

        self.dataset_panel.source_requested.connect(self._on_dataset_panel_source_requested)
        self.dataset_panel.open_file_requested.connect(self._on_open_data_triggered)
        self.dataset_panel.selection_changed.connect(self._on_dataset_panel_selection_changed)
        self.preprocessing_panel.changed.connect(self._on_settings_changed)
        self.pattern_panel.settings_changed.connect(self._on_settings_changed)
        self._restore_settings()
        self._set_state("Ready")
        self._update_actions()

    # ================================================================ public API ============

    @property
    def is_busy(self) -> bool:
        """True while a file loads, a run is going, or a comparison or sweep is."""
        return (
            self._job_running(self._load_job) or self._job_running(self._run_job)
            or self._job_running(self._study_job)
        )

    @property
    def state(self) -> str:
        """The state shown in the status bar ("Ready", "Running epoch 3/10", "Done", ...)."""
        return self._state

    def cancel(self) -> None:
        """Cancel the run or the load in progress (returns at once)."""
        if self._job_running(self._run_job):
            self._run_job.cancel()  # type: ignore[union-attr]
            self._set_state("Cancelling…")
        if self._job_running(self._load_job):
            self._load_job.cancel()  # type: ignore[union-attr]
            self._set_state("Cancelling the loading…")
        self._cancel_study()

    def shutdown(self, timeout_ms: int = CLOSE_TIMEOUT_MS) -> bool:
        """Cancel every job and wait for the threads to stop; True if they all stopped."""
        stopped = True
        for job in (self._run_job, self._load_job, self._study_job, self.report_export.job):
            if job is not None and job.is_running:
                stopped = job.stop(timeout_ms) and stopped
        return stopped

    # ================================================================ Qt events =============

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self._closing = True
        self._save_settings()
        self._record_interrupted_run()  # the History keeps what finished, marked incomplete
        if not self.shutdown(CLOSE_TIMEOUT_MS):
            # A step that does not check the cancel token (e.g. preparing a huge file) is still
            # running: hide now, really close when the thread ends instead of blocking the UI.
            self._close_pending = True
            self.hide()
            event.ignore()
            return
        self._paint_timer.stop()
        self._study_timer.stop()
        super().closeEvent(event)

    # ================================================================ slots =================

    @Slot()
    def _on_cancel_triggered(self) -> None:
        self.cancel()

    @Slot()
    def _on_quit_triggered(self) -> None:
        self.close()

    @Slot()
    def _on_about_triggered(self) -> None:
        from ppml_lab.ui.qt_about_dialog import show_about_dialog

        show_about_dialog(self, about_text())

    @Slot()
    def _on_tour_triggered(self) -> None:
        from ppml_lab.ui.qt_start_tour import start_tour

        start_tour(self, self.settings)

    @Slot(QAction)
    def _on_examples_menu_triggered(self, action: QAction) -> None:
        name = action.data()
        if not name or self.is_busy:
            return
        try:
            with resource_path(EXPERIMENTS_DIR, str(name)) as path:
                self.open_experiment(path)
        except FileNotFoundError as exc:
            show_message(self, "Cannot open the example", str(exc))

    @Slot()
    def _on_settings_changed(self) -> None:
        self._update_actions()

    # ================================================================ helpers ===============

    @staticmethod
    def _job_running(job: WorkerThread | None) -> bool:
        # A job counts until its ``finished`` signal has been handled (which clears the
        # reference), not merely until its thread stops: otherwise a new job could start while
        # the old one's end-of-job slots are still queued, and those would act on the new one.
        return job is not None

    def _set_state(self, text: str) -> None:
        self._state = text
        self.state_label.setText(text)

    def _update_actions(self) -> None:
        loading = self._job_running(self._load_job)
        running = self._job_running(self._run_job) or self._job_running(self._study_job)
        busy = loading or running
        blocked = "" if busy else self.run_blocked_reason()  # e.g. a target with one class
        self.run_action.setEnabled(not busy and self.table is not None and not blocked)
        self.cancel_action.setEnabled(busy)
        self.open_data_action.setEnabled(not busy)
        self.open_experiment_action.setEnabled(not busy)
        self.export_results_action.setEnabled(self._last_result is not None and not running)
        self.export_report_action.setEnabled(self.report_export.available() and not running)
        self.run_button.setEnabled(self.run_action.isEnabled())
        self._show_run_blocked(blocked)
        self.cancel_button.setEnabled(self.cancel_action.isEnabled())
        self.pattern_panel.setEnabled(not running)
        self.dataset_panel.setEnabled(not running)
        self.preprocessing_panel.setEnabled(not running)
        self._update_study_actions()

    def _last_dir(self) -> str:
        value = self.settings.value("paths/last_dir", "")
        return str(value) if value and Path(str(value)).is_dir() else str(Path.home())

    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = self.settings.value("window/splitter")
        if splitter is not None:
            self.main_splitter.restoreState(splitter)

    def _save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/splitter", self.main_splitter.saveState())
        self.settings.sync()

    def _finish_pending_close(self) -> None:
        if self._close_pending and not self.is_busy:
            self._close_pending = False
            self._paint_timer.stop()
            self._study_timer.stop()
            self.close()


__all__ = ["CLOSE_TIMEOUT_MS", "MainWindow", "about_text"]
