"""The generic generator-in-a-thread adapter."""

from __future__ import annotations

import threading
from collections.abc import Generator

import pytest

from ppml_lab.data import DatasetError, LoadCancelled
from ppml_lab.engines.base import CancelToken
from ppml_lab.ui.qt_worker import WorkerThread, live_threads


class Sink:
    """Records what a job reports, in the GUI thread."""

    def __init__(self) -> None:
        self.yielded: list[object] = []
        self.returned: list[object] = []
        self.errors: list[BaseException] = []
        self.cancelled = 0
        self.threads: set[int] = set()

    def on_yielded(self, values: list[object]) -> None:
        self.threads.add(threading.get_ident())
        self.yielded.extend(values)

    def on_returned(self, value: object) -> None:
        self.returned.append(value)

    def on_errored(self, exc: object) -> None:
        assert isinstance(exc, BaseException)
        self.errors.append(exc)

    def on_cancelled(self) -> None:
        self.cancelled += 1


def _connect(job: WorkerThread, sink: Sink) -> None:
    job.yielded.connect(sink.on_yielded)
    job.returned.connect(sink.on_returned)
    job.errored.connect(sink.on_errored)
    job.cancelled.connect(sink.on_cancelled)


def counting(n: int, worker_threads: list[int]) -> Generator[int, None, str]:
    worker_threads.append(threading.get_ident())
    yield from range(n)
    return f"counted {n}"


def test_yields_and_return_value_become_signals(qtbot, qapp) -> None:
    sink = Sink()
    worker_threads: list[int] = []
    job = WorkerThread(counting, 5, worker_threads)
    _connect(job, sink)
    with qtbot.waitSignal(job.finished, timeout=5000):
        job.start()
    assert sink.yielded == [0, 1, 2, 3, 4]
    assert sink.returned == ["counted 5"]
    assert not sink.errors and sink.cancelled == 0
    # Ran in another thread; the slots ran in the GUI thread.
    assert worker_threads[0] != threading.get_ident()
    assert sink.threads == {threading.get_ident()}
    assert not job.is_running and live_threads() == []


def failing() -> Generator[int, None, None]:
    yield 1
    raise DatasetError("data.csv: the target column has a single value")


def test_exceptions_become_the_errored_signal(qtbot) -> None:
    sink = Sink()
    job = WorkerThread(failing)
    _connect(job, sink)
    with qtbot.waitSignal(job.finished, timeout=5000):
        job.start()
    assert sink.yielded == [1]
    assert len(sink.errors) == 1 and isinstance(sink.errors[0], DatasetError)
    assert "single value" in str(sink.errors[0])
    assert sink.returned == []


def endless(cancel: CancelToken) -> Generator[int, None, None]:
    i = 0
    while True:
        cancel.raise_if_cancelled()
        yield i
        i += 1


def test_cancel_sets_the_token_and_reports_cancelled(qtbot) -> None:
    token = CancelToken()
    sink = Sink()
    job = WorkerThread(endless, token, cancel_token=token)
    _connect(job, sink)
    job.yielded.connect(job.cancel)  # cancel as soon as the first value arrives
    with qtbot.waitSignal(job.finished, timeout=5000):
        job.start()
    assert token.cancelled
    assert sink.cancelled == 1 and sink.returned == [] and sink.errors == []
    assert len(sink.yielded) >= 1


def endless_without_token() -> Generator[int, None, None]:
    i = 0
    while True:
        yield i
        i += 1


def test_cancel_stops_a_generator_without_a_token_between_yields(qtbot) -> None:
    sink = Sink()
    job = WorkerThread(endless_without_token)
    _connect(job, sink)
    job.yielded.connect(job.cancel)
    with qtbot.waitSignal(job.finished, timeout=5000):
        job.start()
    assert sink.cancelled == 1


def chunked_load(n: int, *, progress) -> str:  # noqa: ANN001 - a ProgressCallback
    for i in range(1, n + 1):
        if progress(i / n) is False:
            raise LoadCancelled()
    return "loaded"


def test_callback_progress_is_reported_and_can_cancel(qtbot) -> None:
    sink = Sink()
    job = WorkerThread(chunked_load, 4, progress_kwarg="progress")
    _connect(job, sink)
    with qtbot.waitSignal(job.finished, timeout=5000):
        job.start()
    assert sink.yielded == [0.25, 0.5, 0.75, 1.0]
    assert sink.returned == ["loaded"]

    sink2 = Sink()
    job2 = WorkerThread(chunked_load, 10_000_000, progress_kwarg="progress")
    _connect(job2, sink2)
    job2.yielded.connect(job2.cancel)
    with qtbot.waitSignal(job2.finished, timeout=10_000):
        job2.start()
    assert sink2.cancelled == 1 and sink2.returned == []


def test_stop_waits_for_the_thread(qtbot) -> None:
    token = CancelToken()
    job = WorkerThread(endless, token, cancel_token=token)
    with qtbot.waitSignal(job.yielded, timeout=5000):
        job.start()
    assert job.stop(5000)
    assert live_threads() == []
    with qtbot.waitSignal(job.finished, timeout=5000, raising=False):
        pass


def test_a_job_starts_only_once(qtbot) -> None:
    job = WorkerThread(counting, 1, [])
    with qtbot.waitSignal(job.finished, timeout=5000):
        job.start()
    with pytest.raises(RuntimeError):
        job.start()
