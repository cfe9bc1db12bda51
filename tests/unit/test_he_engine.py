"""The HE engine as the lab runs it: each mode from an experiment file, against its plaintext twin,
the results document's keys, overheads as events, refusals, cancel, and weak parameters."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tenseal")

from ppml_lab import cli  # noqa: E402
from ppml_lab.engines.base import CancelToken  # noqa: E402
from ppml_lab.engines.contract import DataShape  # noqa: E402
from ppml_lab.engines.events import Metric, Overhead, Progress  # noqa: E402
from ppml_lab.engines.registry import get_engine  # noqa: E402
from ppml_lab.experiments.config import Experiment, experiment_from_dict  # noqa: E402
from ppml_lab.experiments.runner import drive, prepare_data, run_experiment  # noqa: E402
from ppml_lab.models import ModelParams  # noqa: E402

ADULT = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "adult.csv"


def he(dataset: dict | None = None, model: dict | None = None, **pattern) -> Experiment:
    return experiment_from_dict({
        "dataset": dataset or {"source": "builtin:breast_cancer"},
        "model": {"epochs": 5, **(model or {})},
        "pattern": {"name": "he", **pattern},
    })


def run(experiment: Experiment, cancel: CancelToken | None = None):
    events: list = []
    result = drive(run_experiment(experiment, cancel=cancel), events.append)
    return result, events


def overheads(events, kind: str) -> list[float]:
    return [e.value for e in events if isinstance(e, Overhead) and e.kind == kind]


def _check_scoring(result, events) -> dict:
    doc = result.to_document()
    assert doc["fidelity"]["max_abs_error"] < 1e-3  # decrypted logits vs plaintext
    final = doc["final"]
    assert final["test_accuracy"] == final["plaintext_test_accuracy"]  # identical accuracy
    assert final["test_accuracy"] == doc["baseline"]["test_accuracy"]  # the same model
    sec = doc["he"]
    assert sec["security_bits"] >= 128 and sec["ciphertext_bytes"] > 0
    assert sec["depth_used"] <= sec["depth_budget"] + 1
    over = doc["overhead"]
    for key in ("bytes_sent", "keygen_seconds", "encrypt_seconds", "compute_seconds",
                "decrypt_seconds", "plaintext_seconds", "context_bytes", "expansion_vs_float64",
                "records_per_second", "bytes_per_record"):
        assert over[key] > 0, key
    assert over["bytes_sent"] >= sec["ciphertext_bytes"]
    for kind in ("encrypt_seconds", "bytes_sent", "max_abs_error", "keygen_seconds"):
        assert overheads(events, kind), kind
    return doc


def test_encrypted_scoring_of_breast_cancer_matches_plaintext(tmp_path) -> None:
    path = tmp_path / "he.toml"
    path.write_text('[model]\nepochs = 5\n\n[pattern]\nname = "he"\nmode = "scoring"\n')
    out = tmp_path / "r.json"
    assert cli.main(["run", str(path), "--json", str(out), "-q"]) == 0
    doc = json.loads(out.read_text())
    assert doc["fidelity"]["max_abs_error"] < 1e-3
    assert doc["final"]["test_accuracy"] == doc["final"]["plaintext_test_accuracy"]
    assert doc["he"]["preset"] == "fast scoring" and doc["he"]["security_bits"] == 192
    assert doc["protection"]["adversary"].startswith("the server")
    assert not doc["protection"]["no_protection"]
    result, events = run(he(mode="scoring", preset="scoring, depth 1"))
    doc = _check_scoring(result, events)
    assert doc["he"]["depth_used"] == 1


@pytest.mark.skipif(not ADULT.exists(), reason=f"needs {ADULT}")
def test_encrypted_scoring_of_adult_matches_plaintext() -> None:
    result, events = run(he({"source": str(ADULT), "target": "income"}, {"epochs": 2},
                            mode="scoring"))
    doc = _check_scoring(result, events)
    assert doc["dataset"]["rows_test"] > 5000 and doc["he"]["batches"] == 1
    assert doc["overhead"]["expansion_vs_float64"] < 2  # two records per slot, seeded


def test_multiclass_scoring_matches_plaintext() -> None:
    result, events = run(he({"source": "builtin:wine"}, mode="scoring"))
    doc = _check_scoring(result, events)
    assert doc["he"]["outputs"] == 3


def test_encrypted_training_is_within_a_point_of_its_plaintext_twin() -> None:
    result, events = run(he(mode="training", iterations=3, step_size=0.1))
    doc = result.to_document()
    final = doc["final"]
    assert abs(final["test_accuracy"] - final["plaintext_test_accuracy"]) <= 0.01
    assert doc["fidelity"]["max_abs_error"] < 1e-2
    sec = doc["he"]
    assert (sec["depth_used"], sec["depth_budget"], sec["refreshes"]) == (4, 4, 3)
    assert sec["iterations_per_refresh"] == 1 and sec["sigmoid"]["degree"] == 3
    assert [e.step for e in events if isinstance(e, Progress) and e.step > 0] == [1, 2, 3]
    assert overheads(events, "max_abs_error") and overheads(events, "refreshes")[-1] == 3
    assert [e.step for e in events if isinstance(e, Metric) and e.name == "test_accuracy"] == [
        1, 2, 3]
    assert "decrypted and re-encrypted the weights 3 times" in " ".join(
        doc["protection"]["in_this_run"])


@pytest.mark.slow
def test_the_deeper_preset_refreshes_every_second_iteration() -> None:
    result, events = run(he(mode="training", preset="training, depth 8", iterations=2,
                            step_size=0.1))
    doc = result.to_document()
    assert (doc["he"]["refreshes"], doc["he"]["iterations_per_refresh"]) == (1, 2)
    assert doc["he"]["depth_used"] == 8
    assert abs(doc["final"]["test_accuracy"] - doc["final"]["plaintext_test_accuracy"]) <= 0.01


def test_encrypted_aggregation_runs_the_federation_with_an_he_transport() -> None:
    result, events = run(he(mode="aggregation", clients=4, rounds=3))
    doc = result.to_document()
    assert doc["fidelity"]["max_abs_error"] < 1e-4
    assert doc["he"]["encryption"].startswith("public key")
    over = doc["overhead"]
    assert over["ciphertext_bytes"] > 0 and over["context_bytes"] > 0
    assert over["bytes_sent"] >= over["ciphertext_bytes"]
    assert len(overheads(events, "encrypt_seconds")) == 3  # one per round
    # The same federation in the clear reaches the same model, up to CKKS's error.
    fed = experiment_from_dict({"model": {"epochs": 5}, "pattern": {
        "name": "federated", "clients": 4, "rounds": 3}})
    plain = drive(run_experiment(fed, with_baseline=False))
    assert abs(plain.engine_result.final["test_accuracy"] - doc["final"]["test_accuracy"]) < 1e-9
    assert np.allclose(plain.engine_result.model.get_flat(), result.engine_result.model.get_flat(),
                       atol=1e-6)


def test_weak_parameters_run_only_when_allowed_and_read_not_private() -> None:
    result, _ = run(he(mode="scoring", poly_modulus_degree=2048, allow_weak=True))
    g = result.guarantee()
    assert g.no_protection == "below 128-bit security"
    assert g.level.startswith("NOT PRIVATE") and "may be breakable" in g.sentences()[0]
    doc = result.to_document()
    assert doc["he"]["security_bits"] is None
    assert any("NOT PRIVATE" in w for w in doc["warnings"])
    engine = get_engine("he")
    assert any("NOT PRIVATE" in n for n in engine.form_rules(
        {"poly_modulus_degree": 2048, "allow_weak": True}).notes)


@pytest.mark.parametrize(
    ("dataset", "model", "pattern", "message"),
    [
        ({"source": "builtin:wine"}, {}, {"mode": "training"}, "two-class"),
        (None, {"kind": "mlp"}, {"mode": "scoring"}, "linear"),
        (None, {}, {"mode": "aggregation", "clients": 1000}, "at most"),
    ],
)
def test_unsupported_settings_are_refused_before_any_key(monkeypatch, dataset, model, pattern,
                                                         message) -> None:
    from ppml_lab.engines.he import ckks

    def no_keys(*args, **kwargs):
        raise AssertionError("a key was made")

    monkeypatch.setattr(ckks.KeyHolder, "__init__", no_keys)
    experiment = he(dataset, model, **pattern)
    with pytest.raises(ValueError, match=message):
        drive(run_experiment(experiment, data=prepare_data(experiment)))


def test_cancel_stops_encrypted_training() -> None:
    cancel = CancelToken()

    def cancel_after_first(event) -> None:
        if isinstance(event, Progress) and event.step >= 1:
            threading.Timer(0.01, cancel.cancel).start()

    result = drive(run_experiment(he(mode="training", iterations=50), cancel=cancel),
                   cancel_after_first)
    assert result.status == "cancelled"


def test_the_plan_names_steps_and_estimates() -> None:
    engine = get_engine("he")
    model = ModelParams(epochs=7)
    shape = DataShape(455, 30)
    train = engine.plan(model, engine.Params(mode="training", iterations=12), shape)
    assert (train.steps, train.step_name) == (12, "iteration")
    assert train.cost_estimate.startswith(("about", "a second"))
    agg = engine.plan(model, engine.Params(mode="aggregation", rounds=4, clients=3))
    assert (agg.steps, agg.step_name, agg.parties, agg.reference.epochs) == (4, "round", 3, 4)
    assert engine.plan(model, engine.Params()).step_name == "scoring batch"
    assert engine.label_for("encrypt_seconds").text == "encryption"
    assert engine.label_for("keygen_seconds").one_off
    rules = engine.form_rules({"mode": "scoring"})
    assert "iterations" in rules.disabled and "clients" in rules.disabled
    assert any("192-bit security" in n for n in rules.notes)
    assert rules.unset_text["coeff_mod_bit_sizes"] == "preset: 60, 60"
    bad = engine.form_rules({"mode": "training", "preset": "fast scoring"})
    assert any("depth of 4" in n for n in bad.notes)


def test_the_guarantee_says_what_the_server_sees() -> None:
    engine = get_engine("he")
    g = engine.guarantee(engine.Params(mode="scoring"), None)
    assert g.adversary == "the server (and the network)" and not g.no_protection
    assert any("Li and Micciancio" in a for a in g.assumptions)
    assert any("the model: in scoring it is the server's own" in n for n in g.not_protected)
    agg = engine.guarantee(engine.Params(mode="aggregation"), None)
    assert any("colludes neither" in a for a in agg.assumptions)
