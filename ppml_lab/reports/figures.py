"""Tables of figures: a run's results and costs (named by the engine's labels), and the confusion
matrix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ppml_lab.engines.contract import COMMON_LABELS, Label
from ppml_lab.engines.registry import get_engine
from ppml_lab.experiments.narrative import fmt_bytes, pct
from ppml_lab.jsonable import number_or_none
from ppml_lab.reports.model import Table

__all__ = ["confusion_table", "costs_table", "fmt_value", "results_table"]


def fmt_value(value: Any, unit: str = "") -> str:
    """A figure with its unit, as a person reads it ("0.27 s", "6.75 MB", "55×")."""
    number = number_or_none(value)
    if number is None:
        return "—" if value is None else str(value)
    if unit == "B":
        return fmt_bytes(number)
    if unit == "s":
        return f"{number:.2g} s" if number < 10 else f"{number:,.0f} s"
    if unit == "x":
        return f"{number:.2g}×" if number < 10 else f"{number:,.0f}×"
    if number == int(number) and abs(number) < 1e12:
        return f"{int(number):,}" + (f" {unit}" if unit else "")
    return f"{number:.3g}" + (f" {unit}" if unit else "")


def _label(pattern: str, kind: str) -> Label:
    try:
        return get_engine(pattern).label_for(kind)
    except ValueError:
        return COMMON_LABELS.get(kind) or Label(kind.replace("_", " "))


def costs_table(doc: Mapping[str, Any]) -> Table | None:
    """Every cost the run reported (``overhead``), named and united by the engine's labels."""
    pattern = str(((doc.get("experiment") or {}).get("pattern") or {}).get("name") or "")
    overhead = doc.get("overhead") or {}
    rows = []
    for kind, value in overhead.items():
        if number_or_none(value) is None:
            continue
        label = _label(pattern, kind)
        rows.append((label.text[:1].upper() + label.text[1:], fmt_value(value, label.unit)))
    base = doc.get("baseline") or {}
    if number_or_none(base.get("seconds")) is not None:
        rows.append(("Plaintext reference's engine time", fmt_value(base["seconds"], "s")))
    if not rows:
        return None
    caption = "Times are wall-clock times on the machine that ran the experiment"
    if number_or_none(overhead.get("bytes_sent")) is not None:
        caption += "; data sent counts every message of the protocol"
    return Table(header=("Cost", "Value"), rows=tuple(rows), widths=(60, 40), small=True,
                 numeric_columns=(1,), caption=caption + ".")


def results_table(doc: Mapping[str, Any]) -> Table:
    """The headline figures: accuracies, the guessing test, ROC AUC, the guarantee's numbers."""
    final = doc.get("final") or {}
    base = doc.get("baseline") or {}
    ev = doc.get("evaluation") or {}
    prot = doc.get("protection") or {}
    guess = ev.get("guessing_test") or {}
    rows: list[tuple[str, str]] = [
        ("Test accuracy", pct(number_or_none(final.get("test_accuracy")) or number_or_none(ev.get("accuracy")))),
    ]
    if number_or_none(base.get("test_accuracy")) is not None:
        rows.append(("Plaintext reference's test accuracy", pct(base["test_accuracy"])))
    if ev.get("majority_class_rate") is not None:
        rows.append((f"Always answering “{ev.get('majority_class')}”",
                     pct(ev["majority_class_rate"])))
    if ev.get("no_better_than_guessing") is not None:
        verdict = "no" if ev["no_better_than_guessing"] else "yes"
        if number_or_none(guess.get("p_value")) is not None:
            verdict += f" (one-sided binomial test, p = {guess['p_value']:.2g})"
        rows.append(("Clearly better than guessing", verdict))
    if number_or_none(ev.get("balanced_accuracy")) is not None:
        rows.append(("Balanced accuracy (mean of the per-class accuracies)",
                     pct(ev["balanced_accuracy"])))
    if number_or_none(ev.get("roc_auc")) is not None:
        rows.append(("ROC AUC of the model's scores", f"{ev['roc_auc']:.3f}"))
    if ev.get("test_rows"):
        rows.append(("Test records", f"{int(ev['test_rows']):,}"))
    if number_or_none(prot.get("epsilon")) is not None:
        rows.append(("ε (privacy budget spent)", f"{prot['epsilon']:.3g}"))
    if number_or_none(prot.get("delta")) is not None:
        rows.append(("δ", f"{prot['delta']:.2g}"))
    if prot.get("level"):
        rows.append(("Protection level", str(prot["level"])))
    fidelity = doc.get("fidelity") or {}
    if number_or_none(fidelity.get("max_abs_error")) is not None:
        rows.append(("Largest difference from the same computation in the clear",
                     f"{fidelity['max_abs_error']:.2g}"))
    return Table(header=("Figure", "Value"), rows=tuple(rows), widths=(60, 40), small=True,
                 numeric_columns=(1,))


def confusion_table(evaluation: Mapping[str, Any] | None) -> Table | None:
    """The confusion matrix: one row per true class, one column per predicted class."""
    matrix = (evaluation or {}).get("confusion_matrix") or {}
    classes = [str(c) for c in matrix.get("classes") or ()]
    counts = matrix.get("counts") or []
    if not classes or len(counts) != len(classes) or len(classes) > 12:
        return None
    header = ("true class \\ predicted", *classes)
    rows = tuple((cls, *(f"{int(v):,}" for v in row)) for cls, row in zip(classes, counts))
    return Table(header=header, rows=rows, first_column_bold=True, small=True,
                 numeric_columns=tuple(range(1, len(classes) + 1)),
                 caption="How the model's answers on the test records break down: each row is a "
                 "true class, each column the model's answer; the diagonal holds the right ones.")
