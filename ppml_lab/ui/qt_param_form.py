"""A parameter form generated from parameter-dataclass metadata (:func:`ppml_lab.params.describe`).

Every field declared with :func:`ppml_lab.params.param` becomes one editor:

========================  ===============================================================
declared type             editor
========================  ===============================================================
``int``                   :class:`IntSpinBox` (a QSpinBox) with the bounds and the unit as suffix
``float``                 :class:`ScientificSpinBox` (a QDoubleSpinBox that shows ``1e-05``
                          and steps 1-2-5 when ``log_scale``)
``choices``               QComboBox
``bool``                  QCheckBox
``str``                   an editable QComboBox (:meth:`ParamFormWidget.set_suggestions` fills
                          its list, e.g. with the dataset's columns); empty means None
``X | None`` (optional)   a "set" checkbox in front of the editor; unchecked means None
========================  ===============================================================

Number fields read what is typed in the user's number format (:class:`QLocale`): the locale's
decimal separator is the only one accepted, and thousands separators are refused, so "0,5" is
0.5 in a German locale and an error (never 5) in an English one. A text that is not a number, or
a number out of range, stays as typed: the field turns red, the message under the form gives the
allowed range in words, and :meth:`ParamFormWidget.build` raises it, so Run refuses to start.

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

from PySide6.QtCore import QLocale, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QValidator
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
_INTEGER = re.compile(r"^[+-]?\d+$")
_MINUS_SIGNS = ("\u2212", "\u2013")  # "−" and "–", typed or pasted for "-"

#: What :func:`read_number` found wrong with a text ("" when it is a number).
EMPTY, SEPARATOR, NOT_A_NUMBER = "empty", "separator", "not a number"
#: The red of ``*[invalid="true"]`` in the application style sheet (border, background).
_RED, _RED_BACKGROUND = "#b3261e", "#fdf0ef"


def format_number(value: float, locale: QLocale | None = None) -> str:
    """``value`` with up to 6 significant digits in ``locale``'s format (``0,5`` in German).

    Never with thousands separators, so that what is shown can be typed back.
    """
    text = f"{value:.6g}"
    point = (locale if locale is not None else QLocale()).decimalPoint()
    return text.replace(".", point) if point != "." else text


def read_number(text: str, locale: QLocale | None = None) -> tuple[float | int | None, str, str]:
    """Read a number typed in ``locale``'s format (the default locale when None).

    Returns ``(number, problem, character)``: ``problem`` is "" for a number (an ``int`` when
    written without decimals or exponent), :data:`EMPTY`, :data:`SEPARATOR` (``character`` is the
    refused separator: the other decimal separator, e.g. "," in English, or a thousands
    separator) or :data:`NOT_A_NUMBER`. A separator is never guessed: "0,5" in an English locale
    is refused, never read as 5 or 0.5.
    """
    locale = locale if locale is not None else QLocale()
    body = text.strip()
    if not body:
        return None, EMPTY, ""
    point = locale.decimalPoint()
    for sign in (locale.negativeSign(), *_MINUS_SIGNS):
        if sign and sign != "-":
            body = body.replace(sign, "-")
    if locale.positiveSign() and locale.positiveSign() != "+":
        body = body.replace(locale.positiveSign(), "+")
    refused = [".", ",", "'", "\u066c", locale.groupSeparator()]
    for char in refused:
        if char and char != point and char in body:
            return None, SEPARATOR, char
    if point != ".":
        body = body.replace(point, ".")
    if _INTEGER.match(body):
        return int(body), "", ""
    if _NUMBER.match(body):
        return float(body), "", ""
    return None, NOT_A_NUMBER, ""


def bounds_words(spec: ParamSpec, locale: QLocale | None = None) -> str:
    """:meth:`ParamSpec.bounds_text` with the numbers in ``locale``'s format."""
    if spec.choices is not None or (spec.minimum is None and spec.maximum is None):
        return spec.bounds_text()

    def words(x: float) -> str:
        return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else format_number(x, locale)

    lo = words(spec.minimum) if spec.minimum is not None else ""
    hi = words(spec.maximum) if spec.maximum is not None else ""
    if lo and hi:
        if not spec.min_inclusive:
            return f"greater than {lo} and at most {hi}"
        return f"between {lo} and {hi}"
    if lo:
        return f"greater than {lo}" if not spec.min_inclusive else f"at least {lo}"
    return f"at most {hi}"


