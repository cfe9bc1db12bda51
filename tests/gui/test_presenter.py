"""Presenter mode, walked with the keys a presenter (or a clicker) uses; the advisor dialog; the
compliance tab; the F5 entry in the main window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from window_driving import load, run_to_end

from ppml_lab.experiments.scenario_story import limits_story
from ppml_lab.experiments.scenarios import load_scenario
from ppml_lab.ui.presenter.qt_fit_text import FitTextWidget
from ppml_lab.ui.presenter.qt_presenter_window import PresenterWindow, screens_of
from ppml_lab.ui.qt_worker import live_threads

RUN_TIMEOUT_MS = 90_000


def _presenter(qtbot, settings, keys=("hospitals",), size=(1280, 800)) -> PresenterWindow:  # noqa: ANN001
    win = PresenterWindow([load_scenario(k) for k in keys], settings=settings, tiny=True)
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    return win


def _assert_readable(win: PresenterWindow) -> None:
    """Every text on the screen shown fits its box, at a size a room can read."""
    page = win.stack.currentWidget()
    texts = [w for w in page.findChildren(FitTextWidget) if w.isVisible() and w.html()]
    assert texts, win.current_screen
    for widget in texts:
        assert widget.fits(), (win.current_screen, widget.plain_text()[:60])
        assert widget.fitted_px >= 12, (win.current_screen, widget.plain_text()[:60])


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_a_scenario_walked_with_keys_from_the_question_to_the_compliance_view(
    qtbot, settings, size  # noqa: ANN001
) -> None:
    win = _presenter(qtbot, settings, size=size)
    assert win.current_screen == "chooser"
    _assert_readable(win)
    qtbot.keyClick(win, Qt.Key.Key_Right)
    assert win.current_screen == "question"
    assert "three hospitals" in win.question_screen.texts()
    _assert_readable(win)
    qtbot.keyClick(win, Qt.Key.Key_Space)
    assert win.current_screen == "analogy"
    _assert_readable(win)
    qtbot.keyClick(win, Qt.Key.Key_PageDown)  # a clicker's "next"
    assert win.current_screen == "diagram"
    diagram = win.diagram_screen.diagram
    assert diagram.is_playing and diagram.step == 0
    diagram.show_frame(2, 0.5)
    assert "locked" in win.diagram_screen.texts()
    _assert_readable(win)
    with qtbot.waitSignal(win.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        qtbot.keyClick(win, Qt.Key.Key_Right)
    assert win.current_screen == "run" and not diagram.is_playing
    outcome = finished.args[0]
    assert outcome.status == "completed"
    doc = outcome.document
    run = win.run_screen("hospitals")
    # The live chart drew the run's own values: one point per round, the reference line.
    rounds = [row for row in doc["history"] if "test_accuracy" in row]
    assert [p[1] for p in run.chart.points] == [r["test_accuracy"] for r in rounds]
    assert run.chart.reference == pytest.approx(doc["baseline"]["test_accuracy"])
    run.chart.finish_animation()
    _assert_readable(win)
    qtbot.keyClick(win, Qt.Key.Key_Right)
    assert win.current_screen == "result"
    text = win.result_screen.texts()
    assert f"{doc['final']['test_accuracy'] * 100:.1f}%" in text
    assert "The same model trained with no protection gets" in text
    assert "Secure aggregation on" in text  # the guarantee's own words (in_this_run)
    _assert_readable(win)
    qtbot.keyClick(win, Qt.Key.Key_Right)
    assert win.current_screen == "limits"
    assert limits_story(doc)[0] in win.limits_screen.texts().replace("\n", " ")
    _assert_readable(win)
    qtbot.keyClick(win, Qt.Key.Key_Right)
    assert win.current_screen == "compliance"
    text = win.compliance_screen.texts()
    assert "Orientation, not legal advice" in text
    assert doc["compliance"]["regulator_questions"][0] in text.replace("\n", " ")
    _assert_readable(win)
    qtbot.keyClick(win, Qt.Key.Key_Right)  # after the last scenario: back to the chooser
    assert win.current_screen == "chooser"
    qtbot.keyClick(win, Qt.Key.Key_Escape)
    assert not win.isVisible()


def test_back_keys_home_and_numbers(qtbot, settings) -> None:  # noqa: ANN001
    win = _presenter(qtbot, settings, keys=("census", "bank"))
    qtbot.keyClick(win, Qt.Key.Key_2)
    assert (win.scenario.key, win.current_screen) == ("bank", "question")
    qtbot.keyClick(win, Qt.Key.Key_Right)
    qtbot.keyClick(win, Qt.Key.Key_Right)
    assert win.current_screen == "diagram"
    qtbot.keyClick(win, Qt.Key.Key_Left)
    qtbot.keyClick(win, Qt.Key.Key_PageUp)
    assert win.current_screen == "question"
    qtbot.keyClick(win, Qt.Key.Key_Backspace)
    assert win.current_screen == "chooser"
    qtbot.keyClick(win, Qt.Key.Key_Up)
    qtbot.keyClick(win, Qt.Key.Key_Return)
    assert (win.scenario.key, win.current_screen) == ("census", "question")
    win.present("census", screens_of(win.scenario).index("result"))  # jumping past the run
    assert "not been shown yet" in win.result_screen.texts()
    qtbot.keyClick(win, Qt.Key.Key_Home)
    assert win.current_screen == "chooser"
    win.close()


def test_a_result_that_comes_only_at_the_end_is_a_bar(qtbot, settings) -> None:  # noqa: ANN001
    win = _presenter(qtbot, settings, keys=("bank",))
    with qtbot.waitSignal(win.run_finished, timeout=RUN_TIMEOUT_MS) as finished:
        win.present("bank", screens_of(win.scenarios[0]).index("run"))
    doc = finished.args[0].document
    bars = win.run_screen("bank").chart.bars
    assert [b.label for b in bars] == ["scored on locked data",
                                       "scored on readable data (no protection)"]
    assert [b.value for b in bars] == [pytest.approx(doc["final"]["test_accuracy"]),
                                       pytest.approx(doc["baseline"]["test_accuracy"])]
    assert not any(b.pending for b in bars)
    win.close()


def test_leaving_during_a_run_stops_it(qtbot, settings) -> None:  # noqa: ANN001
    win = _presenter(qtbot, settings, keys=("companies",))
    win.present("companies", screens_of(win.scenarios[0]).index("run"))
    run = win.run_screen("companies")
    assert run.is_running
    qtbot.keyClick(win, Qt.Key.Key_Escape)  # the parties are separate processes: all stop
    assert not win.isVisible() and not live_threads()


def test_the_census_story_remembers_the_users_file(qtbot, settings, tmp_path) -> None:  # noqa: ANN001
    data = tmp_path / "adult.csv"
    data.write_text("age,income\n30,<=50K\n", encoding="utf-8")
    win = _presenter(qtbot, settings, keys=("census",))
    assert "Press D" in win.chooser.data_line.plain_text()
    win.set_user_file(win.scenarios[0], str(data))
    assert "adult.csv" in win.chooser.data_line.plain_text()
    again = PresenterWindow([load_scenario("census")], settings=settings, tiny=True)
    qtbot.addWidget(again)
    assert again.user_file(again.scenarios[0]) == str(data)
    again.present("census")
    assert "your copy of the UCI Adult" in again.question_screen.texts()
    win.close()
    again.close()


def test_f5_opens_presenter_mode_from_the_window(window, qtbot) -> None:  # noqa: ANN001
    assert window.presenter_action.shortcut().toString() == "F5"
    window.presenter_action.trigger()
    presenter = window.presenter
    assert presenter is not None and presenter.isFullScreen()
    assert presenter.current_screen == "chooser" and len(presenter.scenarios) == 5
    qtbot.keyClick(presenter, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.presenter is None, timeout=5000)


def test_the_advisor_recommends_and_opens_the_scenario(window, qtbot) -> None:  # noqa: ANN001
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    assert window.advisor_action in help_menu.actions()
    window.advisor_action.trigger()
    dialog = window.advisor_dialog
    dialog.set_answers({"where": "several_owners", "protect_from": ["server"], "exact": "no"})
    assert dialog.advice.best.technique.title == "Federated learning with secure aggregation"
    assert "Best fit" in dialog.answer_label.text()
    assert "no enclave hardware" in dialog.answer_label.text()  # explained, not recommended
    button = dialog.findChild(type(dialog.present_buttons.itemAt(0).widget()), "present_hospitals")
    button.click()
    presenter = window.presenter
    assert presenter.scenario.key == "hospitals" and presenter.current_screen == "question"
    presenter.close()
    dialog.close()


def test_the_results_details_show_the_runs_compliance_view(window, qtbot) -> None:  # noqa: ANN001
    view = window.compliance_view
    assert not view.isVisibleTo(window)  # nothing to show before a run
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("federated", {"secure_aggregation": True, "rounds": 2,
                                                   "clients": 3})
    result = run_to_end(window, qtbot)
    assert view.isVisibleTo(window.results.details_text)
    assert view.section == result.to_document()["compliance"]
    assert any(s.startswith("Security of processing") for s in view.section["supports"])
    text = view.label.text()
    assert "Orientation, not legal advice" in text and "Federated learning" in text
