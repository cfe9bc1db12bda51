"""The membership-audit view: ROC curves of the attacks against the region DP allows, and a table.

A run with ``audit = true`` returns ``engine_result.extra["audit"]``::

    {"attacks": {"loss": AuditResult.to_dict(), "lira": ...},
     "accountant_epsilon": float | None, "delta": float, ...}

Each attack's ROC curve is drawn with the diagonal (guessing) and, when the run has an
accountant epsilon, the region every membership attack must stay in,
``TPR <= tpr_bound(FPR, epsilon, delta)`` (:func:`ppml_lab.privacy.translator.tpr_bound`). The
table puts each attack's empirical epsilon *lower* bound next to the audit's *ceiling* (the most
these record counts can demonstrate) and the accountant's *upper* bound; the status line says
whether the audit could test the guarantee at all (``extra.audit.verdict``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.jsonable import number_or_none
from ppml_lab.privacy.attacks import audit_ceiling, audit_verdict
from ppml_lab.privacy.translator import tpr_bound
from ppml_lab.ui.qt_plot_export import add_export_button
from ppml_lab.ui.qt_plot_style import (
    LineSample,
    PercentAxisItem,
    add_legend_above,
    cache_axes,
    set_title,
)

#: Attack colours (the DP region is green, the diagonal grey).
ATTACK_COLORS = ["#d62728", "#1f77b4", "#9467bd", "#ff7f0e", "#8c564b"]
DP_REGION_COLOR = (46, 125, 50)
#: Smallest rate drawn with logarithmic axes (a rate of 0 has no logarithm) when the audit does
#: not say how many records it attacked.
LOG_FLOOR = 1e-4

ATTACK_NAMES = {
    "loss": "loss threshold",
    "lira": "LiRA (shadow models)",
}

#: How the measured epsilon is computed, and why it is a heuristic (tooltips).
BOUND_CAVEAT = (
    "Computed from this one model's ROC curve: Clopper-Pearson intervals on the false- and "
    "true-positive rates with a Bonferroni correction over thresholds, treating every record as "
    "an independent trial. That is a heuristic, not a proof: the members are the data's "
    "training split, not records each included by a coin flip before training, and they all "
    "shaped the same model."
)

_COLUMNS = [
    ("attack", "The membership-inference attack"),
    ("AUC", "Area under the ROC curve: 0.5 is guessing, 1.0 a perfect attack"),
    ("members caught\nat 1% false alarms", "True-positive rate when only 1% of non-members are "
     "wrongly flagged (TPR at 1% FPR): the figure that matters for real attacks"),
    ("ε measured\n(lower bound)", "The smallest epsilon consistent with this attack's success "
     "(at the audit's confidence level): the model leaks at least this much. " + BOUND_CAVEAT),
    ("ε ceiling\n(audit's most)", "The largest epsilon this audit could ever demonstrate with "
     "its number of records, even with a perfect attack. A proven ε at or above it cannot be "
     "tested: 'measured ≤ proven' then holds whatever the model"),
    ("ε proven\n(accountant)", "The epsilon the privacy accountant proves: no attack can do "
     "better than this upper bound allows"),
    ("verdict", "How the measured leakage compares with the guarantee, and whether this audit "
     "could have detected a violation"),
]


def _resolution(audit: Mapping[str, Any] | None) -> float:
    """The smallest non-zero rate the audit could measure: 1 / (records per side)."""
    counts: list[int] = []
    attacks = audit.get("attacks") if isinstance(audit, Mapping) else None
    for attack in (attacks or {}).values() if isinstance(attacks, Mapping) else []:
        if isinstance(attack, Mapping):
            for key in ("n_members", "n_nonmembers"):
                if isinstance(attack.get(key), int) and attack[key] > 0:
                    counts.append(attack[key])
    if not counts and isinstance(audit, Mapping) and isinstance(audit.get("records_per_side"), int):
        counts.append(audit["records_per_side"])
    return 1.0 / max(counts) if counts and max(counts) > 0 else LOG_FLOOR


def _fmt(value: float | None, pattern: str) -> str:
    return "—" if value is None else format(value, pattern)


def _ceiling(audit: Mapping[str, Any], attack: Mapping[str, Any]) -> float | None:
    """The attack's stored ceiling, or (older results) recomputed from its record counts."""
    stored = number_or_none(attack.get("epsilon_ceiling"))
    if stored is not None or "epsilon_ceiling" in attack:
        return stored
    n_m, n_o = attack.get("n_members"), attack.get("n_nonmembers")
    delta = number_or_none(attack.get("delta"))
    if delta is None:
        delta = number_or_none(audit.get("delta"))
    confidence = number_or_none(attack.get("confidence")) or 0.95
    if not (isinstance(n_m, int) and isinstance(n_o, int) and n_m > 0 and n_o > 0):
        return None
    if delta is None or not 0 <= delta < 1 or not 0 < confidence < 1:
        return None
    return audit_ceiling(n_m, n_o, delta=delta, confidence=confidence)


