"""A parameter form generated from parameter-dataclass metadata (:func:`ppml_lab.params.describe`).

Every field declared with :func:`ppml_lab.params.param` becomes one editor
(:class:`~ppml_lab.ui.qt_param_field.ParamFieldEditor` picks it from the declared type: spin
boxes for numbers, a combo box for choices, a checkbox for booleans, an editable combo box for
text, and a "set" checkbox in front of an optional value).

Number fields read what is typed in the user's number format
(:mod:`ppml_lab.ui.qt_number_fields`). A text that is not a number, or a number out of range,
stays as typed: the field turns red, the message under the form gives the allowed range in
words, and :meth:`ParamFormWidget.build` raises it, so Run refuses to start.

Fields marked ``advanced`` go into a collapsible "Advanced" section. The help text and the
allowed range are the tooltip. An optional ``hints`` callable (see
:mod:`ppml_lab.ui.param_rules`) says which fields do not apply to the current values: they are
greyed out with the reason in their tooltip, count as empty when optional, and a short note
under the form explains the choice. :meth:`ParamFormWidget.build` validates through
:func:`ppml_lab.params.from_mapping`, so the form works for any parameter dataclass, including
ones registered by engines written later.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from ppml_lab.params import ParamError, describe, from_mapping
from ppml_lab.ui.param_rules import FormHints
from ppml_lab.ui.qt_collapsible_section import CollapsibleSectionWidget
from ppml_lab.ui.qt_param_field import ParamFieldEditor

HintsProvider = Callable[[Mapping[str, Any]], FormHints]


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
        self._fields: dict[str, ParamFieldEditor] = {}
        self._setting_values = False
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
            field = ParamFieldEditor(spec, self)
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
            if field.is_number:
                # Checked as typed: a bad text turns red at once and never reaches valueChanged.
                field.editor.lineEdit().textChanged.connect(self._on_number_text_changed)
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

    def is_invalid(self, name: str) -> bool:
        """Whether field ``name`` is shown in red (its message is under the form)."""
        return bool(self._fields[name].error_text)

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

    def set_choice_texts(
        self, name: str, texts: Mapping[Any, str], tips: Mapping[Any, str] | None = None
    ) -> None:
        """Show choice field ``name``'s values in words (value -> text), with tooltips."""
        self._fields[name].set_choice_texts(texts, tips or {})

    def suggestions(self, name: str) -> list[str]:
        """The items text field ``name`` offers."""
        e = self._fields[name].editor
        return [e.itemText(i) for i in range(e.count())] if isinstance(e, QComboBox) else []

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Show ``values`` (unknown keys are ignored; missing keys keep their current value)."""
        blockers = [f.editor.blockSignals(True) for f in self._fields.values()]
        self._setting_values = True
        try:
            for name, value in values.items():
                if name in self._fields:
                    self._fields[name].set_value(value)
        finally:
            self._setting_values = False
            for f, was in zip(self._fields.values(), blockers):
                f.editor.blockSignals(was)
        self.refresh_hints()
        self.validate()
        self.changed.emit()  # once, so dependants (the other form's hints) follow

    def field_errors(self) -> dict[str, str]:
        """Number fields whose text is not allowed, with why (name -> message with the range).

        Only fields that apply: a greyed-out field is not an error.
        """
        return {
            name: f"{self.where}{error}" for name, f in self._fields.items() if (error := f.error())
        }

    def build(self) -> Any:
        """Validate the values and return a params instance.

        Raises
        ------
        ParamError
            With a readable message (also shown under the form) for a text that is not an allowed
            number (every such field is named, with its range), a bad value or a rejected
            combination (a ValueError from the dataclass's ``__post_init__``).
        """
        errors = self.field_errors()
        if errors:
            message = "\n".join(errors.values())
            self._show_error(message, errors)
            raise ParamError(next(iter(errors)), message)
        try:
            obj = from_mapping(self.params_cls, self.values(), where=self.where)
        except ParamError as exc:
            self._show_error(str(exc), {exc.key: str(exc)})
            raise
        except (ValueError, TypeError) as exc:  # a Params class that raises something else
            self._show_error(f"{self.where}{exc}", {"": f"{self.where}{exc}"})
            raise ParamError("", f"{self.where}{exc}") from None
        self._show_error("", {})
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

    @Slot()
    def _on_number_text_changed(self) -> None:
        if self._setting_values:
            return  # set_values() checks once at the end
        self.refresh_hints()
        self.validate()

    def _show_error(self, message: str, bad: Mapping[str, str]) -> None:
        """Show ``message`` under the form and the fields of ``bad`` (name -> message) in red."""
        bad = dict(bad)
        for key, text in list(bad.items()):
            if key not in self._fields:
                # A cross-field check (__post_init__) names its field in the message, by key.
                del bad[key]
                name = next((n for n in self._fields if re.search(rf"\b{re.escape(n)}\b", text)), "")
                if name:
                    bad[name] = text
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))
        for name, field in self._fields.items():
            field.show_error(bad.get(name, ""))
        if self.advanced_section is not None and any(
            self._fields[name].spec.advanced for name in bad
        ):
            self.advanced_section.set_expanded(True)


def _style_form(form: QFormLayout) -> None:
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    # A long label ("Deterministic noise (NOT private)") goes above its field when the setup
    # pane is narrow (a 1024-px window) instead of pushing the fields out of view.
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    form.setHorizontalSpacing(10)
    form.setVerticalSpacing(6)


__all__ = ["HintsProvider", "ParamFormWidget"]
