"""The report of a comparison of all patterns (``ComparisonResult.to_document()``, and each
pattern's own run document under ``runs`` when the caller has them: see
:func:`~ppml_lab.reports.documents.comparison_bundle`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ppml_lab.experiments.compare import COMPLETED
from ppml_lab.experiments.evaluation import Headline
from ppml_lab.experiments.narrative import best_attack, pct, run_story
from ppml_lab.jsonable import number_or_none
from ppml_lab.reports import charts
from ppml_lab.reports.build_run import story_blocks, today
from ppml_lab.reports.figures import fmt_value
from ppml_lab.reports.model import (
    SERIES_COLORS,
    Block,
    Bullets,
    Callout,
    Chart,
    Paragraph,
    Report,
    Section,
    Series,
    Table,
)
from ppml_lab.reports.sections import (
    compliance_section,
    data_preview_section,
    glossary_section,
    methodology_blocks,
    parameters_table,
    plain,
    protection_table,
)

__all__ = ["build_comparison_report"]


def _times(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2g}×" if value < 10 else f"{value:,.0f}×"


def _with_training_time(rows: Sequence[Mapping[str, Any]],
                        runs: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows with ``train_ratio``: training time against plaintext training, set-up and
    bookkeeping apart (the run's like-for-like cost, as the window's headline says it), or the
    engine-time ratio when the run's document is not at hand.
    """
    out = []
    for row in rows:
        run = runs.get(str(row.get("pattern"))) or {}
        cost = (run.get("evaluation") or {}).get("like_for_like") or {}
        ratio = number_or_none(cost.get("ratio"))
        out.append({**row, "train_ratio": ratio if ratio is not None else row.get("time_ratio"),
                    "one_off_seconds": number_or_none(cost.get("one_off_seconds")) or 0.0})
    return out


def _row_sentence(row: Mapping[str, Any], run: Mapping[str, Any] | None) -> tuple[str, str]:
    """(bold label, the rest) for one pattern's bullet on page 1."""
    label = str(row.get("label") or row.get("pattern"))
    if row.get("status") != COMPLETED:
        reason = plain(row.get("reason") or "").rstrip(".")
        return f"{label}: ", f"did not run ({row.get('status')}): {reason}."
    acc, ref = number_or_none(row.get("test_accuracy")), number_or_none(row.get("reference_accuracy"))
    if row.get("is_reference"):
        best = best_attack(((run or {}).get("extra") or {}).get("audit"))
        attack = ""
        if best is not None:
            did = "no better than chance" if best["lower"] <= 0 else "better than chance"
            attack = f"; a membership attack on it did {did} (AUC {best['auc']:.2f})"
        return f"{label}: ", (f"{pct(acc)} test accuracy with no protection at all{attack}; "
                              "the yardstick for the others.")
    guarantee = str(row.get("guarantee") or row.get("level") or "")
    head = f"{label} ({guarantee}): " if guarantee else f"{label}: "
    parts = []
    if acc is not None and ref is not None:
        change = number_or_none(row.get("change_points")) or 0.0
        parts.append(f"{pct(acc)} against {pct(ref)} without protection ({change:+.1f} points)"
                     if abs(change) >= 0.05 else f"{pct(acc)}, the same as without protection")
    elif acc is not None:
        parts.append(f"{pct(acc)} test accuracy")
    if run is not None:
        h = Headline.from_document(run, is_reference=False)
        if h.no_better_than_guessing:
            parts.append("NO BETTER THAN GUESSING")
        best = best_attack((run.get("extra") or {}).get("audit"))
        if best is not None:
            did = "no better than chance" if best["lower"] <= 0 else "better than chance"
            parts.append(f"a membership attack did {did} (AUC {best['auc']:.2f})")
    ratio = number_or_none(row.get("train_ratio"))
    if ratio is not None:
        once = number_or_none(row.get("one_off_seconds")) or 0.0
        parts.append(f"training took {_times(ratio)} as long as plaintext training"
                     + (f" (plus {fmt_value(once, 's')} of set-up)" if once >= 0.05 else ""))
    sent = number_or_none(row.get("bytes_ratio"))
    if sent is not None:
        parts.append(f"sent {_times(sent)} the data's size")
    text = "; ".join(parts) + "."
    if row.get("not_private"):
        text = f"NOT PRIVATE in this setting. {text}"
    return head, text


