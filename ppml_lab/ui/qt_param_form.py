"""A parameter form generated from parameter-dataclass metadata (:func:`ppml_lab.params.describe`).

Every field declared with :func:`ppml_lab.params.param` becomes one editor:

========================  ===============================================================
declared type             editor
========================  ===============================================================
``int``                   QSpinBox with the bounds and the unit as suffix
``float``                 :class:`ScientificSpinBox` (a QDoubleSpinBox that shows ``1e-05``
                          and steps 1-2-5 when ``log_scale``)
``choices``               QComboBox
``bool``                  QCheckBox
``str``                   an editable QComboBox (:meth:`ParamFormWidget.set_suggestions` fills
                          its list, e.g. with the dataset's columns); empty means None
``X | None`` (optional)   a "set" checkbox in front of the editor; unchecked means None
========================  ===============================================================

Fields marked ``advanced`` go into a collapsible "Advanced" section. The help text and the
allowed range are the tooltip. An optional ``hints`` callable (see
:mod:`ppml_lab.ui.param_rules`) says which fields do not apply to the current values: they are
greyed out with the reason in their tooltip, count as empty when optional, and a short note
under the form explains the choice. :meth:`ParamFormWidget.build` validates through
:func:`ppml_lab.params.from_mapping`, so the form works for any parameter dataclass, including
ones registered by engines written later.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.params import ParamError, ParamSpec, describe, from_mapping
from ppml_lab.ui.param_rules import FormHints

HintsProvider = Callable[[Mapping[str, Any]], FormHints]

_INT_LIMIT = 2**31 - 1
_FLOAT_LIMIT = 1e300
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_PARTIAL_NUMBER = re.compile(r"^[+-]?(\d*\.?\d*)([eE][+-]?\d*)?$")


def tooltip_for(spec: ParamSpec) -> str:
    """Tooltip text for a parameter: its help, allowed range and unit."""
    parts = [spec.help.strip()] if spec.help else []
    allowed = spec.bounds_text()
    if allowed != "any value":
        parts.append(f"Allowed: {allowed}{' ' + spec.unit if spec.unit else ''}.")
    if spec.optional:
        parts.append("Untick 'set' to leave it empty (the engine then chooses).")
    parts.append(f"Key in experiment files: {spec.name}")
    return "\n".join(parts)


class ScientificSpinBox(QDoubleSpinBox):
    """A QDoubleSpinBox that shows values with significant digits (``0.001``, ``1e-06``).

    A plain QDoubleSpinBox rounds to a fixed number of decimals, which makes ``delta = 1e-7``
    impossible to enter. This one keeps full precision; with ``log_scale`` the arrows step
    along 1, 2, 5, 10, 20, ... instead of adding a constant.
    """

    def __init__(self, parent: QWidget | None = None, *, log_scale: bool = False) -> None:
        super().__init__(parent)
        self._log_scale = log_scale
        self.setDecimals(323)  # keep full double precision; the text is formatted below
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.setKeyboardTracking(False)

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        body = self._strip_affixes(text)
        try:
            return float(body)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        body = self._strip_affixes(text)
        if _NUMBER.match(body):
            value = float(body)
            if self.minimum() <= value <= self.maximum():
                return QValidator.State.Acceptable, text, pos
            return QValidator.State.Intermediate, text, pos
        if _PARTIAL_NUMBER.match(body):
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Invalid, text, pos

    def fixup(self, text: str) -> str:
        return self.textFromValue(self.value())

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        if not self._log_scale:
            super().stepBy(steps)
            return
        value = self.value()
        for _ in range(abs(steps)):
            value = _next_125(value, up=steps > 0)
        self.setValue(min(max(value, self.minimum()), self.maximum()))

    def _strip_affixes(self, text: str) -> str:
        body = text
        if self.prefix() and body.startswith(self.prefix()):
            body = body[len(self.prefix()) :]
        if self.suffix() and body.endswith(self.suffix()):
            body = body[: -len(self.suffix())]
        return body.strip()


def _next_125(value: float, *, up: bool) -> float:
    """The next value of the 1-2-5 series above (or below) ``value``."""
    if value <= 0:
        return 1e-6 if up else value
    exponent = math.floor(math.log10(value))
    series = [m * 10.0**e for e in (exponent - 1, exponent, exponent + 1) for m in (1, 2, 5)]
    if up:
        return min(v for v in series if v > value * (1 + 1e-9))
    return max(v for v in series if v < value * (1 - 1e-9))


def _suggested_value(spec: ParamSpec, box: QSpinBox | QDoubleSpinBox) -> float:
    """A sensible first value when the user ticks "set" on an optional number."""
    lo, hi = box.minimum(), box.maximum()
    if lo <= 1 <= hi:
        return 1
    if spec.log_scale and hi < 1:
        return max(lo, hi / 1000)  # e.g. delta in (0, 0.1] -> 1e-4
    return lo if spec.type is int else (lo + hi) / 2


class CollapsibleSectionWidget(QWidget):
    """A titled section whose content is shown or hidden by clicking the title."""

    def __init__(self, title: str, parent: QWidget | None = None, *, expanded: bool = False) -> None:
        super().__init__(parent)
        self.toggle_button = QToolButton(self)
        self.toggle_button.setText(title)
        self.toggle_button.setCheckable(True)
        self.toggle_button.setChecked(expanded)
        self.toggle_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle_button.setArrowType(
            Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow
        )
        self.toggle_button.setAutoRaise(True)
        self.toggle_button.setToolTip(f"Show or hide the {title.lower()} settings")
        self.content = QWidget(self)
        self.content.setVisible(expanded)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toggle_button)
        layout.addWidget(self.content)
        self.toggle_button.toggled.connect(self._on_toggle_button_toggled)

    @property
    def expanded(self) -> bool:
        return self.toggle_button.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        self.toggle_button.setChecked(expanded)

    @Slot(bool)
    def _on_toggle_button_toggled(self, checked: bool) -> None:
        self.toggle_button.setArrowType(
            Qt.ArrowType.DownArrow if checked else Qt.ArrowType.RightArrow
        )
        self.content.setVisible(checked)


class _FieldEditor:
    """One parameter's editor (and its optional "set" checkbox) with get/set of plain values."""

    def __init__(self, spec: ParamSpec, parent: QWidget) -> None:
        self.spec = spec
        self.editor = self._make_editor(spec, parent)
        self.editor.setObjectName(f"param_{spec.name}")
        tip = tooltip_for(spec)
        self.base_tip = tip
        self.editor.setToolTip(tip)
        self.label: QLabel | None = None
        self.disabled_reason = ""
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
            combo = QComboBox(parent)
            for choice in spec.choices:
                combo.addItem(str(choice), choice)
            return combo
        if spec.type is bool:
            return QCheckBox(parent)
        if spec.type is int:
            spin = QSpinBox(parent)
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
        return self.raw_value()

    def raw_value(self) -> Any:
        """The value shown, even when the field does not apply (None when not set)."""
        if self.set_box is not None and not self.set_box.isChecked():
            return None
        e = self.editor
        if isinstance(e, QComboBox) and self.is_text:
            text = e.currentText().strip()
            return None if self.spec.optional and not text else text
        if isinstance(e, QAbstractSpinBox) and e.hasFocus():
            # Text typed but not yet committed (Ctrl+R pressed inside the box) still counts.
            e.interpretText()
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
            if self.editor.value() == self.editor.minimum():
                self.editor.setValue(_suggested_value(self.spec, self.editor))

    def _show_unset(self, unset: bool) -> None:
        """An unset optional editor says what empty means instead of showing a number."""
        e = self.editor
        if isinstance(e, (QSpinBox, QDoubleSpinBox)):
            e.setSpecialValueText(self.unset_text if unset else "")
            if unset:
                e.setValue(e.minimum())  # the special text shows at the minimum
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

    def set_disabled_reason(self, reason: str) -> None:
        """Grey the field out (with ``reason`` in its tooltip) or, for "", enable it again."""
        if reason == self.disabled_reason:
            return
        self.disabled_reason = reason
        tip = self.base_tip + (f"\n\nNot used now: {reason}." if reason else "")
        self.widget.setEnabled(not reason)
        self.editor.setToolTip(tip)
        if self.label is not None:
            self.label.setEnabled(not reason)
            self.label.setToolTip(tip)

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


