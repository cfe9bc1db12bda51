"""File > Export report (Ctrl+E): the PDF report of what the window shows.

Which report: the view in front decides. The Compare tab gives the comparison's report, the
Privacy-budget sweep tab the sweep's (with the planner's answer), the History tab the selected
entry's; any other tab the last run's (or, without one, the last comparison or sweep). The
document is taken in the GUI thread (a snapshot), the report is built and printed in a
:class:`~ppml_lab.ui.qt_worker.WorkerThread`, and the window says where it went, or why not.
The save dialog's file type chooses the paper: A4 or US Letter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QLocale, QObject, Slot
from PySide6.QtWidgets import QFileDialog, QWidget

from ppml_lab.ui.qt_errors import show_exception, show_message
from ppml_lab.ui.qt_worker import WorkerThread

__all__ = ["PAPER_FILTERS", "ReportExport", "write_report_job"]

#: Save-dialog file types -> paper size.
PAPER_FILTERS = {"PDF report, A4 (*.pdf)": "a4", "PDF report, US Letter (*.pdf)": "letter"}


def write_report_job(doc: dict[str, Any], path: str, paper: str) -> Any:
    """Build and print a report (runs in the worker thread; Qt-free but for the PDF writer)."""
    from ppml_lab.reports import build_report
    from ppml_lab.reports.qt_pdf import write_pdf

    return write_pdf(build_report(doc), path, paper=paper)


def _slug(name: str) -> str:
    keep = "".join(c if c.isalnum() else "-" for c in name.lower())
    return "-".join(part for part in keep.split("-") if part) or "report"


class ReportExport(QObject):
    """The Export report action's work, for one window (its ``window``).

    Reads the window's ``view_tabs``, ``compare_view``, ``sweep_view``, ``history_panel`` and
    ``_last_result``; reports through ``_set_state`` and message boxes.
    """

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.job: WorkerThread | None = None
        self.last_path: Path | None = None

    # -- what there is to report ------------------------------------------------------------

    def current(self) -> tuple[str, str, dict[str, Any]] | None:
        """``(kind, name, document)`` of what the report would show, or None."""
        w = self.window
        front = w.view_tabs.currentWidget()
        compare = getattr(w.compare_view, "result", None)
        sweep = getattr(w.sweep_view, "result", None)
        if front is w.history_panel:
            entry = self._history_entry()
            if entry is not None:
                return entry
        if front is w.compare_view and compare is not None:
            return self._comparison(compare)
        if front is w.sweep_view and sweep is not None:
            return self._sweep(sweep)
        if w._last_result is not None:
            result = w._last_result
            return "run", result.experiment.name, result.to_document()
        if compare is not None:
            return self._comparison(compare)
        if sweep is not None:
            return self._sweep(sweep)
        return None

    def available(self) -> bool:
        w = self.window
        return (w._last_result is not None or getattr(w.compare_view, "result", None) is not None
                or getattr(w.sweep_view, "result", None) is not None
                or bool(w.history_panel.runs()))

    def _comparison(self, result: Any) -> tuple[str, str, dict[str, Any]]:
        from ppml_lab.reports import comparison_bundle

        return "comparison", result.experiment.name, comparison_bundle(result)

    def _sweep(self, result: Any) -> tuple[str, str, dict[str, Any]]:
        doc = result.to_document()
        plan = getattr(self.window.sweep_view, "plan", None)
        if plan is not None:
            doc["plan"] = plan.to_dict()
        return "sweep", result.experiment.name, doc

    def _history_entry(self) -> tuple[str, str, dict[str, Any]] | None:
        panel = self.window.history_panel
        run_id = panel.selected_id()
        if not run_id:
            return None
        try:
            entry = panel.store.get(run_id)
            doc = panel.store.document(run_id)
        except (OSError, ValueError):
            return None
        return (entry.kind, entry.name, doc) if doc else None

    # -- the action ----------------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        """Ask where, then write the report in a worker thread."""
        w = self.window
        if self.job is not None:
            show_message(w, "Busy", "A report is being written; wait a moment.")
            return
        current = self.current()
        if current is None:
            show_message(w, "Nothing to report yet", "Run an experiment, compare all patterns "
                         "or run a sweep first; then export its report.")
            return
        kind, name, doc = current
        filters = list(PAPER_FILTERS)
        if QLocale().measurementSystem() == QLocale.MeasurementSystem.ImperialUSSystem:
            filters.reverse()
        suggested = str(Path(w._last_dir()) / f"{_slug(name)}-report.pdf")
        path, chosen = QFileDialog.getSaveFileName(
            w, f"Export the {kind}'s report", suggested, ";;".join(filters), filters[0])
        if not path:
            return
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        self.write(doc, path, PAPER_FILTERS.get(chosen, "a4"))

    def write(self, doc: dict[str, Any], path: str, paper: str = "a4") -> WorkerThread:
        """Write the report of ``doc`` to ``path`` in a worker thread (returns the job)."""
        job = WorkerThread(write_report_job, doc, path, paper, parent=self,
                           name="ppml-report")
        job.returned.connect(self._on_job_returned)
        job.errored.connect(self._on_job_errored)
        job.finished.connect(self._on_job_finished)
        self.job = job
        self.window._set_state(f"Writing the report to {Path(path).name}…")
        job.start()
        return job

    @Slot(object)
    def _on_job_returned(self, result: object) -> None:
        path = Path(getattr(result, "path", ""))
        self.last_path = path
        self.window.settings.setValue("paths/last_dir", str(path.parent))
        pages = getattr(result, "pages", 0)
        self.window._set_state(f"Report written to {path.name} ({pages} pages)")

    @Slot(object)
    def _on_job_errored(self, exc: object) -> None:
        self.window._set_state("The report was not written — see the message")
        if isinstance(exc, BaseException):
            show_exception(self.window, "Cannot write the report", exc)

    @Slot()
    def _on_job_finished(self) -> None:
        if self.job is not None:
            self.job.deleteLater()
        self.job = None
