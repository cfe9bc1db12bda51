"""The Flower backend's switch, checks and messages (no Flower process is started here)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import subprocess
import sys

import pytest

from ppml_lab.engines.federated import FederatedParams
from ppml_lab.engines.federated import flower_setup as setup
from ppml_lab.engines.registry import get_engine
from ppml_lab.experiments.config import ConfigError, experiment_from_dict
from ppml_lab.experiments.runner import prepare_data
from ppml_lab.models import ModelParams

HINT = "pip install 'ppml-lab[flower]'"


def test_the_engine_lists_plans_and_checks_without_importing_flower() -> None:
    code = (
        "import sys\n"
        "from ppml_lab.engines.registry import get_engine\n"
        "from ppml_lab.engines.federated import FederatedParams\n"
        "from ppml_lab.models import ModelParams\n"
        "e = get_engine('federated'); p = FederatedParams(backend='flower')\n"
        "e.available(); e.plan(ModelParams(), p); e.form_rules({'backend': 'flower'})\n"
        "e.guarantee(p, None)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'flwr'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_flower_is_found_here() -> None:
    assert setup.flower_problem() is None
    assert setup.flower_version().startswith("1.")


def test_a_missing_flower_says_how_to_install_it(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "flwr" else real(name, *a))
    problem = setup.flower_problem()
    assert "not installed" in problem and HINT in problem
    engine = get_engine("federated")
    assert engine.available() is None  # the simulation still runs
    assert any(HINT in note for note in engine.form_rules({"backend": "flower"}).notes)
    data = prepare_data(experiment_from_dict({"dataset": {"source": "builtin:breast_cancer"}}))
    with pytest.raises(ValueError, match=r"needs Flower \(the flwr package\).*pip install 'ppml-lab\[flower\]'"):
        engine.validate(data, ModelParams(), FederatedParams(backend="flower"))
    engine.validate(data, ModelParams(), FederatedParams())  # the simulation is not affected


@pytest.mark.parametrize("version", ["1.20.0", "2.0.1"])
def test_an_incompatible_flower_says_which_version_is_needed(monkeypatch, version) -> None:
    monkeypatch.setattr(importlib.metadata, "version", lambda name: version)
    problem = setup.flower_problem()
    assert f"Flower {version} is installed" in problem
    assert "needs Flower 1.42 or newer, below 2" in problem and HINT in problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [(None, None), ("", None), ("  ", None), ("10.0.0.5:9092", ("10.0.0.5", 9092)),
     ("http://lab.example.org:8000", ("lab.example.org", 8000)), ("[::1]:9092", ("::1", 9092))],
)
def test_superlink_addresses(text, expected) -> None:
    assert setup.parse_superlink(text) == expected


@pytest.mark.parametrize("text", ["9092", "somehost", "host:port", "host:0", "host:70000", ":9092"])
def test_a_bad_superlink_address_shows_the_form_to_use(text) -> None:
    with pytest.raises(ValueError, match=r"is not an address: write host:port, e\.g\. '192\.168\.1\.20:9092'"):
        setup.parse_superlink(text)


def test_the_form_shows_the_superlink_only_for_flower() -> None:
    engine = get_engine("federated")
    sim = engine.form_rules({})
    assert "superlink" in sim.disabled and "dropout_rate" not in sim.disabled
    flower = engine.form_rules({"backend": "flower"})
    assert "superlink" not in flower.disabled
    assert "dropouts are real" in flower.disabled["dropout_rate"]
    assert any("starts a SuperLink and one SuperNode per client" in n for n in flower.notes)
    remote = engine.form_rules({"backend": "flower", "superlink": "10.0.0.5:9092"})
    assert any("SuperLink at 10.0.0.5:9092" in n and "not encrypted" in n for n in remote.notes)


def test_the_backend_choices_have_words() -> None:
    from ppml_lab.params import describe

    spec = {s.name: s for s in describe(FederatedParams)}["backend"]
    assert spec.choices == ("simulation", "flower")
    assert spec.choice_text("flower") == "Flower network (SuperLink + SuperNodes)"
    assert "pip install 'ppml-lab[flower]'" in spec.choice_tip("flower")


def test_the_plan_estimates_a_flower_run() -> None:
    engine = get_engine("federated")
    assert engine.plan(ModelParams(), FederatedParams()).cost_estimate == ""
    assert engine.plan(ModelParams(), FederatedParams(backend="flower", rounds=5)).cost_estimate == "about 40 s on Flower"
    secure = FederatedParams(backend="flower", rounds=30, secure_aggregation=True)
    assert engine.plan(ModelParams(), secure).cost_estimate == "about 12 min on Flower"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"dropout_rate": 0.2}, "dropouts are real"),
        ({"clients": 17}, "would start 17 Flower SuperNodes on this computer"),
        ({"clients": 4, "secure_aggregation": True, "secagg_threshold": 4},
         "needs the threshold below the number of clients in a round"),
        ({"clients": 4, "client_fraction": 0.25, "secure_aggregation": True},
         "SecAgg\\+\\) needs at least 2 clients per round"),
    ],
)
def test_settings_flower_cannot_honour_are_refused(settings, message) -> None:
    params = FederatedParams(backend="flower", **settings)
    with pytest.raises(ValueError, match=message):
        setup.check_flower_params(params, n_clients=params.clients)


def test_many_clients_are_fine_on_a_superlink_elsewhere() -> None:
    params = FederatedParams(backend="flower", clients=40, superlink="10.0.0.5:9092")
    setup.check_flower_params(params, n_clients=40)


def test_the_experiment_file_keys() -> None:
    doc = {
        "dataset": {"source": "builtin:breast_cancer"},
        "pattern": {"name": "federated", "backend": "flower", "superlink": "10.0.0.5:9092"},
    }
    experiment = experiment_from_dict(doc)
    assert experiment.params.backend == "flower" and experiment.params.superlink == "10.0.0.5:9092"
    assert experiment_from_dict({**doc, "pattern": {"name": "federated"}}).params.backend == "simulation"
    with pytest.raises(ConfigError, match="backend = 'ray' is not allowed"):
        experiment_from_dict({**doc, "pattern": {"name": "federated", "backend": "ray"}})
