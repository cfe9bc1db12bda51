"""Compare all patterns: the plaintext baseline and every available pattern on one split.

:func:`run_comparison` prepares the data once (one train/test split for every run), runs the
plaintext baseline with the experiment's model, then every other pattern with its comparison
preset (``EngineBase.compare_preset`` and ``compare_model``: e.g. a typical epsilon, a typical
number of parties), one after the other. It yields progress and a :class:`ComparisonRow` as each
run finishes, and returns a :class:`ComparisonResult` (``to_document()`` for JSON).

Each row says, in the same terms for every pattern (read from the engine's contract, never from
a pattern's own fields):

* test accuracy, and the change against the plaintext reference in percentage points. The
  reference is the baseline trained like the pattern's plan says (as many passes over the data
  as the pattern makes); when that is the baseline row's model, it *is* the baseline row;
* the guarantee in words and numbers (``Guarantee.level``, epsilon and delta when present, else
  what this run's settings give, e.g. the parties and threshold);
* engine time as a multiple of the plaintext reference's, and data sent as a multiple of the
  training data's size in plain numbers (``n_train x (features + 1) x 8`` bytes: what sending
  the rows to one place in the clear would take);
* who is kept from seeing what (``Guarantee.adversary`` and ``Guarantee.protects``);
* a status: completed, or why the pattern did not run (unavailable here and how to fix it, the
  data refused its settings, it failed, or the comparison was cancelled).

A pattern that fails or refuses the data is a row with its reason, not the end of the
comparison (partial failure is data).
"""

from __future__ import annotations

import html
import platform
import re
import time
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ppml_lab import __version__
from ppml_lab.data import PreparedData
from ppml_lab.data.source import LoadedTable
from ppml_lab.engines.base import Cancelled, CancelToken
from ppml_lab.engines.contract import Guarantee, compare_settings
from ppml_lab.engines.events import Event, Progress
from ppml_lab.engines.registry import REFERENCE, engine_names, get_engine
from ppml_lab.experiments.config import Experiment
from ppml_lab.experiments.evaluation import majority_class_rate
from ppml_lab.experiments.runner import RunResult, drive, prepare_data, run_experiment
from ppml_lab.jsonable import jsonable, number_or_none
from ppml_lab.models import ModelParams
from ppml_lab.params import to_mapping

__all__ = [
    "CANCELLED",
    "COMPLETED",
    "FAILED",
    "REFUSED",
    "UNAVAILABLE",
    "ComparisonResult",
    "ComparisonRow",
    "run_comparison",
]

COMPLETED = "completed"
UNAVAILABLE = "unavailable"
REFUSED = "refused"  # the engine's validate() (or the data) refused the settings
FAILED = "failed"
CANCELLED = "cancelled"

#: Bytes per number when the training data is sent in the clear (float64).
BYTES_PER_NUMBER = 8
#: Epochs of the model in a tiny comparison (tests, a first look).
TINY_EPOCHS = 2


@dataclass(frozen=True, kw_only=True)
class ComparisonRow:
    """One pattern's line in the comparison (see the module docstring for the columns).

    Figures that do not apply are None (a pattern that sends nothing has ``bytes_sent`` None;
    one that did not run has no accuracy).
    """

    pattern: str
    label: str
    status: str
    reason: str = ""
    is_reference: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    test_accuracy: float | None = None
    reference_accuracy: float | None = None
    reference_epochs: int | None = None
    change_points: float | None = None
    level: str = ""
    guarantee_numbers: str = ""
    epsilon: float | None = None
    delta: float | None = None
    unit: str = ""
    not_private: bool = False
    who_sees: str = ""
    protects: str = ""
    adversary: str = ""
    in_this_run: tuple[str, ...] = ()
    seconds: float | None = None
    reference_seconds: float | None = None
    time_ratio: float | None = None
    bytes_sent: float | None = None
    bytes_ratio: float | None = None
    warnings: tuple[str, ...] = ()

    @property
    def completed(self) -> bool:
        return self.status == COMPLETED

    @property
    def guarantee_text(self) -> str:
        """The guarantee in words and numbers, e.g. "moderate: ε = 1, δ = 2.2e-04 per record"."""
        if not self.completed:
            return ""
        if self.level and self.guarantee_numbers and self.epsilon is not None:
            return f"{self.level}: {self.guarantee_numbers}"
        if self.not_private:
            return self.level
        return self.guarantee_numbers or self.level

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["in_this_run"] = list(self.in_this_run)
        out["warnings"] = list(self.warnings)
        out["guarantee"] = self.guarantee_text
        return jsonable(out)


