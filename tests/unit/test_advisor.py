"""The pattern advisor: each rule of ``resources/advisor/rules.toml`` case by case, the cautions,
the gaps, the text for reports, and bad rules or answers refused with a message."""

from __future__ import annotations

import pytest

from ppml_lab.experiments import advisor
from ppml_lab.experiments.advisor import AdvisorError, advise, load_rules, parse_rules, rules_text

BASE = {"where": "one_place", "task": "train", "protect_from": [], "exact": "no",
        "budget": "medium", "hardware": "no"}


def answers(**changes: object) -> dict[str, object]:
    return {**BASE, **changes}


# (answers, expected technique keys best first, the rule ids that must fire)
CASES = [
    pytest.param(answers(), ["none"], {"nothing-to-keep-out"}, id="nobody-to-keep-out"),
    pytest.param(answers(protect_from=["users"]), ["dp", "pate"],
                 {"model-users-one-place", "model-users-distillation"}, id="model-users"),
    pytest.param(answers(protect_from=["users"], exact="yes"), ["dp"],
                 {"model-users-one-place"}, id="model-users-exact"),
    pytest.param(answers(protect_from=["server"]), ["he"], {"server-one-place-train"},
                 id="outsourced-training"),
    pytest.param(answers(task="predict", protect_from=["server"]), ["he"], {"server-predict"},
                 id="encrypted-scoring"),
    pytest.param(answers(task="predict", protect_from=["server"], hardware="yes"), ["he", "tee"],
                 {"server-predict", "enclave-available"}, id="scoring-with-enclaves"),
    pytest.param(answers(task="predict", protect_from=["owners"]), ["smpc"], {"owners-predict"},
                 id="secret-model-secret-records"),
    pytest.param(answers(where="several_owners", protect_from=["server"]), ["federated"],
                 {"several-owners-server"}, id="hospitals"),
    pytest.param(answers(where="several_owners", protect_from=["owners"]), ["smpc", "federated"],
                 {"several-owners-owners", "several-owners-owners-federated"}, id="companies"),
    pytest.param(answers(where="several_owners", protect_from=["owners"], exact="yes",
                         budget="high"), ["smpc", "federated"],
                 {"several-owners-owners", "several-owners-exact"}, id="companies-exact"),
    pytest.param(answers(where="several_owners", protect_from=["server", "users"]),
                 ["federated_dp", "federated", "pate"],
                 {"several-owners-everyone", "several-owners-server"}, id="everyone-is-a-risk"),
    pytest.param(answers(where="several_owners", protect_from=["users"]), ["federated_dp", "pate"],
                 {"several-owners-users"}, id="several-owners-model-users"),
    pytest.param(answers(where="several_owners", protect_from=["server", "users"], budget="low"),
                 ["federated_dp", "federated", "local_dp", "pate", "tee"],
                 {"collector-cannot-be-trusted", "enclave-explained"}, id="small-budget"),
    pytest.param(answers(protect_from=["server"], hardware="yes"), ["he", "tee"],
                 {"server-one-place-train", "enclave-available"}, id="enclave"),
]


@pytest.mark.parametrize(("given", "expected", "rules"), CASES)
def test_each_case(given: dict, expected: list[str], rules: set[str]) -> None:
    advice = advise(given)
    assert advice.keys() == expected
    fired = {r for rec in advice.recommendations for r in rec.rules}
    assert rules <= fired
    assert all(rec.reasons for rec in advice.recommendations)


def test_every_rule_is_tested_above() -> None:
    """A new rule in the file must get a case here."""
    fired = set()
    for case in CASES:
        given = case.values[0]
        fired |= {r for rec in advise(given).recommendations for r in rec.rules}
    assert fired == {r.id for r in load_rules().rules}


