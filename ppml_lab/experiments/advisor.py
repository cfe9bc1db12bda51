"""The pattern advisor: "Which pattern fits my situation?"

A short questionnaire (where the data is, what is needed, whom it must be kept from, whether the
results must be exact, the computing budget, special hardware) is matched against rules kept in
a data file, ``ppml_lab/resources/advisor/rules.toml``, which says how (its header comment). The
answer is a list of techniques, best first, each with its reasons, the cautions that apply, and
which of the people to keep out it covers and which it does not. Techniques the lab cannot run
(hardware enclaves, PATE) are explained with their trust assumptions.

Nothing here names a pattern: the rules file links each technique to the lab's patterns and to
the presenter scenario that shows it. :func:`rules_text` and :func:`rules_outline` print the rules
for a report's methodology section. Qt-free.

Examples
--------
>>> advice = advise({"where": "several_owners", "task": "train",          # doctest: +SKIP
...                  "protect_from": ["server"], "exact": "no", "budget": "medium",
...                  "hardware": "no"})
>>> advice.best.technique.title                                            # doctest: +SKIP
'Federated learning with secure aggregation'
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ppml_lab._resources import read_text
from ppml_lab.engines.registry import engine_names

__all__ = [
    "Advice",
    "AdvisorError",
    "Caution",
    "Question",
    "Recommendation",
    "Rule",
    "Rules",
    "Technique",
    "advise",
    "load_rules",
    "rules_outline",
    "rules_text",
]

RULES_FILE = ("advisor", "rules.toml")
#: The value of a several-answers condition that means "nothing ticked".
NONE = "none"


class AdvisorError(ValueError):
    """The rules file is malformed, or an answer is not one of the question's choices."""


@dataclass(frozen=True, kw_only=True)
class Choice:
    key: str
    text: str
    phrase: str


@dataclass(frozen=True, kw_only=True)
class Question:
    key: str
    text: str
    choices: tuple[Choice, ...]
    multiple: bool = False
    default: str = ""

    @property
    def default_answer(self) -> str | None:
        """The answer ticked when the questionnaire opens (None for several answers)."""
        return None if self.multiple else (self.default or self.choices[0].key)

    def choice(self, key: str) -> Choice:
        for c in self.choices:
            if c.key == key:
                return c
        raise AdvisorError(f"{self.key}: {key!r} is not one of "
                           f"{', '.join(c.key for c in self.choices)}")


@dataclass(frozen=True, kw_only=True)
class Technique:
    """A technique the advisor may recommend (see the rules file's ``[technique.*]``)."""

    key: str
    title: str
    summary: str
    patterns: tuple[str, ...] = ()
    scenario: str = ""
    covers: tuple[str, ...] = ()
    trust: tuple[str, ...] = ()
    lab_note: str = ""

    @property
    def runs_here(self) -> bool:
        """Whether one of the lab's patterns runs it."""
        return bool(self.patterns)


@dataclass(frozen=True, kw_only=True)
class Rule:
    id: str
    when: Mapping[str, Any]
    technique: str
    score: int
    reason: str
    unless: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Caution:
    id: str
    when: Mapping[str, Any]
    techniques: tuple[str, ...]
    penalty: int
    text: str


@dataclass(frozen=True, kw_only=True)
class Rules:
    """The parsed rules file."""

    title: str
    notice: str
    keep_from: str
    questions: tuple[Question, ...]
    techniques: Mapping[str, Technique]
    rules: tuple[Rule, ...]
    cautions: tuple[Caution, ...]

    def question(self, key: str) -> Question:
        for q in self.questions:
            if q.key == key:
                return q
        raise AdvisorError(f"there is no question {key!r}; questions: "
                           f"{', '.join(q.key for q in self.questions)}")


