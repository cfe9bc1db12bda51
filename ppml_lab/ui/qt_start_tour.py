"""The "start here" tour: five steps over the main window (Data, Pattern, Run, Compare, Report).

A translucent overlay dims the window, leaves the widget of the current step lit, and shows a
card with what to do there and Back / Next / Skip. It appears on the first launch only (started
by :func:`ppml_lab.ui.app.open_main_window`, never by the window's constructor, so tests and
embedded windows do not see it); once finished or skipped, :data:`TOUR_DONE_KEY` is set in the
window's QSettings and it does not come back, except through Help > Show the start-here tour.

Keys: Right / Enter next, Left back, Esc skip. Each step finds its widget by the window's
attribute names; a widget that is missing (a layout changed) leaves the card without a spotlight
rather than failing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

#: The QSettings key set once the tour was finished or skipped.
TOUR_DONE_KEY = "first_run/start_here_done"

_DIM = QColor(15, 23, 42, 175)
_RING = QColor("#f5b301")
_MARGIN = 6  # around the lit widget
_GAP = 14  # between the lit widget and the card
_CARD_WIDTH = 360


# ================================================================ where each step points ====


def _widget_rect(window: QWidget, widget: QWidget | None) -> QRect | None:
    if widget is None or not widget.isVisible():
        return None
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def _tab_rect(window: QWidget, tabs: QTabWidget | None, page: QWidget | None) -> QRect | None:
    if tabs is None or page is None:
        return None
    index = tabs.indexOf(page)
    if index < 0 or not tabs.isVisible():
        return None
    bar = tabs.tabBar()
    rect = bar.tabRect(index)
    return QRect(bar.mapTo(window, rect.topLeft()), rect.size())


def _show_setup_page(window: QWidget, index: int) -> None:
    tabs = getattr(window, "setup_tabs", None)
    if isinstance(tabs, QTabWidget) and index < tabs.count():
        tabs.setCurrentIndex(index)


def _report_action(window: QMainWindow) -> tuple[QMenu, str] | None:
    """The menu holding an action about reports, and that action's text, if the window has one."""
    for top in window.menuBar().actions():
        menu = top.menu()
        if not isinstance(menu, QMenu):
            continue
        for action in menu.actions():
            text = action.text().replace("&", "")
            if "report" in text.lower() and action.isVisible():
                return menu, text
    return None


def _menu_title_rect(window: QMainWindow, menu: QMenu) -> QRect | None:
    bar = window.menuBar()
    rect = bar.actionGeometry(menu.menuAction())
    if rect.isEmpty() or not bar.isVisible():
        return None
    return QRect(bar.mapTo(window, rect.topLeft()), rect.size())


@dataclass(frozen=True)
class TourStep:
    """One step: what it is about, what to say, where it points, what to show first."""

    key: str
    title: str
    text: Callable[[QMainWindow], str]
    target: Callable[[QMainWindow], QRect | None]
    prepare: Callable[[QMainWindow], None] = lambda window: None


def _report_text(window: QMainWindow) -> str:
    found = _report_action(window)
    if found is not None:
        menu, text = found
        where = f"{menu.title().replace('&', '')} › {text}"
        return (
            f"Turn a run into a report for people who were not there ({where}). It opens with "
            "a plain-language summary of what was protected and what it cost."
        )
    return (
        "Every run is kept in History: reopen one, run it again, or export its results "
        "(File › Export results JSON…) to build a report with the ppml-lab command."
    )


def _report_target(window: QMainWindow) -> QRect | None:
    found = _report_action(window)
    if found is not None:
        return _menu_title_rect(window, found[0])
    return _tab_rect(window, getattr(window, "view_tabs", None),
                     getattr(window, "history_panel", None))


