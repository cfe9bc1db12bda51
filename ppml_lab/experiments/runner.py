"""Run an experiment end to end: load and prepare the data, run the plaintext reference on the same
split, run the chosen pattern, and assemble the results document.

:func:`run_experiment` is itself a generator of engine events (so the GUI and the CLI drive it the
same way) and returns a :class:`RunResult`.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Generator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ppml_lab import __version__
from ppml_lab.data import PreparedData, load_source, prepare_dataset
from ppml_lab.data.source import LoadedTable
from ppml_lab.engines.audit import AuditCancelled
from ppml_lab.engines.base import Cancelled, CancelToken, EngineResult
from ppml_lab.engines.contract import Guarantee
from ppml_lab.engines.events import REFERENCE_ACCURACY, Event, Log, Metric, Progress
from ppml_lab.engines.registry import REFERENCE, get_engine
from ppml_lab.experiments.config import Experiment
from ppml_lab.experiments.evaluation import evaluate_model, like_for_like
from ppml_lab.experiments.history import History
from ppml_lab.jsonable import jsonable
from ppml_lab.models import ModelParams


@dataclass(kw_only=True)
class RunResult:
    experiment: Experiment
    data: PreparedData
    history: History
    engine_result: EngineResult | None
    baseline: dict[str, float] = field(default_factory=dict)
    status: str = "completed"
    wall_seconds: float = 0.0
    _evaluation: dict[str, Any] | None = field(default=None, init=False, repr=False)

    def to_document(self) -> dict[str, Any]:
        """The results document written by ``ppml-lab run --json`` (schema in the README)."""
        er = self.engine_result or EngineResult()
        overhead = dict(er.overhead)
        if "seconds" in overhead and self.baseline.get("seconds"):
            overhead["time_ratio"] = overhead["seconds"] / self.baseline["seconds"]
        warnings = list(dict.fromkeys(er.warnings + self.history.warnings()))
        guarantee = self.guarantee()
        privacy = dict(er.privacy)
        if guarantee.covers:
            privacy["covers"] = guarantee.covers
            privacy["diagnostics"] = list(guarantee.diagnostics)
            privacy["diagnostics_notice"] = diagnostics_notice(guarantee)
        words = guarantee.sentences()
        if words and guarantee.has_epsilon:
            privacy["in_plain_words"] = words
        doc = {
                "ppml_lab_version": __version__,
                "status": self.status,
                "experiment": self.experiment.to_dict(),
                "dataset": {
                    "name": self.data.name,
                    "source": self.data.source,
                    "target": self.data.target,
                    "rows_train": self.data.n_train,
                    "rows_test": int(len(self.data.y_test)),
                    "features": self.data.n_features,
                    "classes": list(self.data.class_names),
                    "preprocessing": list(self.data.notes),
                    "data_dependent_preprocessing": list(self.data.data_dependent_steps),
                },
                "history": self.history.rows(),
                "final": er.final,
                "baseline": self.baseline,
                "privacy": privacy,
                "protection": {
                    **guarantee.to_dict(),
                    "diagnostics_notice": diagnostics_notice(guarantee),
                    "in_plain_words": words,
                },
                "overhead": overhead,
                "warnings": warnings,
                "extra": er.extra,
                "fidelity": er.fidelity,
                "environment": {
                    "python": platform.python_version(),
                    "numpy": np.__version__,
                    "platform": platform.platform(),
                },
                "wall_seconds": self.wall_seconds,
                "evaluation": self.evaluation(),
                # Orientation for a data-protection officer, from the engine (not legal advice).
                "compliance": get_engine(self.experiment.pattern)
                .compliance(self.experiment.params, guarantee).to_dict(),
        }
        for name, section in er.sections.items():
            if name in doc:
                raise ValueError(f"an engine's results section {name!r} would replace a standard one")
            doc[name] = section
        return jsonable(doc)


    def evaluation(self) -> dict[str, Any]:
        """The results document's ``evaluation`` section (computed once).

        The engine's model on the test split (:func:`~ppml_lab.experiments.evaluation.
        evaluate_model`) and the like-for-like cost (``like_for_like``: the cost kinds the
        engine labels one-off are kept out of the training time).
        """
        if self._evaluation is None:
            er = self.engine_result
            section = evaluate_model(
                er.model if er is not None else None, self.data.X_test, self.data.y_test,
                self.data.class_names,
                accuracy=er.final.get("test_accuracy") if er is not None else None,
            )
            # Costs the engine only reported as events (set-up times) count too.
            costs = {kind: e.value for kind, e in self.history.overheads.items()}
            costs.update(er.overhead if er is not None else {})
            engine = get_engine(self.experiment.pattern)
            one_off = {k: engine.label_for(k).text for k in costs if engine.label_for(k).one_off}
            section["like_for_like"] = like_for_like(costs, self.baseline.get("seconds"), one_off)
            self._evaluation = section
        return self._evaluation

    def guarantee(self) -> Guarantee:
        """What this run protected (the engine's guarantee, with the runner's own diagnostics).

        The engine says what its protection covers and which of its outputs are diagnostics
        computed on the private data without it; the runner adds its own: the non-private
        reference and the exact row counts.
        """
        engine = get_engine(self.experiment.pattern)
        g = engine.guarantee(
            self.experiment.params, self.engine_result, n_train=self.data.n_train
        )
        if not g.covers:
            return g  # the reference protects nothing, so nothing is "outside" it
        extra = []
        if self.baseline and self.experiment.pattern != REFERENCE:
            extra.append("the non-private reference (baseline.*), trained on the same rows "
                          "without protection")
        extra.append("the exact numbers of rows and classes (dataset.*), and the test rows' "
                     "class counts (evaluation.majority_class_rate, the confusion matrix's row "
                     "sums)")
        return replace(g, diagnostics=(*g.diagnostics, *extra))


def diagnostics_notice(guarantee: Guarantee) -> str:
    """One sentence: what the protection covers, and who may see the rest ("" if nothing)."""
    if not guarantee.covers or not guarantee.diagnostics:
        return ""
    names = [item.split(" (")[0] for item in guarantee.diagnostics]
    listed = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]
    return (
        f"The protection covers {guarantee.covers}. Not covered: {listed} are computed from the "
        "private training data without protection; show them only to people who may see that "
        "data itself, never to the model's users or the public."
    )


def prepare_data(experiment: Experiment, table: LoadedTable | None = None) -> PreparedData:
    """Load (unless ``table`` is given) and prepare the experiment's dataset."""
    ds = experiment.dataset
    table = table if table is not None else load_source(ds.source)
    return prepare_dataset(
        table.frame,
        target=ds.target or table.default_target,
        exclude=ds.exclude,
        include_flagged=ds.include,
        options=ds.preprocess_options(),
        seed=experiment.seed,
        name=table.name,
        source=ds.source,
    )


def reference_model(experiment: Experiment) -> ModelParams:
    """The model settings of the plaintext reference for ``experiment``.

    The same model on the same split, trained for as many passes over the data as the pattern
    makes (the engine's plan says so: a federated run of ``rounds x local_epochs`` passes is
    compared with centralised training of that many epochs), so "the cost of privacy" compares
    like with like.
    """
    plan = get_engine(experiment.pattern).plan(experiment.model, experiment.params)
    return plan.reference if plan.reference is not None else experiment.model


def drive(gen: Generator[Event, None, Any], sink: Any = None) -> Any:
    """Run a generator to completion, passing each event to ``sink``; return its return value."""
    while True:
        try:
            event = next(gen)
        except StopIteration as stop:
            return stop.value
        if sink is not None:
            sink(event)


def run_experiment(
    experiment: Experiment,
    *,
    cancel: CancelToken | None = None,
    data: PreparedData | None = None,
    table: LoadedTable | None = None,
    with_baseline: bool = True,
) -> Generator[Event, None, RunResult]:
    """Run ``experiment``; yields the pattern engine's events and returns a :class:`RunResult`.

    Cancelling returns a result with ``status = "cancelled"`` and whatever history was recorded
    (nothing is lost); cancelling during the optional membership audit also keeps the finished
    training's ``engine_result``, with ``extra["audit"] = {"cancelled": True}``. Bad data raises
    :class:`~ppml_lab.data.DatasetError`; bad parameters raise ValueError with a readable message.
    """
    cancel = cancel or CancelToken()
    t_start = time.perf_counter()
    if data is None:
        what = table.name if table is not None else experiment.dataset.source
        yield Log(message=f"Preparing the data ({what}): split, scaling, encoding ...")
        data = prepare_data(experiment, table)
    engine = get_engine(experiment.pattern)
    # Refuse impossible settings before training the reference: a refused run costs nothing.
    engine.validate(data, experiment.model, experiment.params)
    history = History()
    baseline: dict[str, float] = {}
    if with_baseline and experiment.pattern != REFERENCE:
        reference = reference_model(experiment)
        yield Progress(step=0, total=reference.epochs, message="training the plaintext reference")
        base_engine = get_engine(REFERENCE)
        try:
            base = drive(
                base_engine.run(
                    data, reference, base_engine.Params(), seed=experiment.seed, cancel=cancel
                )
            )
        except Cancelled:
            return RunResult(
                experiment=experiment, data=data, history=history, engine_result=None,
                status="cancelled", wall_seconds=time.perf_counter() - t_start,
            )
        baseline = {
            **base.final, "seconds": base.overhead.get("seconds", 0.0), "epochs": reference.epochs
        }
        if "test_accuracy" in baseline:
            yield Metric(step=0, name=REFERENCE_ACCURACY, value=float(baseline["test_accuracy"]))
    result: EngineResult | None = None
    status = "completed"
    gen = engine.run(data, experiment.model, experiment.params, seed=experiment.seed, cancel=cancel)
    try:
        while True:
            try:
                event = next(gen)
            except StopIteration as stop:
                result = stop.value
                break
            history.add(event)
            yield event
    except AuditCancelled as stopped:
        # Cancelled during the optional audit: the training finished, so keep its result
        # (final metrics, privacy), marked cancelled; only the audit is missing.
        status = "cancelled"
        result = stopped.result
    except Cancelled:
        status = "cancelled"
    if result is not None and experiment.pattern == REFERENCE:
        baseline = {
            **result.final,
            "seconds": result.overhead.get("seconds", 0.0),
            "epochs": experiment.model.epochs,
        }
    return RunResult(
        experiment=experiment,
        data=data,
        history=history,
        engine_result=result,
        baseline=baseline,
        status=status,
        wall_seconds=time.perf_counter() - t_start,
    )
