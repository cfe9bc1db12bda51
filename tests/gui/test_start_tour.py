"""The "start here" tour: first launch only, five steps over the real widgets, never again once
dismissed, back through Help; the window's constructor alone never shows it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, QSettings, Qt

from ppml_lab.ui.app import open_main_window
from ppml_lab.ui.qt_main_window import MainWindow
from ppml_lab.ui.qt_start_tour import (
    STEPS,
    TOUR_DONE_KEY,
    StartHereTour,
    start_tour_on_first_run,
    tour_done,
)


def _tour(window: MainWindow) -> StartHereTour | None:
    tours = [t for t in window.findChildren(StartHereTour) if t.isVisible()]
    assert len(tours) <= 1
    return tours[0] if tours else None


def _rect_of(window: MainWindow, widget) -> QRect:  # noqa: ANN001
    return QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())


@pytest.fixture
def first_window(qtbot, settings: QSettings, messages):  # noqa: ANN001, ANN201
    """The window as ``ppml-lab`` opens it on a first launch (fresh settings)."""
    win = open_main_window(settings=settings)
    qtbot.addWidget(win)
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


def test_the_constructor_alone_shows_no_tour(window) -> None:
    assert _tour(window) is None
    assert not tour_done(window.settings)


def test_a_first_launch_shows_the_tour_over_the_data_step(first_window) -> None:
    tour = _tour(first_window)
    assert tour is not None and tour.index == 0 and tour.step.key == "data"
    assert tour.geometry() == first_window.rect()  # covers the whole window
    assert "1 of 5" in tour.counter_label.text()
    assert not tour.back_button.isEnabled()
    # The Data page is lit, and the card does not cover it.
    assert first_window.setup_tabs.currentIndex() == 0
    assert tour.spotlight is not None
    assert tour.spotlight.contains(_rect_of(first_window, first_window.setup_tabs))
    assert not tour.card.geometry().intersects(_rect_of(first_window, first_window.setup_tabs))
    assert first_window.rect().contains(tour.card.geometry())


def test_next_and_back_walk_the_five_steps_over_the_real_widgets(first_window, qtbot) -> None:
    window = first_window
    tour = _tour(window)
    assert [s.key for s in STEPS] == ["data", "pattern", "run", "compare", "report"]
    seen = []
    for expected in STEPS:
        assert tour.step.key == expected.key
        assert tour.title_label.text().endswith(expected.title)
        seen.append(tour.spotlight)
        if expected.key == "pattern":
            assert window.setup_tabs.currentIndex() == 1  # the pattern page is shown
            assert tour.spotlight.contains(_rect_of(window, window.pattern_panel.parentWidget()))
        if expected.key == "run":
            assert tour.spotlight.contains(_rect_of(window, window.run_button))
            assert tour.spotlight.width() < window.width() // 2  # the button, not the window
        if expected.key == "compare":
            bar = window.view_tabs.tabBar()
            tab = bar.tabRect(window.view_tabs.indexOf(window.compare_view))
            assert tour.spotlight.contains(QRect(bar.mapTo(window, tab.topLeft()), tab.size()))
        assert window.rect().contains(tour.card.geometry())
        assert tour.text_label.text()
        if expected.key != "report":
            tour.next_button.click()
    assert all(spot is not None for spot in seen)
    assert len({(s.x(), s.y(), s.width(), s.height()) for s in seen}) >= 3
    assert tour.next_button.text() == "Done"
    tour.back_button.click()
    assert tour.step.key == "compare"
    tour.next_button.click()
    with qtbot.waitSignal(tour.finished) as done:
        tour.next_button.click()
    assert done.args == [True]
    assert _tour(window) is None
    assert window.settings.value(TOUR_DONE_KEY) in (True, "true")
    assert window.setup_tabs.currentIndex() == 0  # back on Data


def test_keys_drive_the_tour_and_escape_skips_it(first_window, qtbot) -> None:
    tour = _tour(first_window)
    qtbot.keyClick(tour, Qt.Key.Key_Right)
    assert tour.index == 1
    qtbot.keyClick(tour, Qt.Key.Key_Left)
    assert tour.index == 0
    with qtbot.waitSignal(tour.finished) as done:
        qtbot.keyClick(tour, Qt.Key.Key_Escape)
    assert done.args == [False]
    assert tour_done(first_window.settings)


def test_once_skipped_it_does_not_come_back_but_help_brings_it(first_window) -> None:
    window = first_window
    _tour(window).skip_button.click()
    assert _tour(window) is None
    assert start_tour_on_first_run(window, window.settings) is None  # what the next launch asks
    assert window.tour_action.text().replace("&", "") == "Show the start-here tour"
    help_menu = window.menuBar().actions()[-1].menu()
    assert help_menu.title().replace("&", "") == "Help" and window.tour_action in help_menu.actions()
    window.tour_action.trigger()
    tour = _tour(window)
    assert tour is not None and tour.index == 0
    window.tour_action.trigger()  # one tour at a time
    assert len([t for t in window.findChildren(StartHereTour) if t.isVisible()]) == 1
    tour.skip()


def test_a_later_launch_shows_no_tour(qtbot, settings, messages) -> None:
    settings.setValue(TOUR_DONE_KEY, True)
    settings.sync()
    reread = QSettings(settings.fileName(), QSettings.Format.IniFormat)  # as the next launch
    win = open_main_window(settings=reread)
    qtbot.addWidget(win)
    assert tour_done(reread)
    assert _tour(win) is None
    win.shutdown()


def test_the_tour_follows_a_resized_window(first_window, qtbot) -> None:
    tour = _tour(first_window)
    tour.next_button.click()
    tour.next_button.click()  # the Run button, at the bottom left
    first_window.resize(1000, 700)
    qtbot.waitUntil(lambda: tour.geometry() == first_window.rect())
    assert tour.spotlight.contains(_rect_of(first_window, first_window.run_button))
    assert first_window.rect().contains(tour.card.geometry())
    tour.skip()
