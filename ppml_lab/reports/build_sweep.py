"""The report of a privacy-utility sweep (``SweepResult.to_document()``, with the planner's
``plan`` when there is one).

The guarantee at an epsilon comes from the swept pattern's engine (its
:meth:`~ppml_lab.engines.contract.EngineBase.guarantee` with a point's privacy figures), so the
words are the ones the window and a single run's report use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ppml_lab.experiments.evaluation import Spread, level_in_words, within_noise
from ppml_lab.experiments.narrative import COST_BANDS, lower_first, pct
from ppml_lab.experiments.sweep import TUNING_IS_A_RELEASE
from ppml_lab.jsonable import number_or_none
from ppml_lab.reports import charts
from ppml_lab.reports.build_run import today
from ppml_lab.reports.figures import fmt_value
from ppml_lab.reports.model import Block, Bullets, Callout, Paragraph, Report, Section, Table
from ppml_lab.reports.sections import (
    compliance_section,
    data_preview_section,
    engine_label,
    glossary_section,
    methodology_blocks,
    parameters_table,
    plain,
    protection_table,
)

__all__ = ["build_sweep_report"]


def _guarantee(doc: Mapping[str, Any], epsilon: float) -> Any:
    """The engine's guarantee at ``epsilon``, with the privacy figures of the sweep's point
    nearest to it (None when the experiment cannot be read here).
    """
    from ppml_lab.engines.base import EngineResult
    from ppml_lab.engines.registry import get_engine
    from ppml_lab.experiments.config import experiment_from_dict
    from ppml_lab.experiments.sweep import with_epsilon

    try:
        experiment = with_epsilon(experiment_from_dict(doc.get("experiment") or {}), epsilon)
    except (ValueError, TypeError):
        return None
    points = [p for p in doc.get("points") or () if p.get("private") and number_or_none(p.get("epsilon"))]
    privacy: dict[str, Any] = {}
    if points:
        near = min(points, key=lambda p: abs(math.log(float(p["epsilon"]) / epsilon)))
        privacy = dict(near.get("privacy") or {})
    privacy["epsilon"] = epsilon
    result = EngineResult(privacy=privacy)
    return get_engine(experiment.pattern).guarantee(experiment.params, result, n_train=None)


def _summaries(doc: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], Mapping[str, Any] | None]:
    summary = [s for s in doc.get("summary") or () if isinstance(s, Mapping)]
    private = sorted((s for s in summary if s.get("private") and number_or_none(s.get("epsilon"))),
                     key=lambda s: float(s["epsilon"]))
    non_private = next((s for s in summary if not s.get("private")), None)
    return private, non_private


def _point_sentence(s: Mapping[str, Any], base: Mapping[str, Any] | None) -> str:
    mean = float(s["test_accuracy_mean"])
    sd = number_or_none(s.get("test_accuracy_sd"))
    n = int(s.get("n") or 1)
    spread = f" (±{sd * 100:.1f} points over {n} seeds)" if sd is not None and n > 1 else ""
    text = f"At ε = {float(s['epsilon']):g}: {pct(mean)}{spread}"
    if base is not None:
        diff = mean - float(base["test_accuracy_mean"])
        text += (", the same as without privacy" if abs(diff) < 0.0005 else
                 f", {abs(diff) * 100:.1f} points {'below' if diff < 0 else 'above'} no privacy")
        ref_sd = number_or_none(base.get("test_accuracy_sd"))
        inside = within_noise(diff, Spread(n_runs=n, sd=sd, reference_sd=ref_sd)) \
            if sd is not None else None
        if inside is True:
            text += ", within the run-to-run noise"
        elif inside is False:
            text += ", more than the run-to-run noise"
    return text + "."


def build_sweep_report(doc: Mapping[str, Any], *, data_preview: bool = False) -> Report:
    """A sweep's report: page 1 (accuracy at each ε, the planner's suggestion, the caveat that
    tuning on private data is itself a release, the chart), then the figures, who can see
    what, the settings, the planner in detail, glossary and appendix.
    """
    experiment = doc.get("experiment") or {}
    design = doc.get("design") or {}
    pattern = str(design.get("pattern") or (experiment.get("pattern") or {}).get("name") or "")
    label = engine_label(pattern)
    data_name = str((experiment.get("dataset") or {}).get("source") or "the data")
    try:
        from ppml_lab.experiments.store_entry import dataset_name

        data_name = dataset_name(data_name)
    except (ImportError, ValueError):
        pass
    title = str(experiment.get("name") or "Privacy-budget sweep")
    private, base = _summaries(doc)
    plan = doc.get("plan") if isinstance(doc.get("plan"), Mapping) else None
    plan_eps = None
    if plan and plan.get("reachable"):
        # The planner's advice is the safe (upper) end of its range when it gives one.
        plan_eps = number_or_none(plan.get("conservative_epsilon")) or number_or_none(plan.get("epsilon"))
    seeds = list(design.get("training_seeds") or ())
    report = Report(kind="sweep", title=title,
                    subtitle=f"Privacy-budget sweep · {label} · {data_name} · {today()}",
                    running_title=f"{title} · sweep", contains_records=data_preview)
    s = report.summary
    if data_preview:
        s.append(Callout(title="Contains raw records", tone="alert", lines=(
            "This report includes a preview of the data's first rows (asked for when it was "
            "made). Share it only with people allowed to see the data.",)))
    if doc.get("status") != "completed":
        s.append(Callout(title="Cancelled", tone="alert", lines=(
            "The sweep was stopped early; the points that finished are shown.",)))
    s.append(Paragraph(
        f"How much accuracy does each privacy budget ε cost with {lower_first(label)} on "
        f"{data_name}, and which ε should we choose?", bold_prefix="The question:", style="lead"))
    grid = ", ".join(f"{float(e):g}" for e in design.get("epsilons") or ())
    s.append(Paragraph(
        f"{label} at ε = {grid}" + (" and without privacy" if base is not None else "")
        + f", each trained with {len(seeds) or 1} seed{'s' if len(seeds) != 1 else ''} on one "
        "fixed split of the data. Smaller ε means stronger privacy.",
        bold_prefix="What was measured:"))
    s.append(Paragraph("What happened", style="h3"))
    bullets = []
    if base is not None:
        sd = number_or_none(base.get("test_accuracy_sd"))
        bullets.append(f"Without privacy: {pct(float(base['test_accuracy_mean']))}"
                       + (f" (±{sd * 100:.1f} points)" if sd is not None else "") + ".")
    bullets += [_point_sentence(p, base) for p in private]
    g = _guarantee(doc, plan_eps) if plan_eps is not None else None
    if plan is not None and plan.get("explanation"):
        bullets.append(plain(plan["explanation"]))
    if g is not None and g.has_epsilon and g.sentences():
        bullets.append(f"At ε ≈ {plan_eps:.2g}: {g.sentences()[0]}")
    s.append(Bullets(tuple(bullets)))
    s.append(_verdict(private, base, plan_eps, g))
    chart = charts.sweep_accuracy(doc, label=label, plan_epsilon=plan_eps,
                                  majority=number_or_none((doc.get("dataset") or {}).get(
                                      "majority_class_rate")))
    if chart is not None:
        s.append(chart)
    caveat = next((w for w in doc.get("warnings") or () if w == TUNING_IS_A_RELEASE), "")
    if caveat:
        s.append(Paragraph(plain(caveat), bold_prefix="Before you choose:", style="small"))

    report.sections.append(Section(title="Results in charts and figures",
                                   blocks=_figures(doc, private, base)))
    rep_eps = plan_eps or (float(private[len(private) // 2]["epsilon"]) if private else None)
    g_rep = _guarantee(doc, rep_eps) if rep_eps is not None else None
    if g_rep is not None:
        prot = {**g_rep.to_dict(), "in_plain_words": g_rep.sentences()}
        who: list[Block] = [
            Paragraph(f"At ε = {rep_eps:.2g}" + (" (the planner's suggestion)" if plan_eps else "")
                      + ". A smaller ε hides more; a larger one less.", style="muted"),
            protection_table(prot, label=label, is_reference=False),
        ]
        if prot["in_plain_words"]:
            who += [Paragraph("What the guarantee means, in plain words", style="h3"),
                    Bullets(tuple(prot["in_plain_words"]))]
        report.sections.append(Section(title="Who can see what", blocks=who))
    swept = {**experiment, "pattern": {k: v for k, v in (experiment.get("pattern") or {}).items()
                                       if k != "epsilon"}}
    settings: list[Block] = [parameters_table(swept, {"name": data_name}, caption=(
        f"The privacy budget ε takes each value of the grid ({grid}); the data split uses the "
        "seed above, the training seeds vary."))]
    if plan is not None:
        settings += _plan_blocks(plan)
    report.sections.append(Section(title="Settings and the planner", blocks=settings))
    compliance = compliance_section(doc)
    if compliance is not None:
        report.sections.append(compliance)
    others = [plain(w) for w in doc.get("warnings") or () if w != TUNING_IS_A_RELEASE]
    if others or caveat:
        report.sections.append(Section(title="Caveats", blocks=[
            Bullets(tuple(([plain(caveat)] if caveat else []) + others))]))
    report.sections.append(glossary_section(report.text()))
    extra = [("Design", plain(design.get("note") or "")),
             ("Worker processes", str(doc.get("workers", 0)))]
    report.sections.append(Section(title="Methodology", blocks=methodology_blocks(
        doc, seeds=seeds, extra=extra)))
    if data_preview:
        report.sections.append(data_preview_section(doc))
    return report


def _verdict(private: list[Mapping[str, Any]], base: Mapping[str, Any] | None,
             plan_eps: float | None, g: Any) -> Callout:
    lines = []
    if base is not None and private:
        parts = []
        for p in private:
            lost = (float(base["test_accuracy_mean"]) - float(p["test_accuracy_mean"])) * 100
            band = next(name for limit, name in COST_BANDS if lost <= limit)
            parts.append(f"ε = {float(p['epsilon']):g}: {band} ({max(lost, 0.0):.1f} points)")
        lines.append("Accuracy cost: " + "; ".join(parts) + ".")
    if plan_eps is not None and g is not None:
        words = level_in_words(g.level, epsilon=plan_eps)
        lines.append(f"Protection at the suggested ε ≈ {plan_eps:.2g}: {words}.")
    elif private:
        from ppml_lab.privacy.translator import protection_level

        levels = ", ".join(f"ε = {float(p['epsilon']):g} {protection_level(float(p['epsilon']))}"
                           for p in private)
        lines.append(f"Protection: {levels} privacy.")
    return Callout(title="Verdict", lines=tuple(lines) or ("No point finished.",),
                   tone="verdict" if lines else "alert")


def _figures(doc: Mapping[str, Any], private: list[Mapping[str, Any]],
             base: Mapping[str, Any] | None) -> list[Block]:
    blocks: list[Block] = []
    rows = []
    for p in [*private, *([base] if base is not None else [])]:
        sd = number_or_none(p.get("test_accuracy_sd"))
        rows.append((
            f"{float(p['epsilon']):g}" if p.get("private") else "no privacy",
            pct(float(p["test_accuracy_mean"])),
            f"{sd * 100:.1f}" if sd is not None else "—",
            f"{pct(float(p['test_accuracy_min']))} – {pct(float(p['test_accuracy_max']))}",
            f"{p['noise_multiplier']:.3g}" if number_or_none(p.get("noise_multiplier")) else "—",
            fmt_value(p.get("seconds_mean"), "s"),
        ))
    blocks.append(Table(header=("ε", "Mean test accuracy", "± points (sd)", "Lowest – highest",
                                "Noise multiplier", "Time per run"),
                        rows=tuple(rows), numeric_columns=(0, 1, 2, 3, 4, 5), small=True,
                        caption="One row per ε: mean, standard deviation and range of the test "
                        "accuracy over the training seeds."))
    curves = charts.sweep_curves(doc)
    if curves is not None:
        blocks.append(curves)
    audited = [p for p in doc.get("points") or () if isinstance(p.get("audit"), Mapping)]
    if audited:
        rows = []
        for p in audited:
            a = p["audit"]
            eps = f"{float(p['epsilon']):g}" if p.get("private") else "no privacy"
            lower, ceiling = number_or_none(a.get("epsilon_lower_bound")), number_or_none(a.get("epsilon_ceiling"))
            rows.append((eps, str(p.get("seed")), f"{lower:.3g}" if lower is not None else "—",
                         f"{ceiling:.3g}" if ceiling is not None else "—"))
        blocks.append(Paragraph("Membership attacks at each ε", style="h3"))
        blocks.append(Table(header=("ε", "Seed", "Leak the attacks proved (ε at least)",
                                    "Most this audit could prove"), rows=tuple(rows),
                            numeric_columns=(0, 1, 2, 3), small=True))
    return blocks


def _plan_blocks(plan: Mapping[str, Any]) -> list[Block]:
    blocks: list[Block] = [Paragraph("The planner", style="h3")]
    if plan.get("explanation"):
        blocks.append(Paragraph(plain(plan["explanation"])))
    facts = []
    if number_or_none(plan.get("tolerance_points")) is not None:
        facts.append(("Accuracy loss accepted", f"{plan['tolerance_points']:g} points"))
    interval = plan.get("interval")
    if isinstance(interval, list) and len(interval) == 2 and all(number_or_none(v) for v in interval):
        facts.append((f"{(number_or_none(plan.get('confidence')) or 0.9):.0%} interval of the suggested ε",
                      f"{interval[0]:.2g} to {interval[1]:.2g}"))
    if number_or_none(plan.get("noise_multiplier")) is not None:
        facts.append(("Noise multiplier at the suggested ε", f"{plan['noise_multiplier']:.3g}"))
    if facts:
        blocks.append(Table(header=("", ""), rows=tuple(facts), widths=(40, 60),
                            first_column_bold=True, small=True))
    notes = [plain(n) for n in plan.get("notes") or () if n != TUNING_IS_A_RELEASE]
    if notes:
        blocks.append(Bullets(tuple(notes)))
    return blocks
