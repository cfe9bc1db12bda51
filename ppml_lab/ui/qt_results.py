"""The results panel: live numbers during a run, then the summary, costs and warnings.

After a run the summary compares the final test accuracy with the plaintext baseline trained on the
same split (``RunResult.baseline``), gives the engine time, and the privacy guarantee if any.
Warnings from the engine and the run's log are shown in a highlighted box, never hidden in a
console.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import Qt
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

from ppml_lab.engines.events import Overhead


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


class ResultsPanel(QWidget):
    """Summary text, an overhead table and a warnings box."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        self.overhead_table = QTableWidget(0, 3, self)
        self.overhead_table.setObjectName("overheadTable")
        self.overhead_table.setHorizontalHeaderLabels(["cost", "value", "at step"])
        self.overhead_table.verticalHeader().setVisible(False)
        self.overhead_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.overhead_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.overhead_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch
        )
        self.overhead_table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.overhead_table.horizontalHeader().setSectionResizeMode(
            2, QHeaderView.ResizeMode.ResizeToContents
        )
        self.overhead_table.setToolTip(
            "What the pattern cost so far: engine time, bytes sent between parties, ..."
        )
        self.overhead_table.setMinimumWidth(240)
        self.overhead_table.setMaximumWidth(340)
        self._overheads: dict[str, Overhead] = {}

        # Summary and warnings scroll together, so a long warning never hides the numbers.
        text_box = QWidget(self)
        left = QVBoxLayout(text_box)
        left.setContentsMargins(0, 0, 6, 0)
        left.addWidget(self.summary_label)
        left.addWidget(self.warnings_label)
        left.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidget(text_box)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.text_scroll = scroll
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.overhead_table)
        self.clear()

    # -- during a run ------------------------------------------------------------------------

    def clear(self, message: str = "") -> None:
        """Forget the previous run."""
        self._overheads.clear()
        self.overhead_table.setRowCount(0)
        self.set_warnings([])
        self.summary_label.setText(
            message
            or "<span style='color:#666'>Choose data and a privacy pattern, then press "
            "<b>Run</b> (Ctrl+R). Results appear here.</span>"
        )

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

    def show_result(self, result: Any) -> None:
        """Summarise a :class:`~ppml_lab.experiments.runner.RunResult`."""
        er = result.engine_result
        final = dict(er.final) if er is not None else {}
        privacy = dict(er.privacy) if er is not None else {}
        overhead = dict(er.overhead) if er is not None else {}
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
            if base_acc is not None and pattern != "baseline":
                diff = (acc - base_acc) * 100
                line += (
                    f" vs plaintext baseline {base_acc:.4f} "
                    f"(<b>{diff:+.1f}</b> percentage points: the cost of privacy)"
                )
            elif pattern == "baseline":
                line += " (this is the plaintext baseline)"
            lines.append(line)
            if "train_accuracy" in final:
                lines.append(f"Training accuracy: {final['train_accuracy']:.4f}")
        seconds = overhead.get("seconds")
        if seconds is not None:
            line = f"Engine time: {format_quantity(seconds, 's')}"
            base_s = baseline.get("seconds")
            if base_s and pattern != "baseline":
                line += f" ({seconds / base_s:.1f}× the baseline's {format_quantity(base_s, 's')})"
            lines.append(line)
        lines.append(f"Wall time (incl. preparation): {format_quantity(result.wall_seconds, 's')}")
        if privacy:
            eps = privacy.get("epsilon")
            delta = privacy.get("delta")
            parts = []
            if eps is not None:
                parts.append(f"ε = <b>{_fmt(eps)}</b>")
            if delta is not None:
                parts.append(f"δ = {_fmt(delta, 3)}")
            extra = [
                f"{html.escape(str(k))}: {_fmt(v)}"
                for k, v in privacy.items()
                if k not in ("epsilon", "delta") and isinstance(v, (str, int, float))
            ][:4]
            text = ", ".join(parts) if parts else "see details"
            lines.append(f"Privacy: {text}" + (f" <span style='color:#666'>({'; '.join(extra)})</span>" if extra else ""))
            words = _plain_words(privacy, result.data.n_train if result.data is not None else 0)
            if words:
                lines.append(f"<i>In plain words:</i> {html.escape(words[0])}")
        elif status != "cancelled" and er is not None:
            protects = getattr(_engine_class(pattern), "protects", "")
            lines.append(
                "<span style='color:#666'>Privacy: no formal (epsilon) guarantee for this pattern."
                + (f" What it protects: {html.escape(protects)}" if protects else "")
                + "</span>"
            )
        audit = er.extra.get("audit") if er is not None else None
        if isinstance(audit, dict) and audit.get("attacks"):
            parts = [
                f"{html.escape(str(name))}: AUC {a.get('auc', float('nan')):.3f}, "
                f"ε ≥ {a.get('epsilon_lower_bound', float('nan')):.2f}"
                for name, a in audit["attacks"].items()
            ]
            eps = audit.get("accountant_epsilon")
            tail = (
                f" — proven upper bound ε = {eps:.3g}" if isinstance(eps, (int, float))
                else " — no privacy guarantee to compare with"
            )
            lines.append(f"Membership audit: {'; '.join(parts)}{tail}")
        data = result.data
        if data is not None:
            lines.append(
                f"<span style='color:#666'>{html.escape(data.name)}: {data.n_train:,} training rows, "
                f"{len(data.y_test):,} test rows, {data.n_features} features, "
                f"{data.n_classes} classes</span>"
            )
        self.summary_label.setText("<br>".join(lines))
        if overhead:
            for kind, value in overhead.items():
                if kind not in self._overheads and isinstance(value, (int, float)):
                    unit = "s" if kind.endswith("seconds") else ("bytes" if "bytes" in kind else "")
                    self._overheads[kind] = Overhead(step=-1, kind=kind, value=float(value), unit=unit)
            self._fill_overheads()
        warnings = list(er.warnings) if er is not None else []
        if result.history is not None:
            warnings += result.history.warnings()
        self.set_warnings(warnings)

    def _fill_overheads(self) -> None:
        self.overhead_table.setRowCount(len(self._overheads))
        for row, event in enumerate(self._overheads.values()):
            label = event.kind.replace("_", " ")
            items = [
                QTableWidgetItem(label),
                QTableWidgetItem(format_quantity(event.value, event.unit)),
                QTableWidgetItem(str(event.step) if event.step >= 0 else "final"),
            ]
            items[1].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            items[2].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for col, item in enumerate(items):
                item.setToolTip(f"{event.kind} = {event.value:g} {event.unit}")
                self.overhead_table.setItem(row, col, item)


def _plain_words(privacy: dict[str, Any], n_train: int) -> list[str]:
    """The privacy translator's sentences for the run (as in the results document)."""
    from ppml_lab.experiments.runner import plain_words as words

    try:
        return words(privacy, n_train)
    except ValueError:
        return []


def _engine_class(pattern: str) -> Any:
    from ppml_lab.engines.registry import get_engine

    try:
        return type(get_engine(pattern))
    except ValueError:
        return None
