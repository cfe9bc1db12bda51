"""Presenter scenarios: an experiment file plus its narration, shipped in
``ppml_lab/resources/scenarios/<key>/``.

A scenario folder holds

* ``experiment.toml``: an ordinary experiment file (the format of
  ``resources/experiments/*.toml``), run as it is by the presenter, and
* ``narration.toml``: what the presenter shows on each screen, in plain words: the question,
  the everyday analogy, the diagram of who sends what to whom (actors and steps of messages,
  readable or locked), the caption of the live run and which of the guarantee's sentences the
  result screen shows (``bars``: the two bars' labels of a ``bars`` chart), and ``[tiny]`` overrides (``"section.key" = value``) that make the run a
  few steps long for tests.

A scenario may also name a data file the user may have (``[user_data]``: e.g. the UCI Adult
census file) and a second experiment file that uses it; the presenter then runs that one on the
user's copy instead of the built-in data.

Scenarios name no pattern in code: the pattern is in the experiment file, and every sentence
about protection comes from the engine's guarantee at run time. Qt-free.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib.resources import as_file
from pathlib import Path
from typing import Any

from ppml_lab._resources import resource
from ppml_lab.experiments.config import (
    ConfigError,
    Experiment,
    experiment_from_dict,
    load_experiment,
)

__all__ = [
    "CHARTS",
    "RESULT_PARTS",
    "ROLES",
    "Actor",
    "DiagramStep",
    "Message",
    "Scenario",
    "ScenarioError",
    "UserData",
    "load_scenario",
    "load_scenarios",
]

#: The folder of the scenarios, below ``ppml_lab/resources``.
SCENARIOS_DIR = "scenarios"
#: What an actor of a diagram is (how it is drawn): a data owner, a server that computes, the
#: holder of a key, the users of a published model, or someone trying to learn too much.
ROLES = ("owner", "server", "keyholder", "user", "attacker")
#: The live run's chart: a metric over the steps, two bars (with and without protection), or one
#: bar per pattern (the comparison).
CHARTS = ("curve", "bars", "patterns")
#: What the result screen may show besides the key number, each from the results document:
#: the protection level, the guarantee's first plain-words sentence, what it protects and from
#: whom, what this run's settings did, the membership audit, and the fidelity to plaintext.
RESULT_PARTS = ("level", "plain_words", "protects", "in_this_run", "audit", "fidelity")
KINDS = ("run", "comparison")

_TOP = {"order", "kind", "title", "summary", "question", "technique", "data_note", "analogy",
        "diagram", "run", "result", "tiny", "user_data"}


class ScenarioError(ValueError):
    """A scenario's files are missing or malformed; the message names the file and the key."""


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Someone in the diagram: ``x`` and ``y`` are in [0, 1] across and down the drawing."""

    key: str
    label: str
    role: str
    x: float
    y: float


@dataclass(frozen=True, kw_only=True)
class Message:
    """Something sent from one actor to another (to itself: work done in place)."""

    source: str
    target: str
    text: str
    locked: bool


@dataclass(frozen=True, kw_only=True)
class DiagramStep:
    """One beat of the diagram: its caption and the messages that travel at the same time."""

    caption: str
    messages: tuple[Message, ...]


@dataclass(frozen=True, kw_only=True)
class UserData:
    """A data file the user may have, and the experiment file that uses it."""

    label: str
    file_names: tuple[str, ...]
    experiment_file: str
    measure: str = ""
    data_note: str = ""

    def matches(self, path: str | Path | None) -> bool:
        """Whether ``path`` is an existing file with one of the expected names (to recognise
        the file among those the user opened before).
        """
        if not path:
            return False
        p = Path(str(path))
        return p.name.lower() in {n.lower() for n in self.file_names} and p.is_file()


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """A presenter scenario (see the module docstring)."""

    key: str
    order: int
    kind: str
    title: str
    summary: str
    question: str
    technique: str
    data_note: str
    analogy_title: str
    analogy: tuple[str, ...]
    actors: tuple[Actor, ...]
    steps: tuple[DiagramStep, ...]
    run_caption: str
    chart: str
    bar_labels: tuple[str, str]
    result_subject: str
    result_measure: str
    result_show: tuple[str, ...]
    tiny: Mapping[str, Any]
    user_data: UserData | None
    experiment: Experiment

    @property
    def is_comparison(self) -> bool:
        """Whether the run is the comparison of every pattern (the closing scene)."""
        return self.kind == "comparison"

    @property
    def has_diagram(self) -> bool:
        return bool(self.actors and self.steps)

    def uses_user_data(self, path: str | Path | None) -> bool:
        """Whether the scenario would run on ``path``: it takes a user's file and the file
        exists (the user chose it; whether it has the right columns shows when it loads).
        """
        return self.user_data is not None and bool(path) and Path(str(path)).is_file()

    def measure_for(self, user_file: str | Path | None = None) -> str:
        """What the key number measures, for the data the run uses."""
        if self.uses_user_data(user_file) and self.user_data and self.user_data.measure:
            return self.user_data.measure
        return self.result_measure

    def data_note_for(self, user_file: str | Path | None = None) -> str:
        """Which data the run uses, in one sentence."""
        if self.uses_user_data(user_file) and self.user_data and self.user_data.data_note:
            return self.user_data.data_note
        return self.data_note

    def experiment_for(self, *, tiny: bool = False, user_file: str | Path | None = None) -> Experiment:
        """The experiment to run: on the user's file when it matches, shortened if ``tiny``.

        Raises
        ------
        ScenarioError
            If the user-data experiment file or the tiny overrides are malformed.
        """
        experiment = self.experiment
        if self.uses_user_data(user_file):
            experiment = _load_experiment(self.key, self.user_data.experiment_file)
            dataset = replace(experiment.dataset, source=str(Path(str(user_file)).resolve()))
            experiment = replace(experiment, dataset=dataset)
        if tiny and self.tiny:
            experiment = apply_overrides(experiment, self.tiny, where=f"{self.key}: [tiny]")
        return experiment


def apply_overrides(
    experiment: Experiment, overrides: Mapping[str, Any], *, where: str = "overrides"
) -> Experiment:
    """``experiment`` with ``"section.key" = value`` overrides applied (validated again)."""
    doc = experiment.to_dict()
    for dotted, value in overrides.items():
        section, _, key = str(dotted).partition(".")
        if not key or not isinstance(doc.get(section), dict):
            raise ScenarioError(f"{where}: {dotted!r} must be 'section.key' with section "
                                "dataset, model or pattern")
        doc[section][key] = value
    try:
        return experiment_from_dict(doc, where=where)
    except ConfigError as exc:
        raise ScenarioError(str(exc)) from None


def _load_experiment(key: str, name: str) -> Experiment:
    node = resource(SCENARIOS_DIR, key, name)
    if not node.is_file():
        raise ScenarioError(f"scenario {key!r}: no file {name}")
    with as_file(node) as path:
        try:
            return load_experiment(path)
        except ConfigError as exc:
            raise ScenarioError(f"scenario {key!r}: {exc}") from None


def _text(doc: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = doc.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ScenarioError(f"{where}: {key} must be a non-empty text, got {value!r}")
    return value.strip()


def _table(doc: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where}: [{key}] must be a table")
    return dict(value)


def _actors(diagram: Mapping[str, Any], where: str) -> tuple[Actor, ...]:
    out = []
    for i, raw in enumerate(diagram.get("actors", []) or []):
        at = f"{where}: diagram.actors[{i}]"
        if not isinstance(raw, Mapping):
            raise ScenarioError(f"{at} must be a table")
        role = raw.get("role")
        if role not in ROLES:
            raise ScenarioError(f"{at}: role must be one of {', '.join(ROLES)}, got {role!r}")
        x, y = raw.get("x"), raw.get("y")
        if not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in (x, y)):
            raise ScenarioError(f"{at}: x and y must be numbers between 0 and 1")
        out.append(Actor(key=_text(raw, "id", at), label=_text(raw, "label", at), role=role,
                         x=float(x), y=float(y)))
    if len({a.key for a in out}) != len(out):
        raise ScenarioError(f"{where}: two diagram actors have the same id")
    return tuple(out)


def _steps(diagram: Mapping[str, Any], actors: tuple[Actor, ...], where: str) -> tuple[DiagramStep, ...]:
    known = {a.key for a in actors}
    steps = []
    for i, raw in enumerate(diagram.get("steps", []) or []):
        at = f"{where}: diagram.steps[{i}]"
        if not isinstance(raw, Mapping):
            raise ScenarioError(f"{at} must be a table")
        messages = []
        for j, m in enumerate(raw.get("messages", []) or []):
            mat = f"{at}.messages[{j}]"
            if not isinstance(m, Mapping):
                raise ScenarioError(f"{mat} must be a table")
            source, target = m.get("from"), m.get("to")
            if source not in known or target not in known:
                raise ScenarioError(f"{mat}: from and to must be actor ids ({', '.join(sorted(known))})")
            locked = m.get("locked", False)
            if not isinstance(locked, bool):
                raise ScenarioError(f"{mat}: locked must be true or false")
            messages.append(Message(source=source, target=target,
                                    text=_text(m, "text", mat, required=False), locked=locked))
        steps.append(DiagramStep(caption=_text(raw, "caption", at), messages=tuple(messages)))
    return tuple(steps)


def _user_data(doc: Mapping[str, Any], key: str, where: str) -> UserData | None:
    raw = doc.get("user_data")
    if raw is None:
        return None
    raw = _table(doc, "user_data", where)
    names = raw.get("file_names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ScenarioError(f"{where}: [user_data] file_names must be a list of file names")
    data = UserData(label=_text(raw, "label", where), file_names=tuple(names),
                    experiment_file=_text(raw, "experiment", where),
                    measure=_text(raw, "measure", where, required=False),
                    data_note=_text(raw, "data_note", where, required=False))
    _load_experiment(key, data.experiment_file)  # fail now, not when the user picks a file
    return data


def scenario_from_dict(key: str, doc: Mapping[str, Any], experiment: Experiment) -> Scenario:
    """Validate a parsed ``narration.toml`` and build the :class:`Scenario`."""
    where = f"scenario {key!r} (narration.toml)"
    unknown = sorted(set(doc) - _TOP)
    if unknown:
        raise ScenarioError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(_TOP))}")
    kind = doc.get("kind", "run")
    if kind not in KINDS:
        raise ScenarioError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
    order = doc.get("order", 100)
    if not isinstance(order, int) or isinstance(order, bool):
        raise ScenarioError(f"{where}: order must be a whole number")
    analogy = _table(doc, "analogy", where)
    lines = analogy.get("lines", [])
    if not isinstance(lines, list) or not all(isinstance(s, str) for s in lines):
        raise ScenarioError(f"{where}: [analogy] lines must be a list of sentences")
    diagram = _table(doc, "diagram", where)
    actors = _actors(diagram, where)
    steps = _steps(diagram, actors, where)
    run = _table(doc, "run", where)
    chart = run.get("chart", "curve")
    if chart not in CHARTS:
        raise ScenarioError(f"{where}: [run] chart must be one of {', '.join(CHARTS)}, got {chart!r}")
    bars = run.get("bars", ["with protection", "without protection"])
    if not (isinstance(bars, list) and len(bars) == 2 and all(isinstance(b, str) for b in bars)):
        raise ScenarioError(f"{where}: [run] bars must be two labels (with and without protection)")
    result = _table(doc, "result", where)
    show = result.get("show", [])
    if not isinstance(show, list) or any(s not in RESULT_PARTS for s in show):
        raise ScenarioError(f"{where}: [result] show must list some of {', '.join(RESULT_PARTS)}")
    tiny = _table(doc, "tiny", where)
    return Scenario(
        key=key, order=order, kind=kind,
        title=_text(doc, "title", where), summary=_text(doc, "summary", where),
        question=_text(doc, "question", where), technique=_text(doc, "technique", where),
        data_note=_text(doc, "data_note", where, required=False),
        analogy_title=_text(analogy, "title", where, required=bool(lines)),
        analogy=tuple(s.strip() for s in lines if s.strip()),
        actors=actors, steps=steps,
        run_caption=_text(run, "caption", where, required=False), chart=chart,
        bar_labels=(bars[0], bars[1]),
        result_subject=_text(result, "subject", where),
        result_measure=_text(result, "measure", where),
        result_show=tuple(show), tiny=tiny,
        user_data=_user_data(doc, key, where),
        experiment=experiment,
    )


def load_scenario(key: str) -> Scenario:
    """The scenario in ``resources/scenarios/<key>/``.

    Raises
    ------
    ScenarioError
        If there is no such scenario or one of its files is malformed.
    """
    node = resource(SCENARIOS_DIR, key, "narration.toml")
    if not node.is_file():
        raise ScenarioError(f"there is no scenario {key!r}; known: {', '.join(scenario_keys())}")
    try:
        doc = tomllib.loads(node.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"scenario {key!r}: narration.toml is not valid TOML ({exc})") from None
    return scenario_from_dict(key, doc, _load_experiment(key, "experiment.toml"))


def scenario_keys() -> list[str]:
    """The keys (folder names) of the shipped scenarios, by name."""
    folder = resource(SCENARIOS_DIR)
    if not folder.is_dir():
        return []
    return sorted(n.name for n in folder.iterdir() if n.is_dir() and
                  n.joinpath("narration.toml").is_file())


def load_scenarios() -> list[Scenario]:
    """Every shipped scenario, in presenting order (the narration's ``order``)."""
    return sorted((load_scenario(k) for k in scenario_keys()), key=lambda s: (s.order, s.key))
