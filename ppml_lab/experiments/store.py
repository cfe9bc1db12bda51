"""The History: every run and sweep saved on disk, one folder each, listed newest first.

A :class:`RunStore` keeps, under its root directory (the window uses
``QStandardPaths.AppDataLocation/runs``; tests pass a temporary folder), one folder per run::

    runs/
      20250105-140312-breast-cancer-dp-3f9a1c/
        experiment.toml     the experiment (reopen it, re-run it, export it)
        results.json        the results document (RunResult.to_document() or
                            SweepResult.to_document()); while a run is going or after it was
                            interrupted, a partial one: status, experiment and the history so far
        meta.json           what the list shows: name, kind, pattern, dataset, created, status,
                            steps done, test accuracy, epsilon, ...

Statuses: ``running`` (written when the run starts), then ``completed``, ``cancelled`` (the user
stopped it; what finished is kept), ``incomplete`` (the window was closed during the run, or the
application stopped before the run ended: a ``running`` entry whose process is gone lists as
``incomplete``), ``failed`` (an error; the message is the entry's ``reason``).

A run is saved as soon as it starts (:meth:`RunStore.start_run`), its history so far whenever
the caller wants (:meth:`RunStore.save_progress`, e.g. every few seconds), and its result when it
ends (:meth:`RunStore.finish_run`). Every file is written atomically (a temporary file in the
same folder, then :func:`os.replace`), so a crash never leaves a half-written file. Renaming
changes the name in ``meta.json`` only; the experiment file keeps the name it ran under.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ppml_lab.engines.registry import get_engine
from ppml_lab.experiments.config import Experiment, load_experiment, save_experiment
from ppml_lab.experiments.store_entry import (
    CANCELLED,
    COMPARISON,
    COMPLETED,
    EXPERIMENT_FILE,
    FAILED,
    FORMAT,
    INCOMPLETE,
    META_FILE,
    RESULTS_FILE,
    RUN,
    RUNNING,
    STATUSES,
    STOPPED_REASON,
    SWEEP,
    StoredRun,
    StoreError,
    absolute_source,
    curve,
    dataset_name,
    last_value,
    now_utc,
    pid_alive,
    read_json,
    slug,
    steps_done,
    write_json,
)
from ppml_lab.jsonable import number_or_none

if TYPE_CHECKING:
    from ppml_lab.experiments.runner import RunResult
    from ppml_lab.experiments.sweep import SweepResult

__all__ = [
    "CANCELLED",
    "COMPLETED",
    "FAILED",
    "INCOMPLETE",
    "RUN",
    "RUNNING",
    "STATUSES",
    "SWEEP",
    "COMPARISON",
    "RUN",
    "RunStore",
    "StoreError",
    "StoredRun",
    "curve",
    "dataset_name",
]

# Entries this process started and has not finished: (root, id). Another process's entries
# are "running" while that process lives.
_ACTIVE: set[tuple[str, str]] = set()
_ACTIVE_LOCK = threading.Lock()

# ---------------------------------------------------------------------------------- store ---


def _meta_head(kind: str, name: str, experiment: Any, created: datetime) -> dict[str, Any]:
    """The first keys of every entry's meta line: what it is, on what data, and when."""
    return {
        "format": FORMAT,
        "kind": kind,
        "name": name,
        "pattern": experiment.pattern,
        "dataset": dataset_name(experiment.dataset.source),
        "source": experiment.dataset.source,
        "created": created.isoformat(timespec="microseconds"),
        "updated": created.isoformat(timespec="seconds"),
    }


