"""The live-run screen: a caption, the one big chart, and a status line in large type.

The run goes through the window's machinery: :func:`~ppml_lab.experiments.runner.run_experiment`
(or :func:`~ppml_lab.experiments.compare.run_comparison` for the closing scene) in a child process
(:func:`~ppml_lab.experiments.jobs.job`) whose events a :class:`~ppml_lab.ui.qt_worker.WorkerThread`
passes on, so the GUI thread never blocks and leaving the presenter cancels the run. What the chart's axis calls a step comes from the engine's plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QElapsedTimer, Qt, Signal, Slot
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.events import REFERENCE_ACCURACY, Log, Metric, Progress
from ppml_lab.engines.registry import REFERENCE, engine_names, get_engine
from ppml_lab.experiments import jobs
from ppml_lab.experiments.compare import ComparisonResult, ComparisonRow, run_comparison
from ppml_lab.experiments.runner import RunResult
from ppml_lab.experiments.scenarios import Scenario
from ppml_lab.ui.presenter import qt_theme as theme
from ppml_lab.ui.presenter.qt_big_chart import Bar, BigChartWidget
from ppml_lab.ui.presenter.qt_fit_text import FitTextWidget
from ppml_lab.ui.qt_worker import WorkerThread

COMPLETED, CANCELLED, FAILED = "completed", "cancelled", "failed"


@dataclass(frozen=True, kw_only=True)
class RunOutcome:
    """How a scenario's run ended: its results document (or the comparison), or why not."""

    status: str
    document: dict[str, Any] | None = None
    comparison: ComparisonResult | None = None
    message: str = ""
    seconds: float = 0.0


def _cap(text: str) -> str:
    text = " ".join(str(text).split())
    return text[:1].upper() + text[1:]


