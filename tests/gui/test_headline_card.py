"""The headline card above the results: accuracy against plaintext and against guessing, a flag
for a model no better than guessing, the privacy level in words, the like-for-like cost, and the
jargon behind the Details toggle."""

from __future__ import annotations

from window_driving import load, run_to_end

from ppml_lab.experiments.evaluation import Headline, Spread
from ppml_lab.ui.qt_headline_card import LEVEL_COLORS, DetailsToggle, HeadlineCardWidget
from ppml_lab.ui.qt_results import ResultsPanel


def _shown(widget, window) -> bool:  # noqa: ANN001
    return widget.isVisibleTo(window)


def test_a_baseline_run_has_a_headline_and_an_engineers_view(window, qtbot) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("baseline", {})
    window.pattern_panel.model_form.editor("epochs").setValue(4)
    result = run_to_end(window, qtbot)
    card = window.results.headline_card
    text = card.text()
    accuracy = result.engine_result.final["test_accuracy"]
    assert f"{accuracy * 100:.1f}%" in card.accuracy_label.text()
    assert "This is the plaintext reference" in text
    assert "vs always guessing the commonest class 62.8%" in text
    assert "No privacy protection" in text and "Single run" in text and "Cost: training" in text
    assert not card.flagged
    # The engineer's view is behind Details, with the class names.
    results = window.results
    assert not results.details_button.expanded
    assert not _shown(results.engineer_view, window)
    results.details_button.set_expanded(True)
    assert _shown(results.engineer_view, window)
    view = results.engineer_view
    assert "balanced accuracy" in view.figures_label.text() and "ROC AUC" in view.figures_label.text()
    table = view.confusion_table
    assert table.horizontalHeaderItem(0).text() == "benign"  # predicted
    assert table.verticalHeaderItem(1).text() == "malignant"  # true
    counts = result.evaluation()["confusion_matrix"]["counts"]
    assert [[int(view.cell(r, c)) for c in range(2)] for r in range(2)] == counts


def test_local_dp_at_epsilon_one_is_flagged_as_no_better_than_guessing(window, qtbot) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("dp", {"mechanism": "local", "epsilon": 1.0})
    result = run_to_end(window, qtbot)
    assert result.evaluation()["no_better_than_guessing"] is True
    card = window.results.headline_card
    assert card.flagged and card.property("flagged") == "true"
    flag = card.flag_label.text()
    assert "than guessing" in flag and "always answering “benign” is right 62.8%" in flag
    privacy = card.privacy_label.text()
    assert "Strong privacy (ε = 1), but the model learned nothing useful" in privacy
    assert LEVEL_COLORS["strong"] not in privacy  # not green next to a useless model
    assert "vs plaintext" in card.comparison_label.text()


def test_details_hide_the_jargon_and_are_remembered(window, qtbot, settings) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("dp", {"epsilon": 1.0})
    window.pattern_panel.model_form.editor("epochs").setValue(2)
    run_to_end(window, qtbot, timeout=60_000)
    results = window.results
    card_text = results.headline_card.text()
    for jargon in ("noise_multiplier", "noise multiplier", "sample_rate", "sample rate", "δ"):
        assert jargon not in card_text
    assert "Strong privacy (ε = " in card_text
    # DP-SGD's one-off work is apart from the training time.
    assert "outside training (" in card_text and "noise calibration" in card_text
    assert "noise_multiplier" in results.summary_label.text()
    for widget in (results.summary_label, results.privacy_label, results.overhead_table):
        assert not _shown(widget, window)
    results.details_button.set_expanded(True)
    for widget in (results.summary_label, results.privacy_label, results.overhead_table):
        assert _shown(widget, window)
    assert settings.value(DetailsToggle.KEY, type=bool) is True
    again = ResultsPanel(settings=settings)
    qtbot.addWidget(again)
    assert again.details_button.expanded
    again.details_button.set_expanded(False)
    assert settings.value(DetailsToggle.KEY, type=bool) is False


def test_messages_before_a_result_and_a_spread_over_seeds(qtbot) -> None:
    card = HeadlineCardWidget()
    qtbot.addWidget(card)
    assert "press Run" in card.text()
    headline = Headline(
        accuracy=0.91, reference_accuracy=0.95, is_reference=False, majority_class="benign",
        majority_rate=0.628, no_better_than_guessing=False, accuracy_needed=0.708,
        test_rows=113, level="moderate", level_words="moderate privacy (ε = 2)", epsilon=2.0,
        spread=Spread(n_runs=5, sd=0.012), cost=None, bytes_sent=None, cancelled=False,
    )
    card.show_headline(headline)
    text = card.text()
    assert "±1.2 points over 5 seeds" in text and "larger than run-to-run noise" in text
    assert "Single run" not in text and not card.flagged
    assert "(-4.0 points)" in text.replace("−", "-")
    card.show_message("<b>Preparing the data…</b>")
    assert card.text() == "Preparing the data…" and card.headline is None
