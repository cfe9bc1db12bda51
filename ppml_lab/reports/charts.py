"""The charts of a report, as data (:class:`~ppml_lab.reports.model.Chart`), from results documents.

Qt-free: :mod:`.qt_charts` draws them. Every chart is made from the numbers of the results
document (a run's ``history``, ``evaluation`` and ``extra.audit``; a comparison's rows; a sweep's
points and summaries), never grabbed from the window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ppml_lab.experiments.evaluation import Headline
from ppml_lab.experiments.narrative import lower_first, pct
from ppml_lab.jsonable import number_or_none
from ppml_lab.reports.model import (
    GUESSING_COLOR,
    LEVEL_COLORS,
    REFERENCE_COLOR,
    SERIES_COLORS,
    Bar,
    Chart,
    RefLine,
    Series,
)

__all__ = [
    "accuracy_bars",
    "audit_roc",
    "budget_curve",
    "comparison_accuracy",
    "comparison_ratio",
    "level_color",
    "sweep_accuracy",
    "sweep_curves",
    "training_curve",
]


def level_color(level: str, *, not_private: bool = False) -> str:
    """The colour of a protection level (red when the setting is not private)."""
    if not_private or level.startswith("NOT PRIVATE"):
        return "#b3261e"
    return LEVEL_COLORS.get(level, LEVEL_COLORS["none"])


def _guess_label(h: Headline | None, majority: str | None = None) -> str:
    cls = (h.majority_class if h is not None else None) or majority
    return f"always answering “{cls}”" if cls else "always guessing the commonest class"


def accuracy_bars(h: Headline, *, label: str, level: str, not_private: bool) -> Chart | None:
    """Page 1 of a run: its test accuracy next to the plaintext reference's and guessing's."""
    if h.accuracy is None:
        return None
    bars = []
    if not h.is_reference:
        # A good level next to a useless model must not read as good news (as in the window).
        color = "#9aa0a6" if h.no_better_than_guessing and not not_private else level_color(
            level, not_private=not_private)
        bars.append(Bar(label=f"With {lower_first(label)}", value=h.accuracy, color=color,
                        text=pct(h.accuracy),
                        note="no better than guessing" if h.no_better_than_guessing else ""))
    if h.reference_accuracy is not None or h.is_reference:
        ref = h.accuracy if h.is_reference else h.reference_accuracy
        bars.append(Bar(label="Without protection (plaintext reference)", value=float(ref),
                        color=REFERENCE_COLOR, text=pct(ref)))
    if h.majority_rate is not None:
        bars.append(Bar(label=_guess_label(h)[:1].upper() + _guess_label(h)[1:],
                        value=h.majority_rate, color="#c8ccd2", text=pct(h.majority_rate),
                        note="no model at all"))
    return Chart(
        kind="bars", title="Test accuracy: protected, unprotected, and guessing",
        caption="Share of held-out test records classified correctly. The grey bar is what "
        "always giving the commonest answer achieves: a useful model is clearly longer.",
        bars=tuple(bars), percent=True, x_range=(0.0, 1.0), x_label="test accuracy",
        aspect=0.25,
    )


def _step_name(doc: Mapping[str, Any]) -> str:
    from ppml_lab.engines.registry import get_engine
    from ppml_lab.experiments.config import experiment_from_dict

    try:
        experiment = experiment_from_dict(doc.get("experiment") or {})
        return get_engine(experiment.pattern).plan(experiment.model, experiment.params).step_name
    except Exception:  # noqa: BLE001 - only an axis title
        return "step"


def _history_series(doc: Mapping[str, Any], key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for row in doc.get("history") or ():
        x, y = number_or_none(row.get("step")), number_or_none(row.get(key))
        if x is not None and y is not None:
            xs.append(x)
            ys.append(y)
    return xs, ys


def training_curve(doc: Mapping[str, Any], *, label: str, is_reference: bool) -> Chart | None:
    """Test accuracy after each step of training, with the plaintext reference's final one."""
    xs, ys = _history_series(doc, "test_accuracy")
    if len(xs) < 2:
        return None
    step = _step_name(doc)
    h = Headline.from_document(doc, is_reference=is_reference)
    lines = []
    if h.reference_accuracy is not None:
        lines.append(RefLine(value=h.reference_accuracy, color=REFERENCE_COLOR,
                             label=f"without protection {pct(h.reference_accuracy)}"))
    if h.majority_rate is not None:
        lines.append(RefLine(value=h.majority_rate, color=GUESSING_COLOR,
                             label=f"{_guess_label(h)} {pct(h.majority_rate)}"))
    train_x, train_y = _history_series(doc, "train_accuracy")
    series = [Series(name=f"test accuracy ({lower_first(label)})", x=tuple(xs), y=tuple(ys),
                     color=SERIES_COLORS[0])]
    if len(train_x) >= 2:
        series.append(Series(name="training accuracy (a diagnostic)", x=tuple(train_x),
                             y=tuple(train_y), color="#9aa0a6", dashed=True, markers=False))
    return Chart(
        kind="lines", title=f"Accuracy during training, {step} by {step}",
        caption=f"Test accuracy after each {step}; the dashed lines are the plaintext "
        "reference's final accuracy and what guessing achieves.",
        series=tuple(series), lines=tuple(lines), percent=True, x_label=step,
        y_label="accuracy",
    )


