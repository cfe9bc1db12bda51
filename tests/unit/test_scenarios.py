"""Presenter scenarios: every shipped scenario loads, runs with its tiny settings, and tells its
result from the results document; malformed narration is refused with the file and the key."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ppml_lab.experiments.compare import run_comparison
from ppml_lab.experiments.runner import drive, run_experiment
from ppml_lab.experiments.scenario_story import comparison_story, limits_story, result_story
from ppml_lab.experiments.scenarios import (
    ScenarioError,
    load_scenario,
    load_scenarios,
    scenario_from_dict,
)

ADULT = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "adult.csv"
KEYS = ["hospitals", "census", "bank", "companies", "every_pattern"]


def test_the_five_stories_load_in_order() -> None:
    scenarios = load_scenarios()
    assert [s.key for s in scenarios] == KEYS
    patterns = {s.key: s.experiment.pattern for s in scenarios}
    assert patterns == {"hospitals": "federated", "census": "dp", "bank": "he",
                        "companies": "smpc", "every_pattern": "baseline"}
    assert [s.is_comparison for s in scenarios] == [False] * 4 + [True]
    for s in scenarios:
        assert s.question.endswith("?") and s.analogy and s.result_subject and s.result_measure
        if not s.is_comparison:
            assert len(s.steps) >= 4 and {a.role for a in s.actors} & {"owner", "keyholder"}


def test_each_story_runs_the_setting_it_tells() -> None:
    hospitals = load_scenario("hospitals").experiment
    assert hospitals.dataset.source == "builtin:breast_cancer"
    assert (hospitals.params.clients, hospitals.params.secure_aggregation) == (3, True)
    census = load_scenario("census").experiment.params
    assert census.audit and census.epsilon == 1.0 and not census.deterministic_noise
    assert load_scenario("bank").experiment.params.mode == "scoring"
    companies = load_scenario("companies").experiment.params
    assert companies.parties == 3  # threshold 1: private (two parties would not be)


def test_diagrams_show_readable_and_locked_data() -> None:
    for key in ("hospitals", "bank", "companies"):
        locks = {m.locked for step in load_scenario(key).steps for m in step.messages}
        assert locks == {True, False}, key


def test_tiny_settings_shorten_the_run() -> None:
    s = load_scenario("hospitals")
    assert s.experiment.params.rounds == 30
    assert s.experiment_for(tiny=True).params.rounds == 2
    assert s.experiment_for(tiny=True).params.secure_aggregation  # only the length changes


@pytest.mark.parametrize("key", KEYS[:4])
def test_every_story_runs_with_tiny_settings(key: str) -> None:
    scenario = load_scenario(key)
    result = drive(run_experiment(scenario.experiment_for(tiny=True)))
    assert result.status == "completed"
    doc = result.to_document()
    story = result_story(doc, subject=scenario.result_subject, measure=scenario.result_measure,
                         show=scenario.result_show)
    accuracy = doc["final"]["test_accuracy"]
    assert story.key_number == f"{accuracy * 100:.1f}%"
    assert story.sentence.startswith(f"{scenario.result_subject} got {accuracy * 100:.1f}% right")
    assert story.details and not story.flag
    assert limits_story(doc)
    assert doc["compliance"]["supports"] and "not legal advice" in doc["compliance"]["notice"]
    if key == "census":  # the membership audit ran, and the story says how it did
        assert any(d.startswith("Then an attack tried") for d in story.details)


def test_the_closing_scene_compares_every_pattern() -> None:
    scenario = load_scenario("every_pattern")
    result = drive(run_comparison(scenario.experiment_for(tiny=True), tiny=True))
    assert [r.status for r in result.rows] == ["completed"] * 5
    story = comparison_story(result, measure=scenario.result_measure)
    assert [line.label for line in story.lines][0] == "Plaintext baseline"
    assert all(line.limit for line in story.lines if not line.reference)
    drops = [-r.change_points for r in result.rows if not r.is_reference]
    assert story.key_number == f"{max(max(drops), 0.0):.1f}"


@pytest.mark.skipif(not ADULT.is_file(), reason="the Adult census file is not next to the repo")
def test_the_census_story_uses_the_users_file_when_given() -> None:
    s = load_scenario("census")
    assert s.user_data is not None and s.user_data.matches(ADULT)
    assert not s.user_data.matches(ADULT.with_name("other.csv"))
    experiment = s.experiment_for(user_file=ADULT)
    assert experiment.dataset.source == str(ADULT.resolve())
    assert experiment.dataset.target == "income" and experiment.dataset.scaling == "bounds"
    assert experiment.params == s.experiment.params
    assert "census" in s.data_note_for(ADULT) and "invented" in s.data_note_for(None)
    assert s.measure_for(ADULT) != s.measure_for(None)


def test_a_missing_user_file_keeps_the_built_in_data(tmp_path: Path) -> None:
    s = load_scenario("census")
    assert s.experiment_for(user_file=tmp_path / "adult.csv").dataset.source == "builtin:synthetic"


def _narration(**changes: object) -> dict:
    doc = {
        "title": "T", "summary": "S", "question": "Q?", "technique": "X",
        "analogy": {"title": "A", "lines": ["one"]},
        "diagram": {"actors": [{"id": "a", "label": "A", "role": "owner", "x": 0.1, "y": 0.5}],
                    "steps": [{"caption": "c", "messages": [{"from": "a", "to": "a",
                                                             "text": "t", "locked": True}]}]},
        "result": {"subject": "The model", "measure": "of rows"},
    }
    doc.update(changes)
    return doc


def test_malformed_narration_is_refused_with_the_key() -> None:
    experiment = load_scenario("hospitals").experiment
    assert scenario_from_dict("x", _narration(), experiment).has_diagram
    with pytest.raises(ScenarioError, match="unknown key 'colour'"):
        scenario_from_dict("x", _narration(colour="red"), experiment)
    bad_role = _narration()
    bad_role["diagram"] = {**bad_role["diagram"],
                           "actors": [{"id": "a", "label": "A", "role": "king", "x": 0, "y": 0}]}
    with pytest.raises(ScenarioError, match="role must be one of owner, server"):
        scenario_from_dict("x", bad_role, experiment)
    bad_message = _narration()
    bad_message["diagram"]["steps"][0]["messages"][0]["to"] = "b"
    with pytest.raises(ScenarioError, match="from and to must be actor ids"):
        scenario_from_dict("x", bad_message, experiment)
    with pytest.raises(ScenarioError, match=r"\[result\] show must list some of"):
        scenario_from_dict("x", _narration(result={"subject": "s", "measure": "m",
                                                   "show": ["everything"]}), experiment)
    with pytest.raises(ScenarioError, match="there is no scenario 'moon'"):
        load_scenario("moon")


def test_bad_tiny_overrides_are_refused() -> None:
    s = replace(load_scenario("hospitals"), tiny={"pattern.rounds": -1})
    with pytest.raises(ScenarioError, match="rounds"):
        s.experiment_for(tiny=True)
    s = replace(load_scenario("hospitals"), tiny={"rounds": 2})
    with pytest.raises(ScenarioError, match="'section.key'"):
        s.experiment_for(tiny=True)