def _verdict(rows: Sequence[Mapping[str, Any]], runs: Mapping[str, Mapping[str, Any]]
             ) -> tuple[tuple[str, ...], bool]:
    done = [r for r in rows if r.get("status") == COMPLETED and not r.get("is_reference")]
    lines: list[str] = []
    alert = False
    if not done:
        return ("No protected pattern finished, so there is nothing to compare.",), True
    changes = [(float(r["change_points"]), r) for r in done if number_or_none(r.get("change_points")) is not None]
    if changes:
        worst = min(changes, key=lambda pair: pair[0])
        if worst[0] >= -1.0:
            lines.append("Accuracy: every protected pattern stayed within 1 point of the "
                         "unprotected model.")
        else:
            lines.append(f"Accuracy: the largest loss was {-worst[0]:.1f} points "
                         f"({worst[1].get('label')}); the smallest "
                         f"{max(0.0, -max(changes, key=lambda p: p[0])[0]):.1f} points "
                         f"({max(changes, key=lambda p: p[0])[1].get('label')}).")
    ratios = [(float(r["train_ratio"]), r) for r in done if number_or_none(r.get("train_ratio")) is not None]
    if ratios:
        lo, hi = min(ratios, key=lambda p: p[0]), max(ratios, key=lambda p: p[0])
        lines.append(f"Training time: from {_times(lo[0])} ({lo[1].get('label')}) to "
                     f"{_times(hi[0])} ({hi[1].get('label')}) the plaintext training time, "
                     "set-up apart.")
    formal = [r for r in done if number_or_none(r.get("epsilon")) is not None and not r.get("not_private")]
    if formal:
        lines.append("Protection: a formal ε guarantee from "
                     + ", ".join(f"{r.get('label')} ({r.get('guarantee')})" for r in formal)
                     + "; the others protect the data in other ways (see “Who can see what”).")
    else:
        lines.append("Protection: no pattern here gives a formal ε guarantee; each protects the "
                     "data in its own way (see “Who can see what”).")
    unsafe = [str(r.get("label")) for r in done if r.get("not_private")]
    if unsafe:
        alert = True
        lines.append(f"NOT PRIVATE in the setting used: {', '.join(unsafe)}.")
    useless = [str(r.get("label")) for r in done
               if (runs.get(str(r.get("pattern"))) or {}).get("evaluation", {}).get(
                   "no_better_than_guessing") is True]
    if useless:
        alert = True
        lines.append(f"No better than guessing: {', '.join(useless)}.")
    return tuple(lines), alert


def _side_by_side(rows: Sequence[Mapping[str, Any]]) -> Table:
    body = []
    for r in rows:
        if r.get("status") != COMPLETED:
            body.append((str(r.get("label")), "did not run", plain(r.get("reason") or ""), "—",
                         "—"))
            continue
        acc = pct(number_or_none(r.get("test_accuracy")))
        change = number_or_none(r.get("change_points"))
        if change is not None and not r.get("is_reference"):
            acc += f" ({change:+.1f})"
        body.append((str(r.get("label")), acc,
                     "none" if r.get("is_reference") else str(r.get("guarantee") or ""),
                     _times(number_or_none(r.get("train_ratio"))), _times(number_or_none(r.get("bytes_ratio")))))
    return Table(
        header=("Pattern", "Test accuracy (points vs plaintext)", "Protection", "Training "
                "time vs plaintext", "Data sent vs the data's size"),
        rows=tuple(body), widths=(22, 18, 34, 12, 14), first_column_bold=True, small=True,
        numeric_columns=(1, 3, 4),
        caption="Training time is against the plaintext reference's, with one-off set-up (key "
        "generation, noise calibration, starting the parties) apart; data sent is every message "
        "against the training data's own size as plain numbers.",
    )


