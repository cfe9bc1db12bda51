"""The presenter's sentences about a finished run, built from its results document.

Nothing here is written per pattern: the key number and the comparison with the unprotected
model come from the document's ``final``, ``baseline`` and ``evaluation`` sections (through
:class:`~ppml_lab.experiments.evaluation.Headline`), and every sentence about protection from
its ``protection`` section (the engine's :class:`~ppml_lab.engines.contract.Guarantee`), its
membership audit and its fidelity figures. The scenario's narration only chooses which of those
parts the result screen shows and names the subject ("The hospitals' shared model") and what the
key number measures. Qt-free, so the sentences are unit-tested.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ppml_lab.experiments.compare import ComparisonResult
from ppml_lab.experiments.evaluation import Headline
from ppml_lab.experiments.narrative import best_attack, pct
from ppml_lab.jsonable import number_or_none

__all__ = [
    "ComparisonLine",
    "ComparisonStory",
    "ResultStory",
    "comparison_story",
    "limits_story",
    "result_story",
    "sentences",
]


@dataclass(frozen=True, kw_only=True)
class ResultStory:
    """The result screen: one big number, one sentence, then the protection in plain words.

    Attributes
    ----------
    key_number : str
        "97.3%" (or "—" when the run produced no accuracy).
    key_caption : str
        What the number measures ("of test patients diagnosed correctly").
    sentence : str
        The result in one sentence, against the same model trained without protection.
    details : tuple of str
        The protection's sentences the scenario chose (from the results document).
    flag : str
        A warning that must be read first ("NOT PRIVATE ...", "no better than guessing"), or "".
    """

    key_number: str
    key_caption: str
    sentence: str
    details: tuple[str, ...] = ()
    flag: str = ""


def _plain(text: Any) -> str:
    """``text`` without HTML tags and entities, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", str(text))).split())


