"""The report of one run, from its results document (``RunResult.to_document()``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ppml_lab.engines.registry import REFERENCE
from ppml_lab.experiments.narrative import Story, run_story
from ppml_lab.reports import charts
from ppml_lab.reports.figures import confusion_table, costs_table, results_table
from ppml_lab.reports.model import Block, Bullets, Callout, Paragraph, Report, Section
from ppml_lab.reports.sections import (
    compliance_section,
    data_preview_section,
    engine_label,
    glossary_section,
    methodology_blocks,
    parameters_table,
    plain,
    protection_table,
    warnings_blocks,
)

__all__ = ["build_run_report", "story_blocks"]


def _pattern(doc: Mapping[str, Any]) -> str:
    return str(((doc.get("experiment") or {}).get("pattern") or {}).get("name") or "")


def today() -> str:
    return datetime.now().astimezone().strftime("%d %B %Y").lstrip("0")


def story_blocks(story: Story, *, verdict: bool = True, question: bool = True) -> list[Block]:
    """Page 1's words for one run: the alert, the question, the protection, the narrative and
    the verdict.
    """
    blocks: list[Block] = []
    if story.alert:
        blocks.append(Callout(title="This setting gives NO privacy protection",
                              lines=(plain(story.alert),), tone="alert"))
    if question:
        blocks.append(Paragraph(story.question, bold_prefix="The question:", style="lead"))
    blocks.append(Paragraph(story.protection, bold_prefix="The protection used:"))
    if question:
        blocks.append(Paragraph("What happened", style="h3"))
    blocks.append(Bullets(tuple(story.sentences)))
    if verdict:
        tone = "alert" if story.alert or story.useless else "verdict"
        blocks.append(Callout(title="Verdict", lines=(story.cost_verdict,
                                                      story.protection_verdict), tone=tone))
    return blocks


def _status_note(doc: Mapping[str, Any]) -> Callout | None:
    status = str(doc.get("status") or "completed")
    if status == "completed":
        return None
    words = {
        "cancelled": "The run was stopped before it finished; the figures are those of the "
        "steps that finished.",
        "running": "The run had not finished when this report was made; the figures are "
        "partial.",
        "incomplete": "The run was interrupted; the figures are partial.",
        "failed": "The run failed; there is no final result.",
    }.get(status, f"The run's status is “{status}”.")
    return Callout(title=f"Status: {status}", lines=(words,), tone="alert")


def build_run_report(doc: Mapping[str, Any], *, data_preview: bool = False) -> Report:
    """A report of one run: page 1 for a manager, then the charts, who can see what, the
    figures, the parameters, compliance (if the results have it), a glossary and the appendix.
    """
    name = _pattern(doc)
    label = engine_label(name)
    is_reference = name == REFERENCE
    story = run_story(doc, label=label, is_reference=is_reference)
    experiment = doc.get("experiment") or {}
    dataset = doc.get("dataset") or {}
    title = str(experiment.get("name") or "Untitled experiment")
    data_name = dataset.get("name") or (experiment.get("dataset") or {}).get("source") or "data"
    report = Report(
        kind="run", title=title,
        subtitle=f"Privacy report of one run · {label} on {data_name} · {today()}",
        running_title=f"{title} · {label}", contains_records=data_preview,
    )
    summary = report.summary
    if data_preview:
        summary.append(Callout(title="Contains raw records", tone="alert", lines=(
            "This report includes a preview of the data's first rows (asked for when it was "
            "made). Share it only with people allowed to see the data.",)))
    note = _status_note(doc)
    if note is not None:
        summary.append(note)
    summary += story_blocks(story)
    h = story.headline
    prot = doc.get("protection") or {}
    if h is not None:
        chart = charts.accuracy_bars(h, label=label, level=str(prot.get("level") or "none"),
                                     not_private=bool(prot.get("no_protection")))
        if chart is not None:
            summary.append(chart)
    if experiment.get("description"):
        summary.append(Paragraph(str(experiment["description"]),
                                 bold_prefix="The experiment's description:", style="small"))

    figures: list[Block] = []
    for chart in (
        charts.training_curve(doc, label=label, is_reference=is_reference),
        charts.budget_curve(doc),
    ):
        if chart is not None:
            figures.append(chart)
    audit = (doc.get("extra") or {}).get("audit")
    roc = charts.audit_roc(audit)
    if roc is not None:
        figures.append(roc)
        if isinstance(audit, Mapping) and audit.get("verdict"):
            figures.append(Paragraph(str(audit["verdict"]), bold_prefix="What the attacks show:"))
    figures.append(results_table(doc))
    confusion = confusion_table(doc.get("evaluation"))
    if confusion is not None:
        figures.append(confusion)
    report.sections.append(Section(title="Results in charts and figures", blocks=figures))

    who: list[Block] = [protection_table(prot, label=label, is_reference=is_reference)]
    words = [str(w) for w in prot.get("in_plain_words") or ()]
    if words:
        who += [Paragraph("What the guarantee means, in plain words", style="h3"),
                Bullets(tuple(words))]
    report.sections.append(Section(title="Who can see what", blocks=who))

    cost = costs_table(doc)
    settings: list[Block] = [parameters_table(experiment, dataset)]
    if cost is not None:
        settings.append(cost)
    settings += warnings_blocks(doc.get("warnings") or ())
    report.sections.append(Section(title="Settings and costs", blocks=settings))

    compliance = compliance_section(doc)
    if compliance is not None:
        report.sections.append(compliance)
    report.sections.append(glossary_section(report.text()))
    report.sections.append(Section(title="Methodology", blocks=methodology_blocks(doc)))
    if data_preview:
        report.sections.append(data_preview_section(doc))
    return report

