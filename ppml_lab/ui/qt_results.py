"""The results panel: the headline card (``qt_headline_card``: live numbers during a run, then the
headline), the warnings, and behind a "Details" toggle the summary, the engineer's view, the
privacy guarantee in plain words and the costs.

After a run the summary compares the final test accuracy with the plaintext baseline trained on the
same split (``RunResult.baseline``) and gives the engine time and the data sent. The privacy box
explains the run's (epsilon, delta) with the privacy translator
(:func:`ppml_lab.privacy.translator.describe`), or, for a pattern without an epsilon, what it
does and does not protect. Warnings from the engine and the run's log are shown in a highlighted
box at the top, never hidden in a console.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.engines.contract import COMMON_LABELS, Guarantee
from ppml_lab.engines.events import Overhead
from ppml_lab.engines.registry import REFERENCE
from ppml_lab.experiments.evaluation import Headline, Spread
from ppml_lab.experiments.runner import diagnostics_notice
from ppml_lab.jsonable import number_or_none
from ppml_lab.ui.qt_headline_card import (
    LEVEL_COLORS,
    DetailsToggle,
    EngineerViewWidget,
    HeadlineCardWidget,
)


def cost_label(kind: str, engine: Any = None) -> str:
    """The label of a cost kind in the table (the engine's own name for it, if it has one)."""
    if engine is not None:
        return engine.label_for(kind).text
    label = COMMON_LABELS.get(kind)
    return label.text if label is not None else kind.replace("_", " ")


def _unit_for(kind: str, engine: Any = None) -> str:
    label = engine.label_for(kind) if engine is not None else COMMON_LABELS.get(kind)
    if label is not None and label.unit:
        return label.unit
    if kind.endswith("seconds"):
        return "s"
    if "bytes" in kind:
        return "B"
    return ""


def format_quantity(value: float, unit: str) -> str:
    """A number with its unit for people: ``1.2 MB``, ``0.35 s``, ``12``."""
    if unit in ("bytes", "B"):
        size = float(value)
        for prefix in ("B", "kB", "MB", "GB", "TB"):
            if abs(size) < 1000 or prefix == "TB":
                return f"{size:,.0f} {prefix}" if prefix == "B" else f"{size:.3g} {prefix}"
            size /= 1000
    if unit == "s":
        return f"{value:.3g} s" if value < 100 else f"{value:,.0f} s"
    text = f"{value:.4g}"
    return f"{text} {unit}".strip()


def _fmt(value: Any, digits: int = 4) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return "—"
        return f"{value:.{digits}g}"
    return html.escape(str(value))


def _engine(pattern: str) -> Any:
    from ppml_lab.engines.registry import get_engine

    try:
        return get_engine(pattern)
    except ValueError:
        return None


def privacy_explanation(guarantee: Guarantee) -> tuple[str, str, list[str]]:
    """``(headline, level, sentences)`` explaining a run's guarantee in plain words.

    ``headline`` is "" when the run has no usable (epsilon, delta); ``level`` is the
    guarantee's level ("strong", ..., or "NOT PRIVATE (...)").
    """
    if not guarantee.has_epsilon:
        return "", guarantee.level, guarantee.sentences()
    eps, delta = float(guarantee.epsilon), float(guarantee.delta)  # type: ignore[arg-type]
    headline = f"ε = <b>{eps:.3g}</b>, δ = {delta:.2g}, {html.escape(guarantee.headline)}"
    return headline, guarantee.level, guarantee.sentences()


#: Privacy-document keys not listed among a run's details (shown elsewhere, or long text).
_NOT_DETAILS = frozenset(
    {"epsilon", "delta", "guarantee", "covers", "diagnostics", "diagnostics_notice",
     "in_plain_words", "noise_source", "target_epsilon", "calibrated", "steps", "audit"}
)


class ResultsPanel(QWidget):
    """The headline card, warnings, and behind a "Details" toggle (collapsed by default,
    remembered in ``settings``, by default the window's) the summary, the engineer's view, the
    privacy box and the cost table.
    """

    def __init__(self, parent: QWidget | None = None, *, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.headline_card = HeadlineCardWidget(self)
        self.engineer_view = EngineerViewWidget(self)
        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("resultSummary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.summary_label.setToolTip(
            "The result of the last run next to the plaintext baseline on the same split"
        )
        self.warnings_label = QLabel(self)
        self.warnings_label.setObjectName("warningsBox")
        self.warnings_label.setWordWrap(True)
        self.warnings_label.setTextFormat(Qt.TextFormat.RichText)
        self.warnings_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warnings_label.setToolTip("Caveats about this run: read them before trusting the result")
        self.warnings_label.setVisible(False)
        self.privacy_label = QLabel(self)
        self.privacy_label.setObjectName("privacyExplanation")
        self.privacy_label.setWordWrap(True)
        self.privacy_label.setTextFormat(Qt.TextFormat.RichText)
        self.privacy_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.privacy_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.privacy_label.setToolTip(
            "What the privacy guarantee of this run means, in plain words. Each sentence is a "
            "worst-case bound computed from (ε, δ) by the privacy translator."
        )
        self.privacy_label.setStyleSheet(
            "QLabel#privacyExplanation { background: #f4f6f9; border-radius: 4px; padding: 6px 8px; }"
        )
        self.overhead_table = QTableWidget(0, 3, self)
        self.overhead_table.setObjectName("overheadTable")
        self.overhead_table.setHorizontalHeaderLabels(["cost", "value", "step"])
        self.overhead_table.horizontalHeaderItem(2).setToolTip(
            "The step (epoch or round) of the latest value; 'final' for the run's totals"
        )
        self.overhead_table.verticalHeader().setVisible(False)
        self.overhead_table.verticalHeader().setDefaultSectionSize(22)
        self.overhead_table.setWordWrap(False)
        self.overhead_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.overhead_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.overhead_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.overhead_table.setToolTip(
            "What the pattern cost: engine time, bytes sent between parties, ... (hover a row "
            "for its key in the results file)"
        )
        self.overhead_table.setMinimumWidth(230)
        self.overhead_table.setMaximumWidth(300)
        self._overheads: dict[str, Overhead] = {}
        self._engine: Any = None  # whose labels name the costs

        # Warnings and summary scroll together, so a long warning never hides the numbers.
        text_box = QWidget(self)
        left = QVBoxLayout(text_box)
        left.setContentsMargins(0, 0, 6, 0)
        left.addWidget(self.warnings_label)
        # The jargon (ε, δ, noise, every cost, the engineer's figures) is behind "Details".
        self.details_text = QWidget(text_box)
        details_text = QVBoxLayout(self.details_text)
        details_text.setContentsMargins(0, 0, 0, 0)
        details_text.addWidget(self.summary_label)
        details_text.addWidget(self.engineer_view)
        left.addWidget(self.details_text)
        left.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidget(text_box)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.text_scroll = scroll
        privacy_scroll = QScrollArea(self)
        privacy_scroll.setWidget(self.privacy_label)
        privacy_scroll.setWidgetResizable(True)
        privacy_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        privacy_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        privacy_scroll.setVisible(False)
        self.privacy_scroll = privacy_scroll
        self.details_side = QWidget(self)
        side = QHBoxLayout(self.details_side)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(privacy_scroll)
        self.details_button = DetailsToggle(
            [self.details_text, self.details_side, self.overhead_table], settings=settings,
            parent=self,
        )
        body = QHBoxLayout()
        body.addWidget(scroll, 5)
        body.addWidget(self.details_side, 4)
        body.addWidget(self.overhead_table, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(3)
        layout.addWidget(self.headline_card)
        layout.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(body, 1)
        self.clear()

    # -- during a run ------------------------------------------------------------------------

    def set_pattern(self, pattern: str) -> None:
        """The pattern of the coming run, whose engine names its costs."""
        self._engine = _engine(pattern)

    def clear(self, message: str = "") -> None:
        """Forget the previous run."""
        self._overheads.clear()
        self.overhead_table.setRowCount(0)
        self.set_warnings([])
        self.privacy_label.setText("")
        self.privacy_scroll.setVisible(False)
        self.summary_label.setText(
            message
            or "<span style='color:#666'>Choose data and a privacy pattern, then press "
            "<b>Run</b> (Ctrl+R). Results appear here.</span>"
        )
        # Until there is a result the card says it (the summary would repeat it under Details).
        self.headline_card.show_message(message)
        self.summary_label.setVisible(False)
        self.engineer_view.set_evaluation(None)

    def add_overheads(self, events: Iterable[Overhead]) -> None:
        """Show the latest value of each overhead kind."""
        changed = False
        for event in events:
            self._overheads[event.kind] = event
            changed = True
        if changed:
            self._fill_overheads()

    def show_live(self, latest: Mapping[str, float], step: int, total: int, what: str) -> None:
        """One line of live numbers while a run is going."""
        parts = [f"<b>Running</b> — {html.escape(what) or f'step {step}/{total}'}"]
        if "test_accuracy" in latest:
            parts.append(f"test accuracy <b>{latest['test_accuracy']:.3f}</b>")
        if "train_loss" in latest:
            parts.append(f"train loss {latest['train_loss']:.4f}")
        if "epsilon" in latest:
            parts.append(f"ε spent {latest['epsilon']:.3g}")
        self.summary_label.setText(" · ".join(parts))
        self.headline_card.show_message(" · ".join(parts))

    def set_warnings(self, warnings: Iterable[str]) -> None:
        items = list(dict.fromkeys(w for w in warnings if w))
        if not items:
            self.warnings_label.setVisible(False)
            self.warnings_label.setText("")
            return
        body = "".join(f"<li>{html.escape(w)}</li>" for w in items)
        self.warnings_label.setText(
            f"<b>⚠ {len(items)} warning{'s' if len(items) > 1 else ''}</b>"
            f"<ul style='margin:2px 0 0 -20px'>{body}</ul>"
        )
        self.warnings_label.setVisible(True)

    # -- after a run -------------------------------------------------------------------------

    def show_result(self, result: Any, *, spread: Spread | None = None) -> None:
        """Summarise a :class:`~ppml_lab.experiments.runner.RunResult` (``spread``: the accuracy
        spread over seeds, when several were run).
        """
        doc = result.to_document()
        headline = Headline.from_document(
            doc, is_reference=result.experiment.pattern == REFERENCE, spread=spread
        )
        self.headline_card.show_headline(headline)
        self.engineer_view.set_evaluation(doc.get("evaluation"))
        self.summary_label.setVisible(True)
        er = result.engine_result
        final = dict(er.final) if er is not None else {}
        privacy = dict(er.privacy) if er is not None else {}
        overhead = dict(er.overhead) if er is not None else {}
        extra = dict(er.extra) if er is not None else {}
        baseline = dict(result.baseline or {})
        pattern = result.experiment.pattern
        lines: list[str] = []
        status = result.status
        if status == "cancelled":
            lines.append(
                "<b style='color:#b26b00'>Cancelled</b> — the curves show the steps finished "
                "before you stopped the run."
            )
        acc = final.get("test_accuracy")
        if acc is None and result.history is not None:
            xs, ys = result.history.series("test_accuracy")
            acc = ys[-1] if ys else None
            if acc is not None:
                lines.append(f"Last test accuracy: <b>{acc:.4f}</b> (step {xs[-1]})")
                acc = None
        base_acc = baseline.get("test_accuracy")
        if acc is not None:
            line = f"Test accuracy: <b>{acc:.4f}</b>"
            if base_acc is not None and pattern != REFERENCE:
                line += f" vs plaintext baseline {base_acc:.4f} " + _cost_words(acc, base_acc)
            elif pattern == REFERENCE:
                line += " (this is the plaintext baseline)"
            lines.append(line)
            if "train_accuracy" in final:
                lines.append(f"Training accuracy: {final['train_accuracy']:.4f}")
        seconds = overhead.get("seconds")
        if seconds is not None:
            line = f"Engine time: {format_quantity(seconds, 's')}"
            cost = headline.cost or {}
            if cost.get("one_off_seconds"):
                # The headline compares training with training; the one-off work is apart.
                line += (f" (training {format_quantity(cost['training_seconds'], 's')}, "
                         f"outside training {format_quantity(cost['one_off_seconds'], 's')})")
            lines.append(line)
        engine = _engine(pattern)
        self._engine = engine
        comm = _communication_line(overhead, engine)
        if comm:
            lines.append(comm)
        if privacy.get("epsilon") is not None:
            eps = privacy.get("epsilon")
            delta = privacy.get("delta")
            parts = []
            if eps is not None:
                parts.append(f"ε = <b>{_fmt(eps)}</b>")
            if delta is not None:
                parts.append(f"δ = {_fmt(delta, 3)}")
            details = [
                f"{html.escape(str(k))}: {_fmt(v)}"
                for k, v in privacy.items()
                if k not in _NOT_DETAILS
                and isinstance(v, (str, int, float)) and not isinstance(v, bool)
                and len(str(v)) < 40
            ]
            text = ", ".join(parts) if parts else "see details"
            lines.append(
                f"Privacy: {text}"
                + (f" <span style='color:#666'>({'; '.join(details)})</span>" if details else "")
            )
        fidelity = dict(er.fidelity) if er is not None else {}
        if fidelity.get("max_abs_error") is not None:
            twin = final.get("plaintext_test_accuracy")
            lines.append(
                "Against the same computation in plaintext: largest difference "
                f"{fidelity['max_abs_error']:.2g}"
                + (f"; plaintext test accuracy {twin:.4f}" if isinstance(twin, float) else "")
            )
        audit_line = _audit_line(extra.get("audit"))
        if audit_line:
            lines.append(audit_line)
        data = result.data
        if data is not None:
            lines.append(
                f"<span style='color:#666'>{html.escape(data.name)}: {data.n_train:,} training rows, "
                f"{len(data.y_test):,} test rows, {data.n_features} "
                f"feature{'s' if data.n_features != 1 else ''}, {data.n_classes} "
                f"class{'es' if data.n_classes != 1 else ''} · wall time (incl. preparation) "
                f"{format_quantity(result.wall_seconds, 's')}</span>"
            )
        self.summary_label.setText("<br>".join(lines))
        self._show_privacy(result.guarantee(), status, engine)
        if overhead:
            # The run's totals replace the live values (they include the final steps' costs).
            for kind, value in overhead.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    unit = (
                        self._overheads[kind].unit if kind in self._overheads
                        else _unit_for(kind, engine)
                    )
                    self._overheads[kind] = Overhead(step=-1, kind=kind, value=float(value), unit=unit)
            self._fill_overheads()
        warnings = list(er.warnings) if er is not None else []
        if result.history is not None:
            warnings += result.history.warnings()
        self.set_warnings(warnings)

    def _show_privacy(self, guarantee: Guarantee, status: str, engine: Any) -> None:
        headline, level, sentences = privacy_explanation(guarantee)
        run_lines = "".join(f"<br>{line}" for line in guarantee.in_this_run)
        notice = diagnostics_notice(guarantee)
        scope = (
            f"<p style='margin:6px 0 0 0; color:#5a4a00'><b>What the protection covers:</b> "
            f"{html.escape(notice)}</p>"
            if notice else ""
        )
        body = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
        if headline:
            color = LEVEL_COLORS.get(level, "#b3261e")
            self.privacy_label.setText(
                f"<b>Privacy guarantee: <span style='color:{color}'>{html.escape(level)}</span>"
                f"</b> ({headline}){run_lines}<ul style='margin:4px 0 0 -20px'>{body}</ul>"
                + scope
            )
            self.privacy_scroll.setVisible(True)
            return
        protects = getattr(engine, "protects", "")
        exposed = getattr(engine, "does_not_protect", "")
        if status == "cancelled" or not (protects or exposed):
            self.privacy_scroll.setVisible(False)
            return
        title = (
            f"<b>Privacy: <span style='color:#b3261e'>{html.escape(level)}</span></b>"
            f"<ul style='margin:4px 0 0 -20px'>{body}</ul>"
            if guarantee.no_protection
            else "<b>Privacy: no formal (ε) guarantee for this pattern.</b>"
        )
        self.privacy_label.setText(
            title
            + run_lines
            + (f"<br><b style='color:#1b7f3b'>What it protects:</b> {html.escape(protects)}"
               if protects else "")
            + (f"<br><b style='color:#b3261e'>What it does not:</b> {html.escape(exposed)}"
               if exposed else "")
            + scope
        )
        self.privacy_scroll.setVisible(True)

    def _fill_overheads(self) -> None:
        self.overhead_table.setRowCount(len(self._overheads))
        for row, event in enumerate(self._overheads.values()):
            items = [
                QTableWidgetItem(cost_label(event.kind, self._engine)),
                QTableWidgetItem(format_quantity(event.value, event.unit)),
                QTableWidgetItem(str(event.step) if event.step >= 0 else "final"),
            ]
            items[1].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            items[2].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for col, item in enumerate(items):
                item.setToolTip(f"{cost_label(event.kind, self._engine)}: {event.value:g} {event.unit}\n"
                                f"key in the results file: overhead.{event.kind}")
                self.overhead_table.setItem(row, col, item)


def _cost_words(acc: float, base: float) -> str:
    """The accuracy difference to the baseline, in points, said the way people read it."""
    diff = (acc - base) * 100
    if diff <= -0.05:
        return f"(<b>{diff:+.1f}</b> percentage points: the cost of privacy)"
    if diff >= 0.05:
        return f"(<b>{diff:+.1f}</b> points: no accuracy lost on this split)"
    return "(the same accuracy: no measurable cost)"


def _communication_line(overhead: Mapping[str, Any], engine: Any = None) -> str:
    sent = number_or_none(overhead.get("bytes_sent"))
    if sent is None:
        return ""
    up, down = number_or_none(overhead.get("bytes_up")), number_or_none(overhead.get("bytes_down"))
    line = f"Data sent: <b>{format_quantity(sent, 'bytes')}</b>"
    if up is not None and down is not None:
        line += f" ({format_quantity(up, 'bytes')} up, {format_quantity(down, 'bytes')} down)"
    for kind, value in overhead.items():
        label = engine.label_for(kind) if engine is not None else None
        extra = number_or_none(value)
        if label is None or label.extra_over != "bytes_sent" or extra is None:
            continue
        # A part of the bytes sent (e.g. secure aggregation's keys, shares and masks).
        plain = sent - extra
        share = f", +{extra / plain:.0%} over sending the updates in the clear" if plain > 0 else ""
        what = label.plot_text or label.text
        line += f"; {html.escape(what)} added {format_quantity(extra, 'bytes')}{share}"
    return line


def _audit_line(audit: Any) -> str:
    if not isinstance(audit, Mapping) or not isinstance(audit.get("attacks"), Mapping):
        return ""
    parts = []
    for name, attack in audit["attacks"].items():
        if not isinstance(attack, Mapping):
            continue
        auc = number_or_none(attack.get("auc"))
        lower = number_or_none(attack.get("epsilon_lower_bound"))
        parts.append(
            f"{html.escape(str(name))}: AUC {_fmt(auc, 3) if auc is not None else '—'}, "
            f"ε ≥ {_fmt(lower, 3) if lower is not None else '—'}"
        )
    eps = number_or_none(audit.get("accountant_epsilon"))
    ceiling = number_or_none(audit.get("ceiling"))
    tail = (
        f" — proven upper bound ε = {eps:.3g}" if eps is not None
        else " — no privacy guarantee to compare with"
    )
    if ceiling is not None:
        tail += f"; this audit can show at most ε = {ceiling:.3g}"
    verdict = audit.get("verdict")
    return (
        f"Membership audit: {'; '.join(parts)}{tail}"
        + (f". {html.escape(str(verdict))}" if verdict else "")
        + " <span style='color:#666'>(ROC curves in the <i>Membership audit</i> tab)</span>"
    )
