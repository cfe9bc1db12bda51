"""A result's story in plain words: the same sentences for the window, the CLI and the PDF report.

Everything here reads a results document (``RunResult.to_document()``) and the engine's contract
(its ``label`` and its :class:`~ppml_lab.engines.contract.Guarantee`, kept in the document's
``protection`` section); nothing names a pattern.

* :func:`guessing_words` - the flag of a model no better than always guessing the commonest class
  (the window's headline card shows it too);
* :func:`setting_words` - the protection a run used, in a few words ("ε = 1, δ = 1e-05 per
  training record", "3 parties, threshold t = 1"), the comparison table's words;
* :func:`audit_words` - what a membership attack achieved against the model;
* :func:`run_story` - the question, the protection, a narrative with the real numbers and a
  verdict on cost and protection (:class:`Story`), for page 1 of a report.

The verdict's bands (:data:`COST_BANDS`) are stated in the report's methodology.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ppml_lab.engines.contract import Guarantee
from ppml_lab.experiments.evaluation import Headline
from ppml_lab.jsonable import number_or_none

__all__ = [
    "COST_BANDS",
    "Story",
    "fmt_bytes",
    "audit_words",
    "best_attack",
    "guarantee_from_document",
    "guessing_words",
    "lower_first",
    "pct",
    "run_story",
    "setting_words",
]

#: Accuracy cost bands of the verdict, in percentage points lost against plaintext.
COST_BANDS = ((1.0, "small"), (5.0, "moderate"), (math.inf, "large"))


def pct(value: float | None, digits: int = 1) -> str:
    """A fraction as a percentage ("92.9%"), or "—"."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value * 100:.{digits}f}%"


def fmt_bytes(value: float) -> str:
    """A byte count in words ("812 B", "12.9 kB", "1.3 MB")."""
    size = float(value)
    for prefix in ("B", "kB", "MB", "GB"):
        if abs(size) < 1000:
            return f"{size:,.0f} {prefix}" if prefix == "B" else f"{size:.3g} {prefix}"
        size /= 1000
    return f"{size:.3g} TB"


def lower_first(text: str) -> str:
    """"Differential privacy" -> "differential privacy" (an acronym such as "HE" is kept)."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def guarantee_from_document(protection: Mapping[str, Any] | None) -> Guarantee:
    """The :class:`Guarantee` a results document's ``protection`` section was written from."""
    protection = protection or {}
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Guarantee):
        if f.name in protection and protection[f.name] is not None:
            value = protection[f.name]
            values[f.name] = tuple(value) if isinstance(value, list) else value
    values.setdefault("protects", "")
    return Guarantee(**values)


def setting_words(protection: Mapping[str, Any] | None, *, is_reference: bool) -> dict[str, Any]:
    """The protection in the comparison table's words: ``level``, ``guarantee_numbers``
    (epsilon and delta, or what the run's settings give), ``who_sees``, ``not_private`` ...
    """
    from ppml_lab.experiments.compare import _guarantee_fields  # one wording for both

    return _guarantee_fields(guarantee_from_document(protection), reference=is_reference)


def guessing_words(h: Headline) -> str:
    """Why a model is flagged as no better (or worse) than always guessing the commonest class.

    "No better than guessing: always answering “benign” is right 62.8% of the time; on 113 test
    rows a model needs 70.8% to be clearly better".
    """
    acc, rate = h.accuracy or 0.0, h.majority_rate
    worse = rate is not None and acc < rate
    what = "Worse than guessing" if worse else "No better than guessing"
    guess = f"always answering “{h.majority_class}”" if h.majority_class else "always guessing"
    text = f"{what}: {guess} is right {pct(rate)} of the time" if rate is not None else what
    if h.accuracy_needed is not None and not worse:
        text += (f"; on {h.test_rows:,} test rows a model needs {pct(h.accuracy_needed)} "
                 "to be clearly better")
    return text


