"""The main window's studies: comparing all patterns, and the privacy-budget sweep.

Both are long jobs made of many runs, run like a single run (:mod:`.qt_main_window_runs`): in a
:class:`~ppml_lab.ui.qt_worker.WorkerThread` owned by the window, with progress in the status
bar, Esc to cancel, and the window responsive throughout. A comparison runs its runs one after
the other in a child process (:func:`ppml_lab.experiments.compare.run_comparison` through
:func:`ppml_lab.experiments.jobs.job`); a sweep's points run in worker processes of the process
runtime (:func:`ppml_lab.experiments.sweep.run_sweep`), which the cancel token, the window's
closing and the end of the job all stop.

One study at a time, and never during a run or a load. Whether a study can start, and why not,
comes from the engine's contract (``sweepable``, whether its parameters have an ``audit``
field); nothing here names a pattern.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, fields
from typing import Any

from PySide6.QtCore import QElapsedTimer, QTimer, Slot

from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.events import Progress
from ppml_lab.engines.registry import engine_names, get_engine
from ppml_lab.experiments import jobs
from ppml_lab.experiments.compare import ComparisonResult, ComparisonRow, run_comparison
from ppml_lab.experiments.config import Experiment
from ppml_lab.experiments.sweep import SweepPoint, SweepResult, run_sweep
from ppml_lab.params import ParamError
from ppml_lab.ui.qt_errors import show_exception, show_message
from ppml_lab.ui.qt_worker import WorkerThread

#: How often the elapsed time of a study is redrawn.
STUDY_TICK_MS = 250
COMPARE, SWEEP = "comparison", "sweep"


@dataclass(frozen=True)
class SweepStarted:
    """First thing a sweep job yields: the majority-class rate of the fixed test split."""

    majority_rate: float | None


@dataclass(frozen=True)
class SweepOutcome:
    """What a sweep job returns: the sweep, and the planner's answer (or why there is none)."""

    result: SweepResult
    plan: Any = None
    plan_error: str = ""


def sweep_job(
    experiment: Experiment,
    *,
    table: Any = None,
    epsilons: tuple[float, ...],
    seeds: int,
    tolerance: float,
    audit: bool,
    workers: int | None,
    cancel: CancelToken,
) -> Generator[Any, None, SweepOutcome]:
    """Prepare the split (for the majority-class line), sweep, then ask the planner.

    Qt-free; runs in the window's worker thread. The planner answers only for a completed sweep
    with two or more epsilons (a cancelled one keeps its points, without a plan).
    """
    # Preparing the split is seconds of pandas on a large table: in a child process.
    rate = yield from jobs.job(jobs.majority_rate, experiment, cancel=cancel, table=table,
                               uses=(experiment.pattern,), job_name="sweep set-up")
    yield SweepStarted(majority_rate=rate)
    result = yield from run_sweep(
        experiment, epsilons=epsilons, seeds=seeds, workers=workers, cancel=cancel, audit=audit
    )
    if result.status != "completed":
        return SweepOutcome(result, None, "the sweep was cancelled, so there is no plan")
    if len(result.epsilons) < 2:
        return SweepOutcome(result, None, "the planner needs two or more ε values")
    from ppml_lab.experiments.planner import plan_epsilon

    try:
        plan = plan_epsilon(result, tolerance=tolerance)
    except ValueError as exc:
        return SweepOutcome(result, None, str(exc))
    return SweepOutcome(result, plan)


def _has_field(engine: Any, name: str) -> bool:
    try:
        return any(f.name == name for f in fields(engine.Params))
    except TypeError:
        return False


