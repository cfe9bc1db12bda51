"""Privacy-utility sweeps: one experiment's mechanism over a grid of epsilons x training seeds.

A sweep answers "what does each level of privacy cost in accuracy?". For every epsilon in the
grid (default 0.1, 0.3, 1, 3, 10) and every repetition it runs the experiment's pattern with
``epsilon`` replaced, plus a *non-private point*: the plaintext baseline with the same model on
the same split. Points run in worker processes and are streamed as they finish::

    gen = run_sweep(experiment, epsilons=(0.3, 1, 3), seeds=3)
    result = drive(gen, sink=print)          # or: for point in gen: ...
    result.summary(1.0).test_accuracy_mean

Seeds
-----
The *data split* is fixed: every point uses the train/test split (and the preprocessing fitted on
it) of ``experiment.seed``. Only the *training seed* changes between repetitions; repetition
``k`` trains with seed ``experiment.seed + k`` (initialisation, Poisson sampling and DP noise).
So the spread reported per epsilon is training noise only, not split-to-split variation, and
repetition 0 at an epsilon reproduces ``ppml-lab run`` of the experiment with that epsilon.

Processes
---------
Points run in ``spawn``-context (or ``forkserver`` on Linux) worker processes, never ``fork``:
the GUI process has Qt threads, and forking a threaded process can deadlock the child.

Each worker is its own single-process :class:`~concurrent.futures.ProcessPoolExecutor` (a
"lane"), and the sweep schedules points onto lanes itself, for two reasons of cost:

* A worker prepares the dataset once and keeps it (:func:`_prepared`), so 6 x 3 points on
  Adult read and encode the CSV once per worker, not 18 times.
* Calibrating the noise and accounting the budget depend on epsilon but not on the training
  seed, and ``ppml_lab.privacy.accounting`` memoises them per process. On Adult the accounting
  of the first run at epsilon 10 takes about 20 s and every later seed at that epsilon almost
  nothing - but only in the *same* process. A shared pool hands tasks to whichever worker is
  free, so the seeds of one epsilon would each pay the full cost in different workers. Lanes
  let the scheduler send the seeds of an epsilon to the worker that already accounted it, and
  start the most expensive (largest) epsilons first.

Cancellation
------------
The :class:`~ppml_lab.engines.base.CancelToken` is checked between points (and every
:data:`POLL_SECONDS` while waiting). On cancel, queued points are dropped, running points are
told to stop at their next epoch through a cross-process event, and the lanes are shut down
without waiting; the points already finished are kept in the returned :class:`SweepResult`.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import statistics
import time
import traceback
from collections.abc import Generator, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import Any

from ppml_lab import __version__
from ppml_lab.data import PreparedData
from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.registry import get_engine
from ppml_lab.experiments.config import Experiment
from ppml_lab.experiments.runner import prepare_data, reference_model, run_experiment

__all__ = [
    "DEFAULT_EPSILONS",
    "NON_PRIVATE",
    "EpsilonSummary",
    "SweepPoint",
    "SweepResult",
    "check_sweepable",
    "parse_epsilons",
    "run_sweep",
    "summarize",
    "with_epsilon",
    "TUNING_IS_A_RELEASE",
]

DEFAULT_EPSILONS: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0)
"""The default grid: from strong (0.1) to weak (10) privacy, evenly spaced in log epsilon."""

NON_PRIVATE: float = math.inf
"""The epsilon of the non-private point (the plaintext baseline): no privacy at all."""

TUNING_IS_A_RELEASE = (
    "Choosing epsilon (or any setting) from this sweep is itself a use of the private data: "
    "every point trained on the same rows, and the accuracies compared here are not covered by "
    "any single run's epsilon (nor is the non-private point's). Tune on public or proxy data "
    "(an older or synthetic extract, a public dataset of the same kind), then train once on the "
    "private data with the chosen settings."
)
"""The caveat every sweep and plan carries (``sweep.warnings``, ``plan.notes``)."""

POLL_SECONDS = 0.1
"""How often the sweep looks at the cancel token while it waits for a point."""


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, kw_only=True)
class SweepPoint:
    """One finished run of the sweep.

    Attributes
    ----------
    epsilon : float
        The target epsilon of the run; :data:`NON_PRIVATE` (``inf``) for the plaintext baseline.
    seed : int
        The training seed (the data split always uses ``experiment.seed``).
    repetition : int
        Index of the seed in the sweep, 0 ... seeds - 1.
    test_accuracy, train_accuracy : float
        Final accuracies of the run.
    noise_multiplier : float or None
        The noise multiplier the engine used (calibrated for ``epsilon``); None when the
        mechanism has none (the baseline, objective perturbation, local DP).
    epsilon_spent : float or None
        The epsilon the engine's accountant reports for the whole run (<= ``epsilon``).
    seconds : float
        Wall time of the point in its worker, including noise calibration and accounting.
    engine_seconds : float
        Time the engine itself reports (``overhead["seconds"]``).
    privacy : dict
        The engine's privacy figures (delta, sample rate, steps, accountant, ...), plain data.
    overhead : dict
        The engine's cost figures (``seconds``, and for DP-SGD ``train_seconds``,
        ``accounting_seconds``, ``calibration_seconds``).
    curve : tuple of float
        Test accuracy after each epoch / round, for "was it still improving?" checks.
    warnings : tuple of str
        Plain-language caveats the engine attached to the run.
    worker : int
        Process id of the worker that ran the point.
    """

    epsilon: float
    seed: int
    repetition: int
    test_accuracy: float
    train_accuracy: float
    noise_multiplier: float | None = None
    epsilon_spent: float | None = None
    seconds: float = 0.0
    engine_seconds: float = 0.0
    privacy: dict[str, Any] = field(default_factory=dict)
    overhead: dict[str, float] = field(default_factory=dict)
    curve: tuple[float, ...] = ()
    warnings: tuple[str, ...] = ()
    worker: int = 0

    @property
    def private(self) -> bool:
        """False for the non-private (plaintext baseline) point."""
        return math.isfinite(self.epsilon)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; the non-private point has ``epsilon = None``."""
        return {
            "epsilon": self.epsilon if self.private else None,
            "private": self.private,
            "seed": self.seed,
            "repetition": self.repetition,
            "test_accuracy": self.test_accuracy,
            "train_accuracy": self.train_accuracy,
            "noise_multiplier": self.noise_multiplier,
            "epsilon_spent": self.epsilon_spent,
            "seconds": self.seconds,
            "engine_seconds": self.engine_seconds,
            "privacy": _jsonable(self.privacy),
            "overhead": _jsonable(self.overhead),
            "curve": list(self.curve),
        }


