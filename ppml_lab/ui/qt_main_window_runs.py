"""The main window's runs: starting one in a worker thread, drawing its events, ending it.

The worker thread runs :func:`~ppml_lab.experiments.runner.run_experiment` (in a child process,
through :func:`ppml_lab.experiments.jobs.job`); the events it yields
are buffered (:meth:`RunLifecycleMixin._on_run_job_yielded` only appends) and a ~25 Hz paint
timer hands them to the one reducer of run events (:class:`~ppml_lab.experiments.history.RunState`),
whose changes go to the plots, the results panel, the progress bar and the artifact views. The
run's plan (steps, step name, target epsilon) comes from the engine's contract, so nothing here
names a pattern.

Every run is saved in the History (:class:`~ppml_lab.experiments.store.RunStore`) when it starts,
its history so far every :data:`HISTORY_SAVE_MS`, and its result when it ends: completed,
cancelled, failed, or incomplete when the window is closed during the run.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Generator, Mapping
from typing import Any

from PySide6.QtCore import QElapsedTimer, QTimer, Slot

from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.contract import DataShape
from ppml_lab.engines.events import ROWS_PER_PARTY
from ppml_lab.engines.registry import REFERENCE, get_engine
from ppml_lab.experiments import jobs
from ppml_lab.experiments.history import RunState
from ppml_lab.experiments.runner import RunResult
from ppml_lab.experiments.store import CANCELLED, FAILED, INCOMPLETE, RunStore
from ppml_lab.params import ParamError
from ppml_lab.ui.qt_errors import show_exception, show_message
from ppml_lab.ui.qt_worker import WorkerThread

PAINT_INTERVAL_MS = 40  # 25 Hz
#: How often a running run's history so far is saved (a crash loses at most this much).
HISTORY_SAVE_MS = 2000
#: Why a run the window's closing stopped is incomplete.
CLOSED_REASON = "the window was closed during the run"


def run_job(
    experiment: Any, *, cancel: CancelToken, table: Any
) -> Generator[object, None, jobs.DocumentedRun]:
    """The window's run job: the run and its results document in a child process
    (:func:`~ppml_lab.experiments.jobs.job`), then, still in the worker thread, the document
    once more, which imports here what showing the result needs the first time (SciPy for the
    privacy sentences: 0.2 s that the GUI thread would otherwise stop for).
    """
    done = yield from jobs.job(jobs.run_with_document, experiment, cancel=cancel, table=table,
                               uses=(experiment.pattern, REFERENCE), job_name="run")
    with contextlib.suppress(Exception):  # the GUI thread makes it again and reports errors
        done.result.to_document()
    return done


class RunLifecycleMixin:
    """Runs of :class:`~ppml_lab.ui.qt_main_window.MainWindow` (a part of it).

    Uses the window's views (``plots``, ``results``, ``audit_view``, ``run_progress``,
    ``elapsed_label``, the tabs), :meth:`build_experiment` and its state helpers
    (``_set_state``, ``_update_actions``, ``_job_running``, ``_closing``).
    """

    def _init_runs(self) -> None:
        self._run_job: WorkerThread | None = None
        self._cancel_token: CancelToken | None = None
        self._pending_events: list[object] = []
        self._last_result: RunResult | None = None
        self._live = RunState()  # the running job's events, reduced (the one reducer)
        self._warnings: list[str] = []
        self.artifact_views: dict[str, Any] = {ROWS_PER_PARTY: self.plots.show_partition}
        """Artifact name -> callable(payload): how a pattern's artifacts are drawn."""
        self._paint_timer = QTimer(self)
        self._paint_timer.setObjectName("paintTimer")
        self._paint_timer.setInterval(PAINT_INTERVAL_MS)
        self._paint_timer.timeout.connect(self._on_paint_timer_timeout)
        self._elapsed = QElapsedTimer()
        self._history_id: str | None = None  # the running run's History entry
        self._history_saved = QElapsedTimer()
        self._rerun_source: str | None = None  # re-run from the History once this data loads

    @property
    def last_result(self) -> RunResult | None:
        return self._last_result

    @property
    def run_store(self) -> RunStore:
        """Where runs are saved (the History)."""
        return self.history_panel.store

    def _data_shape(self, experiment: Any) -> DataShape | None:
        """The loaded table's size for the plan's estimate: training rows and, roughly, the
        features (a categorical column counts as its number of values, up to 20).
        """
        table = getattr(self, "table", None)
        if table is None:
            return None
        rows = int(len(table.frame) * (1.0 - float(experiment.dataset.test_fraction)))
        features = sum(
            1 if info.kind == "numeric" else min(max(int(info.n_unique), 1), 20)
            for info in self.dataset_panel.used_columns()
        )
        return DataShape(n_train=rows, n_features=max(features, 1))

    def start_run(self) -> bool:
        """Validate the settings and start a run; False (with a message) if that is not possible."""
        if self.is_busy:
            return False
        if self.table is None:
            show_message(self, "No data", "Load a dataset first (File > Open data, or pick a built-in one).")
            return False
        blocked = self.run_blocked_reason()  # what disables Run (see qt_run_readiness)
        if blocked:
            self._show_run_blocked(blocked)
            show_message(self, "Cannot run", blocked)
            return False
        try:
            experiment = self.build_experiment()
        except ParamError as exc:
            # The Data tab when its preprocessing settings are the problem, else the pattern's.
            self.setup_tabs.setCurrentIndex(0 if self.preprocessing_panel.has_errors() else 1)
            self._set_state("Ready — check the settings")
            show_message(self, "Check the settings", str(exc))
            return False
        except ValueError as exc:
            show_message(self, "Cannot run", str(exc))
            return False
        missing = self.preprocessing_panel.missing_ranges()
        if missing:
            self.setup_tabs.setCurrentIndex(0)
            self._set_state("Ready — public ranges are missing")
            show_message(self, "Public ranges missing", self.preprocessing_panel.missing_message())
            return False
        self._cancel_token = CancelToken()
        # In a child process (the window's interpreter stays free), the events passed on here.
        job = WorkerThread(
            run_job,
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
        plan = engine.plan(experiment.model, experiment.params, self._data_shape(experiment))
        steps = plan.steps or 1
        # The plots stay where this pattern's last run had them (rearranging repaints them all).
        self.plots.reset(planned_steps=plan.steps, layout=experiment.pattern)
        self.plots.set_labels(engine.label_for)
        self.plots.set_smooth(False)
        self.plots.set_step_label(plan.step_name)
        self.plots.set_epsilon_target(plan.target_epsilon)
        # Not in this event: the audit plot's redraw would add to the busiest frame of the run.
        QTimer.singleShot(0, self.audit_view, self.audit_view.clear)
        self.log_view.clear(f"Messages of the run: {engine.label} on {self.table.name}")
        self.results.set_pattern(experiment.pattern)
        self.view_tabs.setCurrentIndex(1)
        self.run_progress.setRange(0, max(1, int(steps)))
        self.run_progress.setValue(0)
        self.run_progress.setFormat("%v / %m")
        self.run_progress.setVisible(True)
        self._elapsed.start()
        estimate = f" (estimated {plan.cost_estimate})" if plan.cost_estimate else ""
        self._set_state(f"Preparing the data…{estimate}")
        self.results.clear(f"<b>Preparing the data…</b>{html.escape(estimate)}")
        self._paint_timer.start()
        self._history_start(experiment, plan)
        job.start()
        self._update_actions()
        self.history_panel.set_busy(True)
        self.run_started.emit()
        return True

    def rerun_from_history(self, run_id: str) -> bool:
        """Show a saved run's settings and run them again (once its data has loaded)."""
        if self.is_busy:
            show_message(self, "Busy", "Wait for the run or the loading to finish, then re-run.")
            return False
        if not self.reopen_from_history(run_id):
            return False
        if self._load_job is None:  # the data was already loaded
            return self.start_run()
        self._rerun_source = self.run_store.experiment(run_id).dataset.source
        self._load_job.finished.connect(self._on_rerun_load_job_finished)
        return True

    # ------------------------------------------------------------------ the History ---

    def _history_start(self, experiment: Any, plan: Any) -> None:
        try:
            self._history_id = self.run_store.start_run(
                experiment, steps_total=plan.steps, step_name=plan.step_name
            )
        except (OSError, ValueError) as exc:
            self._history_id = None
            self._warnings.append(f"This run is not saved in the history: {exc}")
            self.results.set_warnings(self._warnings)
            return
        self._history_saved.start()
        # After the first frame of the run: the start already paints the whole run view.
        QTimer.singleShot(0, self.history_panel, self.history_panel.refresh)

    def _history_progress(self) -> None:
        """Save the running run's history so far, at most every :data:`HISTORY_SAVE_MS`."""
        if self._history_id is None or self._history_saved.elapsed() < HISTORY_SAVE_MS:
            return
        self._history_saved.start()
        try:
            self.run_store.save_progress(self._history_id, self._live.rows())
        except (OSError, ValueError):
            return  # the next tick tries again, and the run's end saves everything
        if self.history_panel.isVisible():  # its row shows the steps done so far
            self.history_panel.refresh()

    def _history_end(
        self, result: RunResult | None = None, *, status: str | None = None, reason: str = "",
        document: dict[str, Any] | None = None,
    ) -> None:
        """Save how the running run ended (once; later calls do nothing)."""
        run_id, self._history_id = self._history_id, None
        if run_id is None:
            return
        try:
            self.run_store.finish_run(
                run_id, result, status=status, reason=reason, rows=self._live.rows(),
                document=document,
            )
        except (OSError, ValueError) as exc:
            if not self._closing:
                show_message(self, "Not saved in the history",
                             f"The run's result could not be saved in the history: {exc}")
        if not self._closing:
            self.history_panel.refresh(select=run_id)

    def _record_interrupted_run(self) -> None:
        """The window is closing during a run: save what it recorded, marked incomplete.

        If the run's end still arrives (the cancel is quick), it replaces this with the result.
        """
        if self._history_id is None:
            return
        if self._pending_events:
            self._live.apply_all(self._pending_events)
            self._pending_events = []
        try:
            self.run_store.finish_run(
                self._history_id, status=INCOMPLETE, reason=CLOSED_REASON, rows=self._live.rows()
            )
        except (OSError, ValueError):
            pass

    # ------------------------------------------------------------------ slots: the run job ---

    @Slot()
    def _on_run_triggered(self) -> None:
        self.start_run()

    @Slot(list)
    def _on_run_job_yielded(self, events: list[object]) -> None:
        # Cheap on purpose: events are drawn by the paint timer, not one by one.
        self._pending_events.extend(events)

    @Slot()
    def _on_paint_timer_timeout(self) -> None:
        self._flush_events(final=False)
        if self._elapsed.isValid():
            self.elapsed_label.setText(f"{self._elapsed.elapsed() / 1000:.1f} s")

    @Slot(str)
    def _on_history_panel_rerun_requested(self, run_id: str) -> None:
        self.rerun_from_history(run_id)

    @Slot()
    def _on_rerun_load_job_finished(self) -> None:
        source, self._rerun_source = self._rerun_source, None
        if source is None or self._closing:
            return
        if self._load_job is not None:  # another load was queued behind it: wait for that one
            self._rerun_source = source
            self._load_job.finished.connect(self._on_rerun_load_job_finished)
            return
        table = self.table
        if table is not None and table.source == source:
            self.start_run()

    @Slot(object)
    def _on_run_job_returned(self, result: object) -> None:
        self.plots.hold_repaints()  # the results below them may change the room they have
        self._flush_events()
        document = None
        if isinstance(result, jobs.DocumentedRun):
            result, document = result.result, result.document
        if not isinstance(result, RunResult):
            return
        self._last_result = result
        audit = result.engine_result.extra.get("audit") if result.engine_result else None
        audit_cancelled = isinstance(audit, Mapping) and bool(audit.get("cancelled"))
        closed = self._closing and result.status == CANCELLED
        reasons = [CLOSED_REASON] if closed else []
        if audit_cancelled:
            reasons.append("during the membership audit: the training had finished")
        self._history_end(
            result, status=INCOMPLETE if closed else None, reason="; ".join(reasons),
            document=document,
        )
        if self._closing:
            return
        self.results.show_result(result)
        self.warning_actions.refresh()
        if audit_cancelled:
            self.audit_view.clear(
                "<span style='color:#8a4b00'>The membership audit was cancelled before it "
                "finished. The training had finished: its results are kept.</span>"
            )
        elif audit:
            self.audit_view.set_audit(audit)
        base_acc = result.baseline.get("test_accuracy")
        if result.experiment.pattern != REFERENCE:
            self.plots.set_baseline_accuracy(base_acc)
        done = result.history.last_progress
        if result.status == CANCELLED and audit_cancelled:
            self._set_state("Cancelled during the membership audit — the training results are kept")
        elif result.status == CANCELLED:
            self.plots.fit_finished_steps()  # the steps done, not the planned ones
            at = f" after step {done.step}/{done.total}" if done else ""
            self._set_state(f"Cancelled{at}")
        else:
            self._set_state("Done")

    @Slot(object)
    def _on_run_job_errored(self, exc: object) -> None:
        self._flush_events()
        self._history_end(status=FAILED, reason=str(exc) or type(exc).__name__)
        if self._closing:
            return
        # A ValueError is the data or the engine refusing these settings (one class only, more
        # clients than rows, a delta too large, ...): a message to act on, not a crash report.
        refused = isinstance(exc, ValueError)
        self.log_view.add_message(str(exc) or type(exc).__name__, "error")
        self._set_state("Stopped — see the message" if refused else "Failed — see the message")
        what = "The run could not go ahead:" if refused else "The run failed:"
        self.results.clear(f"<b style='color:#b3261e'>{what}</b> {html.escape(str(exc))}")
        if isinstance(exc, BaseException):
            show_exception(self, "Cannot run this experiment" if refused else "The run failed", exc)

    @Slot()
    def _on_run_job_cancelled(self) -> None:
        self._flush_events()
        self._history_end(
            status=INCOMPLETE if self._closing else CANCELLED,
            reason=CLOSED_REASON if self._closing else "",
        )
        if not self._closing:
            self.plots.fit_finished_steps()
            self._set_state("Cancelled")

    @Slot()
    def _on_run_job_finished(self) -> None:
        self._paint_timer.stop()
        if self._run_job is not None:
            self._run_job.deleteLater()  # its thread has ended and every signal was handled
        self._run_job = None
        self._cancel_token = None
        # A run that ended without a result or an error (should not happen) is still recorded.
        self._history_end(status=INCOMPLETE, reason="the run ended without a result")
        if self._closing:
            self._finish_pending_close()
            return
        self.history_panel.set_busy(False)
        self._flush_events()
        self.plots.draw_now()
        self.plots.settle_layout()
        # Smooth curves repaint every plot: in a frame of their own, not the result's.
        QTimer.singleShot(0, self.plots, self._smooth_plots)
        if self._elapsed.isValid():
            self.elapsed_label.setText(f"{self._elapsed.elapsed() / 1000:.1f} s")
        self.run_progress.setVisible(False)
        self._update_actions()
        self.run_finished.emit(self._last_result)

    # ------------------------------------------------------------------ drawing the events ---

    def _smooth_plots(self) -> None:
        if not self._job_running(self._run_job) and not self._closing:
            self.plots.set_smooth(True)

    def _show_progress(self, value: int) -> None:
        """Move the progress bar, painted with the next frame: ``QProgressBar.setValue`` repaints
        at once, and an immediate repaint paints every changed widget of the window with it
        (about 10 ms per step in a federated run).
        """
        bar = self.run_progress
        bar.setUpdatesEnabled(False)
        bar.setValue(value)
        bar.setUpdatesEnabled(True)  # schedules the repaint

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
        if not final:
            self._history_progress()
        self._warnings.extend(changes.warnings)
        new_warnings = bool(changes.warnings)
        if changes.logs:
            self.log_view.add_logs(changes.logs)
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
            self.warning_actions.refresh()
        p = changes.progress
        if p is not None:
            if p.total > 0:
                self.run_progress.setRange(0, p.total)
                self._show_progress(min(p.step, p.total))
            what = p.message or f"step {p.step}/{p.total}"
            if self._job_running(self._run_job) and not (
                self._run_job is not None and self._run_job.abort_requested
            ):
                self._set_state(f"Running {what}")
            self.results.show_live(self._live.latest, p.step, p.total, what)
            self.run_progressed.emit(p.step, p.total)