STEPS: tuple[TourStep, ...] = (
    TourStep(
        "data", "Data",
        lambda w: (
            "Start with the data. The lab opens on a built-in example; choose another one here "
            "or open your own CSV or Excel file, then pick the column to predict and the "
            "columns to learn from."
        ),
        lambda w: _widget_rect(w, getattr(w, "setup_tabs", None)),
        lambda w: _show_setup_page(w, 0),
    ),
    TourStep(
        "pattern", "Pattern",
        lambda w: (
            "Choose how the data is protected: a privacy pattern (or none, the plaintext "
            "reference) and its settings. Point at any field to see what it means."
        ),
        lambda w: _widget_rect(w, getattr(w, "setup_tabs", None)),
        lambda w: _show_setup_page(w, 1),
    ),
    TourStep(
        "run", "Run",
        lambda w: (
            "Press Run (Ctrl+R). The model trains live in the Training view, next to the "
            "plaintext reference on the same split, so you see what privacy costs. Esc cancels."
        ),
        lambda w: _widget_rect(w, getattr(w, "run_button", None)),
        lambda w: _show_setup_page(w, 1),
    ),
    TourStep(
        "compare", "Compare",
        lambda w: (
            "Compare runs every available pattern on the same data and split and puts them side "
            "by side: accuracy, the guarantee, time and data sent (Run › Compare all patterns)."
        ),
        lambda w: _tab_rect(w, getattr(w, "view_tabs", None), getattr(w, "compare_view", None)),
    ),
    TourStep("report", "Report", _report_text, _report_target),
)


# ================================================================ the overlay ==============