class ParamFormWidget(QWidget):
    """A form for one parameter dataclass, generated from its metadata.

    Parameters
    ----------
    params_cls : type
        A dataclass whose fields are declared with :func:`ppml_lab.params.param`.
    values : Mapping, optional
        Initial values (by field name); missing ones show the defaults.
    where : str
        Prefix for validation messages, e.g. ``"Model: "``.
    hints : callable, optional
        ``hints(raw_values) -> FormHints``: which fields do not apply now and why, what an empty
        optional field means, and notes to show under the form (see
        :mod:`ppml_lab.ui.param_rules`). Asked again after every edit.

    Signals
    -------
    changed
        Emitted whenever the user edits a value, and after :meth:`set_values`.
    """

    changed = Signal()

    def __init__(
        self,
        params_cls: type,
        parent: QWidget | None = None,
        *,
        values: Mapping[str, Any] | None = None,
        where: str = "",
        hints: HintsProvider | None = None,
    ) -> None:
        super().__init__(parent)
        self.params_cls = params_cls
        self.where = where
        self._hints = hints
        self.specs = describe(params_cls)
        self._fields: dict[str, _FieldEditor] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        basic = QFormLayout()
        _style_form(basic)
        layout.addLayout(basic)
        self.advanced_section: CollapsibleSectionWidget | None = None
        advanced_form: QFormLayout | None = None
        if any(s.advanced for s in self.specs):
            self.advanced_section = CollapsibleSectionWidget("Advanced", self)
            self.advanced_section.toggle_button.toggled.connect(self._on_advanced_toggled)
            advanced_form = QFormLayout(self.advanced_section.content)
            advanced_form.setContentsMargins(12, 0, 0, 0)
            _style_form(advanced_form)
            layout.addWidget(self.advanced_section)
        if not self.specs:
            empty = QLabel("This pattern has no settings of its own.", self)
            empty.setObjectName("hintLabel")
            empty.setToolTip("The model settings above say how to train.")
            layout.addWidget(empty)
        for spec in self.specs:
            field = _FieldEditor(spec, self)
            self._fields[spec.name] = field
            label = QLabel(spec.label + ":", self)
            label.setObjectName(f"label_{spec.name}")
            label.setToolTip(field.editor.toolTip())
            label.setBuddy(field.editor)
            field.label = label
            form = advanced_form if spec.advanced and advanced_form is not None else basic
            form.addRow(label, field.widget)
            field.changed_signal.connect(self._on_field_changed)
            if field.set_box is not None:
                field.set_box.toggled.connect(self._on_field_changed)
        self.notes_label = QLabel(self)
        self.notes_label.setObjectName("hintLabel")
        self.notes_label.setWordWrap(True)
        self.notes_label.setTextFormat(Qt.TextFormat.PlainText)
        self.notes_label.setVisible(False)
        self.notes_label.setToolTip("How the settings above are used with the current choices")
        layout.insertWidget(1, self.notes_label)  # under the basic fields, above "Advanced"
        self.error_label = QLabel(self)
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)  # messages may quote '<=50K'
        self.error_label.setVisible(False)
        self.error_label.setToolTip("Why the current values cannot be used")
        layout.addWidget(self.error_label)
        if values:
            self.set_values(values)
        else:
            self.refresh_hints()
            self.validate()

    def editor(self, name: str) -> QWidget:
        """The editor widget of parameter ``name`` (for tests and focus)."""
        return self._fields[name].editor

    def set_checkbox(self, name: str) -> QCheckBox | None:
        """The "set" checkbox of optional parameter ``name`` (None for required ones)."""
        return self._fields[name].set_box

    def values(self) -> dict[str, Any]:
        """The values that apply, by field name (None for unset or greyed-out optional fields)."""
        return {name: f.value() for name, f in self._fields.items()}

    def raw_values(self) -> dict[str, Any]:
        """The values shown, including those of fields that do not apply now."""
        return {name: f.raw_value() for name, f in self._fields.items()}

    def disabled_reason(self, name: str) -> str:
        """Why field ``name`` is greyed out ("" when it applies)."""
        return self._fields[name].disabled_reason

    def set_hints_provider(self, hints: HintsProvider | None) -> None:
        """Replace the hints callable and apply it."""
        self._hints = hints
        self.refresh_hints()
        self.validate()

    def refresh_hints(self) -> None:
        """Ask the hints callable again and grey out, explain and annotate accordingly."""
        hints = self._hints(self.raw_values()) if self._hints is not None else FormHints()
        for name, field in self._fields.items():
            field.set_unset_text(hints.unset_text.get(name, "not set"))
            field.set_disabled_reason(hints.disabled.get(name, ""))
        # Fields inside the collapsed "Advanced" section need no mention until it is opened.
        open_advanced = self.advanced_section is not None and self.advanced_section.expanded
        off = [
            f.spec.label for n, f in self._fields.items()
            if hints.disabled.get(n) and (open_advanced or not f.spec.advanced)
        ]
        lines = list(hints.notes)
        if off:
            lines.append("Greyed out (not used with these choices): " + ", ".join(off) + ".")
        self.notes_label.setText("\n".join(lines))
        self.notes_label.setVisible(bool(lines))

    def set_suggestions(self, name: str, items: Sequence[str], tips: Sequence[str] = ()) -> None:
        """Offer ``items`` (e.g. the dataset's columns) in text field ``name``'s drop-down."""
        if name in self._fields:
            self._fields[name].set_suggestions(items, tips)

    def suggestions(self, name: str) -> list[str]:
        """The items text field ``name`` offers."""
        e = self._fields[name].editor
        return [e.itemText(i) for i in range(e.count())] if isinstance(e, QComboBox) else []

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show ``values`` (unknown keys are ignored; missing keys keep their current value)."""
        blockers = [f.editor.blockSignals(True) for f in self._fields.values()]
        try:
            for name, value in values.items():
                if name in self._fields:
                    self._fields[name].set_value(value)
        finally:
            for f, was in zip(self._fields.values(), blockers):
                f.editor.blockSignals(was)
        self.refresh_hints()
        self.validate()
        self.changed.emit()  # once, so dependants (the other form's hints) follow

    def build(self) -> Any:
        """Validate the values and return a params instance.

        Raises
        ------
        ParamError
            With a readable message (also shown under the form) for a bad value or a rejected
            combination (a ValueError from the dataclass's ``__post_init__``).
        """
        try:
            obj = from_mapping(self.params_cls, self.values(), where=self.where)
        except ParamError as exc:
            self._show_error(str(exc), exc.key)
            raise
        except (ValueError, TypeError) as exc:  # a Params class that raises something else
            self._show_error(f"{self.where}{exc}", "")
            raise ParamError("", f"{self.where}{exc}") from None
        self._show_error("", "")
        return obj

    def validate(self) -> str:
        """Check the values; return the error message ("" when valid) and show it inline."""
        try:
            self.build()
        except ParamError as exc:
            return str(exc)
        return ""

    @Slot(bool)
    def _on_advanced_toggled(self, expanded: bool) -> None:
        self.refresh_hints()  # the note names greyed-out advanced fields only when shown

    @Slot()
    def _on_field_changed(self) -> None:
        self.refresh_hints()
        self.validate()
        self.changed.emit()

    def _show_error(self, message: str, key: str) -> None:
        if message and key not in self._fields:
            # A cross-field check (__post_init__) names its field in the message, by key.
            key = next((n for n in self._fields if re.search(rf"\b{re.escape(n)}\b", message)), key)
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))
        for name, field in self._fields.items():
            bad = bool(message) and name == key
            field.editor.setProperty("invalid", bad)
            field.editor.style().unpolish(field.editor)
            field.editor.style().polish(field.editor)
        if message and key in self._fields and self.advanced_section is not None:
            if self._fields[key].spec.advanced:
                self.advanced_section.set_expanded(True)


def _style_form(form: QFormLayout) -> None:
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setHorizontalSpacing(10)
    form.setVerticalSpacing(6)


__all__ = ["CollapsibleSectionWidget", "ParamFormWidget", "ScientificSpinBox", "tooltip_for"]
