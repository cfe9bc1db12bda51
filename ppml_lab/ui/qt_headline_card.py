"""The headline card: what a person reads first about a run, above the details (and the toggle
that shows the details, and the engineer's view among them).

One card (:class:`HeadlineCardWidget`) shows a :class:`~ppml_lab.experiments.evaluation.Headline`:
the test accuracy in percent, against the plaintext reference and against always guessing the
commonest class; a flag in words and colour when the model is no better than that guess (and then
the privacy level does not read as good news); "single run" or the spread over seeds; the privacy
level in words; and the like-for-like cost (training time against the reference's training time,
with one-off work apart). Before a result it shows a message (what to do, the live progress, an
error). It names no pattern: everything comes from the results document.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QSettings, Qt, Slot
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.experiments.evaluation import Headline
from ppml_lab.experiments.narrative import fmt_bytes, guessing_words

#: Colours of the protection levels (``Guarantee.level``); any other level (NOT PRIVATE ...) is red.
LEVEL_COLORS = {
    "strong": "#1b7f3b",
    "moderate": "#8a6d00",
    "weak": "#c05a00",
    "very weak": "#b3261e",
    "none": "#b3261e",
}
#: A good level next to a useless model: neither green nor alarming, so the flag leads.
_MUTED = "#5f6368"
_FLAG = "#b3261e"

_STYLE = """
QFrame#headlineCard { background: #f7f9fc; border: 1px solid #d7dde6; border-radius: 6px; }
QFrame#headlineCard[flagged="true"] { background: #fdf3f2; border: 1px solid #e8b4ae; }
QLabel#headlineAccuracy { font-size: 24pt; font-weight: 600; color: #1f2933; }
QLabel#headlineAccuracyCaption { color: #5f6368; }
QLabel#headlineFlag { color: white; background: #b3261e; border-radius: 3px; padding: 2px 6px;
                      font-weight: 600; }
