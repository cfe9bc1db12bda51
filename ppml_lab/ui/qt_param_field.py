"""One parameter's editor in a generated form: the widget for its type, plus get/set of values.

=========================  ==============================================================
declared type              editor
=========================  ==============================================================
``int``                    :class:`~ppml_lab.ui.qt_number_fields.IntSpinBox` (bounds, unit as
                           suffix)
``float``                  :class:`~ppml_lab.ui.qt_number_fields.ScientificSpinBox` (shows
                           ``1e-05``; steps 1-2-5 when ``log_scale``)
``choices``                QComboBox showing each choice in words (``choice_labels``), the
                           value as item data, its key in experiment files in the item tooltip
``bool``                   QCheckBox
``str``                    an editable QComboBox (suggestions, e.g. the dataset's columns); empty
                           means None
``X | None`` (optional)    a "set" checkbox in front of the editor; unchecked means None
=========================  ==============================================================

:class:`ParamFieldEditor` is not a widget itself: it owns the editor (and the "set" box) that
:class:`~ppml_lab.ui.qt_param_form.ParamFormWidget` lays out, and knows how to show a value, read
it back, grey the field out with a reason and show it in red.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from ppml_lab.params import ParamSpec
from ppml_lab.ui.qt_number_fields import (
    IntSpinBox,
    NumberBox,
    ScientificSpinBox,
    bounds_words,
    number_error,
    number_format_hint,
)

_INT_LIMIT = 2**31 - 1
_FLOAT_LIMIT = 1e300


def _is_number(spec: ParamSpec) -> bool:
    return spec.choices is None and spec.type in (int, float)


def tooltip_for(spec: ParamSpec, locale: QLocale | None = None) -> str:
    """Tooltip text for a parameter: its help, allowed range and unit (and number format)."""
    parts = [spec.help.strip()] if spec.help else []
    allowed = bounds_words(spec, locale)
    if spec.choices is not None:
        parts.append("In experiment files: " + "; ".join(
            f"{spec.choice_text(c)} = {choice_literal(c)}" for c in spec.choices
        ) + ".")
    elif allowed != "any value":
        parts.append(f"Allowed: {allowed}{' ' + spec.unit if spec.unit else ''}.")
    if _is_number(spec):
        parts.append(number_format_hint(spec, locale))
    if spec.optional:
        parts.append("Untick 'set' to leave it empty (the engine then chooses).")
    parts.append(f"Key in experiment files: {spec.name}")
    return "\n".join(parts)


def choice_literal(value: Any) -> str:
    """A choice as written in an experiment file: a text in double quotes, a number bare."""
    return f'"{value}"' if isinstance(value, str) else str(value)


def choice_item_tip(spec: ParamSpec, value: Any) -> str:
    """The tooltip of one choice in a drop-down: what it does, and its key in experiment files."""
    key = f"In experiment files: {spec.name} = {choice_literal(value)}"
    what = spec.choice_tip(value)
    return f"{what}\n\n{key}" if what else key


def _suggested_value(spec: ParamSpec, box: QSpinBox | QDoubleSpinBox) -> float:
    """A sensible first value when the user ticks "set" on an optional number."""
    lo, hi = box.minimum(), box.maximum()
    if lo <= 1 <= hi:
        return 1
    if spec.log_scale and hi < 1:
        return max(lo, hi / 1000)  # e.g. delta in (0, 0.1] -> 1e-4
    return lo if spec.type is int else (lo + hi) / 2


class ParamFieldEditor:
    """One parameter's editor (and its optional "set" checkbox) with get/set of plain values."""

    def __init__(self, spec: ParamSpec, parent: QWidget) -> None:
        self.spec = spec
        self.editor = self._make_editor(spec, parent)
        self.editor.setObjectName(f"param_{spec.name}")
        tip = tooltip_for(spec, self.editor.locale())
        self.base_tip = tip
        self.editor.setToolTip(tip)
        self.label: QLabel | None = None
        self.disabled_reason = ""
        self.error_text = ""  # the message while the field is shown in red
        if not self.is_number:
            self.editor.setProperty("invalid", False)  # the style sheet draws True in red
        self.unset_text = "not set"
        self.set_box: QCheckBox | None = None
        # A text field needs no "set" box: empty text already means "not set".
        if spec.optional and not self.is_text:
            self.set_box = QCheckBox("set", parent)
            self.set_box.setObjectName(f"param_{spec.name}_set")
            self.set_box.setToolTip(
                f"Tick to give {spec.label.lower()} a value; untick to leave it empty.\n\n{tip}"
            )
            self.set_box.toggled.connect(self._on_set_box_toggled)
        self.widget = QWidget(parent)
        row = QHBoxLayout(self.widget)
        row.setContentsMargins(0, 0, 0, 0)
        if self.set_box is not None:
            row.addWidget(self.set_box)
        row.addWidget(self.editor, 1)
        self.set_value(spec.default)
        if self.is_text:
            self._show_unset(True)  # the placeholder says what empty means

    @property
    def is_number(self) -> bool:
        """A number field (an :class:`IntSpinBox` or a :class:`ScientificSpinBox`)."""
        return isinstance(self.editor, NumberBox)

    @property
    def is_text(self) -> bool:
        """A free-text field (an editable combo box offering suggestions)."""
        return self.spec.choices is None and self.spec.type is str

    @staticmethod
    def _make_editor(spec: ParamSpec, parent: QWidget) -> QWidget:
        if spec.choices is None and spec.type is str:
            text = QComboBox(parent)
            text.setEditable(True)
            text.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            text.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            text.setMinimumContentsLength(8)
            return text
        if spec.choices is not None:
            # The choices in words; the value (what is saved) is the item's data, and its key in
            # experiment files is in the item's tooltip.
            combo = QComboBox(parent)
            for choice in spec.choices:
                combo.addItem(spec.choice_text(choice), choice)
                combo.setItemData(
                    combo.count() - 1, choice_item_tip(spec, choice), Qt.ItemDataRole.ToolTipRole
                )
            # The box is as wide as its longest choice, never cut: in a narrow pane the form puts
            # the label above it (see qt_param_form); the list it opens is as wide as the words.
            combo.view().setMinimumWidth(combo.view().sizeHintForColumn(0) + 8)
            return combo
        if spec.type is bool:
            return QCheckBox(parent)
        if spec.type is int:
            spin = IntSpinBox(parent)
            lo = int(spec.minimum) if spec.minimum is not None else -_INT_LIMIT
            if spec.minimum is not None and not spec.min_inclusive:
                lo += 1
            hi = int(min(spec.maximum, _INT_LIMIT)) if spec.maximum is not None else _INT_LIMIT
            spin.setRange(lo, hi)
            if spec.unit:
                spin.setSuffix(f" {spec.unit}")
            spin.setKeyboardTracking(False)
            spin.setAccelerated(True)
            return spin
        if spec.type is float:
            box = ScientificSpinBox(parent, log_scale=spec.log_scale)
            lo = spec.minimum if spec.minimum is not None else -_FLOAT_LIMIT
            if spec.minimum is not None and not spec.min_inclusive:
                # An exclusive bound: the smallest value the form offers is just above it.
                lo = spec.minimum + (1e-12 if spec.log_scale else 1e-6)
            hi = spec.maximum if spec.maximum is not None else _FLOAT_LIMIT
            box.setRange(lo, hi)
            if not spec.log_scale:
                span = (hi - lo) if spec.minimum is not None and spec.maximum is not None else 10.0
                box.setSingleStep(0.1 if span > 5 else 0.01)
            if spec.unit:
                box.setSuffix(f" {spec.unit}")
            return box
        return QLineEdit(parent)

    @property
    def changed_signal(self) -> Any:
        e = self.editor
        if isinstance(e, QComboBox) and self.is_text:
            return e.editTextChanged
        if isinstance(e, QComboBox):
            return e.currentIndexChanged
        if isinstance(e, QCheckBox):
            return e.toggled
        if isinstance(e, (QSpinBox, QDoubleSpinBox)):
            return e.valueChanged
        return e.textChanged  # type: ignore[attr-defined]

    def value(self) -> Any:
        """The value shown, in the declared type (None when an optional field is not set)."""
        if self.set_box is not None and not self.set_box.isChecked():
            return None
        if self.disabled_reason and self.spec.optional:
            return None  # a greyed-out optional field does not apply: it counts as empty
        if self.disabled_reason and self.is_number and self.typed_error():
            # A greyed-out field does not apply, and cannot be edited to fix it: its text is not
            # an error then; the value last accepted fills the slot (the engine ignores it).
            return self._box_value()
        return self.raw_value()

    def typed_error(self) -> str:
        """What is wrong with the text of a number field, without the form's prefix ("" if fine).

        "" too for other fields and for an optional number field that is not set or left empty.
        """
        if not self.is_number or (self.set_box is not None and not self.set_box.isChecked()):
            return ""
        box = self.editor
        if box.shows_value():
            return ""
        return number_error(self.spec, box.typed_text(), box.locale())

    def error(self) -> str:
        """:meth:`typed_error` of a field that applies now ("" when greyed out)."""
        return "" if self.disabled_reason else self.typed_error()

    def _box_value(self) -> int | float:
        value = self.editor.value()
        return int(value) if self.spec.type is int else float(value)

    def raw_value(self) -> Any:
        """The value shown, even when the field does not apply (None when not set)."""
        if self.set_box is not None and not self.set_box.isChecked():
            return None
        e = self.editor
        if isinstance(e, QComboBox) and self.is_text:
            text = e.currentText().strip()
            return None if self.spec.optional and not text else text
        if isinstance(e, NumberBox):
            # The text as typed, even when not yet committed (Ctrl+R pressed inside the box), and
            # never the previous value instead of a bad text: that is reported by typed_error().
            number, problem, _ = e.typed_number()
            if number is None or not math.isfinite(number):
                return None
            if self.spec.type is int and number == int(number):
                return int(number)
            return number if self.spec.type is int else float(number)
        if isinstance(e, QComboBox):
            return e.currentData()
        if isinstance(e, QCheckBox):
            return e.isChecked()
        if isinstance(e, QSpinBox):
            return int(e.value())
        if isinstance(e, QDoubleSpinBox):
            return float(e.value())
        text = e.text()  # type: ignore[attr-defined]
        return text

    def _on_set_box_toggled(self, checked: bool) -> None:
        self.editor.setEnabled(checked)
        self._show_unset(not checked)
        if checked and isinstance(self.editor, (QSpinBox, QDoubleSpinBox)):
            if self.editor.value() == self.editor.minimum() or not self.editor.shows_value():
                self.editor.setValue(_suggested_value(self.spec, self.editor))

    def _show_unset(self, unset: bool) -> None:
        """An unset optional editor says what empty means instead of showing a number."""
        e = self.editor
        if isinstance(e, (QSpinBox, QDoubleSpinBox)):
            if unset:
                e.setValue(e.minimum())  # the special text shows at the minimum
            e.setSpecialValueText(self.unset_text if unset else "")
            # Set but emptied: the text typed is gone and the grey text says what empty means.
            e.lineEdit().setPlaceholderText("" if unset else self.unset_text)
        elif isinstance(e, QLineEdit):
            e.setPlaceholderText(self.unset_text if unset else "")
        elif isinstance(e, QComboBox) and e.lineEdit() is not None:
            e.lineEdit().setPlaceholderText(self.unset_text)

    def set_unset_text(self, text: str) -> None:
        """What an empty optional field means, e.g. "auto: 1/(10 × rows)"."""
        text = text or "not set"
        if text == self.unset_text:
            return
        self.unset_text = text
        unset = self.set_box is not None and not self.set_box.isChecked()
        if unset or self.is_text:
            self._show_unset(unset or self.is_text)
        elif self.is_number:
            self.editor.lineEdit().setPlaceholderText(self.unset_text)

    def set_disabled_reason(self, reason: str) -> None:
        """Grey the field out (with ``reason`` in its tooltip) or, for "", enable it again."""
        if reason == self.disabled_reason:
            return
        self.disabled_reason = reason
        self.widget.setEnabled(not reason)
        if self.label is not None:
            self.label.setEnabled(not reason)
        self._update_tooltip()

    def show_error(self, message: str) -> None:
        """Show the field in red with ``message`` first in its tooltip ("" for normal)."""
        if message == self.error_text:
            return
        was_bad = bool(self.error_text)
        self.error_text = message
        if bool(message) != was_bad:
            e = self.editor
            if isinstance(e, NumberBox):
                e.set_invalid(bool(message))
            else:
                e.setProperty("invalid", bool(message))
                e.style().unpolish(e)
                e.style().polish(e)
                e.update()
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        tip = self.base_tip
        if self.disabled_reason:
            tip += f"\n\nNot used now: {self.disabled_reason}."
        if self.error_text:
            tip = f"{self.error_text}\n\n{tip}"
        self.editor.setToolTip(tip)
        if self.label is not None:
            self.label.setToolTip(tip)

    def set_choice_texts(self, texts: Mapping[Any, str], tips: Mapping[Any, str]) -> None:
        """Show a choice field's values as ``texts`` (value -> words), with ``tips``.

        The values themselves (what is saved) do not change; values missing from ``texts`` keep
        their own text.
        """
        e = self.editor
        if not isinstance(e, QComboBox) or self.is_text:
            return
        for i in range(e.count()):
            value = e.itemData(i)
            if value in texts:
                e.setItemText(i, texts[value])
            if value in tips:
                key = choice_item_tip(replace(self.spec, choice_help=()), value)
                e.setItemData(i, f"{tips[value]}\n\n{key}", Qt.ItemDataRole.ToolTipRole)
        e.view().setMinimumWidth(e.view().sizeHintForColumn(0) + 8)

    def set_suggestions(self, items: Sequence[str], tips: Sequence[str] = ()) -> None:
        """Offer ``items`` in a text field's drop-down list, keeping the text typed."""
        e = self.editor
        if not (isinstance(e, QComboBox) and self.is_text):
            return
        current = e.currentText()
        was = e.blockSignals(True)
        try:
            e.clear()
            e.addItems([str(i) for i in items])
            for i, tip in enumerate(tips):
                e.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
            e.setEditText(current)
        finally:
            e.blockSignals(was)

    def set_value(self, value: Any) -> None:
        if self.set_box is not None:
            was = self.set_box.blockSignals(True)
            self.set_box.setChecked(value is not None)
            self.set_box.blockSignals(was)
            self.editor.setEnabled(value is not None)
            self._show_unset(value is None)
        e = self.editor
        if isinstance(e, QComboBox) and self.is_text:
            e.setEditText("" if value is None else str(value))
            return
        if value is None:
            return
        if isinstance(e, QComboBox):
            index = e.findData(value)
            if index < 0:
                index = e.findText(str(value))
            if index >= 0:
                e.setCurrentIndex(index)
        elif isinstance(e, QCheckBox):
            e.setChecked(bool(value))
        elif isinstance(e, QSpinBox):
            e.setValue(int(value))
        elif isinstance(e, QDoubleSpinBox):
            e.setValue(float(value))
        else:
            e.setText(str(value))  # type: ignore[attr-defined]