@dataclass(frozen=True, kw_only=True)
class Recommendation:
    """One technique the answers point to, with why, what to watch, and what it leaves open.

    ``covered`` and ``gaps`` are the texts of the ticked "keep it from" answers the technique
    covers and does not cover.
    """

    technique: Technique
    score: int
    reasons: tuple[str, ...]
    cautions: tuple[str, ...]
    covered: tuple[str, ...]
    gaps: tuple[str, ...]
    rules: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Advice:
    recommendations: tuple[Recommendation, ...]
    notice: str

    @property
    def best(self) -> Recommendation | None:
        return self.recommendations[0] if self.recommendations else None

    def keys(self) -> list[str]:
        """The recommended techniques' keys, best first."""
        return [r.technique.key for r in self.recommendations]


# ------------------------------------------------------------------------------ loading ---


def _str(doc: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = doc.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise AdvisorError(f"{where}: {key} must be a non-empty text")
    return value.strip()


def _strs(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AdvisorError(f"{where} must be a list of texts")
    return tuple(value)


def _check_condition(cond: Any, questions: Mapping[str, Question], where: str) -> dict[str, Any]:
    if not isinstance(cond, Mapping):
        raise AdvisorError(f"{where} must be a table of question = answer")
    for key, value in cond.items():
        if key not in questions:
            raise AdvisorError(f"{where}: there is no question {key!r}")
        q = questions[key]
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values:
            raise AdvisorError(f"{where}: {key} must be a choice or a list of choices")
        for v in values:
            if not (q.multiple and v == NONE):
                try:
                    q.choice(v)
                except AdvisorError as exc:
                    raise AdvisorError(f"{where}: {exc}") from None
    return dict(cond)


def parse_rules(doc: Mapping[str, Any], *, scenarios: Sequence[str] | None = None) -> Rules:
    """Validate a parsed rules document (patterns and scenarios must exist)."""
    questions: dict[str, Question] = {}
    for i, raw in enumerate(doc.get("question", [])):
        where = f"rules.toml: question[{i}]"
        choices = tuple(
            Choice(key=_str(c, "key", where), text=_str(c, "text", where),
                   phrase=_str(c, "phrase", where))
            for c in raw.get("choice", [])
        )
        if len(choices) < 2:
            raise AdvisorError(f"{where}: a question needs at least two choices")
        q = Question(key=_str(raw, "key", where), text=_str(raw, "text", where),
                     choices=choices, multiple=bool(raw.get("multiple", False)),
                     default=_str(raw, "default", where, required=False))
        if q.default:
            q.choice(q.default)
        questions[q.key] = q
    keep_from = next((q.key for q in questions.values() if q.multiple), "")
    if not keep_from:
        raise AdvisorError("rules.toml: one question must allow several answers (whom to keep "
                           "the data from)")
    patterns = set(engine_names())
    known_scenarios = set(scenarios) if scenarios is not None else None
    techniques: dict[str, Technique] = {}
    for key, raw in (doc.get("technique") or {}).items():
        where = f"rules.toml: technique.{key}"
        t = Technique(
            key=key, title=_str(raw, "title", where), summary=_str(raw, "summary", where),
            patterns=_strs(raw.get("patterns", []), f"{where}: patterns"),
            scenario=_str(raw, "scenario", where, required=False),
            covers=_strs(raw.get("covers", []), f"{where}: covers"),
            trust=_strs(raw.get("trust", []), f"{where}: trust"),
            lab_note=_str(raw, "lab_note", where, required=False),
        )
        unknown = [p for p in t.patterns if p not in patterns]
        if unknown:
            raise AdvisorError(f"{where}: no pattern {unknown[0]!r} in this lab")
        for c in t.covers:
            questions[keep_from].choice(c)
        if t.scenario and known_scenarios is not None and t.scenario not in known_scenarios:
            raise AdvisorError(f"{where}: no scenario {t.scenario!r}")
        if not t.runs_here and not t.lab_note:
            raise AdvisorError(f"{where}: a technique the lab cannot run needs a lab_note")
        techniques[key] = t
    rules = []
    for i, raw in enumerate(doc.get("rule", [])):
        where = f"rules.toml: rule[{i}]"
        rule = Rule(
            id=_str(raw, "id", where), technique=_str(raw, "technique", where),
            when=_check_condition(raw.get("when"), questions, f"{where}: when"),
            unless=_check_condition(raw.get("unless", {}), questions, f"{where}: unless"),
            score=int(raw.get("score", 1)), reason=_str(raw, "reason", where),
        )
        if rule.technique not in techniques:
            raise AdvisorError(f"{where}: no technique {rule.technique!r}")
        rules.append(rule)
    cautions = []
    for i, raw in enumerate(doc.get("caution", [])):
        where = f"rules.toml: caution[{i}]"
        caution = Caution(
            id=_str(raw, "id", where),
            when=_check_condition(raw.get("when"), questions, f"{where}: when"),
            techniques=_strs(raw.get("techniques", []), f"{where}: techniques"),
            penalty=int(raw.get("penalty", 0)), text=_str(raw, "text", where),
        )
        missing = [t for t in caution.techniques if t not in techniques]
        if missing:
            raise AdvisorError(f"{where}: no technique {missing[0]!r}")
        cautions.append(caution)
    return Rules(title=_str(doc, "title", "rules.toml"), notice=_str(doc, "notice", "rules.toml"),
                 keep_from=keep_from, questions=tuple(questions.values()),
                 techniques=techniques, rules=tuple(rules), cautions=tuple(cautions))


@lru_cache(maxsize=1)
def load_rules() -> Rules:
    """The shipped rules (``resources/advisor/rules.toml``), checked against the lab's patterns
    and scenarios.
    """
    from ppml_lab.experiments.scenarios import scenario_keys

    try:
        doc = tomllib.loads(read_text(*RULES_FILE))
    except tomllib.TOMLDecodeError as exc:
        raise AdvisorError(f"rules.toml is not valid TOML ({exc})") from None
    return parse_rules(doc, scenarios=scenario_keys())


# ----------------------------------------------------------------------------- advising ---


def _normalise(answers: Mapping[str, Any], rules: Rules) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in answers.items():
        q = rules.question(key)
        if q.multiple:
            values = [value] if isinstance(value, str) else list(value or ())
            for v in values:
                q.choice(v)
            out[key] = frozenset(values)
        elif value is not None:
            q.choice(str(value))
            out[key] = str(value)
    for q in rules.questions:
        if q.multiple:
            out.setdefault(q.key, frozenset())
    return out


def _holds(cond: Mapping[str, Any], answers: Mapping[str, Any], rules: Rules) -> bool:
    for key, value in cond.items():
        answer = answers.get(key)
        if rules.question(key).multiple:
            if value == NONE:
                if answer:
                    return False
            elif not set([value] if isinstance(value, str) else value) <= set(answer or ()):
                return False
        elif answer is None or answer not in ([value] if isinstance(value, str) else value):
            return False
    return True


def advise(answers: Mapping[str, Any], rules: Rules | None = None) -> Advice:
    """The techniques that fit ``answers`` (question key -> choice key, or a list of choice keys
    for the several-answers question), best first.

    An unanswered question makes every condition on it fail.

    Raises
    ------
    AdvisorError
        For an unknown question or choice.
    """
    rules = rules or load_rules()
    given = _normalise(answers, rules)
    fired: dict[str, list[Rule]] = {}
    for rule in rules.rules:
        if _holds(rule.when, given, rules) and not (rule.unless and _holds(rule.unless, given, rules)):
            fired.setdefault(rule.technique, []).append(rule)
    keep_from = rules.question(rules.keep_from)
    ticked = [c for c in keep_from.choices if c.key in given.get(rules.keep_from, ())]
    out = []
    for key, fired_rules in fired.items():
        technique = rules.techniques[key]
        cautions = [c for c in rules.cautions if key in c.techniques and _holds(c.when, given, rules)]
        out.append(Recommendation(
            technique=technique,
            score=max(r.score for r in fired_rules) - sum(c.penalty for c in cautions),
            reasons=tuple(dict.fromkeys(r.reason for r in fired_rules)),
            cautions=tuple(c.text for c in cautions),
            covered=tuple(c.text for c in ticked if c.key in technique.covers),
            gaps=tuple(c.text for c in ticked if c.key not in technique.covers),
            rules=tuple(r.id for r in fired_rules),
        ))
    out.sort(key=lambda r: (-r.score, len(r.gaps), r.technique.title))
    return Advice(recommendations=tuple(out), notice=rules.notice)


# ------------------------------------------------------------------------- as text ---


def _condition_words(cond: Mapping[str, Any], rules: Rules) -> list[str]:
    words = []
    for key, value in cond.items():
        q = rules.question(key)
        if q.multiple and value == NONE:
            words.append(f"nothing is ticked for “{q.text.split(' (')[0]}”")
            continue
        values = [value] if isinstance(value, str) else list(value)
        phrases = [q.choice(v).phrase for v in values]
        words.append(" and ".join(phrases) if q.multiple else " or ".join(phrases))
    return words


def rules_outline(rules: Rules | None = None) -> dict[str, Any]:
    """The rules as plain data for a report: questions, techniques, rules and cautions in words.

    Each rule is ``{"id", "if": [condition in words, ...], "unless": [...], "then": technique
    title, "score", "because"}``; each caution ``{"id", "if", "techniques", "penalty", "says"}``.
    """
    rules = rules or load_rules()
    titles = {k: t.title for k, t in rules.techniques.items()}
    return {
        "title": rules.title,
        "notice": rules.notice,
        "questions": [{"text": q.text, "several_answers": q.multiple,
                       "choices": [c.text for c in q.choices]} for q in rules.questions],
        "techniques": [{"title": t.title, "summary": t.summary, "runs_in_this_lab": t.runs_here,
                        "trust": list(t.trust), "lab_note": t.lab_note}
                       for t in rules.techniques.values()],
        "rules": [{"id": r.id, "if": _condition_words(r.when, rules),
                   "unless": _condition_words(r.unless, rules), "then": titles[r.technique],
                   "score": r.score, "because": r.reason} for r in rules.rules],
        "cautions": [{"id": c.id, "if": _condition_words(c.when, rules),
                      "techniques": [titles[t] for t in c.techniques], "penalty": c.penalty,
                      "says": c.text} for c in rules.cautions],
        "ranking": "A technique's score is the highest score of the rules that recommend it, "
                   "minus the penalty of every caution that applies; techniques are listed best "
                   "first, and each says which of the people to keep the data from it covers.",
    }


def rules_text(rules: Rules | None = None) -> str:
    """The advisor's questions, rules and cautions as plain text (for a methodology section)."""
    o = rules_outline(rules)
    lines = [o["title"], "", o["notice"], "", "Questions:"]
    for i, q in enumerate(o["questions"], 1):
        lines.append(f"{i}. {q['text']} " + " / ".join(q["choices"]))
    lines += ["", "Rules (a rule recommends its technique when all its conditions hold):"]
    for r in o["rules"]:
        cond = "; ".join(r["if"])
        unless = f", unless {'; '.join(r['unless'])}" if r["unless"] else ""
        lines.append(f"- If {cond}{unless}: {r['then']} (score {r['score']}). {r['because']}")
    lines += ["", "Cautions (they lower a technique's score):"]
    for c in o["cautions"]:
        lines.append(f"- If {'; '.join(c['if'])}: {', '.join(c['techniques'])} "
                     f"(-{c['penalty']}). {c['says']}")
    lines += ["", o["ranking"], "", "Techniques and what they rely on:"]
    for t in o["techniques"]:
        note = f" {t['lab_note']}" if t["lab_note"] else ""
        lines.append(f"- {t['title']}: {t['summary']} Relies on: {' '.join(t['trust'])}{note}")
    return "\n".join(lines) + "\n"