@dataclass(kw_only=True)
class ComparisonResult:
    """What :func:`run_comparison` returns: one row per pattern, the baseline first.

    Attributes
    ----------
    experiment : Experiment
        The experiment whose data, split, model and seed every run used (its own pattern is
        not used).
    rows : list of ComparisonRow
        The baseline, then every other pattern in the registry's order.
    status : {"completed", "cancelled"}
        "cancelled" keeps the rows that finished; the others say "cancelled".
    tiny : bool
        Whether the runs were shortened (tests, a first look).
    dataset : dict
        Name, rows, features, classes, the training data's size in bytes (the yardstick of
        ``bytes_ratio``) and the majority-class rate of the test split.
    runs : dict
        Pattern name -> the :class:`RunResult` of its run (not part of the document).
    """

    experiment: Experiment
    rows: list[ComparisonRow] = field(default_factory=list)
    status: str = COMPLETED
    tiny: bool = False
    dataset: dict[str, Any] = field(default_factory=dict)
    runs: dict[str, RunResult] = field(default_factory=dict)
    wall_seconds: float = 0.0

    def row(self, pattern: str) -> ComparisonRow:
        """The row of ``pattern``; KeyError if there is none."""
        for r in self.rows:
            if r.pattern == pattern:
                return r
        raise KeyError(f"no row for pattern {pattern!r}")

    @property
    def reference(self) -> ComparisonRow | None:
        """The plaintext baseline's row."""
        return next((r for r in self.rows if r.is_reference), None)

    @property
    def warnings(self) -> list[str]:
        return list(dict.fromkeys(w for r in self.rows for w in r.warnings))

    def to_document(self) -> dict[str, Any]:
        """The comparison as plain JSON data (the lab's one JSON convention)."""
        return jsonable({
            "ppml_lab_version": __version__,
            "kind": "pattern_comparison",
            "status": self.status,
            "experiment": self.experiment.to_dict(),
            "dataset": dict(self.dataset),
            "design": {
                "tiny": self.tiny,
                "note": "One train/test split (the experiment's seed) and one model for every "
                "pattern; each pattern runs with its comparison preset. Accuracy change is in "
                "percentage points against the plaintext reference trained with as many passes "
                "over the data as the pattern makes; time is engine time against that "
                "reference's; data sent is against the training data's size as plain numbers.",
            },
            "rows": [r.to_dict() for r in self.rows],
            "warnings": self.warnings,
            "wall_seconds": self.wall_seconds,
            "environment": {"python": platform.python_version(), "numpy": np.__version__},
        })


# -------------------------------------------------------------------------- the runner ---


def _first_sentence(text: str) -> str:
    text = " ".join(str(text).split())
    match = re.match(r"(.+?[.;])(\s|$)", text)
    return (match.group(1) if match else text).rstrip(".;")


def _plain(text: str) -> str:
    """Text without HTML tags (a guarantee's ``in_this_run`` may hold emphasis)."""
    return html.unescape(re.sub(r"<[^>]+>", "", str(text))).strip()


def _guarantee_fields(g: Guarantee, *, reference: bool) -> dict[str, Any]:
    """The row's guarantee columns, from the engine's :class:`Guarantee`."""
    setting = ""
    if g.in_this_run:
        setting = re.sub(r"^In this run:\s*", "", _plain(g.in_this_run[0]))
        head = setting.split(":", 1)[0].strip()
        setting = (head if len(head) >= 8 else setting).rstrip(".")
    if g.has_epsilon:
        unit = g.headline or f"per {g.unit}"
        numbers = f"ε = {float(g.epsilon):.3g}, δ = {float(g.delta):.2g} {unit}"  # type: ignore[arg-type]
    elif reference:
        numbers = "none"
    else:
        numbers = setting or "no ε"
    protects = _first_sentence(g.protects)
    if g.no_protection:
        who = f"NOT PRIVATE: {_first_sentence(g.no_protection_reason or g.no_protection)}"
    elif reference or not g.adversary:
        who = protects
    else:
        # "What: how" -> "What" (the how is in the tooltip and the document's ``protects``).
        head = protects.split(": ", 1)[0]
        what = head if len(head.split()) >= 2 else protects
        who = f"{what[:1].upper()}{what[1:]}, hidden from {g.adversary}"
    return {
        "level": g.level,
        "guarantee_numbers": numbers,
        "epsilon": number_or_none(g.epsilon) if g.has_epsilon else None,
        "delta": number_or_none(g.delta) if g.has_epsilon else None,
        "unit": g.unit,
        "not_private": bool(g.no_protection),
        "who_sees": who,
        "protects": g.protects,
        "adversary": g.adversary,
        "in_this_run": tuple(_plain(s) for s in g.in_this_run),
    }