class RunStore:
    """Runs and sweeps saved under ``root`` (created on the first save).

    Parameters
    ----------
    root : str or Path
        The folder holding one sub-folder per entry.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------------ saving a run ---

    def start_run(
        self,
        experiment: Experiment,
        *,
        steps_total: int | None = None,
        step_name: str | None = None,
    ) -> str:
        """Save a run that is starting (status ``running``, the experiment only); return its id.

        ``steps_total`` and ``step_name`` default to the engine's plan.
        """
        experiment = absolute_source(experiment)
        if steps_total is None or step_name is None:
            try:
                plan = get_engine(experiment.pattern).plan(experiment.model, experiment.params)
                steps_total = plan.steps if steps_total is None else steps_total
                step_name = plan.step_name if step_name is None else step_name
            except Exception:  # noqa: BLE001 - the plan only labels the entry
                pass
        created = now_utc()
        folder = self._new_folder(created, experiment.name)
        save_experiment(experiment, folder / EXPERIMENT_FILE)
        meta = {
            **_meta_head(RUN, experiment.name, experiment, created),
            "status": RUNNING,
            "pid": os.getpid(),
            "steps_done": 0,
            "steps_total": int(steps_total) if steps_total else None,
            "step_name": step_name or "step",
        }
        with _ACTIVE_LOCK:
            _ACTIVE.add((str(self.root), folder.name))
        write_json(folder / META_FILE, meta)
        self._write_partial(folder, experiment, [], RUNNING)
        return folder.name

    def save_progress(self, run_id: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Save the history recorded so far (one dict per step) of a running entry."""
        folder = self._folder(run_id)
        meta = self._meta(folder)
        if meta.get("status") != RUNNING:
            return  # it ended meanwhile: never overwrite a final document with a partial one
        experiment = self._experiment_doc(folder)
        self._write_partial(folder, experiment, rows, RUNNING)
        meta.update(
            steps_done=steps_done(rows) or 0,
            test_accuracy=last_value(rows, "test_accuracy"),
            epsilon=last_value(rows, "epsilon"),
            updated=now_utc().isoformat(timespec="seconds"),
        )
        write_json(folder / META_FILE, meta)

    def finish_run(
        self,
        run_id: str,
        result: RunResult | None = None,
        *,
        status: str | None = None,
        reason: str = "",
        rows: Sequence[Mapping[str, Any]] | None = None,
        document: Mapping[str, Any] | None = None,
    ) -> StoredRun:
        """Save how a run ended.

        Parameters
        ----------
        result : RunResult, optional
            The run's result: its document becomes ``results.json``. Without one (the run
            failed, or its result is not known), a partial document with ``rows``.
        status : str, optional
            Defaults to the result's status (``completed`` or ``cancelled``), or ``failed``
            without a result. Pass ``incomplete`` for a run the window's closing stopped.
        reason : str
            Why it failed or is incomplete (shown with the status).
        rows : list of dict, optional
            The history so far, when there is no result.
        document : dict, optional
            ``result.to_document()`` if the caller has made it already (the window makes it in
            its worker thread): saves making it again here.
        """
        if status is not None and (status not in STATUSES or status == RUNNING):
            raise ValueError(f"a run cannot end as {status!r}")
        folder = self._folder(run_id)
        meta = self._meta(folder)
        if result is not None:
            doc = dict(document) if document is not None else result.to_document()
            # The document keeps the runner's status; the History's may say more (incomplete).
            status = status or (CANCELLED if doc.get("status") == CANCELLED else COMPLETED)
            if reason:
                doc["status_reason"] = reason
            write_json(folder / RESULTS_FILE, doc)
            history = doc.get("history") or []
            final = doc.get("final") or {}
            privacy = doc.get("privacy") or {}
            accuracy = number_or_none(final.get("test_accuracy"))
            epsilon = number_or_none(privacy.get("epsilon"))
            if accuracy is None:
                accuracy = last_value(history, "test_accuracy")
            meta.update(
                test_accuracy=accuracy,
                baseline_accuracy=number_or_none((doc.get("baseline") or {}).get("test_accuracy")),
                epsilon=epsilon if epsilon is not None else last_value(history, "epsilon"),
                steps_done=steps_done(history) or 0,
            )
        else:
            status = status or FAILED
            rows = list(rows or [])
            self._write_partial(folder, self._experiment_doc(folder), rows, status, reason)
            meta.update(
                steps_done=steps_done(rows) or 0,
                test_accuracy=last_value(rows, "test_accuracy"),
                epsilon=last_value(rows, "epsilon"),
            )
        meta.update(status=status, reason=reason, updated=now_utc().isoformat(timespec="seconds"))
        meta.pop("pid", None)
        write_json(folder / META_FILE, meta)
        with _ACTIVE_LOCK:
            _ACTIVE.discard((str(self.root), run_id))
        return StoredRun.from_meta(folder, meta)

    def save_run(self, result: RunResult) -> str:
        """Save a finished run in one go (the CLI or a script); return its id."""
        run_id = self.start_run(result.experiment)
        self.finish_run(run_id, result)
        return run_id

    def save_sweep(self, result: SweepResult) -> str:
        """Save a finished (or cancelled) sweep: experiment, ``SweepResult.to_document()``, meta.

        Returns the entry's id.
        """
        experiment = absolute_source(result.experiment)
        created = now_utc()
        folder = self._new_folder(created, experiment.name)
        save_experiment(experiment, folder / EXPERIMENT_FILE)
        doc = result.to_document()
        write_json(folder / RESULTS_FILE, doc)
        means = [s.test_accuracy_mean for s in result.summaries if s.private]
        grid = [float(e) for e in result.epsilons]
        non_private = result.non_private
        meta = {
            **_meta_head(SWEEP, experiment.name, experiment, created),
            "status": COMPLETED if result.status == COMPLETED else CANCELLED,
            "reason": "",
            "points": len(result.points),
            "epsilon_range": [min(grid), max(grid)] if grid else None,
            "accuracy_range": [min(means), max(means)] if means else None,
            "baseline_accuracy": non_private.test_accuracy_mean if non_private else None,
            "step_name": "point",
        }
        write_json(folder / META_FILE, meta)
        return folder.name

    def save_comparison(self, result: Any) -> str:
        """Save a comparison of all patterns (``ComparisonResult``): its experiment, its
        ``to_document()`` and a meta line. Returns the entry's id.
        """
        experiment = absolute_source(result.experiment)
        created = now_utc()
        folder = self._new_folder(created, f"{experiment.name} (comparison)")
        save_experiment(experiment, folder / EXPERIMENT_FILE)
        write_json(folder / RESULTS_FILE, result.to_document())
        accuracies = [
            float(a) for a in (getattr(row, "test_accuracy", None) for row in result.rows)
            if isinstance(a, (int, float))
        ]
        meta = {
            **_meta_head(COMPARISON, f"{experiment.name} (comparison)", experiment, created),
            "status": COMPLETED if result.status == COMPLETED else CANCELLED,
            "reason": "",
            "points": len(result.rows),
            "accuracy_range": [min(accuracies), max(accuracies)] if accuracies else None,
            "step_name": "pattern",
        }
        write_json(folder / META_FILE, meta)
        return folder.name

    # ------------------------------------------------------------------ reading ---

    def runs(self) -> list[StoredRun]:
        """Every readable entry, newest first (unreadable folders are skipped)."""
        if not self.root.is_dir():
            return []
        out = []
        for folder in self.root.iterdir():
            if not folder.is_dir() or folder.name.startswith("."):
                continue
            try:
                meta = self._meta(folder)
            except StoreError:
                continue
            out.append(self._listed(folder, meta))
        out.sort(key=lambda r: (r.created, r.id), reverse=True)
        return out

    def get(self, run_id: str) -> StoredRun:
        """The entry ``run_id`` (raises :class:`StoreError` if there is none)."""
        folder = self._folder(run_id)
        return self._listed(folder, self._meta(folder))

    def experiment(self, run_id: str) -> Experiment:
        """The entry's experiment (raises ConfigError if the file no longer validates)."""
        return load_experiment(self._folder(run_id) / EXPERIMENT_FILE)

    def document(self, run_id: str) -> dict[str, Any] | None:
        """The entry's results document (partial while running or interrupted), or None."""
        path = self._folder(run_id) / RESULTS_FILE
        try:
            doc = read_json(path)
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) else None

    def curve(self, run_id: str, name: str) -> tuple[list[float], list[float]]:
        """Steps and values of the history column ``name`` (e.g. ``test_accuracy``)."""
        return curve(self.document(run_id), name)

    # ------------------------------------------------------------------ changing ---

    def rename(self, run_id: str, name: str) -> StoredRun:
        """Give the entry another name (in ``meta.json`` only); return it."""
        name = name.strip()
        if not name:
            raise ValueError("a name cannot be empty")
        folder = self._folder(run_id)
        meta = self._meta(folder)
        meta["name"] = name
        write_json(folder / META_FILE, meta)
        return self._listed(folder, meta)

    def delete(self, run_id: str) -> None:
        """Remove the entry's folder and everything in it."""
        folder = self._folder(run_id)
        self._meta(folder)  # only ever delete a folder that is one of ours
        shutil.rmtree(folder)
        with _ACTIVE_LOCK:
            _ACTIVE.discard((str(self.root), run_id))

    def export_experiment(self, run_id: str, path: str | Path) -> Path:
        """Write the entry's experiment to ``path`` (TOML, or JSON for a ``.json`` path)."""
        out = Path(path)
        save_experiment(self.experiment(run_id), out)
        return out

    # ------------------------------------------------------------------ internals ---

    def _new_folder(self, created: datetime, name: str) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = created.astimezone().strftime("%Y%m%d-%H%M%S")
        while True:
            folder = self.root / f"{stamp}-{slug(name)}-{secrets.token_hex(3)}"
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            return folder

    def _folder(self, run_id: str) -> Path:
        if not run_id or "/" in run_id or "\\" in run_id or run_id in (".", ".."):
            raise StoreError(f"not a history entry: {run_id!r}")
        folder = self.root / run_id
        if not (folder / META_FILE).is_file():
            raise StoreError(f"no run {run_id!r} in the history ({self.root})")
        return folder

    def _meta(self, folder: Path) -> dict[str, Any]:
        try:
            meta = read_json(folder / META_FILE)
        except (OSError, ValueError) as exc:
            raise StoreError(f"{folder / META_FILE} cannot be read ({exc})") from None
        if not isinstance(meta, dict):
            raise StoreError(f"{folder / META_FILE} is not a table of keys")
        return meta

    def _listed(self, folder: Path, meta: dict[str, Any]) -> StoredRun:
        run = StoredRun.from_meta(folder, meta)
        if run.status == RUNNING and not self._alive(folder.name, meta.get("pid")):
            run = replace(run, status=INCOMPLETE, reason=STOPPED_REASON)
        return run

    def _alive(self, run_id: str, pid: Any) -> bool:
        if pid == os.getpid():
            with _ACTIVE_LOCK:
                return (str(self.root), run_id) in _ACTIVE
        return pid_alive(pid)

    def _experiment_doc(self, folder: Path) -> dict[str, Any]:
        doc = self.document(folder.name)
        if doc and isinstance(doc.get("experiment"), dict):
            return doc["experiment"]
        try:
            return load_experiment(folder / EXPERIMENT_FILE).to_dict()
        except (OSError, ValueError):
            return {}

    def _write_partial(
        self,
        folder: Path,
        experiment: Experiment | Mapping[str, Any],
        rows: Sequence[Mapping[str, Any]],
        status: str,
        reason: str = "",
    ) -> None:
        doc: dict[str, Any] = {
            "status": status,
            "partial": True,
            "experiment": experiment.to_dict() if isinstance(experiment, Experiment)
            else dict(experiment),
            "history": [dict(r) for r in rows],
        }
        if reason:
            doc["status_reason"] = reason
        write_json(folder / RESULTS_FILE, doc)
