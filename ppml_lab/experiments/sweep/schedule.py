"""Running the sweep: the points in this process or on worker lanes, streamed as they finish."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Generator, Iterable, Sequence

from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.registry import ENGINE_MODULES
from ppml_lab.engines.runtime import Child, ProcessGroup
from ppml_lab.experiments.config import Experiment
from ppml_lab.experiments.sweep import worker
from ppml_lab.experiments.sweep.grid import (
    DEFAULT_EPSILONS,
    check_epsilons,
    check_sweepable,
    training_seeds,
    with_epsilon,
)
from ppml_lab.experiments.sweep.results import (
    NON_PRIVATE,
    TUNING_IS_A_RELEASE,
    SweepPoint,
    SweepResult,
    summarize,
)
from ppml_lab.experiments.sweep.worker import Failure, Task

__all__ = ["POLL_SECONDS", "run_sweep"]

POLL_SECONDS = 0.1
"""How often the sweep looks at the cancel token while it waits for a point."""


# Imported once by the fork server, so that every worker forked from it starts with numpy,
# pandas, scipy and dp-accounting loaded (about 2.5 s of imports per worker otherwise). The
# engines come from the registry's discovery list: a new pattern needs no line here.
PRELOAD: tuple[str, ...] = (*ENGINE_MODULES, worker.__name__)

SHUTDOWN_GRACE = 2.0
"""After a complete sweep, how long idle lanes get to exit on their own before SIGTERM."""


def _raise_failure(failure: Failure) -> None:
    if failure.is_value_error:
        # Bad data or parameters: the message is written for the user.
        raise ValueError(failure.message)
    raise RuntimeError(
        f"a sweep point failed with {failure.type_name}: {failure.message}\n"
        f"--- worker traceback ---\n{failure.trace}"
    )



def _lpt_order(tasks: list[Task]) -> list[Task]:
    # Accounting and calibration cost grows with epsilon (less noise, wider privacy-loss
    # distributions); the baseline is cheapest. Longest first keeps the tail short.
    return sorted(tasks, key=lambda t: (-(t.epsilon if math.isfinite(t.epsilon) else -1.0),
                                        t.repetition))


class _Lanes:
    """Assigns tasks to single-worker pools, keeping each epsilon on the worker that has it."""

    def __init__(self, tasks: list[Task]) -> None:
        self.queue = _lpt_order(tasks)
        self.owner: dict[float, int] = {}  # epsilon -> lane that ran (accounted) it first

    def next_for(self, lane: int, busy: set[int]) -> Task | None:
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


def run_sweep(
    experiment: Experiment,
    *,
    epsilons: Iterable[float] = DEFAULT_EPSILONS,
    seeds: int | Sequence[int] = 3,
    include_non_private: bool = True,
    workers: int | None = None,
    cancel: CancelToken | None = None,
    audit: bool = False,
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
    audit : bool
        Attack every point's model with the membership audit (``SweepPoint.audit``: the
        empirical epsilon), for patterns whose parameters have an ``audit`` field (the
        non-private point too). Off by default: it trains shadow models at every point.

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
    ChildFailed
        When a worker process dies (killed, out of memory); the rest of the sweep is stopped.
    """
    check_sweepable(experiment)
    grid = check_epsilons(epsilons)
    train_seeds = training_seeds(experiment, seeds)
    if workers is not None and (isinstance(workers, bool) or int(workers) < 0):
        raise ValueError(f"workers must be 0 (in-process) or more (got {workers})")
    # Build each point's parameters now, so a value the engine rejects fails before any work.
    for eps in grid:
        with_epsilon(experiment, eps)
    levels = list(grid) + ([NON_PRIVATE] if include_non_private else [])
    tasks = [
        Task(experiment=experiment, epsilon=eps, seed=s, repetition=k, audit=bool(audit))
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
        audit=bool(audit),
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
    tasks: list[Task], cancel: CancelToken, finished: list[SweepPoint]
) -> Generator[SweepPoint, None, str]:
    for task in _lpt_order(tasks):
        if cancel.cancelled:
            return "cancelled"
        point = worker.run_point(task, cancel)
        if point is None:
            return "cancelled"
        finished.append(point)
        yield point
    return "completed"



def _parallel(
    tasks: list[Task], workers: int, cancel: CancelToken, finished: list[SweepPoint]
) -> Generator[SweepPoint, None, str]:
    blas = max(1, (os.cpu_count() or 1) // workers)
    lanes = _Lanes(tasks)
    running: dict[int, Task] = {}  # lane -> the task it is working on
    status = "completed"
    # Leaving this block for any reason (done, cancelled, a failed point, a dead worker, the
    # consumer closing this generator, Ctrl+C, SIGTERM) stops and reaps every worker.
    with ProcessGroup(name="sweep", preload=PRELOAD) as group:
        inboxes = []
        lane_of: dict[Child, int] = {}
        for lane in range(workers):
            reader, writer = group.context.Pipe(duplex=False)
            child = group.start(
                worker.lane_main, args=(reader, blas), name=f"sweep worker {lane + 1}"
            )
            reader.close()  # the worker has its own copy
            inboxes.append(writer)
            lane_of[child] = lane

        def feed(lane: int) -> None:
            task = lanes.next_for(lane, set(running))
            if task is None:
                return
            running[lane] = task
            try:
                inboxes[lane].send(task)
            except OSError:
                pass  # the worker is dead: the group reports how it ended at the next poll

        for lane in range(workers):
            feed(lane)
        while running:
            if cancel.cancelled:
                status = "cancelled"
                break
            for item in group.poll(POLL_SECONDS):
                lane = lane_of[item.child]
                running.pop(lane, None)
                outcome = item.event
                if isinstance(outcome, Failure):
                    status = "failed"
                    _raise_failure(outcome)
                # Keep the lane busy before handing the point to the consumer, who may be slow.
                feed(lane)
                for other in range(workers):  # lanes left idle by rule 3 may have work now
                    if other not in running:
                        feed(other)
                if outcome is None:  # stopped by the cancel token
                    status = "cancelled"
                    continue
                finished.append(outcome)
                yield outcome
            if status == "cancelled":
                break
        if status == "completed":
            # Idle workers exit at the end of their inbox, in milliseconds; closing the group
            # then has nothing left to terminate.
            for inbox in inboxes:
                inbox.close()
            group.close(grace=SHUTDOWN_GRACE)
    return status