def _is_number(spec: ParamSpec) -> bool:
    return spec.choices is None and spec.type in (int, float)


def _number_rule(spec: ParamSpec, locale: QLocale | None = None) -> str:
    """E.g. "Target epsilon must be greater than 0 and at most 100"."""
    bounds = bounds_words(spec, locale)
    if bounds == "any value":
        return f"{spec.label} must be {'a whole number' if spec.type is int else 'a number'}"
    unit = f" {spec.unit}" if spec.unit else ""
    return f"{spec.label} must be {'a whole number ' if spec.type is int else ''}{bounds}{unit}"


def _format_hint(spec: ParamSpec, locale: QLocale | None = None) -> str:
    """How to type the number, for the tooltip."""
    locale = locale if locale is not None else QLocale()
    if spec.type is int:
        return "Type a whole number, without thousands separators."
    point = locale.decimalPoint()
    other = "," if point == "." else "."
    return (
        f"Type decimals with “{point}” (your system's number format), e.g. "
        f"{format_number(0.5, locale)} or 1e-05; “{other}” and thousands separators are refused."
    )


def tooltip_for(spec: ParamSpec, locale: QLocale | None = None) -> str:
    """Tooltip text for a parameter: its help, allowed range and unit (and number format)."""
    parts = [spec.help.strip()] if spec.help else []
    allowed = bounds_words(spec, locale)
    if allowed != "any value":
        parts.append(f"Allowed: {allowed}{' ' + spec.unit if spec.unit else ''}.")
    if _is_number(spec):
        parts.append(_format_hint(spec, locale))
    if spec.optional:
        parts.append("Untick 'set' to leave it empty (the engine then chooses).")
    parts.append(f"Key in experiment files: {spec.name}")
    return "\n".join(parts)


def number_error(spec: ParamSpec, text: str, locale: QLocale | None = None) -> str:
    """What is wrong with ``text`` typed for number parameter ``spec`` ("" when it is allowed).

    Every message ends with the allowed range in words, e.g. "Target epsilon must be greater
    than 0 and at most 100". An empty text is fine for an optional parameter (it means "not
    set").
    """
    locale = locale if locale is not None else QLocale()
    body = text.strip()
    number, problem, char = read_number(body, locale)
    rule = _number_rule(spec, locale)
    if problem == EMPTY:
        return "" if spec.optional else f"{spec.label} is empty. {rule}."
    if problem == SEPARATOR:
        point = locale.decimalPoint()
        how = (
            "type digits only, without separators"
            if spec.type is int
            else f"write decimals with “{point}” (e.g. {format_number(0.5, locale)}) and no "
            "thousands separators"
        )
        return f"{spec.label}: “{body}” contains “{char}”; {how}. {rule}."
    if problem:
        return f"{spec.label}: “{body}” is not a number. {rule}."
    assert number is not None
    value = float(number)
    too_low = spec.minimum is not None and (
        value < spec.minimum or (not spec.min_inclusive and value <= spec.minimum)
    )
    too_high = spec.maximum is not None and value > spec.maximum
    not_whole = spec.type is int and math.isfinite(value) and value != int(value)
    if too_low or too_high or not_whole or not math.isfinite(value):
        return f"{rule} (you typed {body})."
    return ""


