"""Run any generator (or long function) in a worker thread and turn what it does into Qt signals.

This is the one thread adapter of the GUI (ARCHITECTURE section 4). A :class:`GeneratorWorker`
is a QObject moved to a QThread; it calls a function and

* queues every value a generator yields (or every value the function reports through its
  progress callback, see ``progress_kwarg``) and emits :attr:`GeneratorWorker.available`,
* emits :attr:`GeneratorWorker.returned` with the generator's return value (or the function's
  result),
* emits :attr:`GeneratorWorker.errored` with the exception object when it raises,
* emits :attr:`GeneratorWorker.cancelled` when it stopped because it was asked to,
* and always emits :attr:`GeneratorWorker.finished` last.

The worker never touches a widget. :class:`WorkerThread` owns one worker and its QThread: it
connects everything *before* starting, re-emits the worker's results from GUI-thread signals of
its own (so slots of GUI objects run in the GUI thread), cancels, and stops the thread with a
timeout.

Why a queue instead of one queued signal per value: an engine can yield thousands of events a
second, and every time the GUI thread wakes up to handle one it has to win the GIL back from the
busy worker (up to ``sys.getswitchinterval()``, 5 ms, per wake-up). Measured on a 300-epoch run,
one signal per value made the run 5x slower and the window repainted only every 100-400 ms.
Here the worker sends at most one "values available" notification until the GUI thread has
drained the queue, and :class:`WorkerThread` drains at most every ``min_interval_ms`` and emits
the values as one list: a few dozen wake-ups per second whatever the engine does.

Example
-------
>>> job = WorkerThread(run_experiment, experiment, cancel=token, table=table,  # doctest: +SKIP
...                    cancel_token=token, parent=window)
>>> job.yielded.connect(window._on_job_yielded)  # a list of events     # doctest: +SKIP
>>> job.start()                                                                  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QElapsedTimer,
    QObject,
    Qt,
    QThread,
    QTimer,
    Signal,
    Slot,
)

from ppml_lab.data import LoadCancelled
from ppml_lab.engines.base import Cancelled, CancelToken

_LIVE_JOBS: weakref.WeakSet[WorkerThread] = weakref.WeakSet()


def live_jobs() -> list[WorkerThread]:
    """Started :class:`WorkerThread` objects whose thread still runs (for tests and shutdown)."""
    out = []
    for job in list(_LIVE_JOBS):
        try:
            if job.is_running:
                out.append(job)
        except RuntimeError:  # the C++ object is already gone
            continue
    return out


def live_threads() -> list[QThread]:
    """QThreads started by :class:`WorkerThread` that are still running."""
    return [job._thread for job in live_jobs() if job._thread is not None]


class GeneratorWorker(QObject):
    """Calls ``func(*args, **kwargs)`` in whatever thread it lives in and reports through signals.

    Parameters
    ----------
    func : callable
        A generator function (its yields are queued, see :meth:`take`) or a plain function.
    *args, **kwargs
        Passed to ``func``.
    cancel_token : CancelToken, optional
        Set by :meth:`cancel`; pass the same token to ``func`` so it stops within one step.
    progress_kwarg : str, optional
        For callback-style functions such as ``load_source(path, progress=...)``: the worker
        passes its :meth:`report` method under this keyword, so every progress value is queued
        like a yielded one and returning False from the callback cancels the function.
    """

    available = Signal()
    returned = Signal(object)
    errored = Signal(object)
    cancelled = Signal()
    finished = Signal()

    def __init__(
        self,
        func: Callable[..., Any],
        /,
        *args: Any,
        cancel_token: CancelToken | None = None,
        progress_kwarg: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self._queue: deque[Any] = deque()
        self._queue_lock = threading.Lock()
        self._notified = False
        self._func = func
        self._args = args
        self._kwargs = dict(kwargs)
        self._token = cancel_token
        self._abort = threading.Event()
        if progress_kwarg is not None:
            self._kwargs[progress_kwarg] = self.report

    @property
    def abort_requested(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._abort.is_set()

    def cancel(self) -> None:
        """Ask the function to stop (thread-safe): sets the cancel token and the abort flag."""
        self._abort.set()
        if self._token is not None:
            self._token.cancel()

    def report(self, value: Any) -> bool:
        """Progress callback for callback-style functions: queue ``value``; False means "stop"."""
        self._put(value)
        return not self._abort.is_set()

    def take(self) -> list[Any]:
        """Remove and return every value queued so far (called from the GUI thread)."""
        with self._queue_lock:
            # Clear the flag first: a value queued after this point sends a new notification.
            self._notified = False
            items = list(self._queue)
            self._queue.clear()
        return items

    def _put(self, value: Any) -> None:
        with self._queue_lock:
            self._queue.append(value)
            if self._notified:
                return
            self._notified = True
        self.available.emit()

    @Slot()
    def run(self) -> None:
        """Run the function to the end; called in the worker thread by ``QThread.started``."""
        try:
            outcome = self._drive()
        except (Cancelled, LoadCancelled):
            self.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a signal, not a crash
            self.errored.emit(exc)
        else:
            if outcome is _ABORTED:
                self.cancelled.emit()
            else:
                self.returned.emit(outcome)
        finally:
            # Hand the (now idle) worker back to the GUI thread so Python can delete it there.
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            self.finished.emit()

    def _drive(self) -> Any:
        if self._abort.is_set() and self._token is None:
            return _ABORTED
        result = self._func(*self._args, **self._kwargs)
        if not inspect.isgenerator(result):
            return result
        gen = result
        while True:
            # Without a token the generator cannot see the request: stop it between yields.
            if self._token is None and self._abort.is_set():
                gen.close()
                return _ABORTED
            try:
                value = next(gen)
            except StopIteration as stop:
                return stop.value
            self._put(value)


_ABORTED = object()


class WorkerThread(QObject):
    """Owns one :class:`GeneratorWorker` and the QThread it runs in.

    Signals are emitted in the GUI thread: ``yielded(list)`` with the values yielded since the
    last emission (in order, at most every ``min_interval_ms``), then exactly one of
    ``returned(value)``, ``errored(exception)`` or ``cancelled()``, and ``finished()`` once the
    thread has really stopped. Every value is delivered before the end signals.

    Parameters
    ----------
    func, *args, cancel_token, progress_kwarg, **kwargs
        As for :class:`GeneratorWorker`.
    parent : QObject, optional
        The owner (usually a window); the job is deleted with it.
    name : str
        Thread name, for debuggers and messages.
    min_interval_ms : int
        Shortest time between two ``yielded`` emissions. The first value after a quiet spell is
        delivered at once.
    """

    yielded = Signal(list)
    returned = Signal(object)
    errored = Signal(object)
    cancelled = Signal()
    finished = Signal()

    def __init__(
        self,
        func: Callable[..., Any],
        /,
        *args: Any,
        cancel_token: CancelToken | None = None,
        progress_kwarg: str | None = None,
        parent: QObject | None = None,
        name: str = "ppml-worker",
        min_interval_ms: int = 30,
        **kwargs: Any,
    ) -> None:
        super().__init__(parent)
        self._min_interval_ms = max(0, int(min_interval_ms))
        self._since_drain = QElapsedTimer()
        self._drain_timer = QTimer(self)
        self._drain_timer.setObjectName(f"{name}-drain")
        self._drain_timer.setSingleShot(True)
        self._drain_timer.timeout.connect(self._on_drain_timer_timeout)
        self._thread: QThread | None = QThread()
        self._thread.setObjectName(name)
        self._worker: GeneratorWorker | None = GeneratorWorker(
            func, *args, cancel_token=cancel_token, progress_kwarg=progress_kwarg, **kwargs
        )
        self._worker.moveToThread(self._thread)
        self._started = False
        self._done = False
        # Connect everything before start. Worker -> self connections are queued (self lives in
        # the GUI thread); bound methods only, no lambdas.
        self._thread.started.connect(self._worker.run)
        self._worker.available.connect(self._on_worker_available)
        self._worker.returned.connect(self._on_worker_returned)
        self._worker.errored.connect(self._on_worker_errored)
        self._worker.cancelled.connect(self._on_worker_cancelled)
        # Direct: quit() is thread-safe, and a queued call would never run while the GUI thread
        # is blocked in stop() -> wait(), which would then always time out.
        self._worker.finished.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.finished.connect(self._on_thread_finished)

    @property
    def is_running(self) -> bool:
        """True from :meth:`start` until the thread has stopped."""
        if not self._started or self._done:
            return False
        return self._thread is not None and self._thread.isRunning()

    @property
    def abort_requested(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._worker is not None and self._worker.abort_requested

    def start(self) -> None:
        """Start the thread (once)."""
        if self._started or self._thread is None:
            raise RuntimeError("a WorkerThread can be started only once")
        self._started = True
        _LIVE_JOBS.add(self)
        self._thread.start()

    def cancel(self) -> None:
        """Ask the job to stop at its next step; returns at once."""
        if self._worker is not None:
            self._worker.cancel()

    def stop(self, timeout_ms: int = 3000) -> bool:
        """Cancel, then wait up to ``timeout_ms`` for the thread to stop; True if it stopped.

        Blocks the calling thread; meant for shutdown. Queued signals of the job are still
        delivered afterwards by the event loop (or dropped if the receiver is gone).
        """
        if not self._started or self._thread is None:
            return True
        self.cancel()
        # The thread's own ``finished`` notification is queued and clears the references later.
        return bool(self._thread.wait(timeout_ms))

    def _drain(self) -> None:
        """Emit :attr:`yielded` with every value the worker queued so far (GUI thread)."""
        self._drain_timer.stop()
        if self._worker is None:
            return
        self._since_drain.start()
        values = self._worker.take()
        if values:
            self.yielded.emit(values)

    @Slot()
    def _on_worker_available(self) -> None:
        if not self._since_drain.isValid():
            self._drain()
            return
        wait = self._min_interval_ms - self._since_drain.elapsed()
        if wait <= 0:
            self._drain()
        elif not self._drain_timer.isActive():
            # The worker sends nothing more until we drain, so one timer covers the backlog.
            self._drain_timer.start(int(wait))

    @Slot()
    def _on_drain_timer_timeout(self) -> None:
        self._drain()

    @Slot(object)
    def _on_worker_returned(self, value: object) -> None:
        self._drain()  # every yielded value arrives before the end
        self.returned.emit(value)

    @Slot(object)
    def _on_worker_errored(self, exc: object) -> None:
        self._drain()
        self.errored.emit(exc)

    @Slot()
    def _on_worker_cancelled(self) -> None:
        self._drain()
        self.cancelled.emit()

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._done:
            return
        self._drain()
        self._drain_timer.stop()
        self._done = True
        # The thread has finished, so the worker is idle and back in the GUI thread: dropping
        # the references deletes both objects here, never while the thread runs.
        self._worker = None
        self._thread = None
        self.finished.emit()