def budget_curve(doc: Mapping[str, Any]) -> Chart | None:
    """The privacy budget ε spent after each step, against the target when there is one."""
    xs, ys = _history_series(doc, "epsilon")
    if len(xs) < 2:
        return None
    step = _step_name(doc)
    target = number_or_none((doc.get("privacy") or {}).get("target_epsilon"))
    lines = (RefLine(value=target, label=f"target ε = {target:g}", color=GUESSING_COLOR),) \
        if target is not None else ()
    return Chart(
        kind="lines", title="Privacy budget spent",
        caption=f"ε spent so far after each {step} (the privacy accountant's figure). It only "
        "grows: every pass over the data spends some of the budget.",
        series=(Series(name="ε spent", x=tuple(xs), y=tuple(ys), color=SERIES_COLORS[2]),),
        lines=lines, x_label=step, y_label="ε", aspect=0.33,
    )


def audit_roc(audit: Mapping[str, Any] | None) -> Chart | None:
    """The membership attacks' ROC curves against the diagonal (guessing)."""
    if not isinstance(audit, Mapping):
        return None
    series = []
    for i, (name, attack) in enumerate((audit.get("attacks") or {}).items()):
        roc = attack.get("roc") if isinstance(attack, Mapping) else None
        if not isinstance(roc, Mapping):
            continue
        fpr = [float(v) for v in roc.get("fpr") or () if number_or_none(v) is not None]
        tpr = [float(v) for v in roc.get("tpr") or () if number_or_none(v) is not None]
        if len(fpr) != len(tpr) or len(fpr) < 2:
            continue
        auc = number_or_none(attack.get("auc"))
        words = {"loss": "loss threshold", "lira": "LiRA (shadow models)"}.get(name, name)
        series.append(Series(name=f"{words}, AUC {auc:.2f}" if auc is not None else words,
                             x=tuple(fpr), y=tuple(tpr), markers=False,
                             color=SERIES_COLORS[(i + 1) % len(SERIES_COLORS)]))
    if not series:
        return None
    return Chart(
        kind="lines", title="Membership attacks against the model",
        caption="Each curve: the share of training records an attack catches (up) against the "
        "share of unseen records it wrongly flags (across). The diagonal is a coin toss; a curve "
        "close to it means the attack could not tell training records apart.",
        series=tuple(series), x_range=(0.0, 1.0), y_range=(0.0, 1.0), diagonal=True,
        x_label="unseen records wrongly flagged", y_label="training records caught",
        percent=False, aspect=0.6,
    )


# -- comparisons -----------------------------------------------------------------------------------


def comparison_accuracy(rows: Sequence[Mapping[str, Any]], majority: float | None) -> Chart | None:
    """Page 1 of a comparison: every pattern's test accuracy, coloured by its protection."""
    bars = []
    for row in rows:
        acc = number_or_none(row.get("test_accuracy"))
        if acc is None:
            continue
        level = str(row.get("level") or "none")
        guarantee = str(row.get("guarantee") or "")
        bars.append(Bar(
            label=str(row.get("label") or row.get("pattern")), value=acc, text=pct(acc),
            color=REFERENCE_COLOR if row.get("is_reference")
            else level_color(level, not_private=bool(row.get("not_private"))),
            note="no protection" if row.get("is_reference") else guarantee,
        ))
    if not bars:
        return None
    lines = ()
    if majority is not None:
        lines = (RefLine(value=majority, vertical=True, color=GUESSING_COLOR,
                         label=f"always guessing the commonest class {pct(majority)}"),)
    return Chart(
        kind="bars", title="Test accuracy of every pattern on the same data",
        caption="Share of held-out test records classified correctly. Colour: green strong, "
        "amber moderate privacy (ε); grey no ε (another kind of protection); red not private. "
        "The red dashed line is what always giving the commonest answer achieves.",
        bars=tuple(bars), lines=lines, percent=True, x_range=(0.0, 1.0),
        x_label="test accuracy", aspect=0.12 + 0.065 * len(bars),
    )


