"""The real DP and federated engines in the window: forms from metadata, live curves, the
partition chart, the membership-audit view and bad settings."""

from __future__ import annotations

import numpy as np
import pytest
from window_driving import load, run_to_end


def test_dp_form_comes_from_the_metadata_and_a_run_draws_the_budget(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("dp", {"epsilon": 2.0, "audit": True})
    form = window.pattern_panel.pattern_form
    for name in ("mechanism", "epsilon", "delta", "clip_norm", "accountant", "noise_multiplier", "audit"):
        assert form.editor(name) is not None, name
    assert "smaller is more private" in form.editor("epsilon").toolTip()
    window.pattern_panel.model_form.editor("epochs").setValue(4)
    result = run_to_end(window, qtbot, timeout=60_000)
    assert result.status == "completed"
    plots = window.plots
    xs, eps = plots.series("epsilon")
    assert list(xs) == [1, 2, 3, 4] and np.all(np.diff(eps) >= 0)
    assert eps[-1] == pytest.approx(result.engine_result.privacy["epsilon"])
    assert not plots.epsilon_plot.isHidden()
    summary = window.results.summary_label.text()
    assert "Membership audit" in summary
    words = window.results.privacy_label.text()
    assert not window.results.privacy_scroll.isHidden()
    assert "even odds" in words and "Privacy guarantee" in words
    assert "What the protection covers" in words and "training loss and accuracy" in words
    audit = window.audit_view
    assert audit.has_audit and audit.limit_curve is not None
    assert set(audit.attack_curves) == set(result.engine_result.extra["audit"]["attacks"])
    assert audit.table.rowCount() == len(audit.attack_curves)
    assert messages.texts == []


def test_federated_run_draws_rounds_and_the_split(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern(
        "federated", {"clients": 6, "rounds": 5, "partition": "dirichlet", "alpha": 0.5,
                      "secure_aggregation": True}
    )
    result = run_to_end(window, qtbot, timeout=60_000)
    assert result.status == "completed"
    plots = window.plots
    assert plots.point_count("test_accuracy") == 5
    assert not plots.partition_chart.isHidden()
    assert len(plots.partition_chart.rows) == 6 and sum(plots.partition_chart.rows) == result.data.n_train
    kinds = [window.results.overhead_table.item(r, 0).text()
             for r in range(window.results.overhead_table.rowCount())]
    assert "data sent (up + down)" in kinds and "masking overhead" in kinds
    assert "What it protects" in window.results.privacy_label.text()
    assert "secure-aggregation overhead added" in window.results.summary_label.text()
    assert plots.point_count("bytes:secagg_overhead_bytes") == 5
    assert messages.texts == []


def test_more_clients_than_rows_is_a_message_not_a_crash(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:wine")  # 142 training rows
    window.pattern_panel.set_pattern("federated", {"clients": 500, "rounds": 2})
    # Refused before anything runs: Run is off, with the engine's reason.
    assert not window.run_action.isEnabled()
    assert "at most 142 clients" in window.run_blocked_label.text()
    assert window.state.startswith("Cannot run: ")
    assert window.start_run() is False
    assert any("at most 142 clients" in t for t in messages.texts)
    window.pattern_panel.pattern_form.set_values({"clients": 10})
    assert not window.is_busy and window.run_action.isEnabled()


def test_audit_view_draws_the_dp_limit(qtbot) -> None:
    from ppml_lab.privacy.translator import tpr_bound
    from ppml_lab.ui.qt_audit import AuditViewWidget

    view = AuditViewWidget()
    qtbot.addWidget(view)
    roc = {"fpr": [0.0, 0.1, 0.5, 1.0], "tpr": [0.0, 0.2, 0.6, 1.0]}
    audit = {"attacks": {"loss": {"auc": 0.55, "tpr_at_1pct_fpr": 0.012, "epsilon_lower_bound": 0.2,
                                  "roc": roc},
                         "lira": {"auc": 0.6, "tpr_at_1pct_fpr": 0.03, "epsilon_lower_bound": 1.4,
                                  "roc": roc}},
             "accountant_epsilon": 1.0, "delta": 1e-5}
    assert view.set_audit(audit)
    names = [item.name() for item in view.plot.getPlotItem().listDataItems() if item.name()]
    assert names[:2] == ["guessing", "DP limit (ε = 1, δ = 1e-05)"]
    assert "loss threshold (AUC 0.550)" in names and "LiRA (shadow models) (AUC 0.600)" in names
    x, y = view.limit_curve.getData()
    assert y == pytest.approx(tpr_bound(x, 1.0, 1e-5))
    assert view.table.rowCount() == 2
    cells = [[view.table.item(r, c).text() for c in range(view.table.columnCount())] for r in range(2)]
    # No record counts in this payload: the ceiling is unknown, shown as a dash.
    assert cells[0][1:6] == ["0.550", "1.2%", "0.2", "—", "1"] and cells[0][6].startswith("consistent")
    assert cells[1][6].startswith("⚠")  # 1.4 > 1: flagged, not hidden
    view.log_check.setChecked(True)  # log axes redraw without zeros
    assert set(view.attack_curves) == {"loss", "lira"}
    assert not view.set_audit({"attacks": "garbage"})  # a malformed payload draws nothing
    assert not view.has_audit and view.table.rowCount() == 0 and "could not be read" in view.status_label.text()


def test_audit_view_shows_the_ceiling_and_when_the_audit_cannot_test(qtbot) -> None:
    from ppml_lab.privacy.attacks import audit_ceiling
    from ppml_lab.ui.qt_audit import AuditViewWidget

    view = AuditViewWidget()
    qtbot.addWidget(view)
    roc = {"fpr": [0.0, 0.5, 1.0], "tpr": [0.0, 0.5, 1.0]}
    ceiling = audit_ceiling(500, 500, delta=1e-4)  # 3.91

    def payload(proven: float, *, stored: bool) -> dict:
        attack = {"auc": 0.51, "tpr_at_1pct_fpr": 0.01, "epsilon_lower_bound": 0.0, "roc": roc,
                  "n_members": 500, "n_nonmembers": 500, "delta": 1e-4, "confidence": 0.95}
        if stored:
            attack["epsilon_ceiling"] = ceiling
        return {"attacks": {"loss": attack}, "accountant_epsilon": proven, "delta": 1e-4,
                "records_per_side": 500}

    headers = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]
    assert headers[4].startswith("ε ceiling")
    assert "heuristic" in view.table.toolTip() and "coin flip" in view.table.toolTip()
    # Proven 7.96 above the ceiling: not a confirmation. (Older results without a stored
    # ceiling get it recomputed from their record counts.)
    for stored in (True, False):
        assert view.set_audit(payload(7.96, stored=stored))
        row = [view.table.item(0, c).text() for c in range(view.table.columnCount())]
        assert row[3:6] == ["0", "3.91", "7.96"]
        assert row[6] == "cannot test: ceiling < proven, no confirmation"
        assert "cannot confirm or refute" in view.table.item(0, 6).toolTip()
        status = view.status_label.text()
        assert "at most ε 3.91 with 500 + 500 records, below the proven 7.96" in status
        assert "cannot confirm or refute the accountant" in status
    # Proven 0.99 below the ceiling: a check that could have failed, and still no proof.
    assert view.set_audit(payload(0.99, stored=True))
    assert view.table.item(0, 6).text() == "consistent: measured ≤ proven < ceiling"
    assert "could demonstrate up to 3.91" in view.status_label.text()
    assert "not a proof of privacy" in view.status_label.text()
