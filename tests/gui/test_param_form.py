"""The parameter form is generated from metadata and validates through ``from_mapping``."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

from ppml_lab.models import ModelParams
from ppml_lab.params import ParamError, describe
from ppml_lab.ui.qt_number_fields import ScientificSpinBox
from ppml_lab.ui.qt_param_form import ParamFormWidget


@pytest.fixture
def fake_params(fake_engine):  # noqa: ANN001, ANN201
    """The test pattern's Params, from the module the ``fake_engine`` fixture registered (not
    imported here: importing it at module level would register it for every later test)."""
    return fake_engine.Params


def test_model_form_has_one_editor_per_parameter_with_metadata(qtbot) -> None:
    form = ParamFormWidget(ModelParams)
    qtbot.addWidget(form)
    specs = {s.name: s for s in describe(ModelParams)}
    assert set(form.values()) == set(specs)
    assert isinstance(form.editor("kind"), QComboBox)
    assert [form.editor("kind").itemData(i) for i in range(form.editor("kind").count())] == [
        "logistic", "mlp",
    ]
    epochs = form.editor("epochs")
    assert isinstance(epochs, QSpinBox)
    assert (epochs.minimum(), epochs.maximum(), epochs.value()) == (1, 1000, 10)
    assert form.editor("batch_size").suffix() == " rows"
    lr = form.editor("learning_rate")
    assert isinstance(lr, ScientificSpinBox)
    assert lr.minimum() > 0  # exclusive lower bound
    for name, spec in specs.items():
        tip = form.editor(name).toolTip()
        assert spec.help in tip and name in tip
    # Advanced fields live in the collapsed "Advanced" section.
    assert form.advanced_section is not None and not form.advanced_section.expanded
    assert form.advanced_section.content.isAncestorOf(form.editor("hidden"))
    assert not form.advanced_section.content.isAncestorOf(form.editor("epochs"))
    assert form.build() == ModelParams()


def test_any_params_dataclass_gets_a_form(qtbot, fake_params) -> None:
    form = ParamFormWidget(fake_params)
    qtbot.addWidget(form)
    assert isinstance(form.editor("secure"), QCheckBox)
    assert isinstance(form.editor("noise"), QDoubleSpinBox)
    assert form.editor("clients").suffix() == " parties"
    # Optional field: a "set" checkbox, unticked because the default is None.
    set_box = form.set_checkbox("delta")
    assert set_box is not None and not set_box.isChecked()
    assert not form.editor("delta").isEnabled()
    assert form.values()["delta"] is None
    set_box.setChecked(True)
    form.editor("delta").setValue(1e-7)
    assert form.build().delta == pytest.approx(1e-7)  # full precision, not rounded away
    set_box.setChecked(False)
    assert form.build().delta is None
    form.editor("aggregator").setCurrentIndex(1)
    form.editor("secure").setChecked(False)
    built = form.build()
    assert built.aggregator == "median" and built.secure is False


def test_scientific_spin_box_steps_on_a_log_scale(qtbot) -> None:
    box = ScientificSpinBox(log_scale=True)
    qtbot.addWidget(box)
    box.setRange(1e-9, 100.0)
    box.setValue(0.1)
    box.stepBy(1)
    assert box.value() == pytest.approx(0.2)
    box.stepBy(1)
    assert box.value() == pytest.approx(0.5)
    box.stepBy(-3)
    assert box.value() == pytest.approx(0.05)
    assert box.textFromValue(1e-6) == "1e-06"
    assert box.valueFromText("2.5e-3") == pytest.approx(0.0025)


def test_an_invalid_combination_is_shown_inline_and_raises(qtbot, fake_params) -> None:
    form = ParamFormWidget(fake_params, where="Pattern: ")
    qtbot.addWidget(form)
    assert form.validate() == ""
    assert form.error_label.isHidden()
    form.editor("low").setValue(5.0)  # now low > high: rejected by __post_init__
    assert not form.error_label.isHidden()
    assert "low (5) must be smaller than high (1)" in form.error_label.text()
    with pytest.raises(ParamError, match="must be smaller"):
        form.build()
    form.editor("high").setValue(9.0)
    assert form.error_label.isHidden()
    assert form.build().high == 9.0


def test_changing_a_spin_box_changes_the_experiment(window, qtbot) -> None:
    with qtbot.waitSignal(window.dataset_loaded, timeout=10_000):
        window.load_source("builtin:wine")
    qtbot.waitUntil(lambda: not window.is_busy, timeout=5000)
    epochs = window.pattern_panel.model_form.editor("epochs")
    epochs.setValue(7)
    lr = window.pattern_panel.model_form.editor("learning_rate")
    lr.setValue(0.03)
    window.pattern_panel.seed_spin.setValue(11)
    exp = window.build_experiment()
    assert exp.model.epochs == 7
    assert exp.model.learning_rate == pytest.approx(0.03)
    assert exp.seed == 11
    assert exp.dataset.source == "builtin:wine" and exp.dataset.target == "cultivar"
    assert exp.pattern == "baseline"


def test_pattern_change_rebuilds_the_form_and_shows_protections(window, fake_engine, fake_params, qtbot, messages) -> None:
    from ppml_lab.ui.qt_pattern_panel import PatternPanel

    panel = PatternPanel()
    qtbot.addWidget(panel)
    index = panel.pattern_combo.findData("fake")
    assert index >= 0
    with qtbot.waitSignal(panel.pattern_changed, timeout=1000):
        panel.pattern_combo.setCurrentIndex(index)
    assert {s.name for s in panel.pattern_form.specs} == {s.name for s in describe(fake_params)}
    assert "Fake protection." in panel.protects_label.text()
    assert "Everything real." in panel.not_protects_label.text()
    assert panel.pattern_params() == fake_params()
    panel.set_pattern("baseline")
    from ppml_lab.engines.baseline import BaselineEngine

    assert panel.pattern_form.specs == describe(BaselineEngine.Params)
    assert panel.pattern_box.title() == "Plaintext baseline settings"


def test_invalid_settings_show_a_message_instead_of_running(window, fake_engine, qtbot, messages) -> None:
    with qtbot.waitSignal(window.dataset_loaded, timeout=10_000):
        window.load_source("builtin:breast_cancer")
    qtbot.waitUntil(lambda: not window.is_busy, timeout=5000)
    window.pattern_panel.set_pattern("fake")
    form = window.pattern_panel.pattern_form
    form.editor("low").setValue(3.0)
    form.editor("high").setValue(-3.0)
    assert window.start_run() is False
    assert len(messages) == 1
    title, text = messages.boxes[0]
    assert title == "Check the settings"
    assert "must be smaller than high" in text
    assert not window.is_busy
    # The run action stays usable: fix the value and run.
    form.editor("high").setValue(4.0)
    assert window.build_experiment().params.high == 4.0


def test_advanced_section_toggles(qtbot, fake_params) -> None:
    form = ParamFormWidget(fake_params)
    qtbot.addWidget(form)
    assert form.advanced_section is not None
    form.advanced_section.toggle_button.click()
    assert form.advanced_section.expanded
    form.advanced_section.toggle_button.click()
    assert not form.advanced_section.expanded
    assert form.editor("clients").toolTip().startswith("Number of clients.")
    assert form.editor("clients").property("invalid") in (None, False)


def test_typed_but_uncommitted_text_is_used(qtbot) -> None:
    form = ParamFormWidget(ModelParams)
    qtbot.addWidget(form)
    form.show()
    epochs = form.editor("epochs")
    epochs.setFocus()
    qtbot.waitUntil(epochs.hasFocus, timeout=2000)
    epochs.lineEdit().selectAll()
    qtbot.keyClicks(epochs.lineEdit(), "42")  # no Enter: what Ctrl+R inside the box sees
    assert form.build().epochs == 42