class StartHereTour(QWidget):
    """The overlay over ``window`` that walks through :data:`STEPS`.

    Signals
    -------
    finished(bool)
        The tour closed: True if walked to the end, False if skipped.
    """

    finished = Signal(bool)

    def __init__(self, window: QMainWindow, *, settings: QSettings) -> None:
        super().__init__(window)
        self.setObjectName("startHereTour")
        self._window = window
        self._settings = settings
        self._index = 0
        self._spot: QRect | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.card = QFrame(self)
        self.card.setObjectName("tourCard")
        self.card.setStyleSheet(
            "QFrame#tourCard { background: #ffffff; border: 1px solid #c7cdd6; border-radius: 10px; }"
            "QLabel { background: transparent; border: none; color: #1b1f2a; }"
            "QLabel#tourCounter { color: #5a6270; }"
        )
        self.counter_label = QLabel(self.card)
        self.counter_label.setObjectName("tourCounter")
        self.title_label = QLabel(self.card)
        self.title_label.setObjectName("tourTitle")
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.title_label.setFont(font)
        self.text_label = QLabel(self.card)
        self.text_label.setObjectName("tourText")
        self.text_label.setWordWrap(True)
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        self.skip_button = QPushButton("Skip tour", self.card)
        self.skip_button.setToolTip("Close the tour; Help › Show the start-here tour brings it back")
        self.back_button = QPushButton("Back", self.card)
        self.next_button = QPushButton("Next", self.card)
        self.next_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.skip_button)
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)
        layout = QVBoxLayout(self.card)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.addWidget(self.counter_label)
        layout.addWidget(self.title_label)
        layout.addWidget(self.text_label)
        layout.addSpacing(6)
        layout.addLayout(buttons)
        self.card.setFixedWidth(_CARD_WIDTH)

        self.skip_button.clicked.connect(self.skip)
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        window.installEventFilter(self)

    # ------------------------------------------------------------------ public API --------

    @property
    def index(self) -> int:
        """The current step, from 0."""
        return self._index

    @property
    def step(self) -> TourStep:
        """The current step."""
        return STEPS[self._index]

    @property
    def spotlight(self) -> QRect | None:
        """The lit rectangle, in the window's coordinates (None when the card stands alone)."""
        return QRect(self._spot) if self._spot is not None else None

    def start(self) -> None:
        """Show the tour at its first step."""
        self.setGeometry(self._window.rect())
        self.show()
        self.raise_()
        self._go(0)
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def next(self) -> None:
        """The next step; after the last one the tour is done."""
        if self._index + 1 >= len(STEPS):
            self._finish(completed=True)
        else:
            self._go(self._index + 1)

    def back(self) -> None:
        """The previous step (nothing on the first)."""
        if self._index > 0:
            self._go(self._index - 1)

    def skip(self) -> None:
        """Close the tour for good (until asked for through the Help menu)."""
        self._finish(completed=False)

    # ------------------------------------------------------------------ Qt events ---------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self._window and event.type() == QEvent.Type.Resize and self.isVisible():
            self.setGeometry(self._window.rect())
            self._place()
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.skip()
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.next()
        elif key == Qt.Key.Key_Left:
            self.back()
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        # Clicks on the dimmed window do nothing while the tour is up (the card has the buttons).
        self.setFocus(Qt.FocusReason.MouseFocusReason)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        shade = QPainterPath()
        shade.addRect(self.rect())
        if self._spot is not None:
            hole = QPainterPath()
            hole.addRoundedRect(self._spot, 8, 8)
            shade = shade.subtracted(hole)
        painter.fillPath(shade, _DIM)
        if self._spot is not None:
            painter.setPen(QPen(_RING, 3))
            painter.drawRoundedRect(self._spot, 8, 8)
        painter.end()

    # ------------------------------------------------------------------ helpers -----------

    def _go(self, index: int) -> None:
        self._index = index
        step = STEPS[index]
        step.prepare(self._window)
        self.counter_label.setText(f"Start here · step {index + 1} of {len(STEPS)}")
        self.title_label.setText(f"{index + 1}. {step.title}")
        self.text_label.setText(step.text(self._window))
        self.back_button.setEnabled(index > 0)
        last = index + 1 == len(STEPS)
        self.next_button.setText("Done" if last else "Next")
        self.next_button.setToolTip("Close the tour" if last else "The next step (→)")
        self._place()

    def _place(self) -> None:
        """Light the current step's widget and put the card beside it, inside the window."""
        target = STEPS[self._index].target(self._window)
        bounds = self.rect().adjusted(8, 8, -8, -8)
        self._spot = target.adjusted(-_MARGIN, -_MARGIN, _MARGIN, _MARGIN).intersected(
            self.rect()) if target is not None else None
        self.card.adjustSize()
        size = self.card.sizeHint().expandedTo(self.card.minimumSizeHint())
        width, height = _CARD_WIDTH, max(size.height(), self.card.heightForWidth(_CARD_WIDTH))
        spot = self._spot
        if spot is None:
            x, y = bounds.center().x() - width // 2, bounds.center().y() - height // 2
        elif spot.right() + _GAP + width <= bounds.right():  # to the right
            x, y = spot.right() + _GAP, spot.top()
        elif spot.left() - _GAP - width >= bounds.left():  # to the left
            x, y = spot.left() - _GAP - width, spot.top()
        elif spot.bottom() + _GAP + height <= bounds.bottom():  # below
            x, y = spot.left(), spot.bottom() + _GAP
        else:  # above, or over the spot when nothing else fits
            x, y = spot.left(), max(bounds.top(), spot.top() - _GAP - height)
        x = min(max(x, bounds.left()), bounds.right() - width)
        y = min(max(y, bounds.top()), bounds.bottom() - height)
        self.card.setGeometry(x, y, width, height)
        self.update()

    def _finish(self, *, completed: bool) -> None:
        self._settings.setValue(TOUR_DONE_KEY, True)
        self._settings.sync()
        self._window.removeEventFilter(self)
        _show_setup_page(self._window, 0)  # back where a first run starts
        self.hide()
        self.deleteLater()
        self.finished.emit(completed)


# ================================================================ starting it ==============


def tour_done(settings: QSettings) -> bool:
    """Whether the tour was finished or skipped before (so it is not shown on launch)."""
    value = settings.value(TOUR_DONE_KEY, False)
    return value is True or str(value).lower() in ("true", "1")


def start_tour(window: QMainWindow, settings: QSettings) -> StartHereTour:
    """Show the tour over ``window`` now (Help › Show the start-here tour); one at a time."""
    for existing in window.findChildren(StartHereTour):
        if existing.isVisible():
            existing.raise_()
            return existing
    tour = StartHereTour(window, settings=settings)
    tour.start()
    return tour


def start_tour_on_first_run(window: QMainWindow, settings: QSettings) -> StartHereTour | None:
    """Show the tour if it was never finished nor skipped with these settings; else None."""
    if tour_done(settings):
        return None
    return start_tour(window, settings)


__all__ = [
    "STEPS",
    "TOUR_DONE_KEY",
    "StartHereTour",
    "TourStep",
    "start_tour",
    "start_tour_on_first_run",
    "tour_done",
]