def best_attack(audit: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The membership audit's strongest attack: ``auc`` (the best), ``lower`` (the largest
    proven epsilon, 0 when no leakage was proven), ``attacks`` (how many), ``members`` and
    ``nonmembers`` (records attacked); None without a finished audit.
    """
    if not isinstance(audit, Mapping) or not audit or audit.get("cancelled"):
        return None
    attacks = [a for a in (audit.get("attacks") or {}).values() if isinstance(a, Mapping)]
    scored = [(number_or_none(a.get("auc")), a) for a in attacks]
    scored = [(auc, a) for auc, a in scored if auc is not None]
    if not scored:
        return None
    best_auc, best = max(scored, key=lambda pair: pair[0])
    return {
        "auc": best_auc,
        "lower": max((number_or_none(a.get("epsilon_lower_bound")) or 0.0) for _, a in scored),
        "attacks": len(scored),
        "members": best.get("n_members"),
        "nonmembers": best.get("n_nonmembers"),
    }


def audit_words(audit: Mapping[str, Any] | None) -> str:
    """What the membership attacks achieved, in one or two sentences ("" without an audit)."""
    if isinstance(audit, Mapping) and audit.get("cancelled"):
        return "The membership attack on the model was cancelled before it finished."
    best = best_attack(audit)
    if best is None:
        return ""
    n_in, n_out = best["members"], best["nonmembers"]
    records = (f" on {n_in:,} training and {n_out:,} unseen records"
               if isinstance(n_in, int) and isinstance(n_out, int) else "")
    tries = f"the best of {best['attacks']} attacks" if best["attacks"] > 1 else "the attack"
    if best["lower"] <= 0:
        return (
            "An attacker trying to tell whether a person's record was used in training did no "
            f"better than chance could explain: {tries} reached AUC {best['auc']:.2f}{records} "
            "(0.5 is a coin toss, 1.0 a perfect attack)."
        )
    return (
        "An attacker trying to tell whether a person's record was used in training did "
        f"better than chance: {tries} reached AUC {best['auc']:.2f}{records} (0.5 is a coin "
        f"toss), proof of a leak of at least ε = {best['lower']:.2g}."
    )


@dataclass(frozen=True, kw_only=True)
class Story:
    """Page 1 of a run's report: what was asked, what protected it, what happened, the verdict.

    Attributes
    ----------
    question : str
        The question the run answers.
    protection : str
        The pattern and its setting in a few words.
    sentences : list of str
        The narrative, with the real numbers.
    cost_verdict, protection_verdict : str
        One sentence each.
    alert : str
        Why the setting gives no protection at all ("" when it gives some).
    useless : bool
        The model is no better than guessing.
    headline : Headline
        The figures the sentences were written from.
    """

    question: str
    protection: str
    sentences: list[str] = field(default_factory=list)
    cost_verdict: str = ""
    protection_verdict: str = ""
    alert: str = ""
    useless: bool = False
    headline: Headline | None = None


def _accuracy_sentence(h: Headline, with_what: str) -> str:
    if h.accuracy is None:
        return ("The run produced no test accuracy"
                + (" (it was cancelled before the model was finished)." if h.cancelled else "."))
    if h.is_reference:
        return f"Without any protection the model's test accuracy is {pct(h.accuracy)}."
    if h.reference_accuracy is None:
        return (f"{with_what}, test accuracy is {pct(h.accuracy)} (no plaintext reference was "
                "trained to compare with).")
    diff = h.difference or 0.0
    if abs(diff) < 0.0005:
        move = f"stayed at {pct(h.accuracy)}, the same as without protection"
    else:
        move = (f"went from {pct(h.reference_accuracy)} without protection to {pct(h.accuracy)} "
                f"({diff * 100:+.1f} points)")
    noise = h.noise_words()
    if noise == "single run":
        noise = "a single run, so how much accuracy varies from run to run was not measured"
    return f"{with_what}, test accuracy {move}; {noise}."


def _cost_verdict(h: Headline, bytes_ratio: float | None) -> str:
    if h.accuracy is None:
        return "No verdict on the cost: the run has no result."
    if h.no_better_than_guessing:
        return "Cost: too high; the model learned nothing useful (no better than guessing)."
    parts = []
    diff = h.difference
    if diff is not None and not h.is_reference:
        lost = -diff * 100
        band = next(name for limit, name in COST_BANDS if lost <= limit)
        parts.append(f"{band} in accuracy ({lost:.1f} points lost)" if lost > 0.05
                     else "no accuracy lost")
    cost = h.cost or {}
    ratio = number_or_none(cost.get("ratio"))
    if ratio is not None and not h.is_reference:
        parts.append("training time about the same" if ratio <= 1.5
                     else f"training took {ratio:,.0f}× as long" if ratio >= 10
                     else f"training took {ratio:.1f}× as long")
    if bytes_ratio is not None:
        parts.append(f"sent {bytes_ratio:.2g}× the data's own size over the network")
    if not parts:
        return "Cost: this is the yardstick the private patterns are measured against."
    text = "; ".join(parts)
    return f"Cost: {text[:1].lower()}{text[1:]}."


def _protection_verdict(h: Headline, g: Guarantee, who_sees: str) -> str:
    if g.no_protection:
        return f"Protection: NONE in this setting ({g.no_protection}); do not rely on it."
    if h.is_reference:
        return "Protection: none; this is the unprotected yardstick."
    words = h.level_words[:1].upper() + h.level_words[1:]
    if g.has_epsilon and who_sees:
        return f"Protection: {words}: {lower_first(who_sees.rstrip('.'))}."
    return f"Protection: {words}."


def run_story(doc: Mapping[str, Any], *, label: str, is_reference: bool) -> Story:
    """Page 1 of a run's report, from its results document and its pattern's ``label``."""
    h = Headline.from_document(doc, is_reference=is_reference)
    protection = doc.get("protection") or {}
    g = guarantee_from_document(protection)
    words = setting_words(protection, is_reference=is_reference)
    dataset = doc.get("dataset") or {}
    target = dataset.get("target") or "the target column"
    data_name = dataset.get("name") or "the data"
    setting = words.get("guarantee_numbers") or ""
    if is_reference:
        question = (f"How well can a model predict “{target}” from {data_name} without any "
                    "privacy protection? (the yardstick for the private patterns)")
        protection_line = f"{label}: no privacy protection"
        with_what = "Without protection"
    else:
        question = (f"Can a model that predicts “{target}” from {data_name} be trained and used "
                    f"with {lower_first(label)}, and what does the protection cost?")
        protection_line = f"{label}" + (f" ({setting})" if setting and setting != "none" else "")
        with_what = f"With {lower_first(protection_line)}"
    sentences = [_accuracy_sentence(h, with_what)]
    useless = bool(h.no_better_than_guessing) and h.accuracy is not None
    if useless:
        sentences.append(f"The model is {lower_first(guessing_words(h))}.")
    elif h.majority_rate is not None and h.accuracy is not None:
        guess = f"always answering “{h.majority_class}”" if h.majority_class else "always guessing"
        sentences.append(f"For scale, {guess} would be right {pct(h.majority_rate)} of the time.")
    attack = audit_words((doc.get("extra") or {}).get("audit"))
    if attack:
        sentences.append(attack)
    plain = [s for s in protection.get("in_plain_words") or () if isinstance(s, str)]
    if g.has_epsilon and plain:
        # The first sentence of the privacy translator (the window shows the same ones).
        sentences.append(plain[1] if g.no_protection and len(plain) > 1 else plain[0])
    elif words.get("who_sees") and not is_reference and not g.no_protection:
        sentences.append(f"What is protected: {lower_first(words['who_sees'])}.")
    cost = h.cost_words()
    if cost and not is_reference:
        sentences.append(f"Cost: {cost}.")
    data_bytes = None
    if h.bytes_sent is not None and dataset.get("rows_train") and dataset.get("features"):
        data_bytes = int(dataset["rows_train"]) * (int(dataset["features"]) + 1) * 8
    bytes_ratio = h.bytes_sent / data_bytes if h.bytes_sent is not None and data_bytes else None
    return Story(
        question=question,
        protection=protection_line,
        sentences=sentences,
        cost_verdict=_cost_verdict(h, bytes_ratio),
        protection_verdict=_protection_verdict(h, g, str(words.get("who_sees") or "")),
        alert=g.no_protection_reason or (f"NOT PRIVATE: {g.no_protection}" if g.no_protection
                                         else ""),
        useless=useless,
        headline=h,
    )
