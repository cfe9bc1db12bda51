"""Number fields read the user's number format strictly and show a bad text in red, never guess.

Every test types with the keyboard (``qtbot.keyClicks`` on the spin box after clearing it), so
the box's validator is exercised as a user would, under an English and a German locale.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import QAbstractSpinBox
from window_driving import load

from ppml_lab.engines.dp.params import DPParams
from ppml_lab.engines.federated.params import FederatedParams
from ppml_lab.models import ModelParams
from ppml_lab.params import ParamError
from ppml_lab.ui.qt_number_fields import EMPTY, NOT_A_NUMBER, SEPARATOR, read_number
from ppml_lab.ui.qt_param_form import ParamFormWidget

ENGLISH = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
GERMAN = QLocale(QLocale.Language.German, QLocale.Country.Germany)

EPSILON_RANGE = "Target epsilon must be greater than 0 and at most 100"
RANGES = {
    "epsilon": EPSILON_RANGE,
    "clients": "Clients must be a whole number between 1 and 1000",
    "epochs": "Epochs must be a whole number between 1 and 1000",
}
FORMS = {"epsilon": DPParams, "clients": FederatedParams, "epochs": ModelParams}


@pytest.fixture(params=["en_US", "de_DE"])
def number_locale(request: pytest.FixtureRequest) -> Iterator[QLocale]:
    """The default locale for the widgets built in the test (restored afterwards)."""
    before = QLocale()
    locale = ENGLISH if request.param == "en_US" else GERMAN
    QLocale.setDefault(locale)
    try:
        yield locale
    finally:
        QLocale.setDefault(before)


def type_into(qtbot, box: QAbstractSpinBox, text: str) -> None:  # noqa: ANN001
    """Select the box's text with Ctrl+A, delete it and type ``text`` key by key."""
    qtbot.keyClick(box, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(box, Qt.Key.Key_Backspace)
    qtbot.keyClicks(box, text)


def expected(name: str, text: str, german: bool) -> tuple[float | None, str]:
    """(value stored, words the error must contain; "" for no error) for ``text`` in ``name``."""
    whole = name != "epsilon"
    if text == "0,5":
        if not german:
            return None, "contains “,”"  # refused: never 5, and not guessed as 0.5 either
        return (None, "(you typed 0,5)") if whole else (0.5, "")
    if text in ("0", "-1"):
        return float(text), f"(you typed {text})"
    if text == "1000":
        return (1000, "") if whole else (1000.0, "(you typed 1000)")
    if text == "abc":
        return None, "“abc” is not a number"
    raise AssertionError(text)


@pytest.mark.parametrize("name", ["epsilon", "clients", "epochs"])
def test_typed_numbers_are_read_in_the_locale_or_refused_in_red(
    qtbot, number_locale: QLocale, name: str
) -> None:
    german = number_locale.decimalPoint() == ","
    form = ParamFormWidget(FORMS[name], where="Pattern: ")
    qtbot.addWidget(form)
    form.show()
    box = form.editor(name)
    base_tip = box.toolTip()
    for text in ("0,5", "0", "-1", "1000", "abc"):
        value, words = expected(name, text, german)
        type_into(qtbot, box, text)
        for committed in (False, True):  # as typed, then after Enter (which used to revert it)
            where = f"{name} {text!r} {number_locale.name()} {'after Enter' if committed else ''}"
            assert box.lineEdit().text() == text, where  # never replaced by the previous value
            stored = form.values()[name]
            assert stored != 5 and box.value() != 5, where  # "0,5" is never read as 5
            if words:
                assert form.is_invalid(name) and box.is_invalid(), where
                assert not form.error_label.isHidden(), where
                message = form.error_label.text()
                assert words in message and RANGES[name] in message, (where, message)
                assert box.toolTip().startswith(message), where
                assert form.validate() == message
                with pytest.raises(ParamError, match=RANGES[name]):
                    form.build()
            else:
                assert not form.is_invalid(name) and not box.is_invalid(), where
                assert form.error_label.isHidden() and form.validate() == "", where
                assert stored == pytest.approx(value), where
                assert getattr(form.build(), name) == pytest.approx(value), where
                assert box.toolTip() == base_tip, where
            qtbot.keyClick(box, Qt.Key.Key_Return)
    # A valid value, typed in the locale's format, clears the red state.
    good = "2,5" if german and name == "epsilon" else ("2.5" if name == "epsilon" else "7")
    type_into(qtbot, box, good)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    want = 2.5 if name == "epsilon" else 7
    assert box.value() == pytest.approx(want) and form.values()[name] == pytest.approx(want)
    assert not form.is_invalid(name) and not box.is_invalid() and form.error_label.isHidden()
    assert getattr(form.build(), name) == pytest.approx(want)
    assert box.toolTip() == base_tip


def test_the_other_separator_is_refused_with_a_message(qtbot, number_locale: QLocale) -> None:
    german = number_locale.decimalPoint() == ","
    form = ParamFormWidget(ModelParams, where="Model: ")
    qtbot.addWidget(form)
    lr = form.editor("learning_rate")
    other, own = ("0.5", "0,5") if german else ("0,5", "0.5")
    type_into(qtbot, lr, other)
    message = form.error_label.text()
    assert f"write decimals with “{number_locale.decimalPoint()}” (e.g. {own})" in message
    assert "Learning rate must be greater than 0 and at most 100" in message
    assert form.values()["learning_rate"] is None
    # Values are shown in the locale's format, and the tooltip says which separator to type.
    lr.setValue(0.05)
    assert lr.lineEdit().text() == ("0,05" if german else "0.05")
    assert f"Type decimals with “{number_locale.decimalPoint()}”" in lr.toolTip()
    assert form.validate() == ""
    # Thousands separators are refused too, in both locales.
    type_into(qtbot, form.editor("batch_size"), "1,000" if not german else "1.000")
    assert "contains" in form.error_label.text() and form.values()["batch_size"] is None


def test_arrows_start_from_the_typed_number(qtbot, number_locale: QLocale) -> None:
    form = ParamFormWidget(DPParams)
    qtbot.addWidget(form)
    eps = form.editor("epsilon")
    type_into(qtbot, eps, "1000")
    assert eps.is_invalid()
    qtbot.keyClick(eps, Qt.Key.Key_Down)  # from 1000 brought to 100, then one 1-2-5 step down
    assert eps.value() == pytest.approx(50.0) and not eps.is_invalid()
    type_into(qtbot, eps, "abc")
    qtbot.keyClick(eps, Qt.Key.Key_Up)  # no number typed: from the last accepted value (50)
    assert eps.value() == pytest.approx(100.0) and form.validate() == ""


def test_an_emptied_optional_field_means_auto(qtbot, number_locale: QLocale) -> None:
    from ppml_lab.ui.qt_pattern_panel import PatternPanel

    panel = PatternPanel()
    qtbot.addWidget(panel)
    panel.set_pattern("dp")
    form = panel.pattern_form
    form.set_checkbox("delta").setChecked(True)
    delta = form.editor("delta")
    type_into(qtbot, delta, "")
    qtbot.keyClick(delta, Qt.Key.Key_Return)
    assert delta.lineEdit().text() == ""
    assert delta.lineEdit().placeholderText().startswith("auto")
    assert form.values()["delta"] is None and form.validate() == ""
    assert not delta.is_invalid()
    # A required field is not allowed to be empty.
    type_into(qtbot, form.editor("clip_norm"), "")
    assert "Clip norm C is empty" in form.validate()


def test_a_greyed_out_field_with_a_bad_text_does_not_block(qtbot, number_locale: QLocale) -> None:
    from ppml_lab.ui.qt_pattern_panel import PatternPanel

    panel = PatternPanel()
    qtbot.addWidget(panel)
    panel.set_pattern("dp")
    form = panel.pattern_form
    type_into(qtbot, form.editor("epsilon"), "abc")
    assert EPSILON_RANGE in form.validate()
    form.set_values({"noise_multiplier": 1.3})  # epsilon does not apply any more
    assert form.disabled_reason("epsilon")
    assert form.validate() == "" and not form.is_invalid("epsilon")
    assert panel.pattern_params().noise_multiplier == pytest.approx(1.3)
    form.set_values({"noise_multiplier": None})  # it applies again: red again
    assert EPSILON_RANGE in form.validate()
    assert form.editor("epsilon").lineEdit().text() == "abc"


def test_run_refuses_a_bad_number_with_its_range(window, qtbot, messages, number_locale) -> None:
    load(window, qtbot, "builtin:wine")
    panel = window.pattern_panel
    panel.set_pattern("dp")
    type_into(qtbot, panel.pattern_form.editor("epsilon"), "0,5" if number_locale.decimalPoint() == "." else "0")
    assert window.start_run() is False
    title, text = messages.boxes[-1]
    assert title == "Check the settings" and EPSILON_RANGE in text
    assert not window.is_busy and window.state == "Ready — check the settings"
    type_into(qtbot, panel.pattern_form.editor("epsilon"), "2")
    type_into(qtbot, panel.model_form.editor("epochs"), "-1")
    assert window.start_run() is False
    assert "Epochs must be a whole number between 1 and 1000 (you typed -1)" in messages.texts[-1]
    type_into(qtbot, panel.model_form.editor("epochs"), "3")
    type_into(qtbot, panel.seed_spin, "0,5")  # a plain QSpinBox read this as 5
    assert panel.seed_spin.is_invalid()
    assert window.start_run() is False
    assert "Seed must be a whole number between 0 and 2147483647" in messages.texts[-1]
    type_into(qtbot, panel.seed_spin, "11")
    qtbot.keyClick(panel.seed_spin, Qt.Key.Key_Return)
    exp = window.build_experiment()
    assert (exp.seed, exp.params.epsilon, exp.model.epochs) == (11, 2.0, 3)


def test_read_number_never_guesses_a_separator() -> None:
    assert read_number("0,5", ENGLISH) == (None, SEPARATOR, ",")
    assert read_number("1,000", ENGLISH) == (None, SEPARATOR, ",")
    assert read_number("0,5", GERMAN) == (0.5, "", "")
    assert read_number("0.5", GERMAN) == (None, SEPARATOR, ".")
    assert read_number("1.000", GERMAN) == (None, SEPARATOR, ".")
    assert read_number("2,5e-3", GERMAN) == (pytest.approx(0.0025), "", "")
    assert read_number(" 1e-05 ", ENGLISH) == (pytest.approx(1e-5), "", "")
    assert read_number("\u22121", ENGLISH) == (-1, "", "")  # a typographic minus
    assert read_number("42", GERMAN) == (42, "", "")
    assert read_number("", ENGLISH) == (None, EMPTY, "")
    for text in ("abc", "inf", "nan", "1e", "--1", "0x10"):
        assert read_number(text, ENGLISH)[1] == NOT_A_NUMBER, text