def verdict(lower: float | None, accountant: float | None, ceiling: float | None = None) -> str:
    """One phrase comparing an attack's empirical epsilon with the accountant's.

    With the audit's ``ceiling`` known, a proven epsilon at or above it is reported as
    untestable rather than "consistent" (the comparison could not have come out otherwise).
    """
    if lower is None:
        return "could not be measured"
    if accountant is None:
        return "measurable leakage (no DP guarantee)" if lower > 0 else "no leakage proven (not a guarantee)"
    if lower > accountant + 1e-9:
        return "⚠ exceeds the proven bound: check the audit and the accounting"
    if ceiling is not None and ceiling <= accountant:
        # measured <= ceiling <= proven holds whatever the model: no confirmation.
        return f"cannot test: ceiling {'<' if ceiling < accountant else '='} proven, no confirmation"
    if ceiling is not None:
        return "consistent: measured ≤ proven < ceiling"  # a test this audit could have failed
    return "consistent: measured ≤ proven"


class AuditViewWidget(QWidget):
    """ROC plot of the membership attacks with the DP limit, plus a summary table."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.intro_label = QLabel(self)
        self.intro_label.setObjectName("hintLabel")
        self.intro_label.setWordWrap(True)
        self.intro_label.setTextFormat(Qt.TextFormat.RichText)
        self.intro_label.setText(
            "A <b>membership-inference audit</b> attacks the trained model: can it tell the rows "
            "it was trained on (members) from rows it never saw? Each curve is one attack; the "
            "dashed diagonal is guessing. For a differentially private run the <span "
            "style='color:#2e7d32'><b>green region</b></span> is everything the guarantee allows: "
            "every attack's curve must stay inside it."
        )
        # Rates in percent; on log axes only decades (and 2, 5 where there is room) are labelled.
        self.plot = cache_axes(pg.PlotWidget(
            parent=self,
            axisItems={"left": PercentAxisItem("left"), "bottom": PercentAxisItem("bottom")},
        ))
        set_title(self.plot.getPlotItem(), "Membership attacks (ROC)")
        self.plot.setLabel("bottom", "non-members wrongly flagged (false-positive rate)")
        self.plot.setLabel("left", "members caught (true-positive rate)")
        # "100%" at the right end may reach a few pixels past the axis rather than be dropped.
        self.plot.getAxis("bottom").setStyle(hideOverlappingLabels=14)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMinimumHeight(200)
        # Above the data area, so no curve or region lies under it.
        self.legend = add_legend_above(self.plot.getPlotItem())
        self.export_button = add_export_button(self.plot)
        self.plot.setToolTip(
            "ROC curve of each attack. The region any attack must stay in under (ε, δ)-DP is "
            "TPR ≤ min(1, e^ε·FPR + δ, 1 − e^−ε·(1 − δ − FPR))."
        )
        self.log_check = QCheckBox("Log axes", self)
        self.log_check.setObjectName("auditLogAxes")
        self.log_check.setToolTip(
            "Strong attacks are judged by how many members they catch at very few false alarms; "
            "logarithmic axes show that corner. They start at 1/(records attacked): with n "
            "non-members a false-alarm rate below 1/n cannot be measured, so 0 is drawn there."
        )
        self.table = QTableWidget(0, len(_COLUMNS), self)
        self.table.setObjectName("auditTable")
        self.table.setHorizontalHeaderLabels([c for c, _ in _COLUMNS])
        for col, (_, tip) in enumerate(_COLUMNS):
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        for col in range(len(_COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.setMaximumHeight(150)
        self.table.setToolTip(
            "Each attack's success next to the guarantee: the measured ε (a lower bound on the "
            "leakage) must not exceed the proven ε (the accountant's upper bound). The check "
            "means something only when the audit's ceiling is above the proven ε. "
            + BOUND_CAVEAT
        )
        self.status_label = QLabel(self)
        self.status_label.setObjectName("auditStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.RichText)

        top = QHBoxLayout()
        top.addWidget(self.status_label, 1)
        top.addWidget(self.log_check)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.intro_label)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.table)
        self.log_check.toggled.connect(self._on_log_check_toggled)

        self._audit: Mapping[str, Any] | None = None
        self.attack_curves: dict[str, pg.PlotDataItem] = {}
        self.limit_curve: pg.PlotDataItem | None = None
        self.clear()

    # -- API ---------------------------------------------------------------------------------

    @property
    def has_audit(self) -> bool:
        return self._audit is not None

    def clear(self, message: str = "") -> None:
        """Forget the audit shown."""
        self._audit = None
        self._redraw()
        self.table.setRowCount(0)
        self.status_label.setText(
            message
            or "<span style='color:#666'>No audit yet. Tick <b>Membership audit</b> in the "
            "advanced settings of the differential-privacy or baseline pattern, then run.</span>"
        )

    def set_audit(self, audit: Any) -> bool:
        """Show an ``extra["audit"]`` payload; False (and a message) if it cannot be read."""
        attacks = audit.get("attacks") if isinstance(audit, Mapping) else None
        if not isinstance(attacks, Mapping) or not attacks:
            self.clear("<span style='color:#b3261e'>The audit result could not be read.</span>")
            return False
        self._audit = audit
        self._redraw()
        self._fill_table()
        eps = number_or_none(audit.get("accountant_epsilon"))
        delta = number_or_none(audit.get("delta")) or 0.0
        n = audit.get("records_per_side")
        who = f" on {n:,} members and {n:,} non-members" if isinstance(n, int) else ""
        if eps is not None:
            text = (
                f"Attacks{who}. Proven guarantee: <b>ε = {eps:.3g}</b>, δ = {delta:.2g}; the "
                "green region is what it allows."
            )
        else:
            text = (
                f"Attacks{who}. This model has <b>no differential-privacy guarantee</b>, so "
                "nothing bounds the curves: a curve well above the diagonal is measured leakage."
            )
        conclusion = self._conclusion(audit, eps)
        if conclusion:
            lowers = [number_or_none(a.get("epsilon_lower_bound")) for a in attacks.values()
                      if isinstance(a, Mapping)]
            if eps is not None and any(lo is not None and lo > eps for lo in lowers):
                colour = "#b3261e"  # a violation
            elif audit.get("can_test_guarantee") is False or conclusion.startswith("This audit could"):
                colour = "#8a4b00"  # untestable: not a confirmation
            else:
                colour = "#202020"
            text += f"<br><span style='color:{colour}'><b>{html.escape(conclusion)}</b></span>"
        self.status_label.setText(text)
        self.status_label.setToolTip(BOUND_CAVEAT)
        return True

    @staticmethod
    def _conclusion(audit: Mapping[str, Any], eps: float | None) -> str:
        """The audit's verdict sentence (stored, or rebuilt for results that predate it)."""
        stored = audit.get("verdict")
        if isinstance(stored, str) and stored:
            return stored.replace("epsilon", "ε")
        best: tuple[float, float, int, int] | None = None
        for attack in (audit.get("attacks") or {}).values():
            if not isinstance(attack, Mapping):
                continue
            lower, ceiling = number_or_none(attack.get("epsilon_lower_bound")), _ceiling(audit, attack)
            n_m, n_o = attack.get("n_members"), attack.get("n_nonmembers")
            if lower is None or ceiling is None or not isinstance(n_m, int) or not isinstance(n_o, int):
                continue
            if best is None or lower > best[0]:
                best = (lower, ceiling, n_m, n_o)
        if best is None:
            return ""
        return audit_verdict(
            lower=best[0], ceiling=best[1], accountant_epsilon=eps, n_members=best[2],
            n_nonmembers=best[3], symbol="ε",
        )

    # -- drawing -----------------------------------------------------------------------------

    @Slot(bool)
    def _on_log_check_toggled(self, checked: bool) -> None:
        self._redraw()

    def _redraw(self) -> None:
        plot = self.plot
        plot.clear()
        self.legend.clear()
        self.attack_curves = {}
        self.limit_curve = None
        log = self.log_check.isChecked()
        plot.setLogMode(x=log, y=log)
        # With n non-members the smallest false-alarm rate measured is 1/n: a rate of 0 means
        # "below 1/n", so log axes start there rather than at an arbitrary tiny value.
        floor = _resolution(self._audit) if log else 0.0
        lo = floor
        grid = (
            np.unique(np.concatenate([np.geomspace(LOG_FLOOR, 1.0, 300), np.linspace(0, 1, 201)]))
            if not log else np.geomspace(floor, 1.0, 300)
        )
        plot.plot(
            grid, grid, pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine), name="guessing"
        )
        audit = self._audit
        if audit is not None:
            eps = number_or_none(audit.get("accountant_epsilon"))
            delta = number_or_none(audit.get("delta")) or 0.0
            if eps is not None and eps >= 0 and 0 <= delta < 1:
                bound = np.maximum(np.asarray(tpr_bound(grid, eps, delta), dtype=float), lo)
                # Filled down to the axis (fillLevel is in plotted, i.e. log10, coordinates).
                self.limit_curve = plot.plot(
                    grid, bound, pen=pg.mkPen(DP_REGION_COLOR, width=1.5),
                    fillLevel=math.log10(lo) if log else 0.0,
                    fillBrush=pg.mkBrush(*DP_REGION_COLOR, 55),
                    name=f"DP limit (ε = {eps:.3g}, δ = {delta:.2g})",
                )
            attacks = audit.get("attacks") or {}
            for i, (name, attack) in enumerate(attacks.items()):
                if not isinstance(attack, Mapping):
                    continue
                roc = attack.get("roc") if isinstance(attack.get("roc"), Mapping) else {}
                try:
                    fpr = np.asarray(roc.get("fpr", []), dtype=float)
                    tpr = np.asarray(roc.get("tpr", []), dtype=float)
                except (TypeError, ValueError):
                    continue
                if fpr.size == 0 or fpr.shape != tpr.shape:
                    continue
                if log:
                    fpr, tpr = np.maximum(fpr, floor), np.maximum(tpr, floor)
                auc = number_or_none(attack.get("auc"))
                label = html.escape(ATTACK_NAMES.get(str(name), str(name)))
                if auc is not None:
                    label += f" (AUC {auc:.3f})"
                color = ATTACK_COLORS[i % len(ATTACK_COLORS)]
                self.attack_curves[str(name)] = plot.plot(
                    fpr, tpr, pen=pg.mkPen(color, width=2), name=label
                )
        one_pct = pg.InfiniteLine(
            pos=math.log10(0.01) if log else 0.01, angle=90,
            pen=pg.mkPen("#777777", style=Qt.PenStyle.DotLine, width=1.5),
        )
        plot.addItem(one_pct, ignoreBounds=True)
        # Named in the legend: a text label on the line would lie over the curves.
        self.legend.addItem(LineSample(one_pct), "1% false alarms")
        if log:
            # Room past 100% for that label (a label cut by the edge is not drawn at all).
            plot.setXRange(math.log10(floor), 0, padding=0.05)
            plot.setYRange(math.log10(floor), 0, padding=0.05)
        else:
            plot.setXRange(0, 1, padding=0.02)
            plot.setYRange(0, 1, padding=0.02)

    def _fill_table(self) -> None:
        audit = self._audit or {}
        attacks = audit.get("attacks") or {}
        accountant = number_or_none(audit.get("accountant_epsilon"))
        conclusion = self._conclusion(audit, accountant)
        rows = [(n, a) for n, a in attacks.items() if isinstance(a, Mapping)]
        self.table.setRowCount(len(rows))
        for row, (name, attack) in enumerate(rows):
            auc = number_or_none(attack.get("auc"))
            tpr1 = number_or_none(attack.get("tpr_at_1pct_fpr"))
            lower = number_or_none(attack.get("epsilon_lower_bound"))
            ceiling = _ceiling(audit, attack)
            texts = [
                ATTACK_NAMES.get(str(name), str(name)),
                _fmt(auc, ".3f"),
                "—" if tpr1 is None else f"{tpr1:.1%}",
                _fmt(lower, ".3g"),
                _fmt(ceiling, ".3g"),
                _fmt(accountant, ".3g") if accountant is not None else "none",
                verdict(lower, accountant, ceiling),
            ]
            for col, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if 0 < col < len(texts) - 1:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(conclusion if col == len(texts) - 1 and conclusion
                                else _COLUMNS[col][1])
                if col == len(texts) - 1 and text.startswith("⚠"):
                    item.setForeground(Qt.GlobalColor.red)
                elif col == len(texts) - 1 and text.startswith("cannot test"):
                    item.setForeground(QColor("#8a4b00"))
                self.table.setItem(row, col, item)


__all__ = ["AuditViewWidget", "verdict"]
