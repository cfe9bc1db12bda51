"""The main window: data and pattern on the left, live plots and results on the right.

All long work (reading a file, running an experiment) happens in a :class:`WorkerThread` owned
by this window; its events are buffered and painted by a ~25 Hz timer. Closing the window during
a run cancels it and waits (with a timeout) for the thread to stop.
"""

from __future__ import annotations

import html
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QElapsedTimer, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ppml_lab import __version__
from ppml_lab.data import DEFAULT_SOURCE, is_builtin
from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.events import (
    ROWS_PER_PARTY,
)
from ppml_lab.engines.registry import REFERENCE, engine_names, get_engine
from ppml_lab.experiments.config import (
    DatasetConfig,
    Experiment,
    load_experiment,
    save_experiment,
)
from ppml_lab.experiments.history import RunState
from ppml_lab.experiments.runner import RunResult, run_experiment
from ppml_lab.params import ParamError
from ppml_lab.ui.qt_audit import AuditViewWidget
from ppml_lab.ui.qt_dataset_panel import (
    FILE_FILTER,
    DataPreviewWidget,
    DatasetPanel,
    InspectedTable,
    load_and_inspect,
)
from ppml_lab.ui.qt_errors import show_exception, show_message
from ppml_lab.ui.qt_pattern_panel import PatternPanel
from ppml_lab.ui.qt_plots import RunPlotsWidget
from ppml_lab.ui.qt_results import ResultsPanel
from ppml_lab.ui.qt_worker import WorkerThread

PAINT_INTERVAL_MS = 40  # 25 Hz
CLOSE_TIMEOUT_MS = 5000
EXPERIMENT_FILTER = "Experiment files (*.toml *.json);;TOML (*.toml);;JSON (*.json);;All files (*)"


def about_text() -> str:
    """The About box: what the lab does, with the patterns this build really has."""
    labels = [get_engine(name).label for name in engine_names() if name != REFERENCE]
    listed = ", ".join(labels[:-1]) + (" and " if len(labels) > 1 else "") + labels[-1]
    return (
        f"<h3>PPML Lab {__version__}</h3>"
        "<p>A desktop lab for privacy-preserving machine learning on your own tabular data. "
        f"Patterns in this version: {html.escape(listed.lower())}, each compared with a "
        "plaintext baseline on the same split.</p>"
        "<p>Shortcuts: Ctrl+O open data · Ctrl+R / F5 run · Esc cancel · Ctrl+Q quit</p>"
    )


