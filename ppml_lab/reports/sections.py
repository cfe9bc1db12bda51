"""Sections every kind of report shares: who can see what, the parameters, the compliance
section, the glossary and the methodology appendix.

All of it reads results documents and the engines' contract (labels, parameter metadata,
:class:`~ppml_lab.engines.contract.Guarantee`); nothing here names a pattern.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ppml_lab.engines.registry import get_engine
from ppml_lab.experiments.evaluation import GUESSING_RULE
from ppml_lab.experiments.narrative import COST_BANDS, guarantee_from_document, setting_words
from ppml_lab.reports.model import Block, Bullets, Callout, Paragraph, Preformatted, Section, Table
from ppml_lab.reports.provenance import data_preview, dataset_fingerprint, library_versions

__all__ = [
    "compliance_section",
    "data_preview_section",
    "engine_label",
    "glossary_section",
    "methodology_blocks",
    "parameters_table",
    "plain",
    "protection_table",
    "warnings_blocks",
]


def plain(text: Any) -> str:
    """Text without HTML tags (a guarantee's ``in_this_run`` may hold emphasis)."""
    return html.unescape(re.sub(r"<[^>]+>", "", str(text))).strip()


def short(item: str) -> str:
    """A diagnostics item without its results-file keys ("training loss (history ...)" ->
    "training loss").
    """
    return item.split(" (")[0]


def engine_label(name: str) -> str:
    """A pattern's name in words (its engine's label), or the name when it is unknown here."""
    try:
        return get_engine(name).label
    except ValueError:
        return name


# -- who can see what ----------------------------------------------------------------------------


def protection_table(protection: Mapping[str, Any], *, label: str, is_reference: bool) -> Table:
    """"Who can see what" for one run, from its guarantee (the ``protection`` section)."""
    g = guarantee_from_document(protection)
    words = setting_words(protection, is_reference=is_reference)
    rows: list[tuple[str, str]] = []
    if g.no_protection:
        rows.append(("NOT PRIVATE", plain(g.no_protection_reason or g.no_protection)))
    rows.append(("What is protected", plain(g.protects) or "nothing"))
    if g.adversary:
        rows.append(("Hidden from", plain(g.adversary)))
    if words.get("epsilon") is not None:
        rows.append(("Strength", f"{words['level']}: {words['guarantee_numbers']}"))
    for item in g.in_this_run:
        rows.append(("In this run", plain(item).removeprefix("In this run: ")))
    for item in g.not_protected:
        rows.append(("Not protected", plain(item)))
    for item in g.assumptions:
        rows.append(("Relies on", plain(item)))
    if g.covers:
        rows.append(("The protection covers", plain(g.covers)))
    if g.covers and g.diagnostics:
        rows.append(("Not covered", "computed from the data without the protection, so show "
                     "them only to people allowed to see the data: "
                     + "; ".join(short(d) for d in g.diagnostics)))
    for item in g.caveats:
        rows.append(("Caveat", plain(item)))
    return Table(header=("", label), rows=tuple(rows), widths=(28, 72), first_column_bold=True,
                 small=True)


# -- parameters ------------------------------------------------------------------------------------


def _applying(cls: type, values: Mapping[str, Any], disabled: Mapping[str, str]) -> dict[str, Any]:
    """The values that apply: not greyed out by the engine's rules, and no advanced setting
    left at its default (the window folds those away too).
    """
    from ppml_lab.params import describe

    specs = {s.name: s for s in describe(cls)}
    out = {}
    for key, value in values.items():
        spec = specs.get(key)
        if key in disabled or (spec is not None and spec.advanced and value == spec.default):
            continue
        out[key] = value
    return out


def parameters_table(experiment: Mapping[str, Any], dataset: Mapping[str, Any] | None = None,
                     *, caption: str = "") -> Table:
    """The experiment's settings in words (labels and units from the parameters' metadata);
    settings that do not apply under the chosen ones are left out.
    """
    from ppml_lab.models import ModelParams
    from ppml_lab.params import values_in_words

    rows: list[tuple[str, str]] = []
    pattern = dict(experiment.get("pattern") or {})
    name = str(pattern.pop("name", ""))
    model = dict(experiment.get("model") or {})
    rows.append(("Pattern", engine_label(name)))
    try:
        engine = get_engine(name)
        pattern_rows = values_in_words(
            engine.Params, _applying(engine.Params, pattern, engine.form_rules(pattern).disabled))
        model_disabled = dict(engine.model_rules(pattern, model).disabled)
    except ValueError:
        pattern_rows = [(k, str(v)) for k, v in pattern.items()]
        model_disabled = {}
    rows += [(k, v) for k, v in pattern_rows]
    for label, value in values_in_words(ModelParams, _applying(ModelParams, model,
                                                               model_disabled)):
        rows.append((label if label.lower() == "model" else f"Model: {label[:1].lower()}"
                     f"{label[1:]}", value))
    ds = experiment.get("dataset") or {}
    rows.append(("Data", str((dataset or {}).get("name") or ds.get("source") or "")))
    if (dataset or {}).get("target") or ds.get("target"):
        rows.append(("Predicted column (target)", str((dataset or {}).get("target")
                                                      or ds.get("target"))))
    if ds.get("exclude"):
        rows.append(("Columns left out", ", ".join(map(str, ds["exclude"]))))
    rows.append(("Seed (data split, initialisation)", str(experiment.get("seed", 0))))
    return Table(header=("Setting", "Value"), rows=tuple(rows), widths=(45, 55),
                 caption=caption, small=True)


# -- compliance ------------------------------------------------------------------------------------


def compliance_section(doc: Mapping[str, Any], *, heading: str = "h3",
                       notice: bool = True) -> Section | None:
    """The results document's ``compliance`` section, if it has one (else None).

    ``heading`` is the style of its sub-headings; ``notice=False`` leaves out its notice (a
    comparison shows the one notice once).
    """
    section = doc.get("compliance")
    if not isinstance(section, Mapping) or not section:
        return None
    blocks: list[Block] = []
    parts = (
        ("supports", "What this run's protection supports"),
        ("left_to_organisation", "What is left to your organisation"),
        ("regulator_questions", "Questions a regulator may ask"),
    )
    for key, title in parts:
        items = [plain(i) for i in section.get(key) or () if str(i).strip()]
        if items:
            blocks.append(Paragraph(title, style=heading))
            blocks.append(Bullets(tuple(items)))
    if notice and section.get("notice"):
        blocks.append(Callout(title="Notice", lines=(plain(section["notice"]),), tone="note"))
    return Section(title="Compliance", blocks=blocks) if blocks else None


# -- warnings --------------------------------------------------------------------------------------


def warnings_blocks(warnings: Iterable[str]) -> list[Block]:
    items = tuple(dict.fromkeys(plain(w) for w in warnings if str(w).strip()))
    if not items:
        return []
    return [Paragraph("Caveats the lab attached to these results", style="h3"), Bullets(items)]


# -- glossary --------------------------------------------------------------------------------------

#: (term, what it means, words that make it relevant to a report).
GLOSSARY: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Test accuracy", "The share of held-out test records (never used for training) the model "
     "classifies correctly.", ("accuracy",)),
    ("Plaintext reference", "The same model trained on the same records without any protection: "
     "the yardstick for what the protection costs.", ("plaintext", "without protection")),
    ("Always guessing the commonest class", "The accuracy of a 'model' that always gives the "
     "most frequent answer. A model that does not clearly beat it has learned nothing useful.",
     ("guess",)),
    ("Percentage points", "The difference between two percentages: from 90% to 88% is 2 points.",
     ("points",)),
    ("Run-to-run noise", "How much accuracy varies when only the training seed changes. A "
     "difference smaller than twice this spread may be chance.", ("seed", "noise")),
    ("Differential privacy", "A mathematical promise that the result would be almost the same "
     "had any one person's record been left out, so the result reveals little about any one "
     "person.", ("ε", "epsilon", "differential")),
    ("Epsilon (ε)", "The privacy budget of differential privacy: how much one record may change "
     "what can be seen. Smaller is more private; at most 1 is strong, above 10 nominal.",
     ("ε", "epsilon")),
    ("Delta (δ)", "A small slack in the differential-privacy promise, kept well below one over "
     "the number of records.", ("δ", "delta")),
    ("Privacy accountant", "The software that adds up how much privacy every step of training "
     "spends and proves the final ε.", ("accountant", "accounting")),
    ("Noise", "Random numbers added to the training so that no single record can be read back "
     "from the model.", ("noise",)),
    ("Membership attack", "An attempt to tell from the model whether a given person's record "
     "was used in training.", ("attack", "membership")),
    ("AUC", "Area under the ROC curve: how well an attack separates training records from "
     "unseen ones. 0.5 is a coin toss, 1.0 a perfect attack.", ("auc",)),
    ("Federated learning", "Training in which the records stay with their owners (clients); "
     "only model updates travel to a server that combines them.", ("client", "federated learning")),
    ("Client", "A data owner in federated learning (a hospital, a phone, a branch).",
     ("client",)),
    ("Secure aggregation", "A protocol in which the server learns only the sum of the clients' "
     "updates, never one client's.", ("secure aggregation",)),
    ("Secret sharing", "Splitting a number into random-looking shares, one per party; any "
     "group smaller than a threshold learns nothing from its shares.",
     ("secret shar", "secret-shar")),
    ("Secure multi-party computation", "Several parties compute a result together from their "
     "secret-shared data, each seeing only random-looking shares.", ("multi-party", "parties")),
    ("Threshold (t)", "How many parties may pool what they see and still learn nothing: with 3 "
     "parties t = 1. With 2 parties t = 0, which hides nothing.", ("threshold",)),
    ("Honest majority", "The assumption that more than half of the parties do not collude.",
     ("honest majority",)),
    ("Homomorphic encryption", "Encryption that lets a server compute on data it cannot read; "
     "only the holder of the secret key can decrypt the result.", ("homomorphic", "ciphertext")),
    ("Ciphertext", "Encrypted data. It looks random to anyone without the secret key.",
     ("ciphertext", "homomorphic")),
    ("Key holder", "Whoever holds the secret key and so can decrypt results.", ("key",)),
    ("Security level (bits)", "How hard the encryption is to break: 128 bits is the accepted "
     "minimum; below it the encryption may be breakable.", ("bit",)),
    ("Diagnostics", "Figures computed from the private data without the protection (for "
     "example the training accuracy). Show them only to people allowed to see the data.",
     ("without the protection", "diagnostic")),
)


