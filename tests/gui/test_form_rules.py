"""Settings that do not apply are greyed out and explained; bad input gives a message, never a crash."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QComboBox
from window_driving import load, run_to_end

from ppml_lab.ui.param_rules import model_hints, pattern_hints


def test_rules_say_what_applies_to_each_choice() -> None:
    sgd = pattern_hints("dp", {"mechanism": "dp-sgd", "noise_multiplier": None})
    assert sgd.disabled == {}
    objective = pattern_hints("dp", {"mechanism": "objective"})
    assert {"noise_multiplier", "delta", "accountant"} <= set(objective.disabled)
    assert "clip_norm" not in objective.disabled  # objective perturbation bounds row norms
    assert "clip_norm" in pattern_hints("dp", {"mechanism": "local"}).disabled
    by_noise = pattern_hints("dp", {"mechanism": "dp-sgd", "noise_multiplier": 1.1})
    assert "epsilon" in by_noise.disabled
    fed = pattern_hints("federated", {"partition": "iid", "strategy": "fedavg", "epsilon": None})
    assert {"alpha", "partition_column", "mu", "delta", "update_clip"} <= set(fed.disabled)
    column = pattern_hints("federated", {"partition": "column", "strategy": "fedprox", "epsilon": 1.0})
    assert "partition_column" not in column.disabled and "clients" in column.disabled
    assert "mu" not in column.disabled and "delta" not in column.disabled
    assert pattern_hints("some-future-pattern", {}).disabled == {}
    assert "hidden" in model_hints("baseline", {}, {"kind": "logistic"}).disabled
    assert "hidden" not in model_hints("baseline", {}, {"kind": "mlp"}).disabled
    federated_model = model_hints("federated", {}, {"kind": "logistic"})
    assert "epochs" in federated_model.disabled  # rounds x local epochs, for both sides
    assert "reference trains the same number of epochs" in " ".join(federated_model.notes)
    # Deterministic noise: only with client-level DP, and said to be not private.
    assert "deterministic_noise" in fed.disabled
    seeded = pattern_hints("federated", {"epsilon": 1.0, "deterministic_noise": True})
    assert "deterministic_noise" not in seeded.disabled
    assert any("NOT" in n and "private" in n for n in seeded.notes)
    assert any("NOT" in n for n in pattern_hints("dp", {"deterministic_noise": True}).notes)


def test_dp_form_greys_out_what_the_mechanism_does_not_use(window, qtbot, messages) -> None:
    panel = window.pattern_panel
    panel.set_pattern("dp")
    form = panel.pattern_form
    assert form.editor("noise_multiplier").isEnabled() is False  # unset: its box is off
    assert form.disabled_reason("noise_multiplier") == ""
    # A noise multiplier typed for DP-SGD ...
    form.set_values({"noise_multiplier": 1.3})
    assert form.disabled_reason("epsilon")  # the target epsilon no longer applies
    assert "noise multiplier is set" in form.editor("epsilon").toolTip()
    assert panel.pattern_params().noise_multiplier == pytest.approx(1.3)
    # ... does not break a switch to objective perturbation, where it does not apply.
    form.editor("mechanism").setCurrentIndex(form.editor("mechanism").findData("objective"))
    for name in ("noise_multiplier", "delta", "accountant"):
        assert form.disabled_reason(name), name
        assert "Not used now" in form.editor(name).toolTip()
    assert not form.disabled_reason("epsilon")
    params = panel.pattern_params()  # no "noise_multiplier applies to dp-sgd only" error
    assert params.mechanism == "objective" and params.noise_multiplier is None
    assert params.epsilon == pytest.approx(1.0)
    assert "Delta" in form.notes_label.text() and not form.notes_label.isHidden()
    # The model form follows the mechanism: objective perturbation ignores epochs.
    assert "baseline only" in panel.model_form.notes_label.text()
    # Epsilon <= 0 is refused visibly: it stays as typed, in red, and the form reports it
    # (tests/gui/test_numeric_fields.py types every bad value).
    eps = form.editor("epsilon")
    eps.lineEdit().setText("0")
    eps.interpretText()
    assert form.is_invalid("epsilon") and eps.lineEdit().text() == "0"
    assert messages.texts == []


def test_client_column_offers_the_dataset_columns_and_is_required(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:wine")
    panel = window.pattern_panel
    panel.set_pattern("federated", {"rounds": 2})
    form = panel.pattern_form
    column = form.editor("partition_column")
    assert isinstance(column, QComboBox) and column.isEditable()
    assert form.disabled_reason("partition_column")  # iid: no client column
    table_columns = set(window.table.frame.columns) - {window.dataset_panel.target()}
    assert set(form.suggestions("partition_column")) == table_columns
    form.editor("partition").setCurrentIndex(form.editor("partition").findData("column"))
    assert not form.disabled_reason("partition_column") and form.disabled_reason("clients")
    # No column chosen: the form says so and Run shows a message instead of starting.
    assert not form.error_label.isHidden()
    assert form.editor("partition_column").property("invalid") is True
    assert window.start_run() is False
    assert messages.boxes[-1][0] == "Check the settings"
    assert "column" in messages.texts[-1]
    assert window.state == "Ready — check the settings"
    # Choosing a column fixes it, and the run names the clients after the column's values.
    form.set_values({"partition_column": form.suggestions("partition_column")[0]})
    assert form.error_label.isHidden()
    messages.boxes.clear()
    result = run_to_end(window, qtbot, timeout=60_000)
    assert result is not None and result.status == "completed", messages.texts
    chart = window.plots.partition_chart
    assert sum(chart.rows) == result.data.n_train
    assert messages.texts == []


def test_dataset_and_settings_that_do_not_fit_give_messages(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:wine")  # 142 training rows
    panel = window.pattern_panel
    # delta >= 1/N is refused by the engine with an explanation, before anything runs: Run is
    # off, and says why under the button, in its tooltip and in the status bar.
    panel.set_pattern("dp", {"mechanism": "dp-sgd", "epsilon": 1.0, "delta": 0.05})
    assert not window.run_button.isEnabled() and not window.run_action.isEnabled()
    reason = window.run_blocked_label.text()
    assert "delta" in reason and "1/142" in reason and not window.run_blocked_label.isHidden()
    assert "1/142" in window.run_button.toolTip()
    assert window.state.startswith("Cannot run: ") and "1/142" in window.state
    assert window.start_run() is False
    title, text = messages.boxes[-1]
    assert title == "Cannot run" and "delta" in text and "1/142" in text
    assert "Traceback" not in text
    # The window stays usable: a sensible delta runs.
    panel.pattern_form.set_values({"delta": None})
    panel.model_form.set_values({"epochs": 3})
    assert window.run_button.isEnabled() and window.run_blocked_label.isHidden()
    assert not window.state.startswith("Cannot run")
    messages.boxes.clear()
    result = run_to_end(window, qtbot, timeout=60_000)
    assert result is not None and result.status == "completed"
    xs, eps = window.plots.series("epsilon")
    assert list(xs) == [1, 2, 3] and np.all(np.diff(eps) >= 0)
    assert window.plots.epsilon_target_line.isVisible()
    assert window.plots.epsilon_target_line.value() == pytest.approx(1.0)
    assert window.plots.loss_plot.getAxis("bottom").labelText == "epoch"
    assert messages.texts == []


def test_a_one_shot_mechanism_shows_its_single_point(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("dp", {"mechanism": "objective", "epsilon": 2.0})
    result = run_to_end(window, qtbot, timeout=60_000)
    assert result.status == "completed"
    plots = window.plots
    assert plots.point_count("epsilon") == 1 and not plots.epsilon_plot.isHidden()
    x_range = plots.epsilon_plot.getViewBox().viewRange()[0]
    assert x_range[0] >= -0.01 and x_range[1] <= 2.01  # 0..2 around step 1, not -3..5
    words = window.results.privacy_label.text()
    assert "ε = <b>2</b>" in words and "moderate" in words
    assert messages.texts == []


def test_a_bad_csv_is_a_message(window, qtbot, messages, tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text('a,b,y\n1,2,x\n"unterminated,4,5\n', encoding="utf-8")
    with qtbot.waitSignal(window.dataset_failed, timeout=10_000):
        window.load_source(str(path))
    qtbot.waitUntil(lambda: not window.is_busy, timeout=5000)
    assert messages.boxes[-1][0] == "Cannot load the data"
    assert "broken.csv" in messages.texts[-1] and "Traceback" not in messages.texts[-1]
    assert window.state == "Ready — the data could not be loaded"


def test_class_names_like_html_are_shown_as_text(window, qtbot, messages, tmp_path: Path) -> None:
    path = tmp_path / "income.csv"
    rows = ["age,hours,income"] + [f"{20 + i % 40},{30 + i % 20},{'<=50K' if i % 3 else '>50K'}"
                                   for i in range(90)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    load(window, qtbot, str(path))
    summary = window.dataset_panel.summary_label.text()
    assert "&lt;=50K 60" in summary and "&gt;50K 30" in summary  # '<=50K ... >' is not a tag