@dataclass(frozen=True, kw_only=True)
class EpsilonSummary:
    """Accuracy over the seeds at one epsilon.

    ``*_sd`` is the sample standard deviation (n - 1 in the denominator); it is NaN for a single
    seed, where a spread cannot be estimated.
    """

    epsilon: float
    n: int
    test_accuracy_mean: float
    test_accuracy_sd: float
    test_accuracy_min: float
    test_accuracy_max: float
    train_accuracy_mean: float
    train_accuracy_sd: float
    noise_multiplier: float | None
    seconds_mean: float

    @property
    def private(self) -> bool:
        return math.isfinite(self.epsilon)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(
            {
                "epsilon": self.epsilon if self.private else None,
                "private": self.private,
                "n": self.n,
                "test_accuracy_mean": self.test_accuracy_mean,
                "test_accuracy_sd": self.test_accuracy_sd,
                "test_accuracy_min": self.test_accuracy_min,
                "test_accuracy_max": self.test_accuracy_max,
                "train_accuracy_mean": self.train_accuracy_mean,
                "train_accuracy_sd": self.train_accuracy_sd,
                "noise_multiplier": self.noise_multiplier,
                "seconds_mean": self.seconds_mean,
            }
        )


def _sd(values: Sequence[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else math.nan


def summarize(points: Iterable[SweepPoint]) -> list[EpsilonSummary]:
    """Mean, sd, min and max per epsilon: private epsilons ascending, the non-private point last."""
    groups: dict[float, list[SweepPoint]] = {}
    for p in points:
        groups.setdefault(p.epsilon, []).append(p)
    out = []
    for eps in sorted(groups):  # inf sorts last
        pts = groups[eps]
        test = [p.test_accuracy for p in pts]
        train = [p.train_accuracy for p in pts]
        sigmas = [p.noise_multiplier for p in pts if p.noise_multiplier is not None]
        out.append(
            EpsilonSummary(
                epsilon=eps,
                n=len(pts),
                test_accuracy_mean=statistics.fmean(test),
                test_accuracy_sd=_sd(test),
                test_accuracy_min=min(test),
                test_accuracy_max=max(test),
                train_accuracy_mean=statistics.fmean(train),
                train_accuracy_sd=_sd(train),
                # Calibration does not depend on the training seed, so the seeds agree.
                noise_multiplier=statistics.fmean(sigmas) if sigmas else None,
                seconds_mean=statistics.fmean(p.seconds for p in pts),
            )
        )
    return out


@dataclass(kw_only=True)
class SweepResult:
    """What :func:`run_sweep` returns: every finished point and the per-epsilon summaries.

    Attributes
    ----------
    experiment : Experiment
        The swept experiment as given (its own epsilon is not used).
    epsilons : tuple of float
        The private grid, ascending.
    seeds : tuple of int
        The training seeds; the data split uses ``experiment.seed``.
    include_non_private : bool
        Whether the plaintext-baseline point was part of the sweep.
    points : list of SweepPoint
        Finished points, sorted by epsilon then repetition (the non-private point last).
    summaries : list of EpsilonSummary
        One per epsilon that has at least one finished point.
    status : {"completed", "cancelled"}
        "cancelled" keeps the points that finished before the cancel.
    workers : int
        Worker processes used (0 = ran in the calling process).
    wall_seconds : float
        Wall time of the whole sweep, process start-up included.
    warnings : list of str
        Distinct caveats the engines attached to the runs.
    """

    experiment: Experiment
    epsilons: tuple[float, ...]
    seeds: tuple[int, ...]
    include_non_private: bool = True
    points: list[SweepPoint] = field(default_factory=list)
    summaries: list[EpsilonSummary] = field(default_factory=list)
    status: str = "completed"
    workers: int = 0
    wall_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def summary(self, epsilon: float) -> EpsilonSummary:
        """The summary at ``epsilon`` (:data:`NON_PRIVATE` for the baseline point).

        Raises
        ------
        KeyError
            If no point at that epsilon finished.
        """
        for s in self.summaries:
            if s.epsilon == epsilon or (
                math.isfinite(epsilon) and math.isclose(s.epsilon, epsilon, rel_tol=1e-12)
            ):
                return s
        raise KeyError(f"no finished point at epsilon {epsilon!r}")

    @property
    def non_private(self) -> EpsilonSummary | None:
        """The plaintext-baseline summary, or None if it was not run (or not finished)."""
        return next((s for s in self.summaries if not s.private), None)

    @property
    def private_summaries(self) -> list[EpsilonSummary]:
        return [s for s in self.summaries if s.private]

    def to_document(self) -> dict[str, Any]:
        """The JSON document written by ``ppml-lab sweep --json`` (without the plan)."""
        return _jsonable(
            {
                "ppml_lab_version": __version__,
                "kind": "privacy_utility_sweep",
                "status": self.status,
                "experiment": self.experiment.to_dict(),
                "design": {
                    "pattern": self.experiment.pattern,
                    "epsilons": list(self.epsilons),
                    "training_seeds": list(self.seeds),
                    "data_seed": self.experiment.seed,
                    "non_private": (
                        "plaintext baseline, same model and split" if self.include_non_private
                        else None
                    ),
                    "note": "The train/test split is fixed (data_seed); only the training seed "
                    "varies, so the spread per epsilon is training noise only.",
                },
                "points": [p.to_dict() for p in self.points],
                "summary": [s.to_dict() for s in self.summaries],
                "warnings": list(self.warnings),
                "workers": self.workers,
                "wall_seconds": self.wall_seconds,
            }
        )


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# --------------------------------------------------------------------------------------------
# Validation


def parse_epsilons(text: str) -> tuple[float, ...]:
    """Parse a comma-separated epsilon list such as ``"0.1,0.3,1"`` (sorted, duplicates dropped).

    Raises
    ------
    ValueError
        For an empty list, a non-number, or an epsilon that is not a finite number > 0.
    """
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise ValueError("the epsilon list is empty; give comma-separated values such as 0.1,0.3,1")
    values = []
    for item in items:
        try:
            values.append(float(item))
        except ValueError:
            raise ValueError(
                f"epsilon {item!r} is not a number; give comma-separated values such as 0.1,0.3,1"
            ) from None
    return check_epsilons(values)


def check_epsilons(values: Iterable[float]) -> tuple[float, ...]:
    """Validate a private epsilon grid; return it sorted without duplicates."""
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
            raise ValueError(f"epsilon {v!r} is not a number")
        if not v > 0:
            raise ValueError(
                f"every epsilon must be greater than 0 (got {v:g}); the non-private point is "
                "added automatically"
            )
        if math.isinf(v):
            raise ValueError(
                "epsilon must be finite; the non-private point (the plaintext baseline) is "
                "added automatically"
            )
        out.append(float(v))
    if not out:
        raise ValueError("the epsilon grid is empty")
    return tuple(sorted(set(out)))


def _has_epsilon(params: Any) -> bool:
    return is_dataclass(params) and any(f.name == "epsilon" for f in fields(params))


def check_sweepable(experiment: Experiment) -> None:
    """Raise ValueError unless the experiment's pattern has an ``epsilon`` parameter."""
    if not _has_epsilon(experiment.params):
        raise ValueError(
            f"pattern {experiment.pattern!r} has no epsilon parameter, so there is nothing to "
            "sweep; use a private pattern such as 'dp' (or 'federated' with client-level DP)"
        )


def with_epsilon(experiment: Experiment, epsilon: float) -> Experiment:
    """The experiment with its pattern's ``epsilon`` set (via :func:`dataclasses.replace`).

    A ``noise_multiplier`` that would override the target epsilon is cleared, so the engine
    calibrates the noise for ``epsilon`` itself; a membership audit is switched off. Works for any pattern whose parameters are a
    dataclass with an ``epsilon`` field.
    """
    check_sweepable(experiment)
    changes: dict[str, Any] = {"epsilon": float(epsilon)}
    names = {f.name for f in fields(experiment.params)}
    if "noise_multiplier" in names and experiment.params.noise_multiplier is not None:
        changes["noise_multiplier"] = None
    if "audit" in names:  # a membership audit per point would multiply the sweep's cost
        changes["audit"] = False
    return replace(experiment, params=replace(experiment.params, **changes))


# --------------------------------------------------------------------------------------------
# Work done in the worker processes (module level so that spawn can pickle it)


@dataclass(frozen=True)
class _Task:
    experiment: Experiment  # the original experiment (its seed is the data seed)
    epsilon: float
    seed: int
    repetition: int


@dataclass(frozen=True)
class _Failure:
    """An exception in a worker, as plain data (custom exception classes may not unpickle)."""

    type_name: str
    message: str
    is_value_error: bool
    trace: str


class _EventToken(CancelToken):
    """A CancelToken backed by a multiprocessing event, so the parent can stop running points."""

    def __init__(self, event: Any) -> None:
        self._event = event


_DATA_CACHE: dict[str, PreparedData] = {}
_CANCEL_EVENT: Any = None
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


def _init_worker(cancel_event: Any, blas_threads: int | None) -> None:
    """Runs once in every worker: share the cancel event, size BLAS, import the engines."""
    global _CANCEL_EVENT, _BLAS_LIMITS
    _CANCEL_EVENT = cancel_event
    if blas_threads:
        # Two workers on two cores must not each start two BLAS threads (oversubscription).
        try:
            from threadpoolctl import threadpool_limits

            _BLAS_LIMITS = threadpool_limits(limits=blas_threads)
        except Exception:  # threadpoolctl is optional; without it we only lose some speed
            _BLAS_LIMITS = None
    # Registering the engines imports dp-accounting, scipy and friends: do it before the first
    # task so that start-up overlaps with the parent still submitting.
    get_engine("baseline")


def _run_point(task: _Task, cancel: CancelToken | None = None) -> SweepPoint | None:
    """Run one point; None if it was cancelled before it finished."""
    from ppml_lab.experiments.runner import drive

    if cancel is None:
        cancel = _EventToken(_CANCEL_EVENT) if _CANCEL_EVENT is not None else CancelToken()
    if cancel.cancelled:
        return None
    t0 = time.perf_counter()
    data = _prepared(task.experiment)
    if math.isfinite(task.epsilon):
        exp = with_epsilon(task.experiment, task.epsilon)
    else:
        # The same reference as a single run's: e.g. rounds x local epochs for federated runs.
        exp = replace(
            task.experiment.with_pattern("baseline"), model=reference_model(task.experiment)
        )
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
        privacy=_jsonable(privacy),
        overhead={k: float(v) for k, v in er.overhead.items()},
        curve=tuple(float(v) for v in curve),
        warnings=tuple(dict.fromkeys(er.warnings + result.history.warnings())),
        worker=os.getpid(),
    )


def _run_point_safely(task: _Task) -> SweepPoint | _Failure | None:
    try:
        return _run_point(task)
    except Exception as exc:
        return _Failure(
            type_name=type(exc).__name__,
            message=str(exc),
            is_value_error=isinstance(exc, ValueError),
            trace=traceback.format_exc(),
        )


def _raise_failure(failure: _Failure) -> None:
    if failure.is_value_error:
        # Bad data or parameters: the message is written for the user.
        raise ValueError(failure.message)
    raise RuntimeError(
        f"a sweep point failed with {failure.type_name}: {failure.message}\n"
        f"--- worker traceback ---\n{failure.trace}"
    )


# --------------------------------------------------------------------------------------------
# Scheduling


# Imported once by the fork server, so that every worker forked from it starts with numpy,
# pandas, scipy and dp-accounting loaded (about 2.5 s of imports per worker otherwise).
_PRELOAD = (
    "__main__",  # multiprocessing's own default, kept for other users of the fork server
    "ppml_lab.experiments.sweep",
    "ppml_lab.engines.baseline",
    "ppml_lab.engines.dp",
    "ppml_lab.engines.federated",
)


def _mp_context() -> multiprocessing.context.BaseContext:
    """A start method that never forks this process.

    The parent may be the GUI, with Qt threads, and forking a threaded process can deadlock the
    child. ``forkserver`` (Linux) forks workers from a separate server process started fresh,
    with :data:`_PRELOAD` imported, so workers start in milliseconds; the server lives as long
    as this process, so a second sweep does not pay the imports again. Elsewhere ``spawn``
    starts fresh interpreters that import everything themselves.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # Ignored if the server is already running (then it has what it has; workers import
        # the rest themselves). Modules that fail to import are skipped by the server.
        ctx.set_forkserver_preload(list(_PRELOAD))
        return ctx
    return multiprocessing.get_context("spawn")


def _lpt_order(tasks: list[_Task]) -> list[_Task]:
    # Accounting and calibration cost grows with epsilon (less noise, wider privacy-loss
    # distributions); the baseline is cheapest. Longest first keeps the tail short.
    return sorted(tasks, key=lambda t: (-(t.epsilon if math.isfinite(t.epsilon) else -1.0),
                                        t.repetition))


class _Lanes:
    """Assigns tasks to single-worker pools, keeping each epsilon on the worker that has it."""

    def __init__(self, tasks: list[_Task]) -> None:
        self.queue = _lpt_order(tasks)
        self.owner: dict[float, int] = {}  # epsilon -> lane that ran (accounted) it first

    def next_for(self, lane: int, busy: set[int]) -> _Task | None:
        if not self.queue:
            return None
        # 1. An epsilon this lane already accounted: its calibration and budget are cached.
        for i, t in enumerate(self.queue):
            if self.owner.get(t.epsilon) == lane:
                return self.queue.pop(i)
        # 2. The most expensive epsilon nobody has started.
        for i, t in enumerate(self.queue):
            if t.epsilon not in self.owner:
                self.owner[t.epsilon] = lane
                return self.queue.pop(i)
        # 3. Help a busy lane with a backlog (paying the accounting again), rather than idle.
        #    With a single task left, its owner will get to it about as soon as we would.
        for i, t in enumerate(self.queue):
            owner = self.owner[t.epsilon]
            backlog = sum(1 for u in self.queue if self.owner.get(u.epsilon) == owner)
            if owner not in busy or backlog >= 2:
                return self.queue.pop(i)
        return None


def _training_seeds(experiment: Experiment, seeds: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(seeds, bool):
        raise ValueError("seeds must be a whole number of repetitions (>= 1) or a list of seeds")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds must be at least 1 (got {seeds})")
        return tuple(experiment.seed + k for k in range(seeds))
    out = tuple(int(s) for s in seeds)
    if not out:
        raise ValueError("the list of seeds is empty")
    if len(set(out)) != len(out):
        raise ValueError("the list of seeds has duplicates")
    return out


def run_sweep(
    experiment: Experiment,
    *,
    epsilons: Iterable[float] = DEFAULT_EPSILONS,
    seeds: int | Sequence[int] = 3,
    include_non_private: bool = True,
    workers: int | None = None,
    cancel: CancelToken | None = None,
) -> Generator[SweepPoint, None, SweepResult]:
    """Sweep ``experiment`` over ``epsilons`` x ``seeds``; yield each point as it finishes.

    Parameters
    ----------
    experiment : Experiment
        Any experiment whose pattern parameters have an ``epsilon`` field (``dp``, federated
        with client-level DP, ...). Its own epsilon is replaced; its seed fixes the data split.
    epsilons : iterable of float
        The private grid, each a finite number > 0.
    seeds : int or sequence of int
        Number of repetitions (training seeds ``experiment.seed + k``) or explicit seeds.
    include_non_private : bool
        Also run the plaintext baseline (epsilon = :data:`NON_PRIVATE`) with every seed.
    workers : int, optional
        Worker processes; default ``min(os.cpu_count(), points)``. 0 runs every point in the
        calling process (no pool), which is what a serial comparison or a debugger wants.
    cancel : CancelToken, optional
        Stops the sweep between points; finished points are kept.

    Yields
    ------
    SweepPoint
        In completion order, not grid order.

    Returns
    -------
    SweepResult
        All finished points (sorted) and the summaries per epsilon; ``status`` is
        ``"cancelled"`` if the token stopped the sweep.

    Raises
    ------
    ValueError
        Before any work starts, for a pattern without epsilon or a bad grid / seed list; later,
        when a point fails on bad data or parameters (the rest of the sweep is stopped).
    """
    check_sweepable(experiment)
    grid = check_epsilons(epsilons)
    train_seeds = _training_seeds(experiment, seeds)
    if workers is not None and (isinstance(workers, bool) or int(workers) < 0):
        raise ValueError(f"workers must be 0 (in-process) or more (got {workers})")
    # Build each point's parameters now, so a value the engine rejects fails before any work.
    for eps in grid:
        with_epsilon(experiment, eps)
    levels = list(grid) + ([NON_PRIVATE] if include_non_private else [])
    tasks = [
        _Task(experiment=experiment, epsilon=eps, seed=s, repetition=k)
        for eps in levels
        for k, s in enumerate(train_seeds)
    ]
    if workers is None:
        workers = min(os.cpu_count() or 1, len(tasks))
    workers = min(int(workers), len(tasks))
    cancel = cancel or CancelToken()
    result = SweepResult(
        experiment=experiment,
        epsilons=grid,
        seeds=train_seeds,
        include_non_private=include_non_private,
        workers=workers,
    )
    t0 = time.perf_counter()
    finished: list[SweepPoint] = []
    if workers == 0:
        status = yield from _serial(tasks, cancel, finished)
    else:
        status = yield from _parallel(tasks, workers, cancel, finished)
    result.status = status
    result.points = sorted(finished, key=lambda p: (p.epsilon, p.repetition))
    result.summaries = summarize(result.points)
    result.warnings = list(
        dict.fromkeys([TUNING_IS_A_RELEASE, *(w for p in result.points for w in p.warnings)])
    )
    result.wall_seconds = time.perf_counter() - t0
    return result


def _serial(
    tasks: list[_Task], cancel: CancelToken, finished: list[SweepPoint]
) -> Generator[SweepPoint, None, str]:
    for task in _lpt_order(tasks):
        if cancel.cancelled:
            return "cancelled"
        point = _run_point(task, cancel)
        if point is None:
            return "cancelled"
        finished.append(point)
        yield point
    return "completed"


def _parallel(
    tasks: list[_Task], workers: int, cancel: CancelToken, finished: list[SweepPoint]
) -> Generator[SweepPoint, None, str]:
    ctx = _mp_context()
    stop = ctx.Event()
    blas = max(1, (os.cpu_count() or 1) // workers)
    pools = [
        ProcessPoolExecutor(
            max_workers=1, mp_context=ctx, initializer=_init_worker, initargs=(stop, blas)
        )
        for _ in range(workers)
    ]
    lanes = _Lanes(tasks)
    running: dict[Future[Any], tuple[int, _Task]] = {}

    def feed(lane: int) -> None:
        busy = {ln for ln, _ in running.values()}
        task = lanes.next_for(lane, busy)
        if task is not None:
            running[pools[lane].submit(_run_point_safely, task)] = (lane, task)

    status = "completed"
    try:
        for lane in range(workers):
            feed(lane)
        while running:
            if cancel.cancelled:
                status = "cancelled"
                break
            done, _ = wait(list(running), timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for fut in done:
                lane, _task = running.pop(fut)
                outcome = fut.result()
                if isinstance(outcome, _Failure):
                    status = "failed"
                    _raise_failure(outcome)
                # Keep the lane busy before handing the point to the consumer, who may be slow.
                feed(lane)
                for other in range(workers):  # lanes left idle by rule 3 may have work now
                    if other not in {ln for ln, _ in running.values()}:
                        feed(other)
                if outcome is None:  # stopped by the cancel event
                    status = "cancelled"
                    continue
                finished.append(outcome)
                yield outcome
            if status == "cancelled":
                break
    finally:
        finished_all = status == "completed" and not running and not lanes.queue
        if not finished_all:
            stop.set()  # running points stop at their next epoch
        for pool in pools:
            # After a cancel (or a failure) do not wait: the points still running end at their
            # next epoch on their own. After a complete sweep the workers are idle, and joining
            # them (milliseconds) avoids a CPython 3.11 race at interpreter exit between the
            # pool's atexit wake-up and its manager thread closing the wake-up pipe ("OSError:
            # Bad file descriptor" printed at exit).
            pool.shutdown(wait=finished_all, cancel_futures=True)
    return status

