"""The text screens of presenter mode: one idea each, in type as large as fits.

* :class:`QuestionScreen`: the scenario's question, the technique, the data used;
* :class:`AnalogyScreen`: the everyday analogy;
* :class:`DiagramScreen`: the animated diagram with its step's caption under it;
* :class:`ResultScreen`: the key number, the result in one sentence, the protection in plain words
  (:mod:`ppml_lab.experiments.scenario_story`, from the results document);
* :class:`LimitsScreen`: what the technique does not protect (the guarantee's own sentences);
* :class:`ComplianceScreen`: the engine's compliance view, marked as orientation.

Every screen has ``set_scale`` (the window calls it on resize) and draws its text with
:class:`~ppml_lab.ui.presenter.qt_fit_text.FitTextWidget`, so nothing is cut off on a 1280 x 800
laptop.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from ppml_lab.experiments.scenario_story import ComparisonStory, ResultStory
from ppml_lab.experiments.scenarios import Scenario
from ppml_lab.ui.presenter import qt_theme as theme
from ppml_lab.ui.presenter.qt_diagram import DiagramWidget
from ppml_lab.ui.presenter.qt_fit_text import FitTextWidget

_CENTER = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter
_TOP_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop


def esc(text: str) -> str:
    return html.escape(str(text))


def _lead(item: str) -> str:
    """An item with its short lead-in ("Data minimisation: ...") in bold."""
    head, sep, rest = item.partition(": ")
    if sep and len(head) <= 40:
        return f"<b>{esc(head)}:</b> {esc(rest)}"
    return esc(item)


def bullets(items: Iterable[str], *, color: str = theme.INK, gap: float = 0.45,
            lead: bool = False) -> str:
    """Items as a list with a dot before each (QTextDocument's own bullets are tiny);
    ``lead``: a short lead-in before a colon in bold.
    """
    rows = "".join(
        f"<tr><td style='color:{color}; padding-right:0.5em'>•</td>"
        f"<td style='padding-bottom:{gap}em'>{_lead(item) if lead else esc(item)}</td></tr>"
        for item in items
    )
    return f"<table cellspacing='0' cellpadding='0'>{rows}</table>"


class _Screen(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._texts: list[FitTextWidget] = []

    def _text(self, **kwargs: Any) -> FitTextWidget:
        widget = FitTextWidget(self, **kwargs)
        self._texts.append(widget)
        return widget

    def set_scale(self, scale: float) -> None:
        for widget in self._texts:
            widget.set_scale(scale)

    def texts(self) -> str:
        """Every text shown (for tests)."""
        return "\n".join(w.plain_text() for w in self._texts if w.html())


class QuestionScreen(_Screen):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.question = self._text(max_px=theme.TITLE_PX + 6, min_px=28, align=_CENTER, bold=True)
        self.technique = self._text(max_px=theme.BODY_PX, min_px=22, align=_CENTER,
                                    color=theme.ACCENT)
        self.data_note = self._text(max_px=theme.SMALL_PX, min_px=18, align=_CENTER,
                                    color=theme.MUTED)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addStretch(4)
        layout.addWidget(self.question, 40)
        layout.addWidget(self.technique, 10)
        layout.addWidget(self.data_note, 10)
        layout.addStretch(4)

    def set_scenario(self, scenario: Scenario, user_file: str | None) -> None:
        self.question.set_html(esc(scenario.question))
        self.technique.set_html(esc(scenario.technique))
        self.data_note.set_html(esc(scenario.data_note_for(user_file)))


class AnalogyScreen(_Screen):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = self._text(max_px=theme.TITLE_PX, min_px=30, bold=True, align=_TOP_LEFT)
        self.body = self._text(max_px=theme.BODY_PX + 4, min_px=22, align=_TOP_LEFT)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title, 20)
        layout.addWidget(self.body, 70)

    def set_scenario(self, scenario: Scenario) -> None:
        self.title.set_html(f"<span style='color:{theme.MUTED}'>Think of it like this:</span> "
                            f"{esc(scenario.analogy_title)}")
        self.body.set_html("".join(f"<p style='margin-bottom:0.7em'>{esc(line)}</p>"
                                   for line in scenario.analogy))


class DiagramScreen(_Screen):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.diagram = DiagramWidget(self)
        self.caption = self._text(max_px=theme.BODY_PX - 2, min_px=20, align=_CENTER)
        self.diagram.step_changed.connect(self._on_diagram_step_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.diagram, 72)
        layout.addWidget(self.caption, 18)
        self._count = 0

    def set_scenario(self, scenario: Scenario) -> None:
        self._count = len(scenario.steps)
        self.diagram.set_diagram(scenario.actors, scenario.steps)

    @Slot(int, str)
    def _on_diagram_step_changed(self, index: int, caption: str) -> None:
        self.caption.set_html(f"<span style='color:{theme.ACCENT}'><b>{index + 1}</b>"
                              f"<span style='color:{theme.FAINT}'>/{self._count}</span></span>"
                              f"&nbsp;&nbsp;{esc(caption)}")


class ResultScreen(_Screen):
    """The key number on the left; on the right the flag, the sentence and the protection."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.number = self._text(max_px=200, min_px=60, bold=True, color=theme.ACCENT,
                                 align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom)
        self.caption = self._text(max_px=theme.BODY_PX, min_px=20, color=theme.MUTED,
                                  align=_TOP_LEFT)
        self.body = self._text(max_px=theme.BODY_PX - 4, min_px=14,
                               align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        left = QVBoxLayout()
        left.addStretch(14)
        left.addWidget(self.number, 40)
        left.addWidget(self.caption, 30)
        left.addStretch(14)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(left, 34)
        layout.addSpacing(48)
        layout.addWidget(self.body, 66)

    def _body(self, *, flag: str = "", sentence: str = "", details: str = "") -> None:
        parts = []
        if flag:
            parts.append(f"<p style='color:{theme.ALARM}'><b>{esc(flag)}</b></p>")
        if sentence:
            parts.append(f"<p><b>{esc(sentence)}</b><br></p>")
        parts.append(details)
        self.body.set_html("".join(parts))

    def show_waiting(self, what: str) -> None:
        """Before the run has finished."""
        self.number.set_html("…")
        self.caption.set_html("")
        self._body(sentence=what[:1].upper() + what[1:] + ".")

    def show_failure(self, message: str) -> None:
        self.number.set_html("—")
        self.caption.set_html("no result")
        self._body(flag=f"The run did not finish: {message}")

    def show_story(self, story: ResultStory) -> None:
        self.number.set_html(esc(story.key_number))
        self.caption.set_html(esc(story.key_caption))
        self._body(flag=story.flag, sentence=story.sentence,
                   details=bullets(story.details, color=theme.GOOD))

    def show_comparison(self, story: ComparisonStory) -> None:
        self.number.set_html(esc(story.key_number))
        self.caption.set_html(esc(story.key_caption))
        rows = []
        for line in story.lines:
            color = theme.REFERENCE if line.reference else theme.INK
            facts = [esc(line.accuracy) + (f" ({esc(line.change)})" if line.change else "")]
            if line.cost and not line.reference:
                facts.append(esc(line.cost))
            rows.append(
                f"<p style='margin-bottom:0.45em'><b style='color:{color}'>{esc(line.label)}"
                f"</b>&nbsp;&nbsp;{' · '.join(facts)}<br>"
                f"<span style='color:{theme.MUTED}'>{esc(line.who)}</span></p>"
            )
        self._body(sentence=story.sentence, details="".join(rows))

    def texts(self) -> str:
        return "\n".join(w.plain_text() for w in (self.number, self.caption, self.body)
                         if w.html())


class LimitsScreen(_Screen):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = self._text(max_px=theme.TITLE_PX - 4, min_px=28, bold=True, align=_TOP_LEFT)
        self.title.set_html(f"What this does <span style='color:{theme.ALARM}'>not</span> protect")
        self.body = self._text(max_px=theme.BODY_PX - 4, min_px=16, align=_TOP_LEFT)
        self.source = self._text(max_px=theme.HINT_PX, min_px=12, color=theme.FAINT,
                                 align=_TOP_LEFT)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title, 13)
        layout.addWidget(self.body, 80)
        layout.addWidget(self.source, 5)

    def show_limits(self, items: list[str], source: str) -> None:
        self.body.set_html(bullets(items, color=theme.ALARM) if items else
                           esc("The run did not finish, so there is no guarantee to read."))
        self.source.set_html(esc(source))

    def show_comparison(self, story: ComparisonStory) -> None:
        rows = "".join(
            f"<tr><td style='padding:0 0.6em 0.5em 0; color:{theme.ALARM}'><b>"
            f"{esc(line.label)}</b></td><td style='padding:0 0 0.5em 0'>{esc(line.limit)}</td></tr>"
            for line in story.lines if line.limit and not line.reference
        )
        self.body.set_html(f"<table cellspacing='0' cellpadding='0'>{rows}</table>")
        self.source.set_html("Each technique's first limit, in its own words (from the "
                             "engine's guarantee). No technique protects against everything.")


