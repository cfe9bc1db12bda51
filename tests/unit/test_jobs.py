"""The window's jobs in a child process (``experiments.jobs``, ``engines.runtime.relay``): the same
events, result, errors and cancel as in the calling thread, with the work in another process."""

from __future__ import annotations

import os

import pytest

from ppml_lab.data import DatasetError
from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.events import Metric, Progress
from ppml_lab.engines.registry import REFERENCE
from ppml_lab.engines.runtime import relay as relay_module
from ppml_lab.experiments import jobs
from ppml_lab.experiments.config import experiment_from_dict
from ppml_lab.experiments.runner import RunResult, drive


def _experiment(epochs: int = 4, **dataset: object):
    return experiment_from_dict(
        {"dataset": {"source": "builtin:breast_cancer", **dataset},
         "model": {"kind": "logistic", "epochs": epochs, "batch_size": 32},
         "pattern": {"name": "dp", "epsilon": 2.0}},
        where="test.toml",
    )


def _run(experiment, *, cancel_after: int | None = None):
    cancel = CancelToken()
    events: list[object] = []

    def sink(event: object) -> None:
        events.append(event)
        steps = [e for e in events if isinstance(e, Progress) and e.step >= 1]
        if cancel_after is not None and len(steps) >= cancel_after:
            cancel.cancel()

    gen = jobs.job(jobs.run_with_document, experiment, cancel=cancel,
                   uses=(experiment.pattern, REFERENCE), job_name="test run")
    return events, drive(gen, sink)


def test_a_run_in_a_child_gives_the_events_result_and_document_of_a_run_here(monkeypatch) -> None:
    experiment = _experiment()
    assert jobs.child_can_run((experiment.pattern, REFERENCE))
    events, done = _run(experiment)
    assert isinstance(done, jobs.DocumentedRun) and isinstance(done.result, RunResult)
    assert done.result.status == "completed"
    # The events are the engine's typed events, in order, one test accuracy per epoch.
    accuracies = [e for e in events if isinstance(e, Metric) and e.name == "test_accuracy"]
    assert [e.step for e in accuracies] == [1, 2, 3, 4]
    assert done.document is not None
    assert done.document["evaluation"] == done.result.evaluation()
    assert done.document["privacy"]["epsilon"] <= 2.0 + 1e-9
    # In this process (as for a pattern a fresh process cannot find): the same shapes of output.
    monkeypatch.setattr(jobs, "IN_CHILD", False)
    here_events, here = _run(experiment)
    assert [type(e).__name__ for e in here_events] == [type(e).__name__ for e in events]
    assert here.document["dataset"] == done.document["dataset"]


def test_the_work_happens_in_another_process(monkeypatch) -> None:
    started = []
    original = relay_module.ProcessGroup.start

    def start(self, target, args=(), *, name=None):  # noqa: ANN001, ANN202
        child = original(self, target, args, name=name)
        started.append(child.pid)
        return child

    monkeypatch.setattr(relay_module.ProcessGroup, "start", start)
    rate = drive(jobs.job(jobs.majority_rate, _experiment(), cancel=CancelToken(), uses=()))
    assert 0.5 < rate < 0.75  # breast cancer: about 63% benign
    assert len(started) == 1 and started[0] != os.getpid()


def test_errors_cross_with_their_type_and_message() -> None:
    with pytest.raises(DatasetError, match="no_such_column"):
        _run(_experiment(target="no_such_column"))


def test_cancel_keeps_the_finished_steps() -> None:
    events, done = _run(_experiment(epochs=200), cancel_after=2)
    assert done.result.status == "cancelled"
    steps = [e.step for e in events if isinstance(e, Metric) and e.name == "test_accuracy"]
    assert 2 <= len(steps) < 200
    assert done.result.history.last_progress is not None