"""


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


class HeadlineCardWidget(QFrame):
    """The run's headline, or a message before there is one.

    Attributes
    ----------
    accuracy_label, comparison_label, flag_label, privacy_label, facts_label, message_label : QLabel
        The big accuracy; "vs plaintext ..., vs always guessing ..."; the no-better-than-guessing
        flag (hidden unless it applies); the privacy level in words; "single run" and the cost;
        the message shown instead of all of them before a result.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("headlineCard")
        self.setStyleSheet(_STYLE)
        self.headline: Headline | None = None

        self.accuracy_label = self._label("headlineAccuracy")
        self.accuracy_label.setWordWrap(False)
        self.accuracy_label.setToolTip("Test accuracy: the share of held-out test rows the model "
                                       "classifies correctly")
        self.accuracy_caption = self._label("headlineAccuracyCaption", "test accuracy")
        self.accuracy_caption.setWordWrap(False)
        big = QVBoxLayout()
        big.setSpacing(0)
        big.addWidget(self.accuracy_label, 0, Qt.AlignmentFlag.AlignLeft)
        big.addWidget(self.accuracy_caption, 0, Qt.AlignmentFlag.AlignLeft)
        big.addStretch(1)
        self.big_box = QWidget(self)
        self.big_box.setLayout(big)
        big.setContentsMargins(0, 0, 0, 0)

        self.flag_label = self._label("headlineFlag")
        self.flag_label.setToolTip(
            "A model that is not clearly right more often than always answering the commonest "
            "class has learned nothing useful, whatever its privacy level"
        )
        self.comparison_label = self._label("headlineComparison")
        self.privacy_label = self._label("headlinePrivacy")
        self.privacy_label.setToolTip("How strongly this run protects the data (the privacy "
                                      "guarantee's level; the figures are under Details)")
        self.facts_label = self._label("headlineFacts")
        self.facts_label.setToolTip(
            "Run-to-run noise (several seeds give a spread) and the cost: training time against "
            "the plaintext reference's training time; set-up and bookkeeping are counted apart"
        )
        lines = QVBoxLayout()
        lines.setSpacing(2)
        lines.setContentsMargins(0, 0, 0, 0)
        for label in (self.flag_label, self.comparison_label, self.privacy_label,
                      self.facts_label):
            lines.addWidget(label)
        self.lines_box = QWidget(self)
        self.lines_box.setLayout(lines)

        self.message_label = self._label("headlineMessage")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(14)
        layout.addWidget(self.big_box, 0)
        layout.addWidget(self.lines_box, 1)
        layout.addWidget(self.message_label, 1)
        self.show_message("")

    def _label(self, name: str, text: str = "") -> QLabel:
        label = QLabel(text, self)
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    @property
    def flagged(self) -> bool:
        """Whether the card says the model is no better than guessing."""
        return not self.flag_label.isHidden()

    def text(self) -> str:
        """Everything the card says, as plain text (for tests and accessibility)."""
        labels = ([self.message_label] if self.headline is None else
                  [self.accuracy_label, self.accuracy_caption, self.flag_label,
                   self.comparison_label, self.privacy_label, self.facts_label])
        parts = []
        for label in labels:
            if label.isHidden():
                continue
            doc = QTextDocument()
            doc.setHtml(label.text())
            parts.append(doc.toPlainText())
        return "\n".join(p for p in parts if p)

    # -- what it shows --------------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        """A message instead of a headline (rich text; "" for the default hint)."""
        self.headline = None
        self.message_label.setText(
            text or "<span style='color:#666'>Choose data and a privacy pattern, then press "
            "<b>Run</b> (Ctrl+R). The headline of the result appears here.</span>"
        )
        self._set_flagged(False)
        self.big_box.setVisible(False)
        self.lines_box.setVisible(False)
        self.message_label.setVisible(True)

    def show_headline(self, headline: Headline) -> None:
        """Show a run's headline (a message for a run cancelled before it had a model)."""
        if headline.accuracy is None and headline.cancelled:
            self.show_message(
                "<b style='color:#b26b00'>Cancelled</b> before the model was finished: no "
                "result to judge (the curves show the steps finished before you stopped it)."
            )
            return
        self.headline = headline
        self.message_label.setVisible(False)
        self.big_box.setVisible(True)
        self.lines_box.setVisible(True)
        acc = headline.accuracy
        self.accuracy_label.setText(_pct(acc) if acc is not None else "—")
        self.accuracy_caption.setText(
            "test accuracy" + (" (cancelled)" if headline.cancelled else "")
        )
        useless = bool(headline.no_better_than_guessing) and acc is not None
        self._set_flagged(useless)
        if useless:
            self.flag_label.setText(html.escape(self._flag_words(headline)))
        self.comparison_label.setText(self._comparison(headline))
        self.privacy_label.setText(self._privacy(headline, useless))
        self.facts_label.setText(self._facts(headline))

    def _set_flagged(self, flagged: bool) -> None:
        self.flag_label.setVisible(flagged)
        self.setProperty("flagged", "true" if flagged else "false")
        self.style().unpolish(self)
        self.style().polish(self)

    @staticmethod
    def _flag_words(h: Headline) -> str:
        return f"⚠ {guessing_words(h)}"  # the report's words too

    @staticmethod
    def _comparison(h: Headline) -> str:
        parts = []
        if h.is_reference:
            parts.append("This is the plaintext reference")
        elif h.reference_accuracy is not None:
            diff = h.difference or 0.0
            points = diff * 100
            gap = (
                "the same" if abs(points) < 0.05
                else f"<b>{points:+.1f}</b> points"
            )
            parts.append(f"vs plaintext <b>{_pct(h.reference_accuracy)}</b> ({gap})")
        if h.majority_rate is not None:
            parts.append(
                f"vs always guessing the commonest class <b>{_pct(h.majority_rate)}</b>"
            )
        return " · ".join(parts)

    @staticmethod
    def _privacy(h: Headline, useless: bool) -> str:
        if useless and h.level in LEVEL_COLORS and h.level != "none":
            color = _MUTED
        elif h.level == "none" and h.level_words != "no privacy protection":
            color = "#3c4043"  # no epsilon, but a protection of another kind: neither good nor bad
        else:
            color = LEVEL_COLORS.get(h.level, _FLAG)
        words = html.escape(h.level_words)
        return f"<b style='color:{color}'>{words[:1].upper() + words[1:]}</b>"

    @staticmethod
    def _facts(h: Headline) -> str:
        noise = h.noise_words()
        noise = noise[0].upper() + noise[1:]
        parts = [html.escape(noise)]
        cost = h.cost_words()
        if cost:
            parts.append("Cost: " + html.escape(cost))
        if h.bytes_sent:
            parts.append(f"{fmt_bytes(h.bytes_sent)} sent")
        return " · ".join(parts)


