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
Points run in worker processes of the process runtime (:mod:`ppml_lab.engines.runtime`): a
:class:`~ppml_lab.engines.runtime.ProcessGroup` started with ``forkserver`` on Linux (``spawn``
elsewhere), never ``fork``: the GUI process has Qt threads, and forking a threaded process can
deadlock the child. The fork server preloads the engine modules of the registry's discovery list
(:data:`ppml_lab.engines.registry.ENGINE_MODULES`), so a new pattern needs no change here.

Each worker is a long-lived "lane" that runs one point at a time, and the sweep schedules points
onto lanes itself, for two reasons of cost:

* A worker prepares the dataset once and keeps it, so 6 x 3 points on Adult read and encode the
  CSV once per worker, not 18 times.
* Calibrating the noise and accounting the budget depend on epsilon but not on the training
  seed, and ``ppml_lab.privacy.accounting`` memoises them per process. On Adult the accounting
  of the first run at epsilon 10 takes about 20 s and every later seed at that epsilon almost
  nothing - but only in the *same* process. A shared pool hands tasks to whichever worker is
  free, so the seeds of one epsilon would each pay the full cost in different workers. Lanes
  let the scheduler send the seeds of an epsilon to the worker that already accounted it, and
  start the most expensive (largest) epsilons first.

Cancellation and failures
-------------------------
The :class:`~ppml_lab.engines.base.CancelToken` is checked between points (and every
:data:`POLL_SECONDS` while waiting). On cancel, queued points are dropped and the workers are
terminated (a point still running is abandoned); the points already finished are kept in the
returned :class:`SweepResult`. Leaving the generator any other way - closing it, an exception,
Ctrl+C or SIGTERM in ``ppml-lab sweep`` - also terminates and reaps every worker. A worker that
dies (killed, out of memory) raises :class:`~ppml_lab.engines.runtime.ChildFailed`, which names
it and its exit signal or code.

Modules: :mod:`.grid` (the design and its validation), :mod:`.results` (points, summaries, the
document), :mod:`.worker` (one point; a worker's loop), :mod:`.schedule` (:func:`run_sweep`).
"""

from __future__ import annotations

from ppml_lab.experiments.sweep.grid import (
    DEFAULT_EPSILONS,
    check_epsilons,
    check_sweepable,
    parse_epsilons,
    with_audit,
    with_epsilon,
)
from ppml_lab.experiments.sweep.results import (
    NON_PRIVATE,
    TUNING_IS_A_RELEASE,
    EpsilonSummary,
    SweepPoint,
    SweepResult,
    summarize,
)
from ppml_lab.experiments.sweep.schedule import POLL_SECONDS, run_sweep

__all__ = [
    "DEFAULT_EPSILONS",
    "NON_PRIVATE",
    "POLL_SECONDS",
    "EpsilonSummary",
    "SweepPoint",
    "SweepResult",
    "check_epsilons",
    "check_sweepable",
    "parse_epsilons",
    "run_sweep",
    "summarize",
    "with_audit",
    "with_epsilon",
    "TUNING_IS_A_RELEASE",
]