def _curves(rows: Sequence[Mapping[str, Any]], runs: Mapping[str, Mapping[str, Any]]
            ) -> Chart | None:
    series = []
    for i, row in enumerate(rows):
        run = runs.get(str(row.get("pattern")))
        if run is None:
            continue
        pts = [(r.get("step"), r.get("test_accuracy")) for r in run.get("history") or ()]
        pts = [(float(s), float(a)) for s, a in pts if number_or_none(s) is not None and number_or_none(a) is not None]
        if len(pts) < 2:
            continue
        last = pts[-1][0] or 1.0
        series.append(Series(name=str(row.get("label")), x=tuple(s / last for s, _ in pts),
                             y=tuple(a for _, a in pts), markers=False,
                             color=SERIES_COLORS[i % len(SERIES_COLORS)]))
    if len(series) < 2:
        return None
    return Chart(kind="lines", title="Test accuracy during training, every pattern",
                 caption="Each pattern's test accuracy after each of its own steps (epochs, "
                 "rounds or iterations), from the start to the end of its training.",
                 series=tuple(series), percent=True, x_range=(0.0, 1.0),
                 x_ticks=((0.0, "start"), (0.5, "half-way"), (1.0, "end")),
                 x_label="progress through training", y_label="test accuracy",
                 lines=(), aspect=0.45)


