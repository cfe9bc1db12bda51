"""One entry of the History (:class:`StoredRun`), its statuses and file helpers.

:mod:`ppml_lab.experiments.store` keeps the entries; this module says what one is (the fields of
its ``meta.json``) and how its files are written (atomically) and read.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ppml_lab.data import BUILTINS, is_builtin
from ppml_lab.experiments.config import Experiment
from ppml_lab.jsonable import jsonable, number_or_none

EXPERIMENT_FILE = "experiment.toml"
RESULTS_FILE = "results.json"
META_FILE = "meta.json"
FORMAT = 1

#: Kinds of entry.
RUN = "run"
SWEEP = "sweep"
COMPARISON = "comparison"

RUNNING = "running"
COMPLETED = "completed"
CANCELLED = "cancelled"
INCOMPLETE = "incomplete"
FAILED = "failed"
STATUSES = (RUNNING, COMPLETED, CANCELLED, INCOMPLETE, FAILED)

#: Why a ``running`` entry whose process has gone is listed as incomplete.
STOPPED_REASON = "the application stopped before the run ended"


class StoreError(ValueError):
    """An entry that does not exist or cannot be read (the message says which)."""


@dataclass(frozen=True, kw_only=True)
class StoredRun:
    """One entry of the History, as its ``meta.json`` describes it.

    Attributes
    ----------
    id : str
        The folder's name under the store's root.
    kind : {"run", "sweep", "comparison"}
    name : str
        The name shown (renaming changes only this).
    pattern : str
        The pattern's registry name.
    dataset : str
        A short name of the data (a built-in's label, or the file's name).
    source : str
        The data source as the experiment gives it (``builtin:...`` or a file path).
    created : str
        When it started, ISO 8601 in UTC.
    status : {"running", "completed", "cancelled", "incomplete", "failed"}
    reason : str
        Why it is incomplete or failed ("" otherwise).
    steps_done, steps_total : int or None
        Steps (epochs, rounds, ...) recorded, and planned.
    step_name : str
        What a step is called ("epoch", "round", ...).
    test_accuracy, baseline_accuracy, epsilon : float or None
        The final (or, for an unfinished run, the last recorded) test accuracy, the plaintext
        reference's, and the privacy budget spent when the pattern has one. A sweep's
        ``epsilon_range`` gives its grid instead.
    epsilon_range, accuracy_range : (float, float) or None
        A sweep's smallest and largest epsilon, and the lowest and highest mean test accuracy
        over its private points.
    points : int or None
        A sweep's finished points.
    """

    id: str
    path: Path
    kind: str = RUN
    name: str = ""
    pattern: str = ""
    dataset: str = ""
    source: str = ""
    created: str = ""
    status: str = RUNNING
    reason: str = ""
    steps_done: int | None = None
    steps_total: int | None = None
    step_name: str = "step"
    test_accuracy: float | None = None
    baseline_accuracy: float | None = None
    epsilon: float | None = None
    epsilon_range: tuple[float, float] | None = None
    accuracy_range: tuple[float, float] | None = None
    points: int | None = None

    @property
    def finished(self) -> bool:
        """Whether the entry is over (anything but ``running``)."""
        return self.status != RUNNING

    @property
    def has_curves(self) -> bool:
        """Whether it has per-step training curves to overlay (runs do, sweeps do not)."""
        return self.kind == RUN

    @property
    def experiment_path(self) -> Path:
        return self.path / EXPERIMENT_FILE

    @property
    def results_path(self) -> Path:
        return self.path / RESULTS_FILE

    @property
    def created_at(self) -> datetime | None:
        """``created`` as an aware datetime (None if unreadable)."""
        try:
            return datetime.fromisoformat(self.created)
        except ValueError:
            return None

    @classmethod
    def from_meta(cls, path: Path, meta: Mapping[str, Any]) -> StoredRun:
        def figure(key: str) -> float | None:
            return number_or_none(meta.get(key))

        def pair(key: str) -> tuple[float, float] | None:
            value = meta.get(key)
            if not isinstance(value, list) or len(value) != 2:
                return None
            low, high = number_or_none(value[0]), number_or_none(value[1])
            return None if low is None or high is None else (low, high)

        def whole(key: str) -> int | None:
            value = meta.get(key)
            return int(value) if isinstance(value, int) and not isinstance(value, bool) else None

        status = str(meta.get("status", INCOMPLETE))
        return cls(
            id=path.name,
            path=path,
            kind=meta.get("kind") if meta.get("kind") in (SWEEP, COMPARISON) else RUN,
            name=str(meta.get("name", path.name)),
            pattern=str(meta.get("pattern", "")),
            dataset=str(meta.get("dataset", "")),
            source=str(meta.get("source", "")),
            created=str(meta.get("created", "")),
            status=status if status in STATUSES else INCOMPLETE,
            reason=str(meta.get("reason", "")),
            steps_done=whole("steps_done"),
            steps_total=whole("steps_total"),
            step_name=str(meta.get("step_name") or "step"),
            test_accuracy=figure("test_accuracy"),
            baseline_accuracy=figure("baseline_accuracy"),
            epsilon=figure("epsilon"),
            epsilon_range=pair("epsilon_range"),
            accuracy_range=pair("accuracy_range"),
            points=whole("points"),
        )


# ------------------------------------------------------------------------------- helpers ---


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then replace.

    Readers (and a crash at any moment) see the old file or the new one, never half of one.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(path: Path, doc: Any) -> None:
    write_atomic(path, json.dumps(jsonable(doc), indent=1, allow_nan=False) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def now_utc() -> datetime:
    return datetime.now(UTC)


def slug(name: str) -> str:
    keep = "".join(c if c.isascii() and c.isalnum() else "-" for c in name.lower())
    return "-".join(part for part in keep.split("-") if part)[:40].strip("-") or "run"


def dataset_name(source: str) -> str:
    """A short name for a dataset source: a built-in's label without its parenthesis
    ("Breast cancer"), else the file's name.
    """
    if is_builtin(source):
        key = source.split(":", 1)[1]
        builtin = BUILTINS.get(key)
        return builtin.label.split(" (")[0] if builtin is not None else key
    return Path(source).name or source


def absolute_source(experiment: Experiment) -> Experiment:
    """The experiment with a file source made absolute (the stored file lives elsewhere)."""
    source = experiment.dataset.source
    if is_builtin(source) or Path(source).is_absolute():
        return experiment
    dataset = replace(experiment.dataset, source=str(Path(source).resolve()))
    return replace(experiment, dataset=dataset)


def pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    return True


def last_value(rows: Sequence[Mapping[str, Any]], name: str) -> float | None:
    for row in reversed(rows):
        value = number_or_none(row.get(name))
        if value is not None:
            return value
    return None


def steps_done(rows: Sequence[Mapping[str, Any]]) -> int | None:
    steps = [int(r["step"]) for r in rows if isinstance(r.get("step"), (int, float))]
    return max(steps) if steps else None


def curve(document: Mapping[str, Any] | None, name: str) -> tuple[list[float], list[float]]:
    """The ``name`` column of a results document's history: steps and values (finite only)."""
    xs: list[float] = []
    ys: list[float] = []
    rows = (document or {}).get("history") or []
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        step, value = number_or_none(row.get("step")), number_or_none(row.get(name))
        if step is not None and value is not None:
            xs.append(step)
            ys.append(value)
    return xs, ys
