"""The main window's data loading: reading a table in a worker thread and showing it.

One load at a time: asking for another source while a load runs cancels it, and the new one
starts once the old job has ended. The worker runs :func:`load_and_inspect` (read the file, then
infer the columns' kinds); when it returns, the Data tab, the preview and the pattern forms are
filled, and the columns an experiment file chose (held in ``_pending_selection`` while its table
loads) are applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog

from ppml_lab.data import DEFAULT_SOURCE, ColumnInfo, infer_schema, is_builtin, load_source
from ppml_lab.data.loading import ProgressCallback
from ppml_lab.data.source import LoadedTable
from ppml_lab.experiments import jobs
from ppml_lab.ui.qt_errors import show_exception, show_message
from ppml_lab.ui.qt_worker import WorkerThread

FILE_FILTER = (
    "Data files (*.csv *.tsv *.txt *.data *.xlsx *.xlsm *.xls *.parquet *.pq);;"
    "CSV / TSV (*.csv *.tsv *.txt *.data);;Excel (*.xlsx *.xlsm *.xls);;"
    "Parquet (*.parquet *.pq);;All files (*)"
)


@dataclass(frozen=True, kw_only=True)
class InspectedTable:
    """A loaded table with its inferred schema (both computed in the worker thread)."""

    table: LoadedTable
    schema: dict[str, ColumnInfo]


def load_and_inspect(source: str, *, progress: ProgressCallback | None = None) -> InspectedTable:
    """Load ``source`` and infer its schema; meant to run in a worker thread.

    Raises
    ------
    DatasetError
        For any problem with the file (the message is meant for the user).
    LoadCancelled
        When ``progress`` returned False.
    """
    table = load_source(source, progress=progress)
    return InspectedTable(table=table, schema=infer_schema(table.frame))


class DataLoadingMixin:
    """Loading data into :class:`~ppml_lab.ui.qt_main_window.MainWindow` (a part of it).

    Uses the window's panels (``dataset_panel``, ``preprocessing_panel``, ``preview``,
    ``pattern_panel``), its ``settings`` and its state helpers (``_set_state``,
    ``_update_actions``, ``_job_running``, ``_closing``).
    """

    def _init_data_loading(self) -> None:
        self._load_job: WorkerThread | None = None
        self._pending_selection: dict[str, Any] | None = None
        self._queued_source: str | None = None

    @property
    def table(self) -> Any:
        """The loaded :class:`~ppml_lab.data.source.LoadedTable` (None before the first load)."""
        return self.dataset_panel.table

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

    # ------------------------------------------------------------------ slots: the load job --

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
        self.settings.setValue("data/last_source", table.source)
        self.view_tabs.setCurrentIndex(0)  # show the new table; the last run stays one tab away
        self.setWindowTitle(f"PPML Lab — {table.name}")
        self._set_state(f"Ready — {table.name}: {len(table.frame):,} rows")
        jobs.warm_up()  # runs go to child processes: their fork server imports while you look
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

    # ------------------------------------------------------------------ slots: the Data tab --

    @Slot(str)
    def _on_dataset_panel_source_requested(self, source: str) -> None:
        self._pending_selection = None
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
        self.load_source(path)

    @Slot()
    def _on_dataset_panel_selection_changed(self) -> None:
        if self.table is not None:
            self.pattern_panel.set_columns(self.dataset_panel.feature_columns())
            self.preprocessing_panel.set_columns(
                self.dataset_panel.used_columns(), self.table.frame
            )
        self._update_actions()

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