def _data_facts(data: PreparedData) -> dict[str, Any]:
    _, majority = majority_class_rate(data.y_test, data.n_classes)
    return {
        "name": data.name,
        "source": data.source,
        "rows_train": int(data.n_train),
        "rows_test": int(len(data.y_test)),
        "features": int(data.n_features),
        "classes": list(data.class_names),
        "data_bytes": int(data.n_train) * (int(data.n_features) + 1) * BYTES_PER_NUMBER,
        "majority_class_rate": majority,
    }


class _References:
    """The plaintext reference per model setting, trained once each on the shared split."""

    def __init__(self, data: PreparedData, seed: int, cancel: CancelToken) -> None:
        self.data, self.seed, self.cancel = data, seed, cancel
        self._done: dict[ModelParams, dict[str, float]] = {}

    def put(self, model: ModelParams, figures: dict[str, float]) -> None:
        self._done[model] = figures

    def get(self, model: ModelParams) -> dict[str, float]:
        if model not in self._done:
            engine = get_engine(REFERENCE)
            base = drive(engine.run(self.data, model, engine.Params(), seed=self.seed,
                                    cancel=self.cancel))
            self._done[model] = {
                **base.final, "seconds": float(base.overhead.get("seconds", 0.0)),
                "epochs": model.epochs,
            }
        return self._done[model]


def _progress(index: int, total: int, label: str, inner: Progress | None = None) -> Progress:
    what = f"{label}: {inner.message}" if inner is not None and inner.message else label
    return Progress(step=index, total=total, message=f"{index + 1}/{total} {what}")


def _run_pattern(
    name: str,
    experiment: Experiment,
    data: PreparedData,
    references: _References,
    *,
    tiny: bool,
    audit: bool = False,
    index: int,
    total: int,
    cancel: CancelToken,
) -> Generator[Event, None, tuple[ComparisonRow, RunResult | None]]:
    engine = get_engine(name)
    is_reference = name == REFERENCE
    base = {"pattern": name, "label": engine.label, "is_reference": is_reference}
    reason = engine.available()
    if reason:
        return ComparisonRow(**base, status=UNAVAILABLE, reason=reason), None
    model, params = compare_settings(engine, experiment.model, tiny=tiny)
    base["params"] = jsonable(to_mapping(params))
    base["model"] = jsonable(to_mapping(model))
    exp = replace(experiment, pattern=name, params=params, model=model)
    if audit:  # the membership audit, for the patterns whose parameters have one
        from ppml_lab.experiments.sweep.grid import with_audit

        exp = with_audit(exp, True)
        base["params"] = jsonable(to_mapping(exp.params))
    gen = run_experiment(exp, cancel=cancel, data=data, with_baseline=False)
    try:
        while True:
            try:
                event = next(gen)
            except StopIteration as stop:
                result: RunResult = stop.value
                break
            if isinstance(event, Progress):
                yield _progress(index, total, engine.label, event)
        if result.status != COMPLETED or result.engine_result is None:
            return ComparisonRow(**base, status=CANCELLED, reason="the comparison was "
                                 "cancelled before this run finished"), None
        if is_reference:
            ref = dict(result.baseline)
            references.put(model, ref)
        else:
            yield _progress(index, total, engine.label,
                            Progress(step=0, total=0, message="training the plaintext reference"))
            ref = references.get(_reference_model(engine, model, params))
            result.baseline = dict(ref)
    except Cancelled:
        return ComparisonRow(**base, status=CANCELLED, reason="the comparison was cancelled "
                             "before this run finished"), None
    except ValueError as exc:  # the engine or the data refused these settings: say why
        return ComparisonRow(**base, status=REFUSED, reason=str(exc)), None
    except Exception as exc:  # noqa: BLE001 - one pattern failing is a row, not the end
        return ComparisonRow(**base, status=FAILED,
                             reason=f"{type(exc).__name__}: {exc}"), None
    return _completed_row(base, engine, result, ref, data), result


