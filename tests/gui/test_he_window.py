"""The HE pattern in the window, picked up from its contract alone: each mode runs with live
progress and its encryption costs, weak parameters read NOT PRIVATE, a training run can be
cancelled."""

from __future__ import annotations

import pytest
from window_driving import load, run_to_end

pytest.importorskip("tenseal")


def _cost_labels(window) -> list[str]:  # noqa: ANN001
    table = window.results.overhead_table
    return [table.item(r, 0).text() for r in range(table.rowCount())]


def test_encrypted_scoring_in_the_window(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("he", {"mode": "scoring"})
    notes = window.pattern_panel.pattern_form.notes_label.text()
    assert "192-bit security" in notes and "fast scoring" in notes
    result = run_to_end(window, qtbot, timeout=60_000)
    assert result.status == "completed"
    labels = _cost_labels(window)
    for text in ("key generation", "encryption", "server computing", "decryption",
                 "ciphertexts sent", "size vs float64", "error vs plaintext"):
        assert text in labels, text
    assert "Against the same computation in plaintext" in window.results.summary_label.text()
    privacy = window.results.privacy_label.text()
    assert "Security: 192-bit security" in privacy and "NOT PRIVATE" not in privacy
    assert messages.texts == []


def test_encrypted_training_in_the_window(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("he", {"mode": "training", "iterations": 3})
    assert "every iteration" in window.pattern_panel.pattern_form.notes_label.text()
    result = run_to_end(window, qtbot, timeout=120_000)
    assert result.status == "completed"
    assert window.plots.loss_plot.getAxis("bottom").labelText == "iteration"
    assert window.plots.point_count("bytes:bytes_sent") >= 3
    assert "weight refreshes" in _cost_labels(window)
    assert "re-encrypted the weights 3 times" in window.results.privacy_label.text()
    assert messages.texts == []


def test_encrypted_aggregation_in_the_window(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("he", {"mode": "aggregation", "clients": 3, "rounds": 3})
    result = run_to_end(window, qtbot, timeout=60_000)
    assert result.status == "completed"
    assert window.plots.loss_plot.getAxis("bottom").labelText == "round"
    assert "public context" in _cost_labels(window)
    assert messages.texts == []


def test_weak_parameters_read_not_private(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("he", {"poly_modulus_degree": 2048, "allow_weak": True})
    assert "NOT PRIVATE" in window.pattern_panel.pattern_form.notes_label.text()
    run_to_end(window, qtbot, timeout=60_000)
    assert "NOT PRIVATE (below 128-bit security)" in window.results.privacy_label.text()


def test_cancelling_encrypted_training(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("he", {"mode": "training", "iterations": 200,
                                            "step_size": 0.01})
    with qtbot.waitSignal(window.run_finished, timeout=60_000):
        assert window.start_run()
        qtbot.waitUntil(lambda: window.plots.point_count("bytes:bytes_sent") >= 1, timeout=30_000)
        window.cancel_action.trigger()
    assert window.state.startswith("Cancelled")
