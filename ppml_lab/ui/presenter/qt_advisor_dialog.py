"""Help > Which pattern fits? The advisor's questionnaire and its recommendation, with reasons.

The questions, the techniques and the rules come from the advisor's rules file
(:mod:`ppml_lab.experiments.advisor`); the dialog only asks and shows. The answer updates as the
answers change; a recommendation the lab can show has a button that opens its presenter
scenario. The techniques the lab cannot run (hardware enclaves, PATE) are always explained at the
end, with what they rely on.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.experiments.advisor import Advice, Rules, advise, load_rules
from ppml_lab.experiments.scenarios import scenario_keys


def advice_html(advice: Advice, rules: Rules) -> str:
    """The recommendation as rich text: best first, then what the lab cannot run."""
    parts = []
    if not advice.recommendations:
        parts.append("<p><b>No technique matches these answers yet.</b> Tick whom the data must "
                     "be kept from.</p>")
    for i, rec in enumerate(advice.recommendations):
        t = rec.technique
        head = "Best fit" if i == 0 else "Also fits" if rec.score > 0 else "Possible, with caveats"
        lab = "" if t.runs_here else " <span style='color:#b3261e'>(not in this lab)</span>"
        parts.append(f"<p style='margin:10px 0 2px 0'><span style='color:#5b6573'>{head}:</span> "
                     f"<b style='font-size:large'>{html.escape(t.title)}</b>{lab}</p>")
        parts.append(f"<p style='margin:0'>{html.escape(t.summary)}</p>")
        items = [f"<li><b>Why:</b> {html.escape(r)}</li>" for r in rec.reasons]
        if rec.covered:
            items.append("<li><b>Keeps the data from:</b> "
                         + html.escape("; ".join(c.split(':')[0] for c in rec.covered)) + "</li>")
        if rec.gaps:
            items.append("<li style='color:#b3261e'><b>Does not keep it from:</b> "
                         + html.escape("; ".join(c.split(':')[0] for c in rec.gaps)) + "</li>")
        items += [f"<li style='color:#8a4b00'><b>Caution:</b> {html.escape(c)}</li>"
                  for c in rec.cautions]
        items.append("<li><b>Relies on:</b> " + html.escape(" ".join(t.trust)) + "</li>")
        if t.lab_note:
            items.append(f"<li><i>{html.escape(t.lab_note)}</i></li>")
        parts.append(f"<ul style='margin-top:2px'>{''.join(items)}</ul>")
    shown = {r.technique.key for r in advice.recommendations}
    others = [t for t in rules.techniques.values() if not t.runs_here and t.key not in shown]
    if others:
        parts.append("<hr><p style='color:#5b6573'><b>Not in this lab, for comparison</b></p>")
        for t in others:
            parts.append(f"<p style='margin:4px 0'><b>{html.escape(t.title)}</b>: "
                         f"{html.escape(t.summary)} <i>Relies on:</i> "
                         f"{html.escape(' '.join(t.trust))} {html.escape(t.lab_note)}</p>")
    parts.append(f"<p style='color:#5b6573; margin-top:10px'>{html.escape(advice.notice)}</p>")
    return "".join(parts)


class AdvisorDialog(QDialog):
    """The questionnaire (left) and the recommendation (right).

    Signals
    -------
    present_requested(str)
        The user asked to see a recommendation's scenario (its key) in presenter mode.
    """

    present_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, rules: Rules | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Which pattern fits my situation?")
        self.rules = rules or load_rules()
        self._scenarios = set(scenario_keys())
        self._inputs: dict[str, list[tuple[str, QAbstractButton]]] = {}
        questions = QWidget(self)
        form = QVBoxLayout(questions)
        for q in self.rules.questions:
            box = QGroupBox(q.text, questions)
            inner = QVBoxLayout(box)
            group = None if q.multiple else QButtonGroup(box)
            buttons = []
            for choice in q.choices:
                button: QAbstractButton = (QCheckBox(choice.text, box) if q.multiple
                                           else QRadioButton(choice.text, box))
                button.setObjectName(f"advisor_{q.key}_{choice.key}")
                if group is not None:
                    group.addButton(button)
                    button.setChecked(choice.key == q.default_answer)
                button.toggled.connect(self._on_answer_toggled)
                inner.addWidget(button)
                buttons.append((choice.key, button))
            self._inputs[q.key] = buttons
            form.addWidget(box)
        form.addStretch(1)
        left = QScrollArea(self)
        left.setWidget(questions)
        left.setWidgetResizable(True)
        left.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left.setMinimumWidth(questions.sizeHint().width() + 24)
        self.answer_label = QLabel(self)
        self.answer_label.setObjectName("advisorAnswer")
        self.answer_label.setWordWrap(True)
        self.answer_label.setTextFormat(Qt.TextFormat.RichText)
        self.answer_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.answer_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.answer_label.setContentsMargins(8, 4, 8, 4)
        right_box = QWidget(self)
        right_layout = QVBoxLayout(right_box)
        right_layout.addWidget(self.answer_label)
        right_layout.addStretch(1)
        right = QScrollArea(self)
        right.setWidget(right_box)
        right.setWidgetResizable(True)
        self.present_buttons = QHBoxLayout()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        body = QHBoxLayout()
        body.addWidget(left, 4)
        body.addWidget(right, 6)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        bottom = QHBoxLayout()
        bottom.addLayout(self.present_buttons, 1)
        bottom.addWidget(buttons)
        layout.addLayout(bottom)
        self.resize(1180, 760)
        self.advice: Advice | None = None
        self._update()

    # -- public ------------------------------------------------------------------------------

    def answers(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for q in self.rules.questions:
            chosen = [key for key, button in self._inputs[q.key] if button.isChecked()]
            out[q.key] = chosen if q.multiple else (chosen[0] if chosen else None)
        return out

    def set_answers(self, answers: dict[str, object]) -> None:
        """Tick these answers (question key -> choice key, or a list for several answers)."""
        for key, value in answers.items():
            wanted = set(value) if isinstance(value, (list, tuple, set)) else {value}
            for choice, button in self._inputs[key]:
                button.blockSignals(True)
                button.setChecked(choice in wanted)
                button.blockSignals(False)
        self._update()

    # -- slots -------------------------------------------------------------------------------

    @Slot(bool)
    def _on_answer_toggled(self, checked: bool) -> None:
        self._update()

    def _update(self) -> None:
        answers = {k: v for k, v in self.answers().items() if v is not None}
        self.advice = advise(answers, self.rules)
        self.answer_label.setText(advice_html(self.advice, self.rules))
        while self.present_buttons.count():
            item = self.present_buttons.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        seen = set()
        for rec in self.advice.recommendations:
            key = rec.technique.scenario
            if key and key in self._scenarios and key not in seen and rec.score > 0:
                seen.add(key)
                button = QPushButton(f"▶ Present: {rec.technique.title}", self)
                button.setObjectName(f"present_{key}")
                button.setToolTip("Open this technique's story in presenter mode (full screen)")
                button.clicked.connect(self._on_present_clicked)
                button.setProperty("scenario", key)
                self.present_buttons.addWidget(button)
        self.present_buttons.addStretch(1)

    @Slot()
    def _on_present_clicked(self) -> None:
        key = self.sender().property("scenario") if self.sender() is not None else None
        if key:
            self.present_requested.emit(str(key))