def _reference_model(engine: Any, model: ModelParams, params: Any) -> ModelParams:
    plan = engine.plan(model, params)
    return plan.reference if plan.reference is not None else model


def _completed_row(
    base: dict[str, Any], engine: Any, result: RunResult, ref: dict[str, float],
    data: PreparedData,
) -> ComparisonRow:
    er = result.engine_result
    assert er is not None
    acc = number_or_none(er.final.get("test_accuracy"))
    ref_acc = number_or_none(ref.get("test_accuracy"))
    costs = {kind: e.value for kind, e in result.history.overheads.items()}
    costs.update(er.overhead)
    seconds = number_or_none(costs.get("seconds"))
    ref_seconds = number_or_none(ref.get("seconds"))
    sent = number_or_none(costs.get("bytes_sent"))
    data_bytes = int(data.n_train) * (int(data.n_features) + 1) * BYTES_PER_NUMBER
    g = result.guarantee()
    return ComparisonRow(
        **base,
        status=COMPLETED,
        test_accuracy=acc,
        reference_accuracy=ref_acc,
        reference_epochs=int(ref["epochs"]) if ref.get("epochs") is not None else None,
        change_points=(100.0 * (acc - ref_acc)) if acc is not None and ref_acc is not None
        else None,
        seconds=seconds,
        reference_seconds=ref_seconds,
        time_ratio=seconds / ref_seconds if seconds is not None and ref_seconds else None,
        bytes_sent=sent,
        bytes_ratio=sent / data_bytes if sent is not None and data_bytes else None,
        warnings=tuple(dict.fromkeys(er.warnings + result.history.warnings())),
        **_guarantee_fields(g, reference=bool(base["is_reference"])),
    )


def run_comparison(
    experiment: Experiment,
    *,
    cancel: CancelToken | None = None,
    data: PreparedData | None = None,
    table: LoadedTable | None = None,
    tiny: bool = False,
    patterns: list[str] | None = None,
    audit: bool = False,
) -> Generator[Progress | ComparisonRow, None, ComparisonResult]:
    """Run the baseline and every pattern's comparison preset on one split.

    Parameters
    ----------
    experiment : Experiment
        Its dataset, split seed and model are used; its pattern is not.
    cancel : CancelToken, optional
        Stops the comparison at the next step; the finished rows are kept.
    data, table : optional
        The prepared data, or the loaded table to prepare (else the experiment's source is
        loaded).
    tiny : bool
        At most :data:`TINY_EPOCHS` epochs and the presets' ``tiny`` variants (tests).
    patterns : list of str, optional
        The patterns to compare (default: every registered one); the baseline always comes
        first.
    audit : bool
        Also attack every model with the membership audit (patterns whose parameters have an
        ``audit`` field), so each run says what an attacker achieved.

    Yields
    ------
    Progress or ComparisonRow
        Progress while a run goes (``step`` = the row being run, ``total`` = rows), and each
        row as it finishes (rows of unavailable patterns at once).
    """
    cancel = cancel or CancelToken()
    t0 = time.perf_counter()
    if tiny:
        experiment = replace(
            experiment, model=replace(experiment.model,
                                      epochs=min(experiment.model.epochs, TINY_EPOCHS))
        )
    names = [n for n in (patterns or engine_names()) if n != REFERENCE]
    names = [REFERENCE, *names]
    total = len(names)
    yield Progress(step=0, total=total, message=f"Preparing {experiment.dataset.source} …")
    if data is None:
        data = prepare_data(experiment, table)
    result = ComparisonResult(experiment=experiment, tiny=tiny, dataset=_data_facts(data))
    references = _References(data, experiment.seed, cancel)
    for index, name in enumerate(names):
        if cancel.cancelled:
            engine = get_engine(name)
            row = ComparisonRow(pattern=name, label=engine.label, status=CANCELLED,
                                is_reference=name == REFERENCE,
                                reason="the comparison was cancelled before this run started")
            run = None
        else:
            yield _progress(index, total, get_engine(name).label)
            row, run = yield from _run_pattern(
                name, experiment, data, references, tiny=tiny, audit=audit, index=index,
                total=total,
                cancel=cancel,
            )
        result.rows.append(row)
        if run is not None:
            result.runs[name] = run
        yield row
    result.status = CANCELLED if cancel.cancelled else COMPLETED
    result.wall_seconds = time.perf_counter() - t0
    return result