class DetailsToggle(QToolButton):
    """The "Details" toggle: shows or hides ``widgets`` (hidden by default); its state is
    remembered in ``settings`` under ``key`` (by default in the window's ``settings``, the
    application's ``QSettings()`` without one).
    """

    KEY = "results/details_expanded"

    def __init__(
        self, widgets: list[QWidget], *, settings: QSettings | None = None, key: str = KEY,
        text: str = "Details: privacy figures, costs, engineer's view",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("detailsToggle")
        self.setText(text)
        self.setCheckable(True)
        self.setAutoRaise(True)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setToolTip(
            "Show or hide the figures behind the headline: ε, δ and the noise settings, every "
            "cost, what the protection covers, balanced accuracy, ROC AUC and the confusion matrix"
        )
        self._widgets = list(widgets)
        if settings is None:
            found = getattr(self.window(), "settings", None)
            settings = found if isinstance(found, QSettings) else QSettings()
        self._settings, self._key = settings, key
        expanded = bool(settings.value(key, False, type=bool))
        self.setChecked(expanded)
        self._apply(expanded)
        self.toggled.connect(self._on_self_toggled)

    @property
    def expanded(self) -> bool:
        return self.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        self.setChecked(expanded)

    def _apply(self, expanded: bool) -> None:
        self.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        for widget in self._widgets:
            widget.setVisible(expanded)

    @Slot(bool)
    def _on_self_toggled(self, checked: bool) -> None:
        self._apply(checked)
        self._settings.setValue(self._key, checked)


def _figure(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "—"
    return f"{value:.{digits}f}" if math.isfinite(value) else "—"


class EngineerViewWidget(QWidget):
    """The figures behind the headline for the engineer: balanced accuracy, ROC AUC, the
    guessing test and the confusion matrix with class names (the ``evaluation`` section).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figures_label = QLabel(self)
        self.figures_label.setObjectName("engineerFigures")
        self.figures_label.setWordWrap(True)
        self.figures_label.setTextFormat(Qt.TextFormat.RichText)
        self.figures_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.confusion_table = QTableWidget(0, 0, self)
        self.confusion_table.setObjectName("confusionMatrix")
        self.confusion_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.confusion_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.confusion_table.setWordWrap(False)
        self.confusion_table.verticalHeader().setDefaultSectionSize(20)
        self.confusion_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.confusion_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.confusion_table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.confusion_table.setToolTip(
            "Confusion matrix on the test rows: one row per true class, one column per predicted "
            "class (key in the results file: evaluation.confusion_matrix)"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.figures_label)
        layout.addWidget(self.confusion_table, 0, Qt.AlignmentFlag.AlignLeft)
        self.set_evaluation(None)

    def set_evaluation(self, evaluation: Mapping[str, Any] | None) -> None:
        """Show the ``evaluation`` section of a results document (None: nothing)."""
        if not evaluation or evaluation.get("accuracy") is None:
            self.figures_label.setText("")
            self.confusion_table.setRowCount(0)
            self.confusion_table.setColumnCount(0)
            self.setVisible(False)
            return
        guess = evaluation.get("guessing_test") or {}
        auc = evaluation.get("roc_auc")
        auc_text = (f"{_figure(auc)} ({html.escape(str(evaluation.get('roc_auc_method', '')))})"
                    if auc is not None else "— (a class is missing from the test rows)")
        p_value = guess.get("p_value")
        self.figures_label.setText(
            "<b>Engineer's view</b> (test rows; confusion matrix: one row per true class, one "
            "column per predicted class)<br>"
            f"balanced accuracy {_figure(evaluation.get('balanced_accuracy'))} · "
            f"ROC AUC {auc_text} · majority-class rate "
            f"{_figure(evaluation.get('majority_class_rate'))} · better than guessing: "
            f"{'no' if evaluation.get('no_better_than_guessing') else 'yes'}"
            + (f" (one-sided binomial p = {p_value:.2g})" if isinstance(p_value, float) else "")
        )
        self.figures_label.setToolTip(html.escape(str(guess.get("rule", ""))))
        matrix = evaluation.get("confusion_matrix") or {}
        classes = [str(c) for c in matrix.get("classes") or ()]
        counts = matrix.get("counts") or []
        table = self.confusion_table
        table.setRowCount(len(classes))
        table.setColumnCount(len(classes))
        table.setHorizontalHeaderLabels(classes)
        table.setVerticalHeaderLabels(classes)
        table.horizontalHeader().setToolTip("predicted class")
        table.verticalHeader().setToolTip("true class")
        for r, row in enumerate(counts):
            for c, value in enumerate(row):
                item = QTableWidgetItem(f"{int(value):,}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if r == c:  # correct answers on the diagonal
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                table.setItem(r, c, item)
        table.resizeColumnsToContents()
        # The whole matrix: height and width follow the classes (room for a scroll bar when the
        # column is narrower than the matrix).
        height = (table.horizontalHeader().sizeHint().height() + 20 * len(classes) + 4
                  + table.horizontalScrollBar().sizeHint().height())
        width = table.verticalHeader().sizeHint().width() + sum(
            table.columnWidth(c) for c in range(len(classes))) + 4
        table.setFixedHeight(height)
        table.setMaximumWidth(width)  # no minimum: the column may be narrow, the table scrolls
        self.setVisible(True)

    def cell(self, row: int, column: int) -> str:
        """A count of the confusion matrix as shown (for tests)."""
        item = self.confusion_table.item(row, column)
        return item.text() if item is not None else ""
