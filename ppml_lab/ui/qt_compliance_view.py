"""The compliance view in the window: under the results' Details after a run (what its results
document carries), or for a chosen pattern.

Which data-protection principles the technique supports, what it leaves to the organisation, and
what a regulator would still ask, from the engine (:meth:`EngineBase.compliance
<ppml_lab.engines.contract.EngineBase.compliance>`), marked as orientation, not legal advice.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from ppml_lab.engines.registry import get_engine

_SECTIONS = (
    ("supports", "Supports", "#1b7f3b"),
    ("left_to_organisation", "Left to the organisation", "#1b2430"),
    ("regulator_questions", "A regulator would still ask", "#1f5fa8"),
)


def compliance_html(section: Mapping[str, Any] | None, title: str) -> str:
    """The tab's text for a results document's ``compliance`` section."""
    section = section or {}
    parts = [f"<p style='margin-bottom:4px'><b>{html.escape(title)}</b></p>"]
    notice = str(section.get("notice") or "")
    if notice:
        parts.append(
            "<p style='background:#fff6d6; color:#5c4400; padding:6px'>"
            f"<b>{html.escape(notice.split(':', 1)[0])}:</b>"
            f"{html.escape(notice.split(':', 1)[1]) if ':' in notice else ''}</p>"
        )
    for key, head, color in _SECTIONS:
        items = [str(x) for x in section.get(key) or []]
        parts.append(f"<p style='margin:10px 0 2px 0; color:{color}'><b>{head}</b></p>")
        if not items:
            parts.append("<p style='color:#5b6573'>None: this technique by itself supports no "
                         "data-protection principle.</p>")
            continue
        rows = []
        for item in items:
            lead, sep, rest = item.partition(": ")
            text = (f"<b>{html.escape(lead)}:</b> {html.escape(rest)}"
                    if sep and len(lead) <= 40 and key == "supports" else html.escape(item))
            rows.append(f"<li>{text}</li>")
        parts.append(f"<ul style='margin-top:0'>{''.join(rows)}</ul>")
    return "".join(parts)


class ComplianceViewWidget(QWidget):
    """The compliance view of the last run, or of a chosen pattern.

    ``scroll``: in its own scroll area (False when the parent already scrolls).
    """

    def __init__(self, parent: QWidget | None = None, *, scroll: bool = True) -> None:
        super().__init__(parent)
        self.label = QLabel(self)
        self.label.setObjectName("complianceText")
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.label.setContentsMargins(10, 8, 10, 8)
        self.label.setToolTip("Which data-protection principles this technique supports, what "
                              "it leaves to the organisation, and what a regulator would still "
                              "ask (from the engine; orientation, not legal advice)")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if scroll:
            area = QScrollArea(self)
            area.setWidget(self.label)
            area.setWidgetResizable(True)
            area.setFrameShape(QScrollArea.Shape.NoFrame)
            layout.addWidget(area)
        else:
            layout.addWidget(self.label)
        self.section: dict[str, Any] = {}

    def show_pattern(self, pattern: str, params: Any = None) -> None:
        """The view of ``pattern`` with ``params`` (before a run)."""
        try:
            engine = get_engine(pattern)
        except ValueError:
            self.label.setText("")
            return
        view = engine.compliance(params, None)
        self._show(view.to_dict(), f"Compliance view: {engine.label}")

    def show_document(self, doc: Mapping[str, Any]) -> None:
        """The view in a run's results document (its ``compliance`` section)."""
        pattern = str((doc.get("experiment") or {}).get("pattern", {}).get("name", ""))
        try:
            label = get_engine(pattern).label
        except ValueError:
            label = pattern
        self._show(doc.get("compliance") or {}, f"Compliance view of the last run: {label}")

    def show_result(self, result: Any) -> None:
        """The view of a finished run (a RunResult): what its results document carries."""
        experiment = result.experiment
        try:
            engine = get_engine(experiment.pattern)
        except ValueError:
            return
        view = engine.compliance(experiment.params, result.guarantee())
        self._show(view.to_dict(), f"Compliance view of the last run: {engine.label}")

    def _show(self, section: Mapping[str, Any], title: str) -> None:
        self.section = dict(section)
        self.label.setText(compliance_html(section, title))
