"""The results panel: live numbers during a run, then the summary, the privacy guarantee in plain
words, the costs and the warnings.

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
from ppml_lab.experiments.runner import with_scope
from ppml_lab.privacy import translator

#: People's names for the cost kinds engines report (unknown kinds: underscores become spaces).
COST_LABELS = {
    "seconds": "engine time",
    "train_seconds": "training time",
    "accounting_seconds": "privacy accounting time",
    "calibration_seconds": "noise calibration time",
    "seconds_per_round": "time per round",
    "bytes_sent": "data sent (up + down)",
    "bytes_up": "uploaded",
    "bytes_down": "downloaded",
    "secagg_seconds": "masking time",
    "secagg_overhead_bytes": "masking overhead",
    "secagg_key_bytes": "key exchange",
    "secagg_share_bytes": "encrypted shares",
    "secagg_recovery_bytes": "unmasking shares",
    "secagg_seeds_revealed": "mask secrets rebuilt",
    "clients_dropped": "clients dropped out",
    "time_ratio": "time vs baseline",
}

#: Colours of the protection levels of :func:`ppml_lab.privacy.translator.protection_level`.
LEVEL_COLORS = {
    "strong": "#1b7f3b",
    "moderate": "#8a6d00",
    "weak": "#c05a00",
    "very weak": "#b3261e",
    "none": "#b3261e",
}


def cost_label(kind: str) -> str:
    """The label of a cost kind in the table."""
    return COST_LABELS.get(kind, kind.replace("_", " "))


def _unit_for(kind: str) -> str:
    if kind.endswith("seconds") or kind == "seconds_per_round":
        return "s"
    if "bytes" in kind:
        return "bytes"
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


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(float(value)) else None


def _engine_class(pattern: str) -> Any:
    from ppml_lab.engines.registry import get_engine

    try:
        return type(get_engine(pattern))
    except ValueError:
        return None


def privacy_explanation(privacy: Mapping[str, Any], n_train: int) -> tuple[str, str, list[str]]:
    """``(headline, level, sentences)`` explaining a run's privacy figures in plain words.

    ``level`` is the translator's protection level ("strong", ...), "" when the run has no
    usable (epsilon, delta). Client-level DP (``mechanism = "dp-fedavg"``) protects clients,
    not rows, so the sentences count clients.
    """
    eps = _number(privacy.get("epsilon"))
    delta = _number(privacy.get("delta"))
    if eps is None or delta is None or eps < 0 or not 0 <= delta < 1:
        return "", "", []
    mechanism = str(privacy.get("mechanism", ""))
    if mechanism == "dp-fedavg":
        clients = privacy.get("clients")
        n = int(clients) if isinstance(clients, (int, float)) and clients >= 1 else None
        unit = "per client: all of one client's rows together"
    elif mechanism == "local":
        n = n_train or None
        unit = "per record, randomised before it leaves its owner (local DP)"
    else:
        n = n_train or None
        unit = "per training record"
    seeded = privacy.get("noise_source") == "seeded"
    level = "NOT PRIVATE (deterministic noise)" if seeded else translator.protection_level(eps)
    sentences = translator.describe_guarantee(
        eps, delta, n, per_client=mechanism == "dp-fedavg", seeded_noise=seeded
    )
    headline = f"ε = <b>{eps:.3g}</b>, δ = {delta:.2g}, {html.escape(unit)}"
    return headline, level, sentences


class ResultsPanel(QWidget):
    """Summary text, a privacy box, a cost table and a warnings box."""

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

        # Warnings and summary scroll together, so a long warning never hides the numbers.
        text_box = QWidget(self)
        left = QVBoxLayout(text_box)
        left.setContentsMargins(0, 0, 6, 0)
        left.addWidget(self.warnings_label)
        left.addWidget(self.summary_label)
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
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(scroll, 5)
        layout.addWidget(privacy_scroll, 4)
        layout.addWidget(self.overhead_table, 0)
        self.clear()

    # -- during a run ------------------------------------------------------------------------

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
            if base_acc is not None and pattern != "baseline":
                line += f" vs plaintext baseline {base_acc:.4f} " + _cost_words(acc, base_acc)
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
        comm = _communication_line(overhead)
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
                if k in ("mechanism", "accountant", "noise_multiplier", "sample_rate", "clip_norm")
                and isinstance(v, (str, int, float))
            ]
            text = ", ".join(parts) if parts else "see details"
            lines.append(
                f"Privacy: {text}"
                + (f" <span style='color:#666'>({'; '.join(details)})</span>" if details else "")
            )
        audit_line = _audit_line(extra.get("audit"))
        if audit_line:
            lines.append(audit_line)
        data = result.data
        if data is not None:
            lines.append(
                f"<span style='color:#666'>{html.escape(data.name)}: {data.n_train:,} training rows, "
                f"{len(data.y_test):,} test rows, {data.n_features} features, "
                f"{data.n_classes} classes · wall time (incl. preparation) "
                f"{format_quantity(result.wall_seconds, 's')}</span>"
            )
        self.summary_label.setText("<br>".join(lines))
        scoped = with_scope(privacy, has_reference=bool(baseline) and pattern != "baseline")
        self._show_privacy(
            pattern, scoped, data.n_train if data is not None else 0, status,
            _run_protections(result.experiment, extra),
        )
        if overhead:
            # The run's totals replace the live values (they include the final steps' costs).
            for kind, value in overhead.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    unit = self._overheads[kind].unit if kind in self._overheads else _unit_for(kind)
                    self._overheads[kind] = Overhead(step=-1, kind=kind, value=float(value), unit=unit)
            self._fill_overheads()
        warnings = list(er.warnings) if er is not None else []
        if result.history is not None:
            warnings += result.history.warnings()
        self.set_warnings(warnings)

    def _show_privacy(
        self, pattern: str, privacy: Mapping[str, Any], n_train: int, status: str,
        in_this_run: list[str],
    ) -> None:
        headline, level, sentences = privacy_explanation(privacy, n_train)
        run_lines = "".join(f"<br>{line}" for line in in_this_run)
        notice = privacy.get("diagnostics_notice")
        scope = (
            f"<p style='margin:6px 0 0 0; color:#5a4a00'><b>What the protection covers:</b> "
            f"{html.escape(str(notice))}</p>"
            if notice else ""
        )
        if headline:
            color = LEVEL_COLORS.get(level, "#b3261e")
            body = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
            self.privacy_label.setText(
                f"<b>Privacy guarantee: <span style='color:{color}'>{html.escape(level)}</span>"
                f"</b> ({headline}){run_lines}<ul style='margin:4px 0 0 -20px'>{body}</ul>"
                + scope
            )
            self.privacy_scroll.setVisible(True)
            return
        engine = _engine_class(pattern)
        protects = getattr(engine, "protects", "")
        exposed = getattr(engine, "does_not_protect", "")
        if status == "cancelled" or not (protects or exposed):
            self.privacy_scroll.setVisible(False)
            return
        self.privacy_label.setText(
            "<b>Privacy: no formal (ε) guarantee for this pattern.</b>"
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
                QTableWidgetItem(cost_label(event.kind)),
                QTableWidgetItem(format_quantity(event.value, event.unit)),
                QTableWidgetItem(str(event.step) if event.step >= 0 else "final"),
            ]
            items[1].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            items[2].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for col, item in enumerate(items):
                item.setToolTip(f"{cost_label(event.kind)}: {event.value:g} {event.unit}\n"
                                f"key in the results file: overhead.{event.kind}")
                self.overhead_table.setItem(row, col, item)


def _run_protections(experiment: Any, extra: Mapping[str, Any]) -> list[str]:
    """What this run's settings switched on, for patterns whose protection depends on them."""
    if experiment.pattern != "federated":
        return []
    params = experiment.params
    partition = extra.get("partition") if isinstance(extra.get("partition"), Mapping) else {}
    n = partition.get("n_clients", getattr(params, "clients", None))
    who = f"{n} clients" if isinstance(n, int) else "the clients"
    lines = [f"In this run: the raw rows stayed with {who}."]
    if getattr(params, "secure_aggregation", False):
        lines.append("Secure aggregation <b>on</b>: the server saw only each round's sum of updates.")
    else:
        lines.append("Secure aggregation <b>off</b>: the server saw every client's update.")
    if getattr(params, "epsilon", None) is None:
        lines.append("Client-level DP <b>off</b>: the final model has no ε guarantee.")
    return lines