def comparison_ratio(rows: Sequence[Mapping[str, Any]], key: str, *, title: str, caption: str,
                     axis: str, one: str = "1× (plaintext)") -> Chart | None:
    """A cost of every pattern as a multiple (time or data sent), on a logarithmic axis."""
    bars = []
    for row in rows:
        value = number_or_none(row.get(key))
        if value is None or value <= 0:
            continue
        text = f"{value:.2g}×" if value < 10 else f"{value:,.0f}×"
        bars.append(Bar(label=str(row.get("label") or row.get("pattern")), value=value, text=text,
                        color=REFERENCE_COLOR if row.get("is_reference") else SERIES_COLORS[0]))
    if not bars:
        return None
    lo = min(b.value for b in bars)
    hi = max(b.value for b in bars)
    return Chart(
        kind="bars", title=title, caption=caption, bars=tuple(bars), x_log=True,
        x_range=(10 ** math.floor(math.log10(min(lo, 1.0))), 10 ** math.ceil(math.log10(
            max(hi, 1.0) * 1.0001))),
        lines=(RefLine(value=1.0, vertical=True, label=one),),
        x_label=axis, aspect=0.1 + 0.065 * len(bars),
    )


# -- sweeps ----------------------------------------------------------------------------------------


def _eps_ticks(values: Sequence[float]) -> tuple[tuple[float, str], ...]:
    return tuple((v, f"{v:g}") for v in sorted(set(values)))


def sweep_accuracy(doc: Mapping[str, Any], *, label: str, majority: float | None = None,
                   plan_epsilon: float | None = None) -> Chart | None:
    """Mean test accuracy (± one standard deviation over seeds) at every ε, the seeds' points,
    the non-private level and the planner's choice.
    """
    summary = [s for s in doc.get("summary") or () if isinstance(s, Mapping)]
    private = [s for s in summary if s.get("private") and number_or_none(s.get("epsilon")) is not None]
    if not private:
        return None
    xs = tuple(float(s["epsilon"]) for s in private)
    ys = tuple(float(s["test_accuracy_mean"]) for s in private)
    sds = tuple((number_or_none(s.get("test_accuracy_sd")) or 0.0) for s in private)
    points = [p for p in doc.get("points") or () if p.get("private") and number_or_none(p.get("epsilon"))]
    series = [Series(name=f"mean test accuracy ({lower_first(label)})", x=xs, y=ys, errors=sds,
                     color=SERIES_COLORS[0])]
    if points:
        series.append(Series(name="one training seed", points_only=True, color="#9aa0a6",
                             x=tuple(float(p["epsilon"]) for p in points),
                             y=tuple(float(p["test_accuracy"]) for p in points)))
    lines = []
    non_private = next((s for s in summary if not s.get("private")), None)
    if non_private is not None:
        lines.append(RefLine(value=float(non_private["test_accuracy_mean"]),
                             label=f"without privacy {pct(non_private['test_accuracy_mean'])}"))
    if majority is not None:
        lines.append(RefLine(value=majority, color=GUESSING_COLOR,
                             label=f"always guessing {pct(majority)}"))
    if plan_epsilon is not None:
        lines.append(RefLine(value=plan_epsilon, vertical=True, color=SERIES_COLORS[2],
                             label=f"suggested ε ≈ {plan_epsilon:.2g}", dashed=False))
    return Chart(
        kind="lines", title="Accuracy at each privacy budget ε",
        caption="Mean test accuracy over the training seeds at each ε (bars: ± one standard "
        "deviation; grey dots: single seeds). Smaller ε is more private and usually less "
        "accurate.",
        series=tuple(series), lines=tuple(lines), percent=True, x_log=True,
        x_label="privacy budget ε (log scale; smaller is more private)", y_label="test accuracy",
        x_ticks=_eps_ticks(xs),
    )


def sweep_curves(doc: Mapping[str, Any]) -> Chart | None:
    """Test accuracy during training at every ε (the first seed): was it still improving?"""
    series = []
    seen: set[float] = set()
    points = [p for p in doc.get("points") or () if isinstance(p, Mapping)]
    for p in sorted(points, key=lambda p: (not p.get("private"), number_or_none(p.get("epsilon")) or 0.0)):
        eps = number_or_none(p.get("epsilon"))
        key = eps if eps is not None else math.inf
        curve = [float(v) for v in p.get("curve") or () if number_or_none(v) is not None]
        if key in seen or len(curve) < 2:
            continue
        seen.add(key)
        name = f"ε = {eps:g}" if p.get("private") and eps is not None else "without privacy"
        color = REFERENCE_COLOR if not p.get("private") else \
            SERIES_COLORS[len(series) % len(SERIES_COLORS)]
        series.append(Series(name=name, x=tuple(range(1, len(curve) + 1)), y=tuple(curve),
                             color=color, markers=False, dashed=not p.get("private")))
    if not series:
        return None
    return Chart(
        kind="lines", title="Accuracy during training at each ε (first seed)",
        caption="A curve that peaks early and falls suggests fewer passes over the data would do "
        "better at that ε.",
        series=tuple(series), percent=True, x_label="pass over the data", y_label="test accuracy",
        aspect=0.45,
    )
