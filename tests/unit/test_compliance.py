"""Every pattern's compliance view: declared by its engine, in the results document, honest about
settings that protect nothing, and marked as orientation rather than legal advice."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ppml_lab.engines import registry
from ppml_lab.engines.compliance import COMPLIANCE_NOTICE, PRINCIPLES, ComplianceView
from ppml_lab.engines.contract import EngineBase, Guarantee
from ppml_lab.experiments.config import Experiment
from ppml_lab.experiments.runner import drive, run_experiment
from ppml_lab.models import ModelParams

KEYS = ["supports", "left_to_organisation", "regulator_questions", "notice"]


@pytest.mark.parametrize("name", registry.engine_names())
def test_every_engine_declares_its_own_view(name: str) -> None:
    engine = registry.get_engine(name)
    view = engine.compliance(engine.Params(), engine.guarantee(engine.Params(), None, n_train=100))
    assert isinstance(view, ComplianceView)
    # Its own words, not the contract's fallback for a pattern that says nothing.
    assert "does not describe" not in " ".join(view.left_to_organisation)
    assert len(view.left_to_organisation) >= 2 and len(view.regulator_questions) >= 2
    for item in view.supports:
        # "Principle: how." with one of the named principles.
        assert item.split(":", 1)[0] in PRINCIPLES, item
    assert view.notice == COMPLIANCE_NOTICE and "not legal advice" in view.notice
    if name == registry.REFERENCE:
        assert view.supports == ()  # ordinary training supports no principle by itself
    else:
        assert view.supports


def test_private_patterns_name_different_principles() -> None:
    firsts = {
        name: {item.split(":")[0] for item in registry.get_engine(name).compliance().supports}
        for name in registry.engine_names() if name != registry.REFERENCE
    }
    assert "Security of processing" in firsts["he"] and "Security of processing" in firsts["smpc"]
    assert "Security of processing" not in firsts["dp"]  # the trainer sees the data in the clear
    assert "Data minimisation" in firsts["federated"]


def test_settings_change_the_view() -> None:
    fed = registry.get_engine("federated")
    plain = fed.compliance(fed.Params())
    secure = fed.compliance(fed.Params(secure_aggregation=True))
    with_dp = fed.compliance(fed.Params(epsilon=1.0))
    assert not any(s.startswith("Security of processing") for s in plain.supports)
    assert any(s.startswith("Security of processing") for s in secure.supports)
    assert any("sees every owner's update" in s for s in plain.left_to_organisation)
    assert any("client-level" in s for s in with_dp.supports)
    dp = registry.get_engine("dp")
    local = dp.compliance(dp.Params(mechanism="local"))
    central = dp.compliance(dp.Params())
    assert any(s.startswith("Security of processing") for s in local.supports)
    assert local != central


@pytest.mark.parametrize(
    ("name", "params"),
    [("dp", {"deterministic_noise": True}), ("smpc", {"parties": 2})],
)
def test_a_setting_that_protects_nothing_supports_nothing(name: str, params: dict) -> None:
    engine = registry.get_engine(name)
    p = engine.Params(**params)
    g = engine.guarantee(p, None, n_train=100)
    if not g.no_protection:  # dp's guarantee learns it is seeded from the params
        g = replace(g, no_protection="deterministic noise", no_protection_reason="NOT PRIVATE: x")
    view = engine.compliance(p, g)
    assert view.supports == ()
    assert view.left_to_organisation[0].startswith("This setting gives no protection")
    assert view.regulator_questions[0].startswith("Why was a setting that protects nothing")


def test_an_engine_that_says_nothing_gets_a_fallback_not_a_crash() -> None:
    class Quiet(EngineBase):
        name = "quiet"
        label = "Quiet pattern"

    view = Quiet().compliance(None, Guarantee(protects="x"))
    assert view.supports == () and "does not describe" in view.left_to_organisation[0]
    assert view.to_dict()["notice"] == COMPLIANCE_NOTICE


@pytest.mark.parametrize("name", ["baseline", "federated"])
def test_the_results_document_has_the_section(name: str) -> None:
    """The section has the agreed shape for a run (tests/unit/test_scenarios.py checks it in a
    run of every other pattern)."""
    engine = registry.get_engine(name)
    exp = Experiment(model=ModelParams(epochs=1), pattern=name, params=engine.Params())
    doc = drive(run_experiment(exp)).to_document()
    section = doc["compliance"]
    assert list(section) == KEYS
    assert all(isinstance(section[k], list) for k in KEYS[:3])
    assert section == engine.compliance(exp.params, None).to_dict()