def _cost_words(acc: float, base: float) -> str:
    """The accuracy difference to the baseline, in points, said the way people read it."""
    diff = (acc - base) * 100
    if diff <= -0.05:
        return f"(<b>{diff:+.1f}</b> percentage points: the cost of privacy)"
    if diff >= 0.05:
        return f"(<b>{diff:+.1f}</b> points: no accuracy lost on this split)"
    return "(the same accuracy: no measurable cost)"


def _communication_line(overhead: Mapping[str, Any]) -> str:
    sent = _number(overhead.get("bytes_sent"))
    if sent is None:
        return ""
    up, down = _number(overhead.get("bytes_up")), _number(overhead.get("bytes_down"))
    line = f"Data sent: <b>{format_quantity(sent, 'bytes')}</b>"
    if up is not None and down is not None:
        line += f" ({format_quantity(up, 'bytes')} up, {format_quantity(down, 'bytes')} down)"
    masking = _number(overhead.get("secagg_overhead_bytes"))
    if masking is not None:
        # The overhead is part of the bytes sent (keys, masks and dropout recovery, both ways).
        plain = sent - masking
        share = f", +{masking / plain:.0%} over sending the updates in the clear" if plain > 0 else ""
        line += f"; secure aggregation added {format_quantity(masking, 'bytes')}{share}"
    return line


def _audit_line(audit: Any) -> str:
    if not isinstance(audit, Mapping) or not isinstance(audit.get("attacks"), Mapping):
        return ""
    parts = []
    for name, attack in audit["attacks"].items():
        if not isinstance(attack, Mapping):
            continue
        auc = _number(attack.get("auc"))
        lower = _number(attack.get("epsilon_lower_bound"))
        parts.append(
            f"{html.escape(str(name))}: AUC {_fmt(auc, 3) if auc is not None else '—'}, "
            f"ε ≥ {_fmt(lower, 3) if lower is not None else '—'}"
        )
    eps = _number(audit.get("accountant_epsilon"))
    ceiling = _number(audit.get("ceiling"))
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
