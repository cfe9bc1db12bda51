"""One sweep point, and the loop of a worker process (a "lane") that runs points one by one.

Module level so that the fork server can preload it and children can import it. A lane is a
function child of the process runtime (:mod:`ppml_lab.engines.runtime`): it reads tasks from
its inbox pipe and sends each outcome (a :class:`SweepPoint`, a :class:`Failure` or None for a
cancelled point) back with :func:`~ppml_lab.engines.runtime.emit`.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import time
import traceback
from dataclasses import dataclass, replace
from typing import Any

from ppml_lab.data import PreparedData
from ppml_lab.engines.audit import audit_summary
from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.registry import ENGINE_MODULES, REFERENCE
from ppml_lab.engines.runtime import cancel_token, emit
from ppml_lab.experiments.config import Experiment
from ppml_lab.experiments.runner import prepare_data, reference_model, run_experiment
from ppml_lab.experiments.sweep.grid import with_audit, with_epsilon
from ppml_lab.experiments.sweep.results import SweepPoint
from ppml_lab.jsonable import jsonable

__all__ = ["Failure", "Task", "lane_main", "run_point", "run_point_safely"]


@dataclass(frozen=True)
class Task:
    experiment: Experiment  # the original experiment (its seed is the data seed)
    epsilon: float
    seed: int
    repetition: int
    audit: bool = False  # attack every point's model (membership audit) when the pattern can


@dataclass(frozen=True)
class Failure:
    """An exception in a worker, as plain data (custom exception classes may not unpickle)."""

    type_name: str
    message: str
    is_value_error: bool
    trace: str


_DATA_CACHE: dict[str, PreparedData] = {}
_BLAS_LIMITS: Any = None


def _data_key(experiment: Experiment) -> str:
    # Everything prepare_data depends on: source, target, columns, preprocessing, split seed.
    return json.dumps({"seed": experiment.seed, **experiment.dataset.to_dict()}, sort_keys=True)


def _prepared(experiment: Experiment) -> PreparedData:
    """The experiment's prepared data, loaded once per process and kept."""
    key = _data_key(experiment)
    data = _DATA_CACHE.get(key)
    if data is None:
        data = prepare_data(experiment)
        _DATA_CACHE.clear()  # one dataset per sweep; do not pile up old ones in a long session
        _DATA_CACHE[key] = data
    return data


def clear_data_cache() -> None:
    """Forget the prepared data of this process (benchmarks start cold)."""
    _DATA_CACHE.clear()


def _init_worker(blas_threads: int | None) -> None:
    """Runs once in every worker: size BLAS, import the engines."""
    global _BLAS_LIMITS
    if blas_threads:
        # Two workers on two cores must not each start two BLAS threads (oversubscription).
        try:
            from threadpoolctl import threadpool_limits

            _BLAS_LIMITS = threadpool_limits(limits=blas_threads)
        except Exception:  # threadpoolctl is optional; without it we only lose some speed
            _BLAS_LIMITS = None
    # The engine modules import dp-accounting, scipy and friends: preloaded by the fork server,
    # imported here elsewhere (spawn), before the first task arrives.
    for module in ENGINE_MODULES:
        importlib.import_module(module)


def run_point(task: Task, cancel: CancelToken | None = None) -> SweepPoint | None:
    """Run one point; None if it was cancelled before it finished."""
    from ppml_lab.experiments.runner import drive

    cancel = cancel or cancel_token()  # in a lane: set when the sweep stops the lanes
    if cancel.cancelled:
        return None
    t0 = time.perf_counter()
    data = _prepared(task.experiment)
    if math.isfinite(task.epsilon):
        exp = with_epsilon(task.experiment, task.epsilon, audit=task.audit)
    else:
        # The same reference as a single run's: e.g. rounds x local epochs for federated runs.
        exp = replace(
            task.experiment.with_pattern(REFERENCE), model=reference_model(task.experiment)
        )
        exp = with_audit(exp, task.audit)
    # The engine seed is the experiment seed: set it to the training seed *after* the data was
    # prepared with the original seed, so the split stays fixed.
    exp = replace(exp, seed=task.seed)
    result = drive(run_experiment(exp, cancel=cancel, data=data, with_baseline=False))
    if result.status != "completed" or result.engine_result is None:
        return None
    er = result.engine_result
    _, curve = result.history.series("test_accuracy")
    privacy = dict(er.privacy)
    sigma = privacy.get("noise_multiplier")
    spent = privacy.get("epsilon")
    return SweepPoint(
        epsilon=task.epsilon,
        seed=task.seed,
        repetition=task.repetition,
        test_accuracy=float(er.final.get("test_accuracy", math.nan)),
        train_accuracy=float(er.final.get("train_accuracy", math.nan)),
        noise_multiplier=float(sigma) if sigma is not None else None,
        epsilon_spent=float(spent) if spent is not None else None,
        seconds=time.perf_counter() - t0,
        engine_seconds=float(er.overhead.get("seconds", 0.0)),
        privacy=jsonable(privacy),
        overhead={k: float(v) for k, v in er.overhead.items()},
        curve=tuple(float(v) for v in curve),
        warnings=tuple(dict.fromkeys(er.warnings + result.history.warnings())),
        worker=os.getpid(),
        audit=_audit_figures(er.extra.get("audit")),
    )


def _audit_figures(audit: Any) -> dict[str, Any] | None:
    """The point's membership audit in brief: per attack, and the best attack's lower bound."""
    if not isinstance(audit, dict) or not isinstance(audit.get("attacks"), dict):
        return None
    attacks = audit_summary(audit)
    lower = [a["epsilon_lower_bound"] for a in attacks.values()
             if isinstance(a.get("epsilon_lower_bound"), (int, float))]
    ceiling = [a["epsilon_ceiling"] for a in attacks.values()
               if isinstance(a.get("epsilon_ceiling"), (int, float))]
    return jsonable({
        "epsilon_lower_bound": max(lower) if lower else None,
        "epsilon_ceiling": max(ceiling) if ceiling else None,
        "attacks": attacks,
    })


def run_point_safely(task: Task, cancel: CancelToken | None = None) -> SweepPoint | Failure | None:
    try:
        return run_point(task, cancel)
    except Exception as exc:
        return Failure(
            type_name=type(exc).__name__,
            message=str(exc),
            is_value_error=isinstance(exc, ValueError),
            trace=traceback.format_exc(),
        )


def lane_main(inbox: Any, blas_threads: int | None) -> None:
    """A worker's life: run each task from ``inbox`` and emit its outcome, until end of file.

    The worker keeps its prepared data and the accounting caches between points; that is what
    makes a lane cheaper than a fresh process per point.
    """
    _init_worker(blas_threads)
    cancel = cancel_token()
    while True:
        try:
            task = inbox.recv()
        except EOFError:  # the sweep is done with this lane (or the parent is gone)
            return
        emit(run_point_safely(task, cancel))