def build_comparison_report(doc: Mapping[str, Any], *, data_preview: bool = False) -> Report:
    """A comparison's report: page 1 for a manager (one line per pattern, a verdict, the
    accuracy chart), then the side-by-side table and costs, who can see what per pattern, each
    pattern's story, the settings, compliance, glossary and appendix.
    """
    runs = {str(k): v for k, v in (doc.get("runs") or {}).items() if isinstance(v, Mapping)}
    rows = _with_training_time([r for r in doc.get("rows") or () if isinstance(r, Mapping)], runs)
    experiment = doc.get("experiment") or {}
    dataset = doc.get("dataset") or {}
    data_name = str(dataset.get("name") or (experiment.get("dataset") or {}).get("source"))
    title = str(experiment.get("name") or "Comparison of all patterns")
    n = sum(1 for r in rows if not r.get("is_reference"))
    report = Report(kind="comparison", title=title,
                    subtitle=f"Comparison of {n} privacy patterns with the plaintext baseline · "
                    f"{data_name} · {today()}",
                    running_title=f"{title} · comparison", contains_records=data_preview)
    s = report.summary
    if data_preview:
        s.append(Callout(title="Contains raw records", tone="alert", lines=(
            "This report includes a preview of the data's first rows (asked for when it was "
            "made). Share it only with people allowed to see the data.",)))
    if doc.get("status") != COMPLETED:
        s.append(Callout(title="Cancelled", tone="alert", lines=(
            "The comparison was stopped before every pattern had run; the rows that finished "
            "are shown.",)))
    if dataset.get("rows_train"):
        records = (f"the same {int(dataset['rows_train']):,} training and "
                   f"{int(dataset.get('rows_test') or 0):,} test records")
    else:
        records = "the same records"
    s.append(Paragraph(
        f"Which way of protecting {data_name} suits us: what does each privacy pattern protect, "
        "and what does it cost in accuracy, time and data sent?", bold_prefix="The question:",
        style="lead"))
    s.append(Paragraph(f"The plaintext baseline (no protection) and {n} privacy patterns, each "
                       f"at a typical setting, on {records}, with the same model.",
                       bold_prefix="What was compared:"))
    if doc.get("design", {}).get("tiny"):
        s.append(Paragraph("This was a shortened comparison (a few training steps only): "
                           "accuracies are lower than a full run's.", style="muted"))
    s.append(Paragraph("What happened", style="h3"))
    s.append(Bullets(tuple(_row_sentence(r, runs.get(str(r.get("pattern")))) for r in rows)))
    lines, alert = _verdict(rows, runs)
    s.append(Callout(title="Verdict", lines=lines, tone="alert" if alert else "verdict"))
    chart = charts.comparison_accuracy(rows, number_or_none(dataset.get("majority_class_rate")))
    if chart is not None:
        s.append(chart)

    side: list[Block] = [_side_by_side(rows)]
    for key, name, axis, one in (
        ("train_ratio", "Training time against plaintext training", "training time ÷ plaintext "
         "training time (log scale; one-off set-up apart)", "1× (as long as plaintext)"),
        ("bytes_ratio", "Data sent against the data's own size", "bytes sent ÷ the training "
         "data's size (log scale)", "1× (the data's own size)"),
    ):
        c = charts.comparison_ratio(rows, key, title=name, axis=axis, one=one, caption=(
            "Each bar is a multiple on a logarithmic scale: every grid line is ten times the "
            "one before."))
        if c is not None:
            side.append(c)
    curves = _curves(rows, runs)
    if curves is not None:
        side.append(curves)
    report.sections.append(Section(title="Side by side", blocks=side))

    who: list[Block] = []
    for r in rows:
        run = runs.get(str(r.get("pattern")))
        if r.get("status") != COMPLETED:
            continue
        who.append(Paragraph(str(r.get("label")), style="h3"))
        if run is not None:
            who.append(protection_table(run.get("protection") or {}, label="",
                                        is_reference=bool(r.get("is_reference"))))
        else:
            who.append(Table(header=("", ""), widths=(28, 72),
                             first_column_bold=True, small=True, rows=tuple(
                                 (k, plain(v)) for k, v in (
                                     ("What is protected", r.get("protects")),
                                     ("Hidden from", r.get("adversary")),
                                     ("Strength", r.get("guarantee"))) if v)))
    report.sections.append(Section(title="Who can see what", blocks=who))

    detail: list[Block] = []
    for r in rows:
        run = runs.get(str(r.get("pattern")))
        if run is None or r.get("status") != COMPLETED:
            continue
        story = run_story(run, label=str(r.get("label")), is_reference=bool(r.get("is_reference")))
        detail.append(Paragraph(str(r.get("label")), style="h3"))
        detail += story_blocks(story, verdict=False, question=False)
        detail.append(parameters_table(run.get("experiment") or {}, run.get("dataset")))
        audit = (run.get("extra") or {}).get("audit")
        roc = charts.audit_roc(audit)
        if roc is not None:
            detail.append(roc)
    if detail:
        report.sections.append(Section(title="Each pattern in detail", blocks=detail))

    compliance: list[Block] = []
    notices: list[str] = []
    for r in rows:
        run = runs.get(str(r.get("pattern"))) or {}
        section = compliance_section(run, heading="h4", notice=False)
        if section is not None:
            compliance.append(Paragraph(str(r.get("label")), style="h3"))
            compliance += section.blocks
            notices.append(plain((run.get("compliance") or {}).get("notice") or ""))
    for notice in dict.fromkeys(n for n in notices if n):
        compliance.append(Callout(title="Notice", lines=(notice,), tone="note"))
    if compliance:
        report.sections.append(Section(title="Compliance", blocks=compliance))
    warnings = [plain(w) for w in doc.get("warnings") or ()]
    if warnings:
        report.sections.append(Section(title="Caveats", blocks=[Bullets(tuple(warnings))]))
    report.sections.append(glossary_section(report.text()))
    extra = [("Design", plain((doc.get("design") or {}).get("note") or ""))]
    report.sections.append(Section(title="Methodology", blocks=methodology_blocks(
        doc, extra=extra, runs=runs) + advisor_blocks()))
    if data_preview:
        report.sections.append(data_preview_section(doc))
    return report


def advisor_blocks() -> list[Block]:
    """The pattern advisor's rules in words (Help > Which pattern fits? in the window), from its
    data file, so a reader can see how the lab turns a situation into a recommendation.
    """
    from ppml_lab.experiments.advisor import rules_outline

    o = rules_outline()
    rules = tuple((f"If {'; '.join(r['if'])}" + (f", unless {'; '.join(r['unless'])}"
                   if r["unless"] else "") + ": ", f"{r['then']}. {r['because']}")
                  for r in o["rules"])
    cautions = tuple((f"If {'; '.join(c['if'])}: ", f"{', '.join(c['techniques'])}: {c['says']}")
                     for c in o["cautions"])
    return [
        Paragraph("How the lab's pattern advisor chooses", style="h3"),
        Paragraph(plain(o["notice"]) + " " + plain(o["ranking"]), style="small"),
        Bullets(rules, style="small"),
        Paragraph("Cautions", style="h3"),
        Bullets(cautions, style="small"),
    ]