class _NumberBox:
    """What :class:`IntSpinBox` and :class:`ScientificSpinBox` share (a mixin of a Qt spin box).

    The text is read with :func:`read_number` in the widget's locale. Qt would put the previous
    value back when the text is not an acceptable value (on Enter or when the focus leaves); here
    such a text stays as typed (``textFromValue`` hands it back while it is kept), so the form can
    show it in red with the reason until the user fixes it. The arrows start from the typed
    number (brought into range), or from the last accepted value if the text is no number.

    The red state (:meth:`set_invalid`) is drawn by the box itself: the style sheet's
    ``*[invalid="true"]`` border would make Qt draw the spin box's arrows from the style sheet,
    which has none, so they would disappear.
    """

    _keep_text = False
    _invalid = False

    # -- to be provided by the Qt class ---------------------------------------------------
    def _format(self, value: float) -> str:
        raise NotImplementedError

    # -- Qt overrides (this mixin comes first in the subclasses' bases) ----------------------
    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        if self._keep_text and value == self.value():  # type: ignore[attr-defined]
            return self.typed_text()  # Qt rewrites the text from the value: keep what was typed
        return self._format(value)

    def validate(self, text: str, pos: int) -> object:
        # Never Invalid: what is typed stays visible, and the form says what is wrong with it.
        acceptable = self._acceptable(text)
        return (QValidator.State.Acceptable if acceptable else QValidator.State.Intermediate), text, pos

    def fixup(self, text: str) -> str:
        return text  # no silent correction (Qt's would put the previous value back)

    def setValue(self, value: float) -> None:  # noqa: N802 - Qt override
        self._keep_text = False
        super().setValue(value)  # type: ignore[misc]

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:  # noqa: N802 - Qt override
        if self._keep_text and self.isEnabled() and not self.isReadOnly():  # type: ignore[attr-defined]
            flags = QAbstractSpinBox.StepEnabledFlag
            return flags.StepUpEnabled | flags.StepDownEnabled
        return super().stepEnabled()  # type: ignore[misc]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)  # type: ignore[misc]
        self._paint_red_frame()

    # -- shared -----------------------------------------------------------------------------
    def _watch_text(self) -> None:
        self.lineEdit().textChanged.connect(self._on_line_edit_text_changed)  # type: ignore[attr-defined]
        # The text written while the C++ constructor ran did not use the Python overrides yet.
        self.setValue(self.value())  # type: ignore[attr-defined]

    def typed_text(self) -> str:
        """The text typed, without prefix and suffix (the unit)."""
        return self._strip_affixes(self.lineEdit().text())  # type: ignore[attr-defined]

    def shows_value(self) -> bool:
        """Whether the text is the current value as the box writes it (or the special text)."""
        text = self.lineEdit().text()  # type: ignore[attr-defined]
        special = self.specialValueText()  # type: ignore[attr-defined]
        if special and text == special:
            return True
        return text.strip() == (
            self.prefix() + self._format(self.value()) + self.suffix()  # type: ignore[attr-defined]
        ).strip()

    def typed_number(self) -> tuple[float | int | None, str, str]:
        """:func:`read_number` of the text; the exact value when the text shows the value."""
        if self.shows_value():
            return self.value(), "", ""  # type: ignore[attr-defined]
        return read_number(self.typed_text(), self.locale())  # type: ignore[attr-defined]

    def _acceptable(self, text: str) -> bool:
        special = self.specialValueText()  # type: ignore[attr-defined]
        if special and text == special:
            return True
        number, problem, _ = read_number(self._strip_affixes(text), self.locale())  # type: ignore[attr-defined]
        if problem or number is None or not math.isfinite(number):
            return False
        if isinstance(self, QSpinBox) and number != int(number):
            return False
        return self.minimum() <= number <= self.maximum()  # type: ignore[attr-defined]

    def _strip_affixes(self, text: str) -> str:
        body = text
        prefix, suffix = self.prefix(), self.suffix()  # type: ignore[attr-defined]
        if prefix and body.startswith(prefix):
            body = body[len(prefix) :]
        if suffix and body.endswith(suffix):
            body = body[: -len(suffix)]
        elif suffix.strip() and body.rstrip().endswith(suffix.strip()):
            body = body.rstrip()[: -len(suffix.strip())]
        return body.strip()

    def _take_typed_number(self) -> None:
        """Before stepping: make the typed text the value (brought into range) or drop it."""
        if self.shows_value():
            return
        number, _, _ = read_number(self.typed_text(), self.locale())  # type: ignore[attr-defined]
        value = self.value()  # type: ignore[attr-defined]
        if number is not None and math.isfinite(number):
            value = min(max(number, self.minimum()), self.maximum())  # type: ignore[attr-defined]
        self.setValue(value)  # type: ignore[attr-defined]

    def _on_line_edit_text_changed(self, text: str) -> None:
        self._keep_text = not self._acceptable(text)

    def is_invalid(self) -> bool:
        """Whether the box is shown in red."""
        return self._invalid

    def set_invalid(self, invalid: bool) -> None:
        """Show the box in red (a red frame around a light red text area) or normally."""
        if invalid == self._invalid:
            return
        self._invalid = invalid
        # The text area paints its own background; a style sheet on it alone keeps the arrows.
        self.lineEdit().setStyleSheet(  # type: ignore[attr-defined]
            f"QLineEdit {{ background-color: {_RED_BACKGROUND}; }}" if invalid else ""
        )
        self.update()  # type: ignore[attr-defined]

    def _paint_red_frame(self) -> None:
        """Paint the red frame over the one the style drew."""
        if not self._invalid:
            return
        painter = QPainter(self)  # type: ignore[arg-type]
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor(_RED), 1.0))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 2.0, 2.0)  # type: ignore[attr-defined]
        painter.end()


