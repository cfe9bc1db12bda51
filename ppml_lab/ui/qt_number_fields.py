"""Number fields that read what is typed in the user's number format, strictly.

:func:`read_number` reads a text in a :class:`QLocale`'s format: the locale's decimal separator is
the only one accepted, and thousands separators are refused, so "0,5" is 0.5 in a German locale
and an error (never 5) in an English one. :class:`IntSpinBox` and :class:`ScientificSpinBox` are
spin boxes built on it: a text that is not a number, or a number out of range, stays as typed
(the box can be shown in red, see :meth:`NumberBox.set_invalid`) instead of Qt silently putting
the previous value back. :func:`number_error` says what is wrong with a text in words, ending
with the allowed range of a parameter (:class:`~ppml_lab.params.ParamSpec`).

Used by the generated parameter forms (:mod:`ppml_lab.ui.qt_param_form`), the seed box and the
public-ranges table of the Data tab.
"""

from __future__ import annotations

import math
import re

from PySide6.QtCore import QLocale, QRectF
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QSpinBox, QWidget

from ppml_lab.params import ParamSpec

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


def _number_rule(spec: ParamSpec, locale: QLocale | None = None) -> str:
    """E.g. "Target epsilon must be greater than 0 and at most 100"."""
    bounds = bounds_words(spec, locale)
    if bounds == "any value":
        return f"{spec.label} must be {'a whole number' if spec.type is int else 'a number'}"
    unit = f" {spec.unit}" if spec.unit else ""
    return f"{spec.label} must be {'a whole number ' if spec.type is int else ''}{bounds}{unit}"


def number_format_hint(spec: ParamSpec, locale: QLocale | None = None) -> str:
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


class NumberBox:
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


class IntSpinBox(NumberBox, QSpinBox):
    """A QSpinBox that reads the locale's format strictly and keeps a bad text (see NumberBox).

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


class ScientificSpinBox(NumberBox, QDoubleSpinBox):
    """A QDoubleSpinBox that shows values with significant digits (``0.001``, ``1e-06``).

    A plain QDoubleSpinBox rounds to a fixed number of decimals, which makes ``delta = 1e-7``
    impossible to enter. This one keeps full precision; with ``log_scale`` the arrows step
    along 1, 2, 5, 10, 20, ... instead of adding a constant. Text is read in the locale's format
    and a bad text is kept (see NumberBox).
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


__all__ = [
    "EMPTY",
    "NOT_A_NUMBER",
    "SEPARATOR",
    "IntSpinBox",
    "NumberBox",
    "ScientificSpinBox",
    "bounds_words",
    "format_number",
    "number_error",
    "number_format_hint",
    "read_number",
]