def glossary_section(text: str) -> Section:
    """The glossary's entries whose words appear in the report's ``text`` (the first three
    always).
    """
    low = text.lower()
    rows = tuple(
        (term, meaning) for i, (term, meaning, words) in enumerate(GLOSSARY)
        if i < 3 or any(w in low for w in words)
    )
    return Section(title="Glossary", blocks=[
        Table(header=("Term", "What it means"), rows=rows, widths=(26, 74),
              first_column_bold=True, small=True)
    ])


# -- methodology -----------------------------------------------------------------------------------


def _toml(experiment: Mapping[str, Any]) -> str:
    from ppml_lab.experiments.config import dumps_toml

    try:
        return dumps_toml(experiment).strip()
    except (TypeError, ValueError):
        return str(experiment)


def methodology_blocks(
    doc: Mapping[str, Any], *, seeds: Sequence[int] = (), extra: Sequence[tuple[str, str]] = (),
    runs: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Block]:
    """The reproducibility appendix: software, seeds, data and its SHA-256, what the
    protection covers, what the diagnostics reveal, how the verdicts are worded, the
    experiment file.
    """
    experiment = doc.get("experiment") or {}
    dataset = doc.get("dataset") or {}
    source = str(dataset.get("source") or (experiment.get("dataset") or {}).get("source") or "")
    fingerprint = dataset_fingerprint(source)
    if isinstance(dataset.get("sha256"), str) and dataset["sha256"]:
        # Recorded by the run when it read the data: the exact bytes it trained on.
        fingerprint = type(fingerprint)(dataset["sha256"], "the data as the run read it")
    env = doc.get("environment") or {}
    run_env = ", ".join(f"{k} {v}" for k, v in env.items() if k != "platform")
    facts: list[tuple[str, str]] = [
        ("Results made by", f"PPML Lab {doc.get('ppml_lab_version', '?')}"
         + (f" ({run_env})" if run_env else "")),
    ]
    if env.get("platform"):
        facts.append(("Platform of the run", str(env["platform"])))
    facts.append(("Report made", datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")))
    facts.append(("Data source", source or "not recorded"))
    facts.append(("Data SHA-256", fingerprint.sha256 or "not available"))
    facts.append(("What was hashed", fingerprint.what))
    if dataset.get("rows_train") is not None:
        facts.append(("Rows", f"{int(dataset['rows_train']):,} for training, "
                              f"{int(dataset.get('rows_test') or 0):,} held out for testing"))
    facts.append(("Seed of the split and the initialisation", str(experiment.get("seed", 0))))
    if seeds:
        facts.append(("Training seeds", ", ".join(str(s) for s in seeds)))
    facts.append(("Privacy randomness", "noise, sampling, masks and keys come from the operating "
                  "system's entropy, never from a seed printed here (unless a run says "
                  "'deterministic noise', which is then marked NOT PRIVATE)"))
    facts += list(extra)
    if doc.get("wall_seconds") is not None:
        facts.append(("Wall time", f"{float(doc['wall_seconds']):.1f} s"))
    blocks: list[Block] = [
        Table(header=("", ""), rows=tuple(facts), widths=(30, 70), first_column_bold=True,
              small=True),
    ]
    notes = [(engine_label(name) + ": ", dict(r.get("protection") or {}))
             for name, r in (runs or {}).items()]
    notes = notes or [("", dict(doc.get("protection") or {}))]
    covers = [(who, str(n.get("diagnostics_notice") or f"The protection covers {n['covers']}."))
              for who, n in notes if n.get("covers")]
    if covers:
        blocks.append(Paragraph("What the protection covers, and what the diagnostics reveal",
                                style="h3"))
        blocks.append(Bullets(tuple((who, text) if who else text for who, text in covers)))
    preprocessing = [str(p) for p in dataset.get("preprocessing") or ()]
    if preprocessing:
        blocks.append(Paragraph("How the data became numbers", style="h3"))
        blocks.append(Bullets(tuple(preprocessing)))
    blocks.append(Paragraph("How this report words its verdicts", style="h3"))
    bands = ", ".join(f"{name} up to {limit:g} points" if limit != float("inf")
                      else f"{name} above" for limit, name in COST_BANDS)
    blocks.append(Bullets((
        ("Accuracy cost: ", f"percentage points lost against the plaintext reference: {bands}."),
        ("No better than guessing: ", GUESSING_RULE[:1].upper() + GUESSING_RULE[1:] + "."),
        ("Within the run-to-run noise: ", "the difference is at most twice the standard "
         "deviation of the difference of two runs (needs several training seeds)."),
        ("Time: ", "training time against the plaintext reference's; set-up, key generation and "
         "privacy bookkeeping are counted apart."),
    )))
    blocks.append(Paragraph("Software installed when this report was made", style="h3"))
    blocks.append(Paragraph(", ".join(f"{n} {v}" for n, v in library_versions()),
                            style="small"))
    blocks.append(Paragraph("The experiment file", style="h3"))
    blocks.append(Paragraph("Save this text as a .toml file and run it with "
                            "“ppml-lab run FILE.toml” to repeat the experiment.", style="small"))
    blocks.append(Preformatted(_toml(experiment)))
    return blocks


def data_preview_section(doc: Mapping[str, Any]) -> Section:
    """The opt-in data preview: the first rows of the data, raw (a warning says so)."""
    experiment = doc.get("experiment") or {}
    source = str((doc.get("dataset") or {}).get("source")
                 or (experiment.get("dataset") or {}).get("source") or "")
    preview = data_preview(source, experiment)
    blocks: list[Block] = [Callout(
        title="Raw records", tone="alert",
        lines=("This section shows the first rows of the data as they are, because the person "
               "who made this report asked for a data preview. Share this report only with "
               "people allowed to see the data.",),
    )]
    if preview is None:
        blocks.append(Paragraph("The data could not be read when this report was made.",
                                style="muted"))
    else:
        header, rows = preview
        blocks.append(Table(header=header, rows=rows, small=True))
    return Section(title="Data preview (raw records)", blocks=blocks)
