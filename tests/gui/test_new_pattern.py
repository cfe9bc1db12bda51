"""A new pattern is one module plus one line in the discovery list: the window picks it up.

The ``fake_engine`` fixture adds ``fake_engine`` (a test module under tests/gui) to
``registry.DISCOVERY``; nothing in ``ppml_lab/ui`` names it, yet the window lists it, builds its
form, greys out what its rules say, plans its axes, plots its metrics under its own names and
shows its guarantee.
"""

from __future__ import annotations

from window_driving import load, run_to_end


def test_the_window_uses_every_part_of_a_new_engines_contract(fake_engine, window, qtbot, messages) -> None:
    panel = window.pattern_panel
    assert any(panel.pattern_combo.itemData(i) == "fake" for i in range(panel.pattern_combo.count()))
    load(window, qtbot, "builtin:breast_cancer")
    panel.set_pattern("fake", {"rounds": 3, "secure": False})
    form = panel.pattern_form
    # Form rules: the engine greys out what does not apply, and its note is shown.
    assert not form.editor("clients").isEnabled()
    assert "A fake note from the fake engine." in form.notes_label.text()
    panel.set_pattern("fake", {"rounds": 3, "secure": True})
    assert form.editor("clients").isEnabled()
    result = run_to_end(window, qtbot)
    assert result.status == "completed"
    plots = window.plots
    # Plan: the step axes are named and sized by the engine.
    assert plots.loss_plot.getAxis("bottom").labelText == "fake round"
    assert plots.epsilon_target_line.isVisible() and plots.epsilon_target_line.value() == 1.0
    # Labels: its own metric and byte kinds under its own names.
    legend = [item[1].text for item in plots.plot_of("client_drift").getPlotItem().legend.items]
    assert "drift of the fake clients" in legend
    assert plots.point_count("bytes:fake_bytes") == 3
    kinds = [window.results.overhead_table.item(r, 0).text()
             for r in range(window.results.overhead_table.rowCount())]
    assert "fake masking bytes" in kinds
    assert "fake masking added" in window.results.summary_label.text()
    # Guarantee: its unit, what this run switched on, what it covers.
    words = window.results.privacy_label.text()
    assert "per fake client" in words and "Fake secure aggregation <b>on</b>" in words
    assert "the fake model" in words and "fake training curves" in words
    assert "a given client" in words  # per-client sentences from the translator
    assert messages.texts == []


def test_an_unavailable_pattern_is_listed_greyed_with_its_reason(fake_engine, monkeypatch, qtbot) -> None:
    from PySide6.QtCore import Qt

    from ppml_lab.engines.registry import get_engine
    from ppml_lab.ui.qt_pattern_panel import PatternPanel

    monkeypatch.setattr(type(get_engine("stubborn")), "available",
                        lambda self: "needs the 'stubborn' extra: pip install ppml-lab[stubborn]")
    panel = PatternPanel()
    qtbot.addWidget(panel)
    index = panel.pattern_combo.findData("stubborn")
    item = panel.pattern_combo.model().item(index)
    assert index >= 0 and not item.isEnabled()
    tip = panel.pattern_combo.itemData(index, Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("Not available here") and "pip install" in tip
    assert panel.pattern_combo.model().item(panel.pattern_combo.findData("fake")).isEnabled()
