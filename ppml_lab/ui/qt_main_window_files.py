"""The main window's experiments: the experiment the forms describe, and its files.

:meth:`ExperimentFilesMixin.build_experiment` assembles an
:class:`~ppml_lab.experiments.config.Experiment` from what the window shows (the Data tab's
columns and preprocessing, the pattern and model forms, name and seed);
:meth:`ExperimentFilesMixin.open_experiment` shows a file's settings in those same places, so
what is saved is what the user sees. Also File > Save experiment, File > Export results, and
reopening a run of the History (:meth:`ExperimentFilesMixin.reopen_from_history`).
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QFileDialog

from ppml_lab.experiments.config import Experiment, load_experiment, save_experiment
from ppml_lab.params import ParamError
from ppml_lab.ui.qt_errors import show_exception, show_message

EXPERIMENT_FILTER = "Experiment files (*.toml *.json);;TOML (*.toml);;JSON (*.json);;All files (*)"


def slug(name: str) -> str:
    """A file name made of an experiment's name ("Wine, DP" -> "wine-dp")."""
    keep = "".join(c if c.isalnum() else "-" for c in name.lower())
    return "-".join(part for part in keep.split("-") if part) or "experiment"


class ExperimentFilesMixin:
    """Experiments of :class:`~ppml_lab.ui.qt_main_window.MainWindow` (a part of it).

    Uses the window's panels (``dataset_panel``, ``preprocessing_panel``, ``pattern_panel``),
    its data loading (``load_source``, ``_apply_selection``, ``_pending_selection``), its
    ``settings`` and ``_last_dir``, and the last run's result.
    """

    def open_experiment(self, path: str | Path) -> bool:
        """Load an experiment file into the window (False, with a message, if it is invalid)."""
        try:
            experiment = load_experiment(path)
        except (ValueError, OSError) as exc:
            show_exception(self, "Cannot open the experiment", exc)
            return False
        self.settings.setValue("paths/last_dir", str(Path(path).resolve().parent))
        self.show_experiment(experiment)
        self.setWindowFilePath(str(path))
        return True

    def show_experiment(self, experiment: Experiment) -> None:
        """Show an experiment's settings in the forms, loading its data unless it is loaded."""
        self.pattern_panel.set_experiment(experiment)
        self.preprocessing_panel.set_config(experiment.dataset)
        selection = {
            "target": experiment.dataset.target,
            "exclude": experiment.dataset.exclude,
            "include": experiment.dataset.include,
        }
        table = self.table
        if table is not None and table.source == experiment.dataset.source:
            self._apply_selection(selection)
        else:
            self._pending_selection = selection
            self.load_source(experiment.dataset.source)

    def reopen_from_history(self, run_id: str) -> bool:
        """Show a saved run's experiment in the forms (False, with a message, if it cannot)."""
        if self._job_running(self._run_job):
            show_message(self, "Busy", "Wait for the run to finish (or cancel it) before "
                         "reopening another one.")
            return False
        store = self.history_panel.store
        try:
            name = store.get(run_id).name
            experiment = store.experiment(run_id)
        except (ValueError, OSError) as exc:
            show_exception(self, "Cannot reopen the run", exc)
            return False
        self.show_experiment(experiment)
        self.setWindowFilePath("")
        self.setup_tabs.setCurrentIndex(1)
        self._set_state(f"Reopened “{name}” from the history")
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
        # The Data tab first: its problems are reported (and shown) before the pattern's.
        source, target, exclude, include = self.dataset_panel.selection()
        dataset = self.preprocessing_panel.dataset_config(
            source=source, target=target, exclude=exclude, include=include
        )
        model = self.pattern_panel.model_params()
        params = self.pattern_panel.pattern_params()
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

    def export_results(self, path: str | Path) -> None:
        """Write the last run's results document to ``path`` (atomically)."""
        if self._last_result is None:
            raise ValueError("there are no results to export yet")
        out = Path(path)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(self._last_result.to_document(), indent=2, allow_nan=False), encoding="utf-8")
        tmp.replace(out)

    # ------------------------------------------------------------------ slots: File menu -----

    @Slot(str)
    def _on_history_panel_reopen_requested(self, run_id: str) -> None:
        self.reopen_from_history(run_id)

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
        suggested = str(Path(self._last_dir()) / (slug(experiment.name) + ".toml"))
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
        suggested = str(Path(self._last_dir()) / (slug(result.experiment.name) + "-results.json"))
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
