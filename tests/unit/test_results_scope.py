"""Results say exactly what the protection covers, and nothing they release quietly undoes it."""

from __future__ import annotations

import json

import pytest

from ppml_lab import cli
from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.dp import DPEngine, DPParams
from ppml_lab.engines.events import Metric
from ppml_lab.experiments.config import Experiment, experiment_from_dict
from ppml_lab.experiments.runner import drive, prepare_data, run_experiment
from ppml_lab.experiments.sweep import TUNING_IS_A_RELEASE, run_sweep
from ppml_lab.models import ModelParams


def document(experiment: Experiment) -> dict:
    result = drive(run_experiment(experiment))
    return json.loads(json.dumps(result.to_document()))


def exp(pattern: dict, model: dict | None = None, dataset: dict | None = None) -> Experiment:
    return experiment_from_dict(
        {"model": {"epochs": 3, **(model or {})}, "pattern": pattern, "dataset": dataset or {}}
    )


@pytest.mark.parametrize(
    ("pattern", "diagnostic"),
    [
        ({"name": "dp"}, "training loss and accuracy"),
        ({"name": "dp", "mechanism": "objective"}, "training loss and accuracy"),
        ({"name": "federated", "rounds": 2, "epsilon": 2.0, "clients": 20},
         "per-client row and class counts"),
        ({"name": "federated", "rounds": 2, "secure_aggregation": True},
         "per-client row and class counts"),
    ],
)
def test_every_private_run_separates_what_is_covered_from_diagnostics(pattern, diagnostic):
    doc = document(exp(pattern))
    privacy = doc["privacy"]
    assert privacy["covers"]
    assert any(d.startswith(diagnostic) for d in privacy["diagnostics"])
    assert any(d.startswith("the non-private reference") for d in privacy["diagnostics"])
    assert any("dataset" in d for d in privacy["diagnostics"])
    notice = privacy["diagnostics_notice"]
    assert notice.startswith("The protection covers ") and "show them only to people" in notice


def test_the_baseline_claims_no_protection():
    doc = document(exp({"name": "baseline"}))
    assert "covers" not in doc["privacy"] and "diagnostics_notice" not in doc["privacy"]


def test_client_level_dp_marks_the_partition_as_what_it_protects():
    doc = document(exp({"name": "federated", "rounds": 2, "epsilon": 2.0, "clients": 20}))
    partition = [d for d in doc["privacy"]["diagnostics"] if "extra.partition" in d]
    assert partition and "exactly what client-level DP protects" in partition[0]
    assert any(w.startswith("One record inside a client") for w in doc["privacy"]["in_plain_words"])


def test_federated_reference_trains_rounds_times_local_epochs():
    doc = document(exp({"name": "federated", "rounds": 4, "local_epochs": 2}, {"epochs": 1}))
    assert doc["baseline"]["epochs"] == 8
    assert document(exp({"name": "dp"}, {"epochs": 2}))["baseline"]["epochs"] == 2
    assert document(exp({"name": "baseline"}, {"epochs": 2}))["baseline"]["epochs"] == 2


def test_federated_preprocessing_is_a_warning_even_without_dp():
    doc = document(exp({"name": "federated", "rounds": 1}))
    assert any("a real federation cannot compute" in w for w in doc["warnings"])


# --------------------------------------------------------------------------------------------
# Local DP: the collector never holds the clean rows


@pytest.fixture(scope="module")
def cancer():
    return prepare_data(Experiment())


def test_local_dp_warns_that_preprocessing_saw_the_raw_records(cancer):
    gen = DPEngine().run(
        cancer, ModelParams(epochs=1), DPParams(mechanism="local", epsilon=1.0), seed=0,
        cancel=CancelToken(),
    )
    result = drive(gen)
    assert any("before randomisation" in w and "local-DP promise does not hold" in w
               for w in result.warnings)


def test_local_dp_training_metrics_are_on_the_randomised_table(cancer):
    from ppml_lab.engines.common import loss_and_accuracy

    events: list = []
    params = DPParams(mechanism="local", epsilon=0.5, deterministic_noise=True)
    result = drive(
        DPEngine().run(cancer, ModelParams(epochs=2), params, seed=0, cancel=CancelToken()),
        events.append,
    )
    train_acc = [e.value for e in events if isinstance(e, Metric) and e.name == "train_accuracy"]
    # Not the accuracy on the clean training rows, which the collector never sees.
    _, clean = loss_and_accuracy(result.model, cancer.X_train, cancer.y_train)
    assert train_acc[-1] != pytest.approx(clean)
    assert result.final["train_accuracy"] == train_acc[-1]
    guarantee = DPEngine().guarantee(params, result, n_train=cancer.n_train)
    assert "training loss and accuracy" not in " ".join(guarantee.diagnostics)


def test_public_bounds_remove_the_local_dp_warning():
    public = exp(
        {"name": "dp", "mechanism": "local"},
        dataset={"source": "builtin:wine", "scaling": "none"},
    )
    doc = document(public)
    assert not any("before randomisation" in w for w in doc["warnings"])


# --------------------------------------------------------------------------------------------
# Sweeps


def test_a_sweep_says_that_choosing_epsilon_is_a_release():
    experiment = exp({"name": "dp"}, {"epochs": 1})
    result = drive(run_sweep(experiment, epsilons=[1.0], seeds=1, workers=0))
    assert result.warnings[0] == TUNING_IS_A_RELEASE
    assert result.to_document()["warnings"][0] == TUNING_IS_A_RELEASE
    assert "public or proxy data" in TUNING_IS_A_RELEASE


def test_the_sweep_cli_prints_the_caveat(tmp_path, capsys):
    path = tmp_path / "e.toml"
    path.write_text('[model]\nepochs = 1\n\n[pattern]\nname = "dp"\n')
    assert cli.main(["sweep", str(path), "--epsilons", "1,3", "--seeds", "1", "--workers", "0",
                     "--plan-tolerance", "5"]) == 0
    out = capsys.readouterr().out
    assert "public or proxy data" in out