class StudiesMixin:
    """Comparisons and sweeps of :class:`~ppml_lab.ui.qt_main_window.MainWindow` (a part of it).

    Uses the window's ``compare_view`` and ``sweep_view``, the actions ``compare_action`` and
    ``sweep_action``, :meth:`build_experiment`, ``table``, ``run_progress``, ``elapsed_label``,
    the History (``run_store``, ``history_panel``) and the state helpers.
    """

    def _init_studies(self) -> None:
        self._study_job: WorkerThread | None = None
        self._study_kind: str | None = None
        self._study_token: CancelToken | None = None
        self._study_elapsed = QElapsedTimer()
        self._study_timer = QTimer(self)
        self._study_timer.setObjectName("studyTimer")
        self._study_timer.setInterval(STUDY_TICK_MS)
        self._study_timer.timeout.connect(self._on_study_timer_timeout)
        self._sweep_plan_tolerance = 1.0
        self.compare_view.run_requested.connect(self._on_compare_triggered)
        self.compare_view.cancel_requested.connect(self._on_cancel_triggered)
        self.sweep_view.run_requested.connect(self._on_sweep_triggered)
        self.sweep_view.cancel_requested.connect(self._on_cancel_triggered)

    # ------------------------------------------------------------------ availability ---

    def study_unavailable(self, kind: str) -> str | None:
        """Why a comparison (``"comparison"``) or a sweep (``"sweep"``) cannot start now."""
        if self.table is None:
            return "Load a dataset first (the Data tab, or File > Open data)."
        if self.is_busy:
            return "Wait for the running job to finish (or cancel it with Esc)."
        if kind == SWEEP:
            engine = get_engine(self.pattern_panel.pattern_name())
            if not engine.sweepable:
                private = [get_engine(n).label for n in engine_names() if get_engine(n).sweepable]
                return (f"{engine.label} has no privacy budget (ε) to vary. Choose a pattern "
                        f"with one ({', '.join(private).lower()}) on the Privacy & training tab.")
        return None

    def _update_study_actions(self) -> None:
        for kind, action, view in ((COMPARE, self.compare_action, self.compare_view),
                                   (SWEEP, self.sweep_action, self.sweep_view)):
            reason = self.study_unavailable(kind)
            action.setEnabled(reason is None)
            base = action.statusTip().split(" — ")[0]
            action.setToolTip(f"{base} — {reason}" if reason else base)
            if self._study_kind == kind:
                continue  # the running view keeps its Cancel button
            if view is self.sweep_view:
                engine = get_engine(self.pattern_panel.pattern_name())
                view.set_availability(reason, can_audit=_has_field(engine, "audit"))
            else:
                view.set_availability(reason)

    # ------------------------------------------------------------------ starting ---

    def _study_experiment(self) -> Experiment | None:
        if self.table is None:
            show_message(self, "No data", "Load a dataset first (File > Open data, or pick a "
                         "built-in one).")
            return None
        try:
            return self.build_experiment()
        except (ParamError, ValueError) as exc:
            show_message(self, "Check the settings", str(exc))
            return None

    def start_comparison(self, *, tiny: bool = False) -> bool:
        """Compare the baseline and every pattern's preset; False (with a message) if it cannot."""
        reason = self.study_unavailable(COMPARE)
        if reason:
            show_message(self, "Cannot compare now", reason)
            return False
        experiment = self._study_experiment()
        if experiment is None:
            return False
        names = engine_names()
        self.compare_view.start(
            title=f"{self.table.name}: every pattern on one split, "
            f"{experiment.model.kind} model, {experiment.model.epochs} epochs",
            patterns=names,
        )
        token = CancelToken()
        # In a child process (the window's interpreter stays free), the rows passed on here.
        job = WorkerThread(jobs.job, run_comparison, experiment, cancel=token, table=self.table,
                           uses=names, job_name="comparison", tiny=tiny,
                           patterns=names, cancel_token=token, parent=self, name="ppml-compare")
        self._start_study(COMPARE, job, token, total=len(names),
                          state="Comparing the patterns…", tab=self.compare_view)
        return True

    def start_sweep(self, *, workers: int | None = None) -> bool:
        """Sweep the chosen pattern over the view's ε grid; False (with a message) if it cannot."""
        reason = self.study_unavailable(SWEEP)
        if reason:
            show_message(self, "Cannot sweep now", reason)
            return False
        view = self.sweep_view
        try:
            epsilons = view.epsilons()
        except ValueError as exc:
            self.view_tabs.setCurrentWidget(view)
            show_message(self, "Check the ε values", str(exc))
            return False
        experiment = self._study_experiment()
        if experiment is None:
            return False
        engine = get_engine(experiment.pattern)
        audit = view.audit_requested() and _has_field(engine, "audit")
        seeds = view.seeds()
        self._sweep_plan_tolerance = view.tolerance()
        view.start(title=f"{engine.label} on {self.table.name}", epsilons=epsilons,
                   seeds=seeds, audit=audit)
        token = CancelToken()
        job = WorkerThread(
            sweep_job, experiment, table=self.table, epsilons=epsilons, seeds=seeds,
            tolerance=self._sweep_plan_tolerance, audit=audit, workers=workers, cancel=token,
            cancel_token=token, parent=self, name="ppml-sweep",
        )
        self._start_study(SWEEP, job, token, total=view.total,
                          state="Sweeping ε (workers starting)…", tab=view)
        return True

    def _start_study(self, kind: str, job: WorkerThread, token: CancelToken, *, total: int,
                     state: str, tab: Any) -> None:
        job.yielded.connect(self._on_study_job_yielded)
        job.returned.connect(self._on_study_job_returned)
        job.errored.connect(self._on_study_job_errored)
        job.cancelled.connect(self._on_study_job_cancelled)
        job.finished.connect(self._on_study_job_finished)
        self._study_job, self._study_kind, self._study_token = job, kind, token
        self.view_tabs.setCurrentWidget(tab)
        tab.set_running(True)
        self.run_progress.setRange(0, max(1, total))
        self.run_progress.setValue(0)
        self.run_progress.setFormat("%v / %m")
        self.run_progress.setVisible(True)
        self._study_elapsed.start()
        self._study_timer.start()
        self._set_state(state)
        job.start()
        self._update_actions()

    # ------------------------------------------------------------------ slots ---

    @Slot()
    def _on_compare_triggered(self) -> None:
        self.start_comparison()

    @Slot()
    def _on_sweep_triggered(self) -> None:
        self.start_sweep()

    @Slot()
    def _on_study_timer_timeout(self) -> None:
        if self._study_elapsed.isValid():
            self.elapsed_label.setText(f"{self._study_elapsed.elapsed() / 1000:.1f} s")

    @Slot(list)
    def _on_study_job_yielded(self, values: list[object]) -> None:
        if self._closing:
            return
        rows = [v for v in values if isinstance(v, ComparisonRow)]
        points = [v for v in values if isinstance(v, SweepPoint)]
        for value in values:
            if isinstance(value, SweepStarted):
                self.sweep_view.set_majority_rate(value.majority_rate)
                self._set_state(f"Sweeping ε: 0 of {self.sweep_view.total} points")
        if rows:
            self.compare_view.add_rows(rows)
            done = len(self.compare_view.rows)
            self._show_progress(done)
            self.compare_view.set_status(f"{done} of {self.compare_view.total} patterns done")
        if points:
            self.sweep_view.add_points(points)
            done, total = len(self.sweep_view.points), self.sweep_view.total
            self._show_progress(min(done, total))
            self._set_state(f"Sweeping ε: {done} of {total} points")
        progress = [v for v in values if isinstance(v, Progress)]
        if progress and self._study_kind == COMPARE and not self._study_cancelling():
            self._set_state(f"Comparing: {progress[-1].message}")

    def _study_cancelling(self) -> bool:
        return self._study_token is not None and self._study_token.cancelled

    @Slot(object)
    def _on_study_job_returned(self, outcome: object) -> None:
        if isinstance(outcome, ComparisonResult):
            self._save_comparison(outcome)
            if not self._closing:
                self.compare_view.set_result(outcome)
                self._set_state("Comparison cancelled — the finished rows are kept"
                                if outcome.status == "cancelled" else "Comparison done")
        elif isinstance(outcome, SweepOutcome):
            self._save_sweep(outcome.result)
            if not self._closing:
                self.sweep_view.set_result(outcome.result, outcome.plan, outcome.plan_error)
                n = len(outcome.result.points)
                self._set_state(f"Sweep cancelled — {n} finished points kept"
                                if outcome.result.status == "cancelled" else "Sweep done")

    @Slot(object)
    def _on_study_job_errored(self, exc: object) -> None:
        if self._closing:
            return
        what = "comparison" if self._study_kind == COMPARE else "sweep"
        refused = isinstance(exc, ValueError)
        self._set_state(f"The {what} stopped — see the message")
        view = self.compare_view if self._study_kind == COMPARE else self.sweep_view
        view.set_status(f"Stopped: {exc}")
        if isinstance(exc, BaseException):
            show_exception(self, f"Cannot run this {what}" if refused else f"The {what} failed",
                           exc)

    @Slot()
    def _on_study_job_cancelled(self) -> None:
        if not self._closing:
            self._set_state("Cancelled")

    @Slot()
    def _on_study_job_finished(self) -> None:
        self._study_timer.stop()
        if self._study_job is not None:
            self._study_job.deleteLater()
        kind = self._study_kind
        self._study_job, self._study_kind, self._study_token = None, None, None
        if self._closing:
            self._finish_pending_close()
            return
        for view in (self.compare_view, self.sweep_view):
            view.set_running(False)
        self.run_progress.setVisible(False)
        self._on_study_timer_timeout()
        self._update_actions()
        self.study_finished.emit(kind or "")

    # ------------------------------------------------------------------ the History ---

    def _save_sweep(self, result: SweepResult) -> None:
        if not result.points:
            return
        try:
            self.run_store.save_sweep(result)
        except (OSError, ValueError) as exc:
            if not self._closing:
                self.sweep_view.set_status(f"Not saved in the history: {exc}")
            return
        if not self._closing:
            self.history_panel.refresh()

    def _save_comparison(self, result: ComparisonResult) -> None:
        # CALL SITE for the History (lead: RunStore has save_sweep but no save_comparison yet).
        # When RunStore offers save_comparison(ComparisonResult) -> id, this saves every
        # comparison; until then comparisons are shown but not kept.
        save = getattr(self.run_store, "save_comparison", None)
        if save is None or not result.rows:
            return
        try:
            save(result)
        except (OSError, ValueError) as exc:
            if not self._closing:
                self.compare_view.set_status(f"Not saved in the history: {exc}")
            return
        if not self._closing:
            self.history_panel.refresh()

    def _cancel_study(self) -> bool:
        """Cancel the running study (returns at once); True if there was one."""
        if self._study_job is None:
            return False
        self._study_job.cancel()
        what = "comparison" if self._study_kind == COMPARE else "sweep"
        self._set_state(f"Cancelling the {what}…")
        return True


__all__ = ["COMPARE", "SWEEP", "StudiesMixin", "SweepOutcome", "SweepStarted", "sweep_job"]
