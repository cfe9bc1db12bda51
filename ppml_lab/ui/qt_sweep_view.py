"""The privacy-budget sweep view: accuracy against epsilon, the planner's answer, the audit's ε.

A sweep (:func:`ppml_lab.experiments.sweep.run_sweep`) runs the chosen pattern at every epsilon
of a grid and the plaintext baseline (the non-private point), each with several training seeds,
in worker processes. This view

* takes the sweep's settings (epsilons, seeds, the planner's tolerance, whether to audit every
  point) in a row at the top, with a Run button (the window's Run menu starts it too);
* draws each point as it finishes (faint dots, one per seed) and the mean +/- sd per epsilon
  on a logarithmic epsilon axis, with the non-private accuracy and the majority-class rate
  (always guessing the commonest class) as horizontal lines;
* when the sweep is done, marks the planner's answer on the curve (its epsilon, the target
  accuracy, the bootstrap interval, the fitted curve) with its explanation, and always shows
  the caveat that choosing epsilon on the private data is itself a release
  (:data:`~ppml_lab.experiments.sweep.TUNING_IS_A_RELEASE`);
* with "Audit every point", a second panel with each point's empirical epsilon (the
  membership audit's lower bound) against the epsilon the point was trained for
  (:class:`~ppml_lab.ui.qt_sweep_audit.SweepAuditPanel`).

The view draws; the window's :class:`~ppml_lab.ui.qt_main_window_studies.StudiesMixin` runs the
sweep in a worker thread and hands the points over. Nothing here names a pattern.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.experiments.planner_text import fmt_eps, points_words
from ppml_lab.experiments.sweep import (
    DEFAULT_EPSILONS,
    TUNING_IS_A_RELEASE,
    SweepPoint,
    parse_epsilons,
    summarize,
)
from ppml_lab.ui.qt_plot_export import add_export_button
from ppml_lab.ui.qt_plot_style import (
    PALETTE,
    TEST_COLOR,
    PercentAxisItem,
    add_legend_above,
    cache_axes,
    set_title,
)
from ppml_lab.ui.qt_sweep_audit import SweepAuditPanel, epsilon_ticks

NON_PRIVATE_COLOR = "#1f77b4"
MAJORITY_COLOR = "#7f7f7f"
PLAN_COLOR = PALETTE[0]


class SweepViewWidget(QWidget):
    """Accuracy against epsilon, drawn point by point, with the planner's answer.

    Signals
    -------
    run_requested()
        The Run button was pressed (the window validates and starts the sweep).
    cancel_requested()
        The Cancel button was pressed.
    """

    run_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._build_settings()
        self.header = QLabel(self)
        self.header.setObjectName("hintLabel")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)

        self.plot = cache_axes(pg.PlotWidget(parent=self, axisItems={"left": PercentAxisItem("left")}))
        item = self.plot.getPlotItem()
        set_title(item, "Test accuracy against ε")
        self.plot.setLabel("bottom", "ε (log scale; smaller = more private)")
        self.plot.setLabel("left", "test accuracy")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMinimumHeight(180)
        self.legend = add_legend_above(item)
        self.export_button = add_export_button(self.plot)
        self.seed_dots = pg.ScatterPlotItem(
            size=7, pen=None, brush=pg.mkBrush(255, 127, 14, 110), name="one run per seed"
        )
        self.mean_curve = pg.PlotDataItem(
            pen=pg.mkPen(TEST_COLOR, width=2), symbol="o", symbolSize=7,
            symbolBrush=TEST_COLOR, symbolPen=None, name="mean ± sd over seeds",
        )
        self.error_bars = pg.ErrorBarItem(pen=pg.mkPen(TEST_COLOR, width=1.5), beam=0.04)
        self.non_private_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen(NON_PRIVATE_COLOR, width=1.5, style=Qt.PenStyle.DashLine)
        )
        self.majority_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen(MAJORITY_COLOR, width=1.5, style=Qt.PenStyle.DotLine)
        )
        self.target_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen(PLAN_COLOR, width=1, style=Qt.PenStyle.DashDotLine)
        )
        self.plan_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(PLAN_COLOR, width=2))
        self.plan_region = pg.LinearRegionItem(
            orientation="vertical", movable=False, brush=pg.mkBrush(44, 160, 44, 35),
            pen=pg.mkPen(None),
        )
        self.fit_curve = pg.PlotDataItem(pen=pg.mkPen(PLAN_COLOR, width=1, style=Qt.PenStyle.DashLine))
        self.plan_marker = pg.ScatterPlotItem(size=16, symbol="star", brush=PLAN_COLOR,
                                              pen=pg.mkPen("w"))
        for it in (self.plan_region, self.fit_curve, self.seed_dots, self.error_bars,
                   self.mean_curve, self.non_private_line, self.majority_line, self.target_line,
                   self.plan_line, self.plan_marker):
            self.plot.addItem(it)

        self.audit_panel = SweepAuditPanel(self)
        self.audit_plot = self.audit_panel.plot

        plots = QWidget(self)
        plots_layout = QHBoxLayout(plots)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        plots_layout.addWidget(self.plot, 3)
        plots_layout.addWidget(self.audit_plot, 2)

        self.plan_label = QLabel(self)
        self.plan_label.setObjectName("sweepPlan")
        self.plan_label.setWordWrap(True)
        self.plan_label.setTextFormat(Qt.TextFormat.RichText)
        self.plan_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caveat_label = QLabel(self)
        self.caveat_label.setObjectName("warningsLabel")
        self.caveat_label.setWordWrap(True)
        self.caveat_label.setTextFormat(Qt.TextFormat.RichText)
        self.caveat_label.setText(f"<b>Caveat:</b> {html.escape(TUNING_IS_A_RELEASE)}")
        self.caveat_label.setStyleSheet(
            "QLabel { background: #fff4ce; border: 1px solid #e0c060; border-radius: 4px; "
            "padding: 4px; color: #5a4300; }"
        )
        text = QWidget(self)
        text_layout = QVBoxLayout(text)
        text_layout.setContentsMargins(0, 0, 4, 0)
        text_layout.addWidget(self.plan_label)
        text_layout.addWidget(self.caveat_label)
        text_layout.addStretch(1)
        # The planner's words can run to several lines: they scroll rather than being cut.
        text_area = QScrollArea(self)
        text_area.setWidget(text)
        text_area.setWidgetResizable(True)
        text_area.setFrameShape(QScrollArea.Shape.NoFrame)
        text_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        text_area.setMinimumHeight(70)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(plots)
        splitter.addWidget(text_area)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([520, 190])
        splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self._settings_row)
        layout.addWidget(self.header)
        layout.addWidget(splitter, 1)

        self.points: list[SweepPoint] = []
        self.total = 0
        self.majority_rate: float | None = None
        self.plan: Any = None
        self.result: Any = None
        self._grid: tuple[float, ...] = ()
        self.clear()

    # ------------------------------------------------------------------ settings row ---

    def _build_settings(self) -> None:
        self.epsilons_edit = QLineEdit(", ".join(fmt_eps(e) for e in DEFAULT_EPSILONS), self)
        self.epsilons_edit.setObjectName("sweepEpsilons")
        self.epsilons_edit.setToolTip(
            "The private ε values to try, comma-separated, each > 0. The non-private point "
            "(the plaintext baseline, same model and split) is added automatically."
        )
        self.seeds_spin = QSpinBox(self)
        self.seeds_spin.setRange(1, 20)
        self.seeds_spin.setValue(3)
        self.seeds_spin.setToolTip(
            "Training seeds per ε: the spread over seeds is the error bar. The train/test split "
            "stays fixed (the experiment's seed); the planner's interval needs 2 or more, "
            "better 3-5."
        )
        self.tolerance_spin = QDoubleSpinBox(self)
        self.tolerance_spin.setRange(0.1, 50.0)
        self.tolerance_spin.setDecimals(1)
        self.tolerance_spin.setSingleStep(0.5)
        self.tolerance_spin.setValue(1.0)
        self.tolerance_spin.setSuffix(" pts")
        self.tolerance_spin.setToolTip(
            "The planner's tolerance: what is the smallest ε that keeps test accuracy within this "
            "many percentage points of non-private? (Needs 2 or more ε values.)"
        )
        self.audit_check = QCheckBox("Audit every point", self)
        self.audit_check.setToolTip(
            "Attack every point's model with the membership audit and draw the measured ε "
            "(a lower bound) next to the proven one, in a second panel. Costs shadow-model "
            "training at every point (several times the sweep's time); only patterns with a "
            "membership audit can do it."
        )
        self.run_button = QPushButton("▶  Run sweep", self)
        self.run_button.setObjectName("sweepRunButton")
        self.cancel_button = QPushButton("■  Cancel", self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.setToolTip("Stop the sweep; the points that finished are kept (Esc)")
        # Two lines, so that the view stays narrow enough for a 1280-pixel screen.
        first, second = QHBoxLayout(), QHBoxLayout()
        for line, text, widget, stretch in (
            (first, "ε values", self.epsilons_edit, 1), (first, "Seeds", self.seeds_spin, 0),
            (second, "Tolerance", self.tolerance_spin, 0),
        ):
            label = QLabel(text, self)
            label.setBuddy(widget)
            label.setToolTip(widget.toolTip())
            line.addWidget(label)
            line.addWidget(widget, stretch)
        self.epsilons_edit.setMinimumWidth(90)
        second.addWidget(self.audit_check)
        second.addStretch(1)
        first.addWidget(self.run_button)
        second.addWidget(self.cancel_button)
        self.cancel_button.setMinimumWidth(self.run_button.sizeHint().width())
        row = QVBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addLayout(first)
        row.addLayout(second)
        self._settings_row = row
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)

    def epsilons(self) -> tuple[float, ...]:
        """The ε grid typed in the settings row (ValueError with what is wrong)."""
        return parse_epsilons(self.epsilons_edit.text())

    def seeds(self) -> int:
        return int(self.seeds_spin.value())

    def tolerance(self) -> float:
        return float(self.tolerance_spin.value())

    def audit_requested(self) -> bool:
        return self.audit_check.isChecked()

    def set_settings(
        self, *, epsilons: Sequence[float] | None = None, seeds: int | None = None,
        tolerance: float | None = None, audit: bool | None = None,
    ) -> None:
        """Fill the settings row (tests, a saved sweep)."""
        if epsilons is not None:
            self.epsilons_edit.setText(", ".join(f"{e:g}" for e in epsilons))
        if seeds is not None:
            self.seeds_spin.setValue(int(seeds))
        if tolerance is not None:
            self.tolerance_spin.setValue(float(tolerance))
        if audit is not None:
            self.audit_check.setChecked(bool(audit))

    def set_availability(self, reason: str | None, *, can_audit: bool = True) -> None:
        """Enable Run, or disable it with ``reason`` (no data, a pattern without ε, busy)."""
        self.run_button.setEnabled(reason is None)
        self.run_button.setToolTip(reason or "Run the sweep with these settings")
        self.audit_check.setEnabled(can_audit)
        if not self.points and reason:
            self.header.setText(f"<span style='color:#666'>{html.escape(reason)}</span>")
            self._reason_shown = True
        elif not self.points and getattr(self, "_reason_shown", False):
            self._reason_shown = False  # the reason is gone (e.g. a run ended): say what to do
            self.clear()

    def set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        for w in (self.epsilons_edit, self.seeds_spin, self.tolerance_spin, self.audit_check):
            w.setEnabled(not running)
        if running:
            self.run_button.setEnabled(False)

    # ------------------------------------------------------------------ data ---

    def clear(self, message: str = "") -> None:
        """Forget the sweep shown."""
        self.points = []
        self.total = 0
        self.plan = None
        self.result = None
        self.majority_rate = None
        self._grid = ()
        self._redraw()
        self._show_plan(None)
        self.header.setText(message or (
            "<span style='color:#666'>A sweep runs the chosen private pattern at every ε of the "
            "grid and the plaintext baseline, each with several training seeds, on the same "
            "split. Set the grid and press <b>Run sweep</b> (or Run &gt; Privacy-budget "
            "sweep…).</span>"
        ))

    def start(self, *, title: str, epsilons: Sequence[float], seeds: int, audit: bool) -> None:
        """A new sweep begins: empty plots for ``epsilons`` (non-private point added)."""
        self.clear()
        self._grid = tuple(sorted(epsilons))
        self.total = (len(self._grid) + 1) * int(seeds)
        self.audit_plot.setVisible(bool(audit))
        self._title = title
        self._redraw()
        self.set_status(f"Starting the workers… 0 of {self.total} points")

    def set_status(self, text: str) -> None:
        title = html.escape(getattr(self, "_title", ""))
        self.header.setText(f"<b>{title}</b> — {html.escape(text)}" if title else html.escape(text))

    def set_majority_rate(self, rate: float | None) -> None:
        """The accuracy of always guessing the commonest class of the test split."""
        self.majority_rate = rate if rate is not None and math.isfinite(rate) else None
        self._redraw()

    def add_points(self, points: Iterable[SweepPoint]) -> None:
        """Draw finished points (in any order)."""
        new = [p for p in points if isinstance(p, SweepPoint)]
        if not new:
            return
        self.points.extend(new)
        self._redraw()
        self.set_status(f"{len(self.points)} of {self.total} points finished")

    def set_result(self, result: Any, plan: Any = None, plan_error: str = "") -> None:
        """The sweep ended (completed or cancelled): final points, the planner's answer."""
        self.result = result
        self.points = list(result.points)
        self.plan = plan
        self._redraw()
        done = f"{len(self.points)} of {self.total or len(self.points)} points"
        if result.status == "cancelled":
            self.set_status(f"Cancelled — {done} kept")
        else:
            self.set_status(f"Done — {done} in {result.wall_seconds:.1f} s "
                            f"({result.workers or 'no'} worker processes)")
        self._show_plan(plan, plan_error)

    # ------------------------------------------------------------------ drawing ---

    def _redraw(self) -> None:
        grid = sorted(set(self._grid) | {p.epsilon for p in self.points if p.private})
        private = [p for p in self.points if p.private]
        public = [p for p in self.points if not p.private]
        self.seed_dots.setData(
            x=[math.log10(p.epsilon) for p in private], y=[p.test_accuracy for p in private],
        )
        summaries = [s for s in summarize(private)]
        x = np.array([math.log10(s.epsilon) for s in summaries])
        y = np.array([s.test_accuracy_mean for s in summaries])
        sd = np.array([0.0 if math.isnan(s.test_accuracy_sd) else s.test_accuracy_sd
                       for s in summaries])
        self.mean_curve.setData(x=x, y=y)
        self.error_bars.setData(x=x, y=y, top=sd, bottom=sd)
        self.error_bars.setVisible(len(x) > 0)
        self.legend.begin()
        if private:
            self.legend.add(self.seed_dots, "one run per seed")
            self.legend.add(self.mean_curve, "mean ± sd over seeds")
        np_acc = float(np.mean([p.test_accuracy for p in public])) if public else None
        self.legend.show_line(self.non_private_line, np_acc,
                   f"non-private (plaintext) {np_acc * 100:.1f}%" if np_acc is not None else "")
        self.legend.show_line(self.majority_line, self.majority_rate,
                   f"always the commonest class {self.majority_rate * 100:.1f}%"
                   if self.majority_rate is not None else "")
        self._draw_plan()
        self.legend.finish()
        if grid:
            self.plot.getAxis("bottom").setTicks([epsilon_ticks(grid)])
            lo, hi = math.log10(grid[0]), math.log10(grid[-1])
            pad = max(0.15, 0.06 * (hi - lo))
            self.plot.setXRange(lo - pad, hi + pad, padding=0)
        ys = [p.test_accuracy for p in self.points if math.isfinite(p.test_accuracy)]
        ys += [v for v in (self.majority_rate,) if v is not None]
        if ys:
            low, high = min(ys), max(ys)
            span = max(high - low, 0.02)
            self.plot.setYRange(max(0.0, low - 0.08 * span), min(1.0, high + 0.12 * span),
                                padding=0)
        self.audit_panel.draw(self.points, grid)

    def _draw_plan(self) -> None:
        plan = self.plan
        reachable = plan is not None and plan.reachable and plan.epsilon is not None
        for item in (self.plan_line, self.plan_marker, self.plan_region, self.fit_curve,
                     self.target_line):
            item.setVisible(False)
        if plan is None:
            return
        self.legend.show_line(self.target_line, plan.target_accuracy,
                   f"target: non-private − {points_words(plan.tolerance)}")
        if plan.grid:
            xs = np.geomspace(plan.grid[0], plan.grid[-1], 80)
            self.fit_curve.setData(x=np.log10(xs), y=[plan.fit.accuracy(float(e)) for e in xs])
            self.fit_curve.setVisible(True)
        if not reachable:
            return
        ex = math.log10(plan.epsilon)
        self.plan_line.setValue(ex)
        self.plan_line.setVisible(True)
        self.legend.add(self.plan_line, f"planner: ε ≈ {fmt_eps(plan.epsilon)}")
        acc = plan.expected_accuracy if plan.expected_accuracy is not None else plan.target_accuracy
        self.plan_marker.setData(x=[ex], y=[acc])
        self.plan_marker.setVisible(True)
        if plan.interval:
            lo, hi = plan.interval
            hi = min(hi, plan.grid[-1]) if math.isfinite(hi) else plan.grid[-1]
            if lo > 0 and hi > lo:
                self.plan_region.setRegion((math.log10(lo), math.log10(hi)))
                self.plan_region.setVisible(True)

    def _show_plan(self, plan: Any, error: str = "") -> None:
        if plan is None:
            self.plan_label.setText(
                f"<span style='color:#8a4b00'>The planner gave no answer: {html.escape(error)}"
                "</span>" if error else
                "<span style='color:#666'>When the sweep is done, the planner marks the smallest "
                "ε that keeps accuracy within the tolerance of non-private on the curve.</span>"
            )
            return
        notes = [n for n in plan.notes if n != TUNING_IS_A_RELEASE]
        extra = "".join(f"<br><span style='color:#555'>{html.escape(n)}</span>" for n in notes)
        if plan.epochs_note:
            extra += f"<br><span style='color:#555'>{html.escape(plan.epochs_note)}</span>"
        head = (f"<b style='color:{PLAN_COLOR}'>Planner (within {points_words(plan.tolerance)}):</b> ")
        self.plan_label.setText(head + html.escape(plan.explanation) + extra)


__all__ = ["SweepViewWidget"]