class ComplianceScreen(_Screen):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = self._text(max_px=theme.TITLE_PX - 12, min_px=26, bold=True, align=_TOP_LEFT)
        self.title.set_html("For the data-protection officer")
        self.columns = [self._text(max_px=theme.SMALL_PX + 2, min_px=13, align=_TOP_LEFT)
                        for _ in range(3)]
        self.notice = self._text(max_px=theme.HINT_PX + 2, min_px=12, color=theme.MUTED,
                                 align=_TOP_LEFT)
        row = QHBoxLayout()
        for i, column in enumerate(self.columns):
            if i:
                row.addSpacing(36)
            row.addWidget(column, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title, 11)
        layout.addLayout(row, 78)
        layout.addWidget(self.notice, 9)

    def show_compliance(self, section: Mapping[str, Any] | None) -> None:
        section = section or {}
        heads = (("Supports", "supports", theme.GOOD),
                 ("Left to the organisation", "left_to_organisation", theme.INK),
                 ("A regulator would still ask", "regulator_questions", theme.ACCENT))
        for column, (head, key, color) in zip(self.columns, heads):
            items = [str(x) for x in section.get(key) or []]
            body = bullets(items, color=color, gap=0.6, lead=key == "supports") if items else (
                f"<p style='color:{theme.MUTED}'>None: this technique by itself supports no "
                "data-protection principle.</p>")
            column.set_html(f"<p style='color:{color}'><b><big>{esc(head)}</big></b></p>{body}")
        notice = str(section.get("notice", "")).removeprefix("Orientation, not legal advice: ")
        self.notice.set_html(f"<b>Orientation, not legal advice.</b> "
                             f"{esc(notice[:1].upper() + notice[1:])}")
