"""The sweep view's second panel: each point's measured ε (membership audit) against its ε.

With "Audit every point" (``run_sweep(audit=True)``) every point's model is attacked, and
:attr:`~ppml_lab.experiments.sweep.SweepPoint.audit` holds the best attack's empirical epsilon (a
lower bound) and the audit's ceiling. This panel draws them against the epsilon each point was
trained for, with the proven epsilon (the accountant's upper bound), the ceiling, and the
non-private model's measured leakage. Part of :class:`~ppml_lab.ui.qt_sweep_view.SweepViewWidget`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from ppml_lab.experiments.sweep import SweepPoint
from ppml_lab.jsonable import number_or_none
from ppml_lab.ui.qt_plot_export import add_export_button
from ppml_lab.ui.qt_plot_style import PALETTE, add_legend_above, cache_axes, set_title

AUDIT_COLOR = PALETTE[1]
PROVEN_COLOR = "#2e7d32"
CEILING_COLOR = "#8a4b00"
NON_PRIVATE_COLOR = "#1f77b4"


def epsilon_ticks(grid: Sequence[float]) -> list[tuple[float, str]]:
    """Ticks at the grid's epsilons on a log10 axis, labelled as the planner writes them."""
    return [(math.log10(e), f"{e:.2g}" if e < 10 else f"{e:.3g}") for e in sorted(set(grid))
            if e > 0]


class SweepAuditPanel:
    """A plot of measured against proven ε per sweep point (hidden until a sweep audits)."""

    def __init__(self, parent: QWidget) -> None:
        self.plot = cache_axes(pg.PlotWidget(parent=parent))
        item = self.plot.getPlotItem()
        set_title(item, "Measured leakage")
        self.plot.setLabel("bottom", "ε trained for (log scale)")
        self.plot.setLabel("left", "ε measured by the audit")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.legend = add_legend_above(item)
        self.export_button = add_export_button(self.plot)
        self.dots = pg.ScatterPlotItem(size=8, pen=None, brush=pg.mkBrush(AUDIT_COLOR))
        self.proven_curve = pg.PlotDataItem(pen=pg.mkPen(PROVEN_COLOR, width=1.5))
        self.ceiling_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen(CEILING_COLOR, width=1, style=Qt.PenStyle.DashLine))
        self.non_private_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen(NON_PRIVATE_COLOR, width=1.5, style=Qt.PenStyle.DashLine))
        for it in (self.proven_curve, self.dots, self.ceiling_line, self.non_private_line):
            self.plot.addItem(it)
        self.plot.setToolTip(
            "Each dot is one point's membership audit: the smallest ε consistent with the best "
            "attack's success (a lower bound, a heuristic). It must stay under the proven ε (the "
            "green line); the dashed line is the most this audit could show with its number of "
            "records. The blue line is the non-private model's measured leakage."
        )
        self.plot.setVisible(False)

    def draw(self, points: Sequence[SweepPoint], grid: Sequence[float]) -> None:
        """Draw the audited points (nothing while the panel is hidden and none was audited)."""
        if not self.plot.isVisible() and not any(p.audit for p in points):
            return
        self.legend.begin()
        audited = [p for p in points if p.private and p.audit]
        lows = [(p, number_or_none((p.audit or {}).get("epsilon_lower_bound"))) for p in audited]
        lows = [(p, v) for p, v in lows if v is not None]
        self.dots.setData(x=[math.log10(p.epsilon) for p, _ in lows], y=[v for _, v in lows])
        if lows:
            self.legend.add(self.dots, "measured ε (best attack)")
        proven = sorted({(p.epsilon, p.epsilon_spent or p.epsilon) for p in audited})
        self.proven_curve.setData(x=[math.log10(e) for e, _ in proven], y=[s for _, s in proven])
        if proven:
            self.legend.add(self.proven_curve, "proven ε")
        ceilings = [number_or_none((p.audit or {}).get("epsilon_ceiling")) for p in points if p.audit]
        ceilings = [c for c in ceilings if c is not None]
        self.legend.show_line(self.ceiling_line, max(ceilings) if ceilings else None, "audit's ceiling")
        public = [number_or_none((p.audit or {}).get("epsilon_lower_bound")) for p in points
                  if not p.private and p.audit]
        public = [v for v in public if v is not None]
        mean = float(np.mean(public)) if public else None
        self.legend.show_line(self.non_private_line, mean,
                   f"non-private model: ε ≥ {mean:.2f}" if mean is not None else "")
        self.legend.finish()
        if grid:
            self.plot.getAxis("bottom").setTicks([epsilon_ticks(grid)])
            lo, hi = math.log10(min(grid)), math.log10(max(grid))
            pad = max(0.15, 0.06 * (hi - lo))
            self.plot.setXRange(lo - pad, hi + pad, padding=0)
        # Up to the audit's ceiling (or what was measured): a proven ε above the ceiling cannot
        # be tested by this audit, so its line may leave the top rather than flatten the dots.
        tops = [v for _, v in lows] + ceilings + public
        self.plot.setYRange(0.0, max(tops + [1.0]) * 1.25, padding=0)


__all__ = ["SweepAuditPanel", "epsilon_ticks"]
