"""Run any generator (or long function) in a worker thread and turn what it does into Qt signals.

This is the one thread adapter of the GUI (ARCHITECTURE section 4). A :class:`GeneratorWorker`
is a QObject moved to a QThread; it calls a function and

* emits :attr:`GeneratorWorker.yielded` for every value a generator yields (or every value the
  function reports through its progress callback, see ``progress_kwarg``),
* emits :attr:`GeneratorWorker.returned` with the generator's return value (or the function's
  result),
* emits :attr:`GeneratorWorker.errored` with the exception object when it raises,
* emits :attr:`GeneratorWorker.cancelled` when it stopped because it was asked to,
* and always emits :attr:`GeneratorWorker.finished` last.

The worker never touches a widget. :class:`WorkerThread` owns one worker and its QThread: it
connects everything *before* starting, relays the worker's signals from GUI-thread signals of its
own (so slots of GUI objects run in the GUI thread), cancels, and stops the thread with a timeout.

Example
-------
>>> job = WorkerThread(run_experiment, experiment, cancel=token, table=table,  # doctest: +SKIP
...                    cancel_token=token, parent=window)
>>> job.yielded.connect(window._on_job_yielded)                                  # doctest: +SKIP
>>> job.start()                                                                  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import threading
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

from ppml_lab.data import LoadCancelled
from ppml_lab.engines.base import Cancelled, CancelToken

_LIVE_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()


def live_threads() -> list[QThread]:
    """QThreads started by :class:`WorkerThread` that are still running (for tests and shutdown)."""
    out = []
    for thread in list(_LIVE_THREADS):
        try:
            if thread.isRunning():
                out.append(thread)
        except RuntimeError:  # the C++ object is already gone
            continue
    return out


class GeneratorWorker(QObject):
    """Calls ``func(*args, **kwargs)`` in whatever thread it lives in and reports through signals.

    Parameters
    ----------
    func : callable
        A generator function (its yields become :attr:`yielded`) or a plain function.
    *args, **kwargs
        Passed to ``func``.
    cancel_token : CancelToken, optional
        Set by :meth:`cancel`; pass the same token to ``func`` so it stops within one step.
    progress_kwarg : str, optional
        For callback-style functions such as ``load_source(path, progress=...)``: the worker
        passes its :meth:`report` method under this keyword, so every progress value is emitted
        as :attr:`yielded` and returning False from the callback cancels the function.
    """

    yielded = Signal(object)
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
        """Progress callback for callback-style functions: emit ``value``; False means "stop"."""
        self.yielded.emit(value)
        return not self._abort.is_set()

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
            self.yielded.emit(value)


_ABORTED = object()


class WorkerThread(QObject):
    """Owns one :class:`GeneratorWorker` and the QThread it runs in.

    The signals mirror the worker's and are emitted in the GUI thread. ``finished`` is emitted
    once the thread has really stopped, after every other signal of the job was delivered.

    Parameters
    ----------
    func, *args, cancel_token, progress_kwarg, **kwargs
        As for :class:`GeneratorWorker`.
    parent : QObject, optional
        The owner (usually a window); the job is deleted with it.
    name : str
        Thread name, for debuggers and messages.
    """

    yielded = Signal(object)
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
        **kwargs: Any,
    ) -> None:
        super().__init__(parent)
        self._thread: QThread | None = QThread()
        self._thread.setObjectName(name)
        self._worker: GeneratorWorker | None = GeneratorWorker(
            func, *args, cancel_token=cancel_token, progress_kwarg=progress_kwarg, **kwargs
        )
        self._worker.moveToThread(self._thread)
        self._started = False
        self._done = False
        # Connect everything before start. Worker -> self connections are queued (self lives in
        # the GUI thread); signal-to-signal relays and bound methods, no lambdas.
        self._thread.started.connect(self._worker.run)
        self._worker.yielded.connect(self.yielded)
        self._worker.returned.connect(self.returned)
        self._worker.errored.connect(self.errored)
        self._worker.cancelled.connect(self.cancelled)
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
        _LIVE_THREADS.add(self._thread)
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

    @Slot()
    def _on_thread_finished(self) -> None:
        if self._done:
            return
        self._done = True
        # The thread has finished, so the worker is idle and back in the GUI thread: dropping
        # the references deletes both objects here, never while the thread runs.
        self._worker = None
        self._thread = None
        self.finished.emit()
