"""Cancelling during the optional membership audit keeps the finished training.

The audit is the last phase of a DP or baseline run; a cancel there used to throw the trained
model's metrics and privacy figures away. Now the engine raises ``AuditCancelled`` (still a
``Cancelled``) carrying the trained result with ``extra["audit"] = {"cancelled": True}``, and the
runner reports the run as cancelled with that result kept.
"""

from __future__ import annotations

import json

import pytest

from ppml_lab.engines.audit import AuditCancelled
from ppml_lab.engines.base import Cancelled, CancelToken
from ppml_lab.engines.events import Progress
from ppml_lab.engines.registry import get_engine
from ppml_lab.experiments.config import Experiment, experiment_from_dict
from ppml_lab.experiments.runner import drive, prepare_data, run_experiment
from ppml_lab.models import ModelParams

EPOCHS = 3


@pytest.fixture(scope="module")
def cancer():
    return prepare_data(Experiment())  # builtin:breast_cancer


def _experiment(pattern: dict) -> Experiment:
    return experiment_from_dict(
        {"pattern": pattern, "model": {"kind": "logistic", "epochs": EPOCHS, "batch_size": 32}},
        where="test.toml",
    )


def _cancel_at_the_audit(gen, cancel: CancelToken) -> tuple[list, object]:
    """Drive ``gen``; cancel as soon as the audit announces itself; return events and result."""
    events = []

    def sink(event: object) -> None:
        events.append(event)
        if isinstance(event, Progress) and "audit" in event.message:
            cancel.cancel()

    return events, drive(gen, sink)


@pytest.mark.parametrize(
    "pattern",
    [{"name": "dp", "epsilon": 2.0, "audit": True}, {"name": "baseline", "audit": True}],
    ids=["dp", "baseline"],
)
def test_cancel_during_the_audit_keeps_the_training_result(cancer, pattern) -> None:
    experiment = _experiment(pattern)
    cancel = CancelToken()
    events, result = _cancel_at_the_audit(
        run_experiment(experiment, cancel=cancel, data=cancer), cancel
    )
    assert any(isinstance(e, Progress) and "audit" in e.message for e in events)
    assert result.status == "cancelled"
    er = result.engine_result
    assert er is not None  # the finished training is kept
    assert 0.5 < er.final["test_accuracy"] <= 1.0
    assert er.extra["audit"] == {"cancelled": True}
    assert len(result.history.steps()) == EPOCHS  # every epoch finished before the audit
    doc = json.loads(json.dumps(result.to_document(), allow_nan=False))
    assert doc["status"] == "cancelled"
    assert doc["final"]["test_accuracy"] == pytest.approx(er.final["test_accuracy"])
    assert doc["extra"]["audit"] == {"cancelled": True}
    if pattern["name"] == "dp":
        assert doc["privacy"]["epsilon"] <= 2.0 + 1e-9  # the spent budget is kept too
        assert "audit" not in doc["privacy"]  # no audit figures for an audit that did not run
        assert doc["baseline"]["test_accuracy"] > 0.5
    else:
        assert doc["baseline"]["test_accuracy"] == pytest.approx(er.final["test_accuracy"])


def test_the_engine_raises_a_cancel_that_carries_the_trained_result(cancer) -> None:
    engine = get_engine("dp")
    cancel = CancelToken()
    params = engine.Params(epsilon=2.0, audit=True)
    gen = engine.run(cancer, ModelParams(kind="logistic", epochs=2, batch_size=32), params,
                     seed=0, cancel=cancel)
    with pytest.raises(Cancelled) as caught:  # still a Cancelled: every caller stops as before
        _cancel_at_the_audit(gen, cancel)
    assert isinstance(caught.value, AuditCancelled)
    kept = caught.value.result
    assert kept.final["test_accuracy"] > 0.5 and kept.privacy["epsilon"] > 0
    assert kept.extra["audit"] == {"cancelled": True}


def test_a_cancel_during_training_still_has_no_final_result(cancer) -> None:
    experiment = _experiment({"name": "dp", "epsilon": 2.0, "audit": True})
    cancel = CancelToken()
    gen = run_experiment(experiment, cancel=cancel, data=cancer)
    steps = []

    def sink(event: object) -> None:
        if isinstance(event, Progress) and event.step == 1 and "epoch" in event.message:
            steps.append(event)
            cancel.cancel()

    result = drive(gen, sink)
    assert steps
    assert result.status == "cancelled" and result.engine_result is None