class IntSpinBox(_NumberBox, QSpinBox):
    """A QSpinBox that reads the locale's format strictly and keeps a bad text (see _NumberBox).

    Unlike a plain QSpinBox it never drops a separator: "0,5" is refused, never read as 5.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._watch_text()

    def _format(self, value: float) -> str:
        return str(int(value))

    def valueFromText(self, text: str) -> int:  # noqa: N802 - Qt override
        number, problem, _ = read_number(self._strip_affixes(text), self.locale())
        if problem or number is None or number != int(number):
            return self.value()
        return int(number)

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        self._take_typed_number()
        super().stepBy(steps)


class ScientificSpinBox(_NumberBox, QDoubleSpinBox):
    """A QDoubleSpinBox that shows values with significant digits (``0.001``, ``1e-06``).

    A plain QDoubleSpinBox rounds to a fixed number of decimals, which makes ``delta = 1e-7``
    impossible to enter. This one keeps full precision; with ``log_scale`` the arrows step
    along 1, 2, 5, 10, 20, ... instead of adding a constant. Text is read in the locale's format
    and a bad text is kept (see _NumberBox).
    """

    def __init__(self, parent: QWidget | None = None, *, log_scale: bool = False) -> None:
        super().__init__(parent)
        self._log_scale = log_scale
        self.setDecimals(323)  # keep full double precision; the text is formatted below
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.setKeyboardTracking(False)
        self._watch_text()

    def _format(self, value: float) -> str:
        return format_number(value, self.locale())

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        number, problem, _ = read_number(self._strip_affixes(text), self.locale())
        if problem or number is None:
            return self.value()
        return float(number)

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        self._take_typed_number()
        if not self._log_scale:
            super().stepBy(steps)
            return
        value = self.value()
        for _ in range(abs(steps)):
            value = _next_125(value, up=steps > 0)
        self.setValue(min(max(value, self.minimum()), self.maximum()))


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
        return isinstance(self.editor, _NumberBox)

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
        if isinstance(e, _NumberBox):
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
            if isinstance(e, _NumberBox):
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
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setHorizontalSpacing(10)
    form.setVerticalSpacing(6)


__all__ = [
    "CollapsibleSectionWidget",
    "IntSpinBox",
    "ParamFormWidget",
    "ScientificSpinBox",
    "bounds_words",
    "format_number",
    "number_error",
    "read_number",
    "tooltip_for",
]
