"""Run a generator function in a child process and pass its events on: :func:`relay`.

A window runs engines from a worker thread, and a thread shares the interpreter with the window:
while the engine computes (numpy with small arrays, pandas, big-integer key exchanges, TenSEAL
calls), the GUI thread waits for the interpreter lock, and while the GUI paints (PySide holds the
lock in Qt's C++ code) the engine waits. Measured on a DP-SGD and a federated run on Adult, that
made the window miss its frames by 150-500 ms. ``relay(func, ...)`` runs ``func`` in a child of
the process runtime instead, and the calling thread only waits on a pipe: the same events arrive
(typed dataclasses, in order), the same value is returned, and the same exception is raised.

Cancelling works as in a thread: when ``cancel`` is set, the child's token reads cancelled (the
parent closes a pipe the child's token watches), and the child returns what it has at its next
step (a cancelled run keeps its finished steps). Closing the generator, or an error here, closes
the child's process group: it is terminated, with the processes it started.
"""

from __future__ import annotations

import inspect
import pickle
import traceback
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any

from ppml_lab.engines.base import Cancelled, CancelToken
from ppml_lab.engines.runtime.child import cancel_token, emit
from ppml_lab.engines.runtime.children import ChildFailed
from ppml_lab.engines.runtime.group import ProcessGroup
from ppml_lab.engines.runtime.signals import termination_as_interrupt

__all__ = ["relay"]

_POLL = 0.05


@dataclass(frozen=True)
class _Outcome:
    """How the function ended, as plain data (an exception class may not unpickle)."""

    value: Any = None
    error: bytes | None = None  # the exception itself, pickled, when it survives a round trip
    type_name: str = ""
    message: str = ""
    is_value_error: bool = False
    trace: str = ""


class _PipeToken(CancelToken):
    """In the child: cancelled once the parent closes its end of ``conn``, or once the
    runtime's own token (set when the parent closes the whole group) is.
    """

    def __init__(self, conn: Any, outer: CancelToken) -> None:
        super().__init__()
        self._conn = conn
        self._outer = outer

    @property
    def cancelled(self) -> bool:
        if not self._event.is_set():
            try:
                closed = self._conn.poll()  # readable at end of file: the parent closed it
            except (OSError, EOFError, ValueError):
                closed = True
            if closed or self._outer.cancelled:
                self._event.set()
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise Cancelled("the run was cancelled")


def _run_in_child(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], cancel_conn: Any
) -> _Outcome:
    """Module level: the target of the child process."""
    # SIGTERM (the parent closing the group) unwinds the stack, so process groups the function
    # opened (MPyC parties, say) are closed, not orphaned.
    with termination_as_interrupt():
        try:
            result = func(*args, cancel=_PipeToken(cancel_conn, cancel_token()), **kwargs)
            if inspect.isgenerator(result):
                while True:
                    try:
                        emit(next(result))
                    except StopIteration as stop:
                        result = stop.value
                        break
            return _Outcome(value=result)
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent
            try:
                blob: bytes | None = pickle.dumps(exc)
                pickle.loads(blob)
            except Exception:  # noqa: BLE001 - an exception that cannot cross: its words do
                blob = None
            return _Outcome(
                error=blob, type_name=type(exc).__name__, message=str(exc),
                is_value_error=isinstance(exc, ValueError), trace=traceback.format_exc(),
            )


def _raise(outcome: _Outcome) -> None:
    if outcome.error is not None:
        raise pickle.loads(outcome.error)
    if outcome.is_value_error:
        raise ValueError(outcome.message)
    raise RuntimeError(
        f"{outcome.type_name}: {outcome.message}\n--- traceback in the child ---\n{outcome.trace}"
    )


def relay(
    func: Callable[..., Any],
    /,
    *args: Any,
    cancel: CancelToken,
    name: str = "job",
    preload: Iterable[str] = (),
    **kwargs: Any,
) -> Generator[Any, None, Any]:
    """Run ``func(*args, cancel=<token>, **kwargs)`` in a child process; yield its events here.

    Parameters
    ----------
    func : callable
        A module-level generator function (or plain function) that takes a ``cancel`` token;
        it, ``args`` and ``kwargs`` must be picklable, and what it yields and returns too.
    cancel : CancelToken
        Set it to stop the child (see the module's docstring).
    name : str
        Names the child in errors.
    preload : iterable of str
        Modules for the fork server to import once (see
        :func:`~ppml_lab.engines.runtime.mp_context`).

    Returns
    -------
    What ``func`` returned; raises what it raised (the same exception when it pickles, else a
    ValueError or RuntimeError with its message).
    """
    with ProcessGroup(name=name, preload=preload) as group:
        cancel_r, cancel_w = group.context.Pipe(duplex=False)
        try:
            child = group.start(_run_in_child, (func, args, kwargs, cancel_r), name=name)
        finally:
            cancel_r.close()  # the child has its own copy; ours would hide the end of file
        try:
            while True:
                if cancel.cancelled and not cancel_w.closed:
                    cancel_w.close()  # the child's token reads cancelled
                try:
                    received = group.poll(_POLL)
                except ChildFailed:
                    if cancel.cancelled:  # it died after the cancel: the run was cancelled
                        raise Cancelled(f"{name} was cancelled") from None
                    raise
                for item in received:
                    yield item.event
                if group.finished:
                    break
        finally:
            cancel_w.close()
        outcome = child.result
    if not isinstance(outcome, _Outcome):
        raise RuntimeError(f"{name}: the child process ended without a result")
    if outcome.type_name:
        _raise(outcome)
    return outcome.value
