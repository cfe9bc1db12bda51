"""A run with deterministic (seeded) noise is marked NOT private wherever its result is shown."""

from __future__ import annotations

from window_driving import load, run_to_end


def test_a_seeded_noise_run_is_marked_not_private(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    panel = window.pattern_panel
    panel.set_pattern("dp", {"epsilon": 1.0, "deterministic_noise": True})
    assert "NOT private" in panel.pattern_form.editor("deterministic_noise").toolTip()
    panel.model_form.set_values({"epochs": 2})
    result = run_to_end(window, qtbot, timeout=60_000)
    assert result.status == "completed"
    assert result.engine_result.privacy["noise_source"] == "seeded"
    words = window.results.privacy_label.text()
    assert "NOT PRIVATE (deterministic noise)" in words
    assert "replay" in words
    assert "NOT PRIVATE" in window.results.warnings_label.text()
    # The default run is not marked.
    panel.set_pattern("dp", {"epsilon": 1.0, "deterministic_noise": False})
    result = run_to_end(window, qtbot, timeout=60_000)
    assert result.engine_result.privacy["noise_source"] == "os"
    assert "NOT PRIVATE" not in window.results.privacy_label.text()
    assert "NOT PRIVATE" not in window.results.warnings_label.text()
    assert messages.texts == []