def _cap(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text


def _period(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def sentences(text: str) -> list[str]:
    """``text`` cut into sentences (at ". " before a capital letter), each capitalised."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z])", _plain(text))
    return [_period(_cap(p)) for p in parts if p.strip()]


def _against_reference(reference: float, diff: float) -> str:
    """The sentence comparing the run with the same model trained without protection."""
    points = abs(diff) * 100
    head = f"The same model trained with no protection gets {pct(reference)}"
    if points < 0.5:
        return f"{head}: no measurable difference."
    if diff < 0:
        return f"{head}, so the protection cost {points:.1f} points."
    return (f"{head}; the {points:.1f}-point gain is chance variation on this test, not an "
            "effect of the protection.")


def _small(value: float) -> str:
    """A small positive bound as a person writes it (0.000004, not 4e-06), rounded up to one
    significant digit so that "at most" stays true.
    """
    if value <= 0:
        return "0"
    exponent = math.floor(math.log10(value))
    digit = math.ceil(round(value / 10 ** exponent, 9))
    if digit == 10:
        digit, exponent = 1, exponent + 1
    return f"{digit * 10.0 ** exponent:.{max(0, -exponent)}f}"


def _audit_sentence(audit: Any) -> str:
    best = best_attack(audit if isinstance(audit, Mapping) else None)
    if best is None:
        return ""
    text = (
        "Then an attack tried to tell who was in the training data. Shown one person who was "
        f"and one who was not, its best attempt picked the right one {best['auc'] * 100:.0f}% "
        "of the time; blind guessing gets 50%."
    )
    if best["lower"] <= 0:
        text += " It found no measurable leak."
    return text


def _protects_sentences(protection: Mapping[str, Any]) -> list[str]:
    protects = _plain(protection.get("protects", ""))
    adversary = _plain(protection.get("adversary", ""))
    if not protects:
        return []
    head, sep, rest = protects.partition(": ")
    who = f"Protected from {adversary}: " if adversary else "Protected: "
    out = [_period(who + head[:1].lower() + head[1:])]
    if sep:
        out += sentences(rest)
    return out


def _in_this_run(protection: Mapping[str, Any]) -> list[str]:
    out = []
    for line in protection.get("in_this_run") or ():
        text = re.sub(r"^In this run:\s*", "", _plain(line))
        out.append(_period(_cap(text)))
    return out


def _level_sentence(protection: Mapping[str, Any]) -> str:
    level = str(protection.get("level") or "")
    eps = number_or_none(protection.get("epsilon"))
    if not level or level == "none":
        return ""
    if eps is None:
        return _period(f"Protection level: {level}")
    return f"Protection level: {level} (privacy budget epsilon = {eps:.2g})."


def result_story(doc: Mapping[str, Any], *, subject: str, measure: str,
                 show: Iterable[str] = ()) -> ResultStory:
    """The result screen of a run's results document (``RunResult.to_document()``).

    ``show`` lists the parts of :data:`~ppml_lab.experiments.scenarios.RESULT_PARTS` to add
    after the sentence, in that order; a part the document does not have is left out.
    """
    headline = Headline.from_document(doc, is_reference=False)
    protection = doc.get("protection") or {}
    if headline.accuracy is None:
        sentence = f"{subject} produced no test result"
        sentence += " (the run was stopped)." if headline.cancelled else "."
        return ResultStory(key_number="—", key_caption=measure, sentence=sentence)
    sentence = f"{subject} got {pct(headline.accuracy)} right"
    if headline.reference_accuracy is not None and headline.difference is not None:
        sentence += ". " + _against_reference(headline.reference_accuracy, headline.difference)
    else:
        sentence += "."
    details: list[str] = []
    for part in show:
        if part == "level":
            details += [s for s in [_level_sentence(protection)] if s]
        elif part == "plain_words":
            words = protection.get("in_plain_words") or []
            details += [str(words[0])] if words else []
        elif part == "protects":
            details += _protects_sentences(protection)
        elif part == "in_this_run":
            details += _in_this_run(protection)
        elif part == "audit":
            details += [s for s in [_audit_sentence((doc.get("extra") or {}).get("audit"))] if s]
        elif part == "fidelity":
            err = number_or_none((doc.get("fidelity") or {}).get("max_abs_error"))
            if err is not None:
                details.append(
                    "The answers computed on locked data differ from those on readable data by "
                    f"at most {_small(err)}." if err > 0 else
                    "The answers computed on locked data are exactly those on readable data.")
    flag = ""
    if protection.get("no_protection"):
        flag = _plain(protection.get("no_protection_reason") or protection.get("level"))
    elif headline.no_better_than_guessing:
        flag = ("The model is no better than always guessing the commonest answer: it has "
                "learned nothing useful, whatever its protection.")
    if headline.cancelled:
        flag = (flag + " " if flag else "") + "The run was stopped before the end."
    return ResultStory(key_number=pct(headline.accuracy), key_caption=measure,
                       sentence=sentence, details=tuple(details), flag=flag)


def _clauses(sentence: str, *, longer_than: int = 120) -> list[str]:
    """A long sentence cut at its top-level "; " (not inside brackets) into shorter ones."""
    if len(sentence) <= longer_than:
        return [sentence]
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(sentence):
        depth += ch == "("
        depth -= ch == ")"
        if ch == ";" and depth == 0 and sentence[i + 1:i + 2] == " ":
            parts.append(sentence[start:i])
            start = i + 2
    parts.append(sentence[start:])
    out = []
    for part in parts:
        part = re.sub(r"^(and|or)\s+", "", part.strip())
        if part:
            out.append(_period(_cap(part)))
    return out


def _key(text: str) -> str:
    """What a limit says, for spotting repeats: no brackets, case or punctuation."""
    text = re.sub(r"\([^)]*\)", "", text.lower())
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text).split())


def limits_story(doc: Mapping[str, Any]) -> list[str]:
    """"What this does not protect": the guarantee's ``not_protected`` items, sentence by
    sentence (long ones cut at their semicolons), without repeats: of two that say the same
    thing, the more detailed one is kept, in the first one's place.
    """
    protection = doc.get("protection") or {}
    out: list[str] = []
    keys: list[str] = []
    for item in protection.get("not_protected") or ():
        for sentence in sentences(str(item)):
            for text in _clauses(sentence):
                key = _key(text)
                if not key:
                    continue
                same = next((i for i, k in enumerate(keys)
                             if k == key or k.startswith(key) or key.startswith(k)), None)
                if same is None:
                    out.append(text)
                    keys.append(key)
                elif len(text) > len(out[same]):
                    out[same], keys[same] = text, key
    return out


@dataclass(frozen=True, kw_only=True)
class ComparisonLine:
    """One pattern in the presenter's comparison (from a :class:`ComparisonRow`)."""

    label: str
    accuracy: str
    change: str
    cost: str
    who: str
    reference: bool = False
    completed: bool = True
    limit: str = ""


@dataclass(frozen=True, kw_only=True)
class ComparisonStory:
    """The closing scene's result: the largest accuracy price, one sentence, one line per
    pattern.
    """

    key_number: str
    key_caption: str
    sentence: str
    lines: tuple[ComparisonLine, ...]


def _times(ratio: float | None) -> str:
    if ratio is None:
        return ""
    if ratio < 1.5:
        return "about as long"
    return f"{ratio:.0f}× as long" if ratio < 1000 else f"{ratio:,.0f}× as long"


def comparison_story(result: ComparisonResult, *, measure: str) -> ComparisonStory:
    """The closing scene of a comparison of every pattern (``run_comparison``'s result)."""
    lines: list[ComparisonLine] = []
    ref = result.reference
    drops: list[float] = []
    ratios: list[float] = []
    accuracies: list[float] = []
    for row in result.rows:
        if not row.completed:
            lines.append(ComparisonLine(label=row.label, accuracy="—", change="", cost="",
                                        who=f"Did not run: {_plain(row.reason)}",
                                        reference=row.is_reference, completed=False))
            continue
        change = ""
        if not row.is_reference and row.change_points is not None:
            change = ("no change" if abs(row.change_points) < 0.5
                      else f"{row.change_points:+.1f} points")
            drops.append(-row.change_points)
        if not row.is_reference and row.time_ratio is not None:
            ratios.append(row.time_ratio)
        if not row.is_reference and row.test_accuracy is not None:
            accuracies.append(row.test_accuracy)
        run = result.runs.get(row.pattern)
        limit = ""
        if run is not None:
            items = run.guarantee().not_protected
            limit = sentences(items[0])[0] if items and sentences(items[0]) else ""
        lines.append(ComparisonLine(
            label=row.label,
            accuracy=pct(row.test_accuracy) if row.test_accuracy is not None else "—",
            change=change,
            cost="the yardstick" if row.is_reference else _times(row.time_ratio).replace(
                "as long", "the time"),
            who=_plain(row.who_sees),
            reference=row.is_reference,
            limit=limit,
        ))
    worst = max(drops) if drops else None
    key = "—" if worst is None else f"{max(worst, 0.0):.1f}"
    parts = []
    if ref is not None and ref.test_accuracy is not None:
        parts.append(f"Without protection the model gets {pct(ref.test_accuracy)} right")
    if accuracies:
        low, high = min(accuracies), max(accuracies)
        span = pct(low) if abs(high - low) < 0.0005 else f"between {pct(low)} and {pct(high)}"
        parts.append(f"the protected techniques got {span}")
    sentence = "; ".join(parts) + "." if parts else "No technique finished."
    if ratios and max(ratios) >= 1.5:
        sentence += (f" The bigger price is time: the slowest took {_times(max(ratios))} as "
                     "ordinary training.")
    elif ratios:
        sentence += " None of them took noticeably longer than ordinary training."
    return ComparisonStory(key_number=key, key_caption=measure, sentence=sentence,
                           lines=tuple(lines))