def test_every_caution_is_tested() -> None:
    small = advise(answers(where="several_owners", protect_from=["owners"], budget="low"))
    assert small.keys() == ["federated", "smpc"]  # secure computation falls behind: -2
    smpc = next(r for r in small.recommendations if r.technique.key == "smpc")
    assert smpc.score == 2 and any(c.startswith("Costly") for c in smpc.cautions)
    medium = advise(answers(where="several_owners", protect_from=["owners"]))
    assert next(r for r in medium.recommendations if r.technique.key == "smpc").score == 3
    exact = advise(answers(protect_from=["users"], exact="yes"))
    assert exact.best.score == 1 and "deliberate noise" in exact.best.cautions[0]
    enclave = advise(answers(protect_from=["server"], budget="low"))
    tee = next(r for r in enclave.recommendations if r.technique.key == "tee")
    assert tee.score == 0 and "Needs enclave hardware" in tee.cautions[0]
    used = {c for case in ([small, medium, exact, enclave]) for rec in case.recommendations
            for c in rec.cautions}
    assert {c.text for c in load_rules().cautions} <= used


def test_gaps_say_whom_a_technique_does_not_keep_out() -> None:
    advice = advise(answers(where="several_owners", protect_from=["server", "users"]))
    plain = next(r for r in advice.recommendations if r.technique.key == "federated")
    assert plain.gaps == ("The people who use the model or see its results",)
    assert advice.best.gaps == () and len(advice.best.covered) == 2


def test_techniques_the_lab_cannot_run_say_so_and_what_they_rely_on() -> None:
    rules = load_rules()
    outside = {k: t for k, t in rules.techniques.items() if not t.runs_here}
    assert set(outside) == {"tee", "pate"}
    assert "no enclave hardware" in outside["tee"].lab_note
    assert all(t.trust for t in rules.techniques.values())
    for t in rules.techniques.values():  # the lab's own are linked to a pattern and a scenario
        assert t.runs_here == bool(t.patterns)


def test_recommendations_link_to_the_scenarios() -> None:
    keys = {t.scenario for t in load_rules().techniques.values() if t.scenario}
    assert keys == {"hospitals", "census", "bank", "companies"}


def test_rules_as_text_for_the_report() -> None:
    text = rules_text()
    rules = load_rules()
    assert text.startswith("Which pattern fits my situation?")
    assert "not legal advice" in text
    for q in rules.questions:
        assert q.text in text
    for t in rules.techniques.values():
        assert t.title in text
    assert "If the data is with several owners; a model is to be trained; it must be kept from " \
        "whoever runs the computation: Federated learning with secure aggregation (score 3)" in text
    outline = advisor.rules_outline()
    assert len(outline["rules"]) == len(rules.rules)
    assert outline["rules"][0]["if"] == ["nothing is ticked for “Whom must the data be kept from?”"]


def test_bad_answers_are_refused_with_a_message() -> None:
    with pytest.raises(AdvisorError, match="there is no question 'colour'"):
        advise({"colour": "blue"})
    with pytest.raises(AdvisorError, match="'cloud' is not one of server, owners, users"):
        advise(answers(protect_from=["cloud"]))


def test_an_unanswered_question_fires_nothing_on_it() -> None:
    assert advise({"protect_from": ["users"]}).keys() == []


def _doc(**technique: object) -> dict:
    return {
        "title": "t", "notice": "n",
        "question": [{"key": "who", "text": "Who?", "multiple": True,
                      "choice": [{"key": "a", "text": "A", "phrase": "a"},
                                 {"key": "b", "text": "B", "phrase": "b"}]}],
        "technique": {"x": {"title": "X", "summary": "s", **technique}},
        "rule": [{"id": "r", "when": {"who": ["a"]}, "technique": "x", "reason": "because"}],
    }


def test_rules_naming_an_unknown_pattern_or_scenario_are_refused() -> None:
    assert parse_rules(_doc(patterns=["dp"])).techniques["x"].runs_here
    with pytest.raises(AdvisorError, match="no pattern 'quantum' in this lab"):
        parse_rules(_doc(patterns=["quantum"]))
    with pytest.raises(AdvisorError, match="no scenario 'moon'"):
        parse_rules(_doc(patterns=["dp"], scenario="moon"), scenarios=["hospitals"])
    with pytest.raises(AdvisorError, match="needs a lab_note"):
        parse_rules(_doc())
    bad = _doc(patterns=["dp"])
    bad["rule"][0]["when"] = {"who": ["c"]}
    with pytest.raises(AdvisorError, match="'c' is not one of a, b"):
        parse_rules(bad)