def failure_words(exc: BaseException) -> str:
    """An exception as a sentence for the room (the lab's errors already are sentences)."""
    if isinstance(exc, ValueError) and str(exc):
        return _cap(str(exc))
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class RunScreen(QWidget):
    """The live run of one scenario (see the module docstring).

    Signals
    -------
    finished(object)
        The run ended: a :class:`RunOutcome`.
    """

    finished = Signal(object)

    def __init__(self, scenario: Scenario, *, tiny: bool = False, user_file: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scenario = scenario
        self.experiment = scenario.experiment_for(tiny=tiny, user_file=user_file)
        self._tiny = tiny
        self._reference_seen = False
        self._job: WorkerThread | None = None
        self._token: CancelToken | None = None
        self._clock = QElapsedTimer()
        self.outcome: RunOutcome | None = None
        self.caption = FitTextWidget(self, max_px=theme.SMALL_PX + 6, min_px=theme.HINT_PX,
                                     color=theme.MUTED)
        self.caption.set_html(scenario.run_caption)
        self.chart = BigChartWidget(self)
        self.status = FitTextWidget(self, max_px=theme.BODY_PX - 4, min_px=theme.HINT_PX,
                                    align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption, 12)
        layout.addWidget(self.chart, 70)
        layout.addWidget(self.status, 10)
        self._prepare_chart()
        self.status.set_html("The run starts when this screen is shown.")

    # -- public ------------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self._job is not None

    def set_scale(self, scale: float) -> None:
        for widget in (self.caption, self.chart, self.status):
            widget.set_scale(scale)

    def start(self) -> bool:
        """Start the run (again); False if one is going."""
        if self._job is not None:
            return False
        self.outcome = None
        self._reference_seen = False
        self._prepare_chart()
        self._token = CancelToken()
        # As the window does: the work in a child process (jobs.job), its events passed on by a
        # worker thread, so the GUI thread (and the animations) keep the interpreter.
        if self.scenario.is_comparison:
            names = engine_names()
            job = WorkerThread(jobs.job, run_comparison, self.experiment, cancel=self._token,
                               uses=names, job_name="comparison", tiny=self._tiny,
                               patterns=names, cancel_token=self._token, parent=self,
                               name="ppml-present")
        else:
            job = WorkerThread(jobs.job, jobs.run_with_document, self.experiment,
                               cancel=self._token, uses=(self.experiment.pattern, REFERENCE),
                               job_name="run", cancel_token=self._token, parent=self,
                               name="ppml-present")
        job.yielded.connect(self._on_job_yielded)
        job.returned.connect(self._on_job_returned)
        job.errored.connect(self._on_job_errored)
        job.cancelled.connect(self._on_job_cancelled)
        job.finished.connect(self._on_job_finished)
        self._job = job
        self._clock.start()
        self.status.set_html("Starting…")
        job.start()
        return True

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def stop(self, timeout_ms: int = 5000) -> bool:
        """Cancel and wait for the thread (blocking; for closing); True if it stopped."""
        return self._job.stop(timeout_ms) if self._job is not None else True

    # -- helpers -------------------------------------------------------------------------------

    def _prepare_chart(self) -> None:
        kind = self.scenario.chart
        if self.scenario.is_comparison:
            self.chart.set_kind("patterns")
            return
        plan = get_engine(self.experiment.pattern).plan(self.experiment.model, self.experiment.params)
        self.chart.set_kind(kind, step_name=_cap(plan.step_name), total=plan.steps,
                            labels=self.scenario.bar_labels)

    def _seconds(self) -> float:
        return self._clock.elapsed() / 1000 if self._clock.isValid() else 0.0

    def _set_status(self, text: str) -> None:
        self.status.set_html(f"{text} <span style='color:{theme.FAINT}'>· "
                             f"{self._seconds():.1f} s</span>")

    # -- slots ---------------------------------------------------------------------------------

    @Slot(list)
    def _on_job_yielded(self, values: list) -> None:
        for value in values:
            if isinstance(value, Metric):
                if value.name == REFERENCE_ACCURACY:
                    self.chart.set_reference(value.value)
                    self._reference_seen = True  # later progress is the protected run's
                elif value.name == "test_accuracy" and math.isfinite(value.value):
                    if self.chart.kind == "bars":
                        self.chart.set_final(value.value)
                    else:
                        self.chart.add_point(value.step, value.value)
            elif isinstance(value, Progress):
                if value.message:
                    self._set_status(_cap(value.message))
                if self._reference_seen and value.total > 0:
                    self.chart.set_progress(value.step, value.total)
            elif (isinstance(value, Log) and value.level == "info" and value.message
                  and not self._reference_seen):
                # Only the runner's own words while it prepares (a pattern's logs can be raw
                # lines from its party processes).
                self._set_status(_cap(value.message.rstrip(" .…")) + "…")
            elif isinstance(value, ComparisonRow):
                self._add_row(value)

    def _add_row(self, row: ComparisonRow) -> None:
        ratio = row.time_ratio
        sub = "" if row.is_reference or ratio is None else (
            "same time" if ratio < 1.5 else f"{ratio:,.0f}× the time")
        self.chart.add_bar(Bar(label=row.label, value=row.test_accuracy if row.completed else None,
                               sub="no protection" if row.is_reference else sub,
                               reference=row.is_reference))

    @Slot(object)
    def _on_job_returned(self, value: object) -> None:
        seconds = self._seconds()
        if isinstance(value, jobs.DocumentedRun):
            document = value.document if value.document is not None else value.result.to_document()
            self.outcome = RunOutcome(status=value.result.status, document=document,
                                      seconds=value.result.wall_seconds)
        elif isinstance(value, ComparisonResult):
            status = CANCELLED if value.status == CANCELLED else COMPLETED
            self.outcome = RunOutcome(status=status, comparison=value, seconds=seconds)
        elif isinstance(value, RunResult):
            self.outcome = RunOutcome(status=value.status, document=value.to_document(),
                                      seconds=value.wall_seconds)
        else:
            self.outcome = RunOutcome(status=FAILED, message="the run returned nothing",
                                      seconds=seconds)
        if self.outcome.status == COMPLETED:
            self.status.set_html(f"<b>Finished</b> in {self.outcome.seconds:.1f} s. "
                                 "Press <b>→</b> for the result.")
        else:
            self.status.set_html("The run was stopped before the end.")

    @Slot(object)
    def _on_job_errored(self, exc: object) -> None:
        message = failure_words(exc) if isinstance(exc, BaseException) else str(exc)
        self.outcome = RunOutcome(status=FAILED, message=message, seconds=self._seconds())
        self.status.set_html(f"<span style='color:{theme.ALARM}'><b>The run failed:</b> "
                             f"{_escape(message)}</span>")

    @Slot()
    def _on_job_cancelled(self) -> None:
        self.outcome = RunOutcome(status=CANCELLED, seconds=self._seconds())
        self.status.set_html("The run was stopped.")

    @Slot()
    def _on_job_finished(self) -> None:
        self.chart.end_progress()
        self._job = None
        self._token = None
        if self.outcome is None:
            self.outcome = RunOutcome(status=CANCELLED, seconds=self._seconds())
        self.finished.emit(self.outcome)


def _escape(text: str) -> str:
    import html

    return html.escape(text)
