"""The window's long jobs, run in a child process so that the window's interpreter stays free.

:func:`job` runs a run, a comparison or a sweep's set-up through the process runtime's
:func:`~ppml_lab.engines.runtime.relay.relay`: the work happens in a child process, and the
window's worker thread only passes the events on (the same events, result and errors as in the
thread). In a thread the engine and the GUI competed for the interpreter lock: measured on Adult,
the window stalled 150-500 ms at a time during a DP-SGD or a federated run; with the work in a
child the GUI thread has the interpreter to itself (figures in the README, Performance).

A pattern a fresh process cannot find (one registered at run time, e.g. a test's) runs in the
calling thread instead, as does everything when :data:`IN_CHILD` is False (tests that patch code
in this process set it).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any

from ppml_lab.data.source import LoadedTable
from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.events import Event
from ppml_lab.engines.registry import DISCOVERY, ENGINE_MODULES
from ppml_lab.engines.runtime import lower_fork_server_priority, mp_context
from ppml_lab.engines.runtime.relay import relay
from ppml_lab.experiments.config import Experiment
from ppml_lab.experiments.evaluation import majority_class_rate
from ppml_lab.experiments.runner import RunResult, prepare_data, run_experiment

__all__ = ["IN_CHILD", "LIBRARIES", "PRELOAD", "DocumentedRun", "child_can_run", "job",
           "majority_rate", "run_with_document", "warm_up"]

#: Whether jobs run in a child process (when their patterns allow it).
IN_CHILD = True

#: Libraries the engines and the results document import on first use (so that the window and
#: the command line start quickly). A job's child would import them afresh for every run: 1-3 s
#: per run on this machine; the fork server imports them once instead. A name that does not
#: import is skipped.
LIBRARIES: tuple[str, ...] = (
    "pandas", "scipy.special", "scipy.stats", "scipy.signal", "sklearn.metrics",
    "dp_accounting.pld.pld_privacy_accountant", "dp_accounting.rdp.rdp_privacy_accountant",
    "cryptography.hazmat.primitives.asymmetric.x25519",
    "cryptography.hazmat.primitives.ciphers.aead",
)

#: What the fork server imports once, so that a job's child starts in milliseconds.
PRELOAD: tuple[str, ...] = (
    *ENGINE_MODULES, __name__, "ppml_lab.experiments.sweep.worker", *LIBRARIES,
)


def warm_up() -> None:
    """Start the fork server now (a fork and an exec here; it imports :data:`PRELOAD` in its
    own process), so that the first job does not wait seconds for those imports.
    """
    if not IN_CHILD or mp_context(PRELOAD).get_start_method() != "forkserver":
        return  # jobs run here, or children are spawned afresh: nothing to start ahead
    from multiprocessing import forkserver

    with contextlib.suppress(OSError):  # the first job tries again, and reports
        forkserver.ensure_running()
    lower_fork_server_priority()  # its imports, too, leave the window a core


@dataclass(frozen=True)
class DocumentedRun:
    """A run's result and its results document (None if making the document failed: the
    caller then makes it, and sees the error, itself).
    """

    result: RunResult
    document: dict[str, Any] | None


def run_with_document(
    experiment: Experiment, *, cancel: CancelToken, table: LoadedTable | None = None
) -> Generator[Event, None, DocumentedRun]:
    """:func:`~ppml_lab.experiments.runner.run_experiment`, then the results document.

    The document's evaluation (scikit-learn's metrics, and importing scikit-learn the first
    time: 0.1-0.5 s) is made here too, not by the window when the run ends.
    """
    result = yield from run_experiment(experiment, cancel=cancel, table=table)
    try:
        document = result.to_document()
    except Exception:  # noqa: BLE001 - the caller makes it again and reports the error
        document = None
    return DocumentedRun(result, document)


def majority_rate(
    experiment: Experiment, *, cancel: CancelToken, table: LoadedTable | None = None
) -> float | None:
    """The share of the commonest class in the experiment's test split (always guessing it)."""
    data = prepare_data(experiment, table)
    return majority_class_rate(data.y_test, data.n_classes)[1]


def child_can_run(patterns: Iterable[str]) -> bool:
    """Whether a fresh process finds the engines of ``patterns`` (and :data:`IN_CHILD` is on)."""
    return IN_CHILD and all(DISCOVERY.get(p) in ENGINE_MODULES for p in patterns)


def job(
    func: Callable[..., Any],
    /,
    *args: Any,
    cancel: CancelToken,
    uses: Iterable[str],
    job_name: str = "job",
    **kwargs: Any,
) -> Generator[Any, None, Any]:
    """``func(*args, cancel=cancel, **kwargs)`` in a child process when the patterns it
    ``uses`` allow it (:func:`child_can_run`), else here; yields its events, returns its value.

    ``func`` is a module-level function of a Qt-free module (the child imports it), a generator
    function or a plain one; ``job_name`` names the child in errors.
    """
    if child_can_run(uses):
        return (
            yield from relay(func, *args, cancel=cancel, name=job_name, preload=PRELOAD, **kwargs)
        )
    result = func(*args, cancel=cancel, **kwargs)
    if inspect.isgenerator(result):
        result = yield from result
    return result