class MainWindow(QMainWindow):
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
    """

    dataset_loaded = Signal(object)
    dataset_failed = Signal(str)
    run_started = Signal()
    run_progressed = Signal(int, int)
    run_finished = Signal(object)

    def __init__(self, *, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()
        self.setWindowTitle("PPML Lab")
        self.setObjectName("MainWindow")
        self._load_job: WorkerThread | None = None
        self._run_job: WorkerThread | None = None
        self._cancel_token: CancelToken | None = None
        self._pending_events: list[object] = []
        self._pending_selection: dict[str, Any] | None = None
        self._queued_source: str | None = None
        self._dataset_base = DatasetConfig()
        self._last_result: RunResult | None = None
        self._closing = False
        self._close_pending = False
        self._live = RunState()  # the running job's events, reduced (the one reducer)
        self._warnings: list[str] = []
        self._state = "Ready"
        self.artifact_views: dict[str, Any] = {}
        """Artifact name -> callable(payload): how a pattern's artifacts are drawn."""

        self._build_widgets()
        self._build_actions()
        self._build_menus()
        self.artifact_views[ROWS_PER_PARTY] = self.plots.show_partition

        self._paint_timer = QTimer(self)
        self._paint_timer.setObjectName("paintTimer")
        self._paint_timer.setInterval(PAINT_INTERVAL_MS)
        self._paint_timer.timeout.connect(self._on_paint_timer_timeout)
        self._elapsed = QElapsedTimer()

        self.dataset_panel.source_requested.connect(self._on_dataset_panel_source_requested)
        self.dataset_panel.open_file_requested.connect(self._on_open_data_triggered)
        self.dataset_panel.selection_changed.connect(self._on_dataset_panel_selection_changed)
        self.pattern_panel.settings_changed.connect(self._on_settings_changed)
        self._restore_settings()
        self._set_state("Ready")
        self._update_actions()

    # ================================================================ construction ==========

    def _build_widgets(self) -> None:
        self.dataset_panel = DatasetPanel(self)
        self.pattern_panel = PatternPanel(self)
        pattern_scroll = QScrollArea(self)
        pattern_scroll.setWidget(self.pattern_panel)
        pattern_scroll.setWidgetResizable(True)
        pattern_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        pattern_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setup_tabs = QTabWidget(self)
        self.setup_tabs.setObjectName("setupTabs")
        self.setup_tabs.addTab(self.dataset_panel, "1  Data")
        self.setup_tabs.addTab(pattern_scroll, "2  Privacy && training")
        self.setup_tabs.setTabToolTip(0, "Choose the data, the target column and the features")
        self.setup_tabs.setTabToolTip(1, "Choose the privacy pattern and its settings")

        self.run_button = QPushButton("▶  Run", self)
        self.run_button.setObjectName("runButton")
        self.cancel_button = QPushButton("■  Cancel", self)
        self.cancel_button.setObjectName("cancelButton")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(8, 4, 8, 8)
        buttons.addWidget(self.run_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.setup_tabs, 1)
        left_layout.addLayout(buttons)
        left.setMinimumWidth(380)

        self.preview = DataPreviewWidget(self)
        self.plots = RunPlotsWidget(self)
        self.results = ResultsPanel(self)
        run_page = QSplitter(Qt.Orientation.Vertical, self)
        run_page.setObjectName("runSplitter")
        run_page.addWidget(self.plots)
        run_page.addWidget(self.results)
        run_page.setStretchFactor(0, 3)
        run_page.setStretchFactor(1, 1)
        run_page.setChildrenCollapsible(False)
        run_page.setSizes([520, 330])
        self.results.setMinimumHeight(150)
        self.audit_view = AuditViewWidget(self)
        self.view_tabs = QTabWidget(self)
        self.view_tabs.setObjectName("viewTabs")
        self.view_tabs.addTab(self.preview, "Data preview")
        self.view_tabs.addTab(run_page, "Training")
        self.view_tabs.addTab(self.audit_view, "Membership audit")
        self.view_tabs.setTabToolTip(0, "The first rows of the loaded table")
        self.view_tabs.setTabToolTip(1, "Live curves of the run and its results")
        self.view_tabs.setTabToolTip(
            2, "Membership-inference attacks against the trained model, next to what the DP "
            "guarantee allows (run with 'Membership audit' ticked)"
        )
        self.run_splitter = run_page

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_splitter.setObjectName("mainSplitter")
        self.main_splitter.addWidget(left)
        self.main_splitter.addWidget(self.view_tabs)
        self.main_splitter.setStretchFactor(0, 0)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setChildrenCollapsible(False)
        self.main_splitter.setSizes([430, 970])
        self.setCentralWidget(self.main_splitter)

        self.state_label = QLabel(self)
        self.state_label.setObjectName("stateLabel")
        self.state_label.setTextFormat(Qt.TextFormat.PlainText)
        self.state_label.setToolTip("What the application is doing")
        self.elapsed_label = QLabel(self)
        self.elapsed_label.setToolTip("Time since the run started")
        self.run_progress = QProgressBar(self)
        self.run_progress.setMaximumWidth(220)
        self.run_progress.setTextVisible(True)
        self.run_progress.setToolTip("Steps of the run done so far")
        self.run_progress.setVisible(False)
        self.statusBar().addWidget(self.state_label, 1)
        self.statusBar().addPermanentWidget(self.run_progress)
        self.statusBar().addPermanentWidget(self.elapsed_label)
        self.resize(1400, 900)

    def _build_actions(self) -> None:
        def action(text: str, tip: str, shortcuts: list[Any], slot: Any) -> QAction:
            act = QAction(text, self)
            act.setShortcuts([QKeySequence(s) for s in shortcuts])
            keys = ", ".join(QKeySequence(s).toString(QKeySequence.SequenceFormat.NativeText) for s in shortcuts)
            act.setToolTip(f"{tip} ({keys})" if keys else tip)
            act.setStatusTip(tip)
            act.triggered.connect(slot)
            self.addAction(act)  # shortcuts work even while the menu bar is hidden
            return act

        self.open_data_action = action(
            "&Open data…", "Open a CSV, TSV, Excel or Parquet file",
            [QKeySequence.StandardKey.Open], self._on_open_data_triggered,
        )
        self.open_experiment_action = action(
            "Open &experiment…", "Open an experiment file (.toml or .json)",
            ["Ctrl+Shift+O"], self._on_open_experiment_triggered,
        )
        self.save_experiment_action = action(
            "&Save experiment as…", "Save the data choice and all settings as an experiment file",
            ["Ctrl+Shift+S"], self._on_save_experiment_triggered,
        )
        self.export_results_action = action(
            "E&xport results JSON…", "Write the last run's results document (JSON)",
            ["Ctrl+E"], self._on_export_results_triggered,
        )
        self.quit_action = action(
            "&Quit", "Quit PPML Lab", [QKeySequence("Ctrl+Q")], self._on_quit_triggered
        )
        self.run_action = action(
            "&Run", "Train with the chosen pattern and settings", ["Ctrl+R", "F5"],
            self._on_run_triggered,
        )
        self.cancel_action = action(
            "&Cancel", "Stop the run (or the loading) at the next step", ["Esc"],
            self._on_cancel_triggered,
        )
        self.about_action = action("&About PPML Lab", "About PPML Lab", [], self._on_about_triggered)
        self.run_button.setToolTip(self.run_action.toolTip())
        self.cancel_button.setToolTip(self.cancel_action.toolTip())
        self.run_button.clicked.connect(self.run_action.trigger)
        self.cancel_button.clicked.connect(self.cancel_action.trigger)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.setToolTipsVisible(True)
        file_menu.addAction(self.open_data_action)
        file_menu.addAction(self.open_experiment_action)
        file_menu.addAction(self.save_experiment_action)
        file_menu.addAction(self.export_results_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        run_menu = bar.addMenu("&Run")
        run_menu.setToolTipsVisible(True)
        run_menu.addAction(self.run_action)
        run_menu.addAction(self.cancel_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    # ================================================================ public API ============

    @property
    def table(self) -> Any:
        """The loaded :class:`~ppml_lab.data.source.LoadedTable` (None before the first load)."""
        return self.dataset_panel.table

    @property
    def last_result(self) -> RunResult | None:
        return self._last_result

    @property
    def is_busy(self) -> bool:
        """True while a file loads or a run is going."""
        return self._job_running(self._load_job) or self._job_running(self._run_job)

    @property
    def state(self) -> str:
        """The state shown in the status bar ("Ready", "Running epoch 3/10", "Done", ...)."""
        return self._state

    def load_initial(self, experiment: str | None = None) -> None:
        """Open ``experiment`` if given, else the last dataset used (or the default built-in)."""
        if experiment and self.open_experiment(experiment):
            return
        source = str(self.settings.value("data/last_source", DEFAULT_SOURCE) or DEFAULT_SOURCE)
        if not is_builtin(source) and not Path(source).is_file():
            source = DEFAULT_SOURCE
        self.load_source(source)

    def load_source(self, source: str) -> None:
        """Start loading ``builtin:<name>`` or a file path in the worker thread."""
        if self._job_running(self._load_job):
            # One load at a time: stop the current one; the new one starts when it has ended.
            self._queued_source = source
            self._load_job.cancel()  # type: ignore[union-attr]
            return
        if self._job_running(self._run_job):
            show_message(self, "Busy", "Wait for the run to finish (or cancel it) before loading other data.")
            return
        job = WorkerThread(
            load_and_inspect, source, progress_kwarg="progress", parent=self, name="ppml-load"
        )
        job.yielded.connect(self._on_load_job_yielded)
        job.returned.connect(self._on_load_job_returned)
        job.errored.connect(self._on_load_job_errored)
        job.cancelled.connect(self._on_load_job_cancelled)
        job.finished.connect(self._on_load_job_finished)
        self._load_job = job
        self.dataset_panel.set_loading(0.0)
        name = source.removeprefix("builtin:") if is_builtin(source) else Path(source).name
        self._set_state(f"Loading {name}…")
        job.start()
        self._update_actions()

    def open_experiment(self, path: str | Path) -> bool:
        """Load an experiment file into the window (False, with a message, if it is invalid)."""
        try:
            experiment = load_experiment(path)
        except (ValueError, OSError) as exc:
            show_exception(self, "Cannot open the experiment", exc)
            return False
        self.pattern_panel.set_experiment(experiment)
        self._dataset_base = experiment.dataset
        selection = {
            "target": experiment.dataset.target,
            "exclude": experiment.dataset.exclude,
            "include": experiment.dataset.include,
        }
        self.settings.setValue("paths/last_dir", str(Path(path).resolve().parent))
        table = self.table
        if table is not None and table.source == experiment.dataset.source:
            self._apply_selection(selection)
        else:
            self._pending_selection = selection
            self.load_source(experiment.dataset.source)
        self.setWindowFilePath(str(path))
        return True

    def build_experiment(self) -> Experiment:
        """The experiment the current choices describe.

        Raises
        ------
        ParamError
            For a bad setting (the message is shown under the form too).
        ValueError
            When no data is loaded.
        """
        model = self.pattern_panel.model_params()
        params = self.pattern_panel.pattern_params()
        source, target, exclude, include = self.dataset_panel.selection()
        dataset = replace(
            self._dataset_base, source=source, target=target, exclude=exclude, include=include
        )
        name = self.pattern_panel.name_edit.text().strip()
        if not name:
            table = self.table
            pattern = self.pattern_combo_label()
            name = f"{table.name if table else 'data'}, {pattern.lower()}"
        return Experiment(
            name=name,
            seed=self.pattern_panel.seed(),
            dataset=dataset,
            model=model,
            pattern=self.pattern_panel.pattern_name(),
            params=params,
        )

    def pattern_combo_label(self) -> str:
        return self.pattern_panel.pattern_combo.currentText()

    def start_run(self) -> bool:
        """Validate the settings and start a run; False (with a message) if that is not possible."""
        if self.is_busy:
            return False
        if self.table is None:
            show_message(self, "No data", "Load a dataset first (File > Open data, or pick a built-in one).")
            return False
        try:
            experiment = self.build_experiment()
        except ParamError as exc:
            self.setup_tabs.setCurrentIndex(1)
            self._set_state("Ready — check the settings")
            show_message(self, "Check the settings", str(exc))
            return False
        except ValueError as exc:
            show_message(self, "Cannot run", str(exc))
            return False
        self._cancel_token = CancelToken()
        job = WorkerThread(
            run_experiment,
            experiment,
            cancel=self._cancel_token,
            table=self.table,
            cancel_token=self._cancel_token,
            parent=self,
            name="ppml-run",
        )
        job.yielded.connect(self._on_run_job_yielded)
        job.returned.connect(self._on_run_job_returned)
        job.errored.connect(self._on_run_job_errored)
        job.cancelled.connect(self._on_run_job_cancelled)
        job.finished.connect(self._on_run_job_finished)
        self._run_job = job
        self._last_result = None
        self._pending_events = []
        self._live = RunState()
        self._warnings = []
        engine = get_engine(experiment.pattern)
        plan = engine.plan(experiment.model, experiment.params)
        steps = plan.steps or 1
        self.plots.reset(planned_steps=plan.steps)
        self.plots.set_labels(engine.label_for)
        self.plots.set_smooth(False)
        self.plots.set_step_label(plan.step_name)
        self.plots.set_epsilon_target(plan.target_epsilon)
        self.audit_view.clear()
        self.results.set_pattern(experiment.pattern)
        self.results.clear("<b>Preparing the data…</b>")
        self.view_tabs.setCurrentIndex(1)
        self.run_progress.setRange(0, max(1, int(steps)))
        self.run_progress.setValue(0)
        self.run_progress.setFormat("%v / %m")
        self.run_progress.setVisible(True)
        self._elapsed.start()
        self._set_state("Preparing the data…")
        self._paint_timer.start()
        job.start()
        self._update_actions()
        self.run_started.emit()
        return True

    def cancel(self) -> None:
        """Cancel the run or the load in progress (returns at once)."""
        if self._job_running(self._run_job):
            self._run_job.cancel()  # type: ignore[union-attr]
            self._set_state("Cancelling…")
        if self._job_running(self._load_job):
            self._load_job.cancel()  # type: ignore[union-attr]
            self._set_state("Cancelling the loading…")

    def shutdown(self, timeout_ms: int = CLOSE_TIMEOUT_MS) -> bool:
        """Cancel every job and wait for the threads to stop; True if they all stopped."""
        stopped = True
        for job in (self._run_job, self._load_job):
            if job is not None and job.is_running:
                stopped = job.stop(timeout_ms) and stopped
        return stopped

    # ================================================================ Qt events =============

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self._closing = True
        self._save_settings()
        if not self.shutdown(CLOSE_TIMEOUT_MS):
            # A step that does not check the cancel token (e.g. preparing a huge file) is still
            # running: hide now, really close when the thread ends instead of blocking the UI.
            self._close_pending = True
            self.hide()
            event.ignore()
            return
        self._paint_timer.stop()
        super().closeEvent(event)

    # ================================================================ slots: load ===========

    @Slot(list)
    def _on_load_job_yielded(self, fractions: list[object]) -> None:
        if fractions and isinstance(fractions[-1], (int, float)) and not self._closing:
            self.dataset_panel.set_loading(float(fractions[-1]))

    @Slot(object)
    def _on_load_job_returned(self, inspected: object) -> None:
        if self._closing or not isinstance(inspected, InspectedTable):
            return
        if self._load_job is not None and self._load_job.abort_requested:
            # Cancelled while the columns were checked (a phase that cannot stop early).
            self._on_load_job_cancelled()
            return
        table = inspected.table
        self.dataset_panel.set_loading(None)
        self.dataset_panel.set_table(table, inspected.schema)
        self.preview.set_table(table, inspected.schema)
        self.pattern_panel.set_columns(self.dataset_panel.feature_columns())
        if self._pending_selection is not None:
            self._apply_selection(self._pending_selection)
            self._pending_selection = None
        else:
            self._dataset_base = DatasetConfig(source=table.source)
        self.settings.setValue("data/last_source", table.source)
        self.view_tabs.setCurrentIndex(0)  # show the new table; the last run stays one tab away
        self.setWindowTitle(f"PPML Lab — {table.name}")
        self._set_state(f"Ready — {table.name}: {len(table.frame):,} rows")
        self.dataset_loaded.emit(table)

    @Slot(object)
    def _on_load_job_errored(self, exc: object) -> None:
        self._pending_selection = None
        if self._closing:
            return
        self._set_state("Ready — the data could not be loaded")
        message = str(exc)
        if isinstance(exc, BaseException):
            show_exception(self, "Cannot load the data", exc)
        self.dataset_failed.emit(message)

    @Slot()
    def _on_load_job_cancelled(self) -> None:
        if self._queued_source is None:
            self._pending_selection = None
        if not self._closing:
            self._set_state("Loading cancelled")

    @Slot()
    def _on_load_job_finished(self) -> None:
        if self._load_job is not None:
            self._load_job.deleteLater()  # its thread has ended and every signal was handled
        self._load_job = None
        if self._closing:
            self._finish_pending_close()
            return
        self.dataset_panel.set_loading(None)
        self._update_actions()
        queued, self._queued_source = self._queued_source, None
        if queued is not None:
            self.load_source(queued)

    # ================================================================ slots: run ============

    @Slot(list)
    def _on_run_job_yielded(self, events: list[object]) -> None:
        # Cheap on purpose: events are drawn by the paint timer, not one by one.
        self._pending_events.extend(events)

    @Slot()
    def _on_paint_timer_timeout(self) -> None:
        self._flush_events(final=False)
        if self._elapsed.isValid():
            self.elapsed_label.setText(f"{self._elapsed.elapsed() / 1000:.1f} s")

    @Slot(object)
    def _on_run_job_returned(self, result: object) -> None:
        self._flush_events()
        if not isinstance(result, RunResult):
            return
        self._last_result = result
        if self._closing:
            return
        self.results.show_result(result)
        audit = result.engine_result.extra.get("audit") if result.engine_result else None
        if audit:
            self.audit_view.set_audit(audit)
        base_acc = result.baseline.get("test_accuracy")
        if result.experiment.pattern != REFERENCE:
            self.plots.set_baseline_accuracy(base_acc)
        done = result.history.last_progress
        if result.status == "cancelled":
            at = f" after step {done.step}/{done.total}" if done else ""
            self._set_state(f"Cancelled{at}")
        else:
            self._set_state("Done")

    @Slot(object)
    def _on_run_job_errored(self, exc: object) -> None:
        self._flush_events()
        if self._closing:
            return
        # A ValueError is the data or the engine refusing these settings (one class only, more
        # clients than rows, a delta too large, ...): a message to act on, not a crash report.
        refused = isinstance(exc, ValueError)
        self._set_state("Stopped — see the message" if refused else "Failed — see the message")
        what = "The run could not go ahead:" if refused else "The run failed:"
        self.results.clear(f"<b style='color:#b3261e'>{what}</b> {html.escape(str(exc))}")
        if isinstance(exc, BaseException):
            show_exception(self, "Cannot run this experiment" if refused else "The run failed", exc)

    @Slot()
    def _on_run_job_cancelled(self) -> None:
        self._flush_events()
        if not self._closing:
            self._set_state("Cancelled")

    @Slot()
    def _on_run_job_finished(self) -> None:
        self._paint_timer.stop()
        if self._run_job is not None:
            self._run_job.deleteLater()  # its thread has ended and every signal was handled
        self._run_job = None
        self._cancel_token = None
        if self._closing:
            self._finish_pending_close()
            return
        self._flush_events()
        self.plots.draw_now()
        self.plots.set_smooth(True)
        if self._elapsed.isValid():
            self.elapsed_label.setText(f"{self._elapsed.elapsed() / 1000:.1f} s")
        self.run_progress.setVisible(False)
        self._update_actions()
        self.run_finished.emit(self._last_result)

    # ================================================================ slots: UI =============

    @Slot()
    def _on_run_triggered(self) -> None:
        self.start_run()

    @Slot()
    def _on_cancel_triggered(self) -> None:
        self.cancel()

    @Slot(str)
    def _on_dataset_panel_source_requested(self, source: str) -> None:
        self._pending_selection = None
        self._dataset_base = DatasetConfig(source=source)
        self.load_source(source)

    @Slot()
    def _on_open_data_triggered(self) -> None:
        if self.is_busy:
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Open data", self._last_dir(), FILE_FILTER
        )
        if not path:
            return
        self.settings.setValue("paths/last_dir", str(Path(path).parent))
        self._pending_selection = None
        self._dataset_base = DatasetConfig(source=path)
        self.load_source(path)

    @Slot()
    def _on_open_experiment_triggered(self) -> None:
        if self.is_busy:
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Open experiment", self._last_dir(), EXPERIMENT_FILTER
        )
        if path:
            self.open_experiment(path)

    @Slot()
    def _on_save_experiment_triggered(self) -> None:
        try:
            experiment = self.build_experiment()
        except (ValueError, ParamError) as exc:
            show_message(self, "Cannot save the experiment", str(exc))
            return
        suggested = str(Path(self._last_dir()) / (_slug(experiment.name) + ".toml"))
        path, _ = QFileDialog.getSaveFileName(
            self, "Save experiment as", suggested, EXPERIMENT_FILTER
        )
        if not path:
            return
        if not Path(path).suffix:
            path += ".toml"
        try:
            save_experiment(experiment, path)
        except (OSError, TypeError, ValueError) as exc:
            show_exception(self, "Cannot save the experiment", exc)
            return
        self.settings.setValue("paths/last_dir", str(Path(path).parent))
        self.setWindowFilePath(path)
        self._set_state(f"Saved {Path(path).name}")

    @Slot()
    def _on_export_results_triggered(self) -> None:
        result = self._last_result
        if result is None:
            show_message(self, "No results", "Run an experiment first; then export its results.")
            return
        suggested = str(Path(self._last_dir()) / (_slug(result.experiment.name) + "-results.json"))
        path, _ = QFileDialog.getSaveFileName(
            self, "Export results", suggested, "JSON (*.json);;All files (*)"
        )
        if not path:
            return
        try:
            self.export_results(path)
        except (OSError, TypeError, ValueError) as exc:
            show_exception(self, "Cannot export the results", exc)
            return
        self.settings.setValue("paths/last_dir", str(Path(path).parent))
        self._set_state(f"Results written to {Path(path).name}")

    def export_results(self, path: str | Path) -> None:
        """Write the last run's results document to ``path`` (atomically)."""
        if self._last_result is None:
            raise ValueError("there are no results to export yet")
        out = Path(path)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(self._last_result.to_document(), indent=2), encoding="utf-8")
        tmp.replace(out)

    @Slot()
    def _on_quit_triggered(self) -> None:
        self.close()

    @Slot()
    def _on_about_triggered(self) -> None:
        QMessageBox.about(self, "About PPML Lab", about_text())

    @Slot()
    def _on_settings_changed(self) -> None:
        self._update_actions()

    @Slot()
    def _on_dataset_panel_selection_changed(self) -> None:
        if self.table is not None:
            self.pattern_panel.set_columns(self.dataset_panel.feature_columns())
        self._update_actions()

    # ================================================================ helpers ===============

    @staticmethod
    def _job_running(job: WorkerThread | None) -> bool:
        # A job counts until its ``finished`` signal has been handled (which clears the
        # reference), not merely until its thread stops: otherwise a new job could start while
        # the old one's end-of-job slots are still queued, and those would act on the new one.
        return job is not None

    def _flush_events(self, *, final: bool = True) -> None:
        """Hand buffered events to the plots and panels, then repaint what changed.

        On timer ticks (``final=False``) the plots redraw only when their paint budget allows
        (see :meth:`RunPlotsWidget.draw_if_due`); at the end of a run everything is drawn.
        """
        if not final and not self._closing:
            self.plots.draw_if_due()
        if not self._pending_events:
            return
        events, self._pending_events = self._pending_events, []
        if self._closing:
            return
        changes = self._live.apply_all(events)
        self._warnings.extend(changes.warnings)
        new_warnings = bool(changes.warnings)
        for artifact in changes.artifacts:
            view = self.artifact_views.get(artifact.name)
            if view is not None:
                try:
                    view(artifact.payload)
                except Exception as exc:  # noqa: BLE001 - a bad payload must not end the run view
                    self._warnings.append(f"Could not draw {artifact.name!r}: {exc}")
                    new_warnings = True
        self.plots.add_points(changes.points)
        if final:
            self.plots.draw_now()
        else:
            self.plots.draw_if_due()
        if changes.overheads:
            self.results.add_overheads(changes.overheads)
        if new_warnings:
            self.results.set_warnings(self._warnings)
        p = changes.progress
        if p is not None:
            if p.total > 0:
                self.run_progress.setRange(0, p.total)
                self.run_progress.setValue(min(p.step, p.total))
            what = p.message or f"step {p.step}/{p.total}"
            if self._job_running(self._run_job) and not (
                self._run_job is not None and self._run_job.abort_requested
            ):
                self._set_state(f"Running {what}")
            self.results.show_live(self._live.latest, p.step, p.total, what)
            self.run_progressed.emit(p.step, p.total)

    def _apply_selection(self, selection: dict[str, Any]) -> None:
        unknown = self.dataset_panel.apply_selection(
            target=selection.get("target"),
            exclude=selection.get("exclude", ()),
            include=selection.get("include", ()),
        )
        if unknown:
            show_message(
                self,
                "Columns not found",
                "The experiment names columns this table does not have: "
                + ", ".join(repr(c) for c in unknown)
                + ". They were ignored.",
            )

    def _set_state(self, text: str) -> None:
        self._state = text
        self.state_label.setText(text)

    def _update_actions(self) -> None:
        loading = self._job_running(self._load_job)
        running = self._job_running(self._run_job)
        busy = loading or running
        self.run_action.setEnabled(not busy and self.table is not None)
        self.cancel_action.setEnabled(busy)
        self.open_data_action.setEnabled(not busy)
        self.open_experiment_action.setEnabled(not busy)
        self.export_results_action.setEnabled(self._last_result is not None and not running)
        self.run_button.setEnabled(self.run_action.isEnabled())
        self.cancel_button.setEnabled(self.cancel_action.isEnabled())
        self.pattern_panel.setEnabled(not running)
        self.dataset_panel.setEnabled(not running)

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
            self.close()


def _slug(name: str) -> str:
    keep = "".join(c if c.isalnum() else "-" for c in name.lower())
    return "-".join(part for part in keep.split("-") if part) or "experiment"
