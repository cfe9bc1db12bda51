"""The presenter window: full screen, one idea per screen, driven by the keyboard or a clicker.

It starts on the scenario chooser. A scenario's screens are: the question, the analogy, the
diagram (when the narration has one), the live run, the result, what it does not protect, and
its compliance view (not for the comparison). Keys:

=====================================  =====================================================
Right, Space, Page Down, Enter         next screen (after a scenario's last: the next one)
Left, Page Up, Backspace               previous screen
Up, Down, 1-9 (on the chooser)         choose a scenario
Home                                   back to the chooser
R                                      run the scenario again (run and result screens)
D (on the chooser)                     choose a data file a scenario can use
F11                                    leave or enter full screen
Esc                                    leave presenter mode
=====================================  =====================================================

Runs go through a :class:`~ppml_lab.ui.qt_worker.WorkerThread` (one at a time); leaving a
scenario cancels its run, closing the window stops it. The text scales with the window, so the
same screens read on a 1920 x 1080 projector and a 1280 x 800 laptop.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QStackedWidget, QVBoxLayout, QWidget

from ppml_lab.experiments import jobs
from ppml_lab.experiments.scenario_story import comparison_story, limits_story, result_story
from ppml_lab.experiments.scenarios import Scenario, ScenarioError, load_scenarios
from ppml_lab.ui import qt_gc
from ppml_lab.ui.presenter import qt_theme as theme
from ppml_lab.ui.presenter.qt_chooser import ChooserScreen
from ppml_lab.ui.presenter.qt_fit_text import FitTextWidget
from ppml_lab.ui.presenter.qt_present_screens import (
    AnalogyScreen,
    ComplianceScreen,
    DiagramScreen,
    LimitsScreen,
    QuestionScreen,
    ResultScreen,
)
from ppml_lab.ui.presenter.qt_run_screen import COMPLETED, FAILED, RunOutcome, RunScreen

CHOOSER = "chooser"
#: Each screen's name in the corner.
SCREEN_TITLES = {
    "question": "The question",
    "analogy": "The idea",
    "diagram": "Who sends what to whom",
    "run": "Live run",
    "result": "The result",
    "limits": "What it does not protect",
    "compliance": "Compliance view",
}
NEXT_KEYS = {Qt.Key.Key_Right, Qt.Key.Key_Space, Qt.Key.Key_PageDown, Qt.Key.Key_Return,
             Qt.Key.Key_Enter}
BACK_KEYS = {Qt.Key.Key_Left, Qt.Key.Key_PageUp, Qt.Key.Key_Backspace}
#: Where the file chosen for a scenario's ``[user_data]`` is remembered (+ the scenario key).
USER_DATA_KEY = "presenter/user_data/"
CLOSE_TIMEOUT_MS = 5000


def screens_of(scenario: Scenario) -> list[str]:
    """The screens of a scenario, in order."""
    out = ["question"]
    if scenario.analogy:
        out.append("analogy")
    if scenario.has_diagram:
        out.append("diagram")
    out += ["run", "result", "limits"]
    if not scenario.is_comparison:
        out.append("compliance")
    return out


class PresenterWindow(QWidget):
    """Presenter mode (see the module docstring).

    Parameters
    ----------
    scenarios : list of Scenario, optional
        Default: every shipped scenario.
    settings : QSettings, optional
        Where the chosen data files are remembered.
    tiny : bool
        Run the scenarios with their ``[tiny]`` settings (tests).
    data_hint : str, optional
        A file the user opened in the window; used by a scenario that accepts it by name.

    Signals
    -------
    screen_changed(str, str)
        The scenario key ("" on the chooser) and the screen now shown.
    run_finished(object)
        A scenario's run ended (a :class:`~ppml_lab.ui.presenter.qt_run_screen.RunOutcome`).
    """

    screen_changed = Signal(str, str)
    run_finished = Signal(object)

    def __init__(self, scenarios: list[Scenario] | None = None, *,
                 settings: QSettings | None = None, tiny: bool = False,
                 data_hint: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        qt_gc.install()
        self.setObjectName("presenterWindow")
        self.setWindowTitle("PPML Lab — presenter")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setStyleSheet(f"QWidget#presenterWindow {{ background: {theme.BACKGROUND}; }}")
        self.setAutoFillBackground(True)
        self.settings = settings if settings is not None else QSettings()
        self.scenarios = scenarios if scenarios is not None else load_scenarios()
        self._tiny = tiny
        self._user_files: dict[str, str] = {}
        for s in self.scenarios:
            if s.user_data is None:
                continue
            saved = str(self.settings.value(USER_DATA_KEY + s.key, "") or "")
            if s.uses_user_data(saved):
                self._user_files[s.key] = saved
            elif s.user_data.matches(data_hint):
                self._user_files[s.key] = str(data_hint)
        self._scenario = 0
        self._screen = -1  # -1: the chooser
        self._runs: dict[str, RunScreen] = {}
        self._close_pending = False
        self._build()
        self.show_chooser()
        jobs.warm_up()  # runs go to child processes: their fork server imports while you talk

    # ------------------------------------------------------------------ building ------------

    def _build(self) -> None:
        self.corner_left = FitTextWidget(self, max_px=theme.HINT_PX + 2, min_px=10,
                                         color=theme.MUTED,
                                         align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.corner_right = FitTextWidget(self, max_px=theme.HINT_PX + 2, min_px=10,
                                          color=theme.MUTED,
                                          align=Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.hints = FitTextWidget(self, max_px=theme.HINT_PX - 2, min_px=9, color=theme.FAINT,
                                   align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.chooser = ChooserScreen(self.scenarios, self)
        self.chooser.chosen.connect(self._on_chooser_chosen)
        self.chooser.data_file_requested.connect(self._on_chooser_data_file_requested)
        self.question_screen = QuestionScreen(self)
        self.analogy_screen = AnalogyScreen(self)
        self.diagram_screen = DiagramScreen(self)
        self.result_screen = ResultScreen(self)
        self.limits_screen = LimitsScreen(self)
        self.compliance_screen = ComplianceScreen(self)
        self.stack = QStackedWidget(self)
        for widget in (self.chooser, self.question_screen, self.analogy_screen,
                       self.diagram_screen, self.result_screen, self.limits_screen,
                       self.compliance_screen):
            self.stack.addWidget(widget)
        top = QHBoxLayout()
        top.addWidget(self.corner_left, 1)
        top.addWidget(self.corner_right, 1)
        self._layout = QVBoxLayout(self)
        self._layout.addLayout(top, 4)
        self._layout.addWidget(self.stack, 88)
        self._layout.addWidget(self.hints, 3)
        self._screens_by_kind = {
            "question": self.question_screen, "analogy": self.analogy_screen,
            "diagram": self.diagram_screen, "result": self.result_screen,
            "limits": self.limits_screen, "compliance": self.compliance_screen,
        }
        self._apply_scale()

    # ------------------------------------------------------------------ public API -----------

    @property
    def scenario(self) -> Scenario | None:
        """The scenario being presented (None on the chooser)."""
        return None if self._screen < 0 else self.scenarios[self._scenario]

    @property
    def current_screen(self) -> str:
        """``"chooser"`` or the kind of the screen shown ("question", "run", ...)."""
        scenario = self.scenario
        return CHOOSER if scenario is None else screens_of(scenario)[self._screen]

    def run_screen(self, key: str) -> RunScreen | None:
        return self._runs.get(key)

    def user_file(self, scenario: Scenario) -> str | None:
        return self._user_files.get(scenario.key)

    def set_user_file(self, scenario: Scenario, path: str | None) -> None:
        """Run ``scenario`` on the user's ``path`` from now on (None: its built-in data)."""
        if path:
            self._user_files[scenario.key] = str(path)
            self.settings.setValue(USER_DATA_KEY + scenario.key, str(path))
        else:
            self._user_files.pop(scenario.key, None)
            self.settings.remove(USER_DATA_KEY + scenario.key)
        old = self._runs.pop(scenario.key, None)
        if old is not None:  # its data changed: the next visit runs afresh
            old.cancel()
            old.hide()
        self.chooser.set_data_file(path)

    def show_chooser(self) -> None:
        self._screen = -1
        self.chooser.select(self._scenario)
        self.chooser.set_data_file(self._user_files.get(
            self.chooser.wants_data.key if self.chooser.wants_data else "", None))
        self.stack.setCurrentWidget(self.chooser)
        self._update_frame()

    def present(self, scenario: int | str, screen: int = 0) -> None:
        """Show ``screen`` of a scenario (its index or key)."""
        if isinstance(scenario, str):
            scenario = next(i for i, s in enumerate(self.scenarios) if s.key == scenario)
        if scenario != self._scenario:
            self._cancel_other_runs(self.scenarios[scenario].key)
        self._scenario = scenario
        kinds = screens_of(self.scenarios[scenario])
        self._screen = max(0, min(screen, len(kinds) - 1))
        self._show_current()

    def next_screen(self) -> None:
        if self._screen < 0:
            self.present(self.chooser.current)
            return
        if self._screen + 1 < len(screens_of(self.scenarios[self._scenario])):
            self.present(self._scenario, self._screen + 1)
        elif self._scenario + 1 < len(self.scenarios):
            self.present(self._scenario + 1, 0)
        else:
            self.show_chooser()

    def previous_screen(self) -> None:
        if self._screen > 0:
            self.present(self._scenario, self._screen - 1)
        elif self._screen == 0:
            self.show_chooser()

    def rerun(self) -> bool:
        """Run the current scenario again (on its run or result screen)."""
        scenario = self.scenario
        if scenario is None or self.current_screen not in ("run", "result"):
            return False
        screen = self._runs.get(scenario.key)
        if screen is None or screen.is_running:
            return False
        self.present(self._scenario, screens_of(scenario).index("run"))
        return screen.start()

    # ------------------------------------------------------------------ showing ---------------

    def _show_current(self) -> None:
        scenario = self.scenarios[self._scenario]
        kind = screens_of(scenario)[self._screen]
        user_file = self._user_files.get(scenario.key)
        if kind == "run":
            screen = self._run_screen_for(scenario)
            self.stack.setCurrentWidget(screen)
            if screen.outcome is None and not screen.is_running:
                screen.start()
        else:
            widget = self._screens_by_kind[kind]
            if kind == "question":
                widget.set_scenario(scenario, user_file)
            elif kind == "analogy":
                widget.set_scenario(scenario)
            elif kind == "diagram":
                widget.set_scenario(scenario)
            else:
                self._fill_after_run(kind, scenario)
            self.stack.setCurrentWidget(widget)
        self._update_frame()

    def _run_screen_for(self, scenario: Scenario) -> RunScreen:
        screen = self._runs.get(scenario.key)
        if screen is None:
            screen = RunScreen(scenario, tiny=self._tiny,
                               user_file=self._user_files.get(scenario.key), parent=self)
            screen.finished.connect(self._on_run_screen_finished)
            screen.set_scale(theme.scale_for(self.size()))
            self.stack.addWidget(screen)
            self._runs[scenario.key] = screen
        return screen

    def _fill_after_run(self, kind: str, scenario: Scenario) -> None:
        run = self._runs.get(scenario.key)
        outcome = run.outcome if run is not None else None
        measure = scenario.measure_for(self._user_files.get(scenario.key))
        if outcome is None:
            waiting = ("the run is still going: the result appears here when it ends"
                       if run is not None and run.is_running else
                       "the run has not been shown yet: go back to the live run")
            if kind == "result":
                self.result_screen.show_waiting(waiting)
            elif kind == "limits":
                self.limits_screen.show_limits([], "")
                self.limits_screen.body.set_html(waiting[:1].upper() + waiting[1:] + ".")
            else:
                self.compliance_screen.show_compliance(None)
            return
        if outcome.status == FAILED:
            if kind == "result":
                self.result_screen.show_failure(outcome.message)
            elif kind == "limits":
                self.limits_screen.show_limits([], "")
            else:
                self.compliance_screen.show_compliance(None)
            return
        if outcome.comparison is not None:
            story = comparison_story(outcome.comparison, measure=measure)
            if kind == "result":
                self.result_screen.show_comparison(story)
            else:
                self.limits_screen.show_comparison(story)
            return
        doc = outcome.document or {}
        if kind == "result":
            self.result_screen.show_story(result_story(
                doc, subject=scenario.result_subject, measure=measure, show=scenario.result_show))
        elif kind == "limits":
            self.limits_screen.show_limits(
                limits_story(doc), "In the technique's own words: the guarantee of this run, "
                "as the results document records it.")
        else:
            self.compliance_screen.show_compliance(doc.get("compliance"))

    def _update_frame(self) -> None:
        scenario = self.scenario
        if scenario is None:
            self.corner_left.set_html("PPML Lab · presenter")
            self.corner_right.set_html("Choose a story")
            self.hints.set_html("↑ ↓ or 1–9 choose · Enter or → start · D data file · "
                                "Esc leave presenter mode")
            self.screen_changed.emit("", CHOOSER)
            return
        kinds = screens_of(scenario)
        dots = "".join(
            f"<span style='color:{theme.ACCENT if i == self._screen else '#c9d1da'}'>●</span>"
            for i in range(len(kinds)))
        self.corner_left.set_html(f"{self._scenario + 1}. {scenario.title}")
        self.corner_right.set_html(f"{SCREEN_TITLES[kinds[self._screen]]}&nbsp;&nbsp;{dots}")
        rerun = " · R run again" if kinds[self._screen] in ("run", "result") else ""
        self.hints.set_html(f"→ Space next · ← back{rerun} · Home all stories · "
                            "Esc leave presenter mode")
        self.screen_changed.emit(scenario.key, kinds[self._screen])

    def _apply_scale(self) -> None:
        scale = theme.scale_for(self.size())
        m = round(56 * scale)
        self._layout.setContentsMargins(m, round(24 * scale), m, round(18 * scale))
        self._layout.setSpacing(round(18 * scale))
        for widget in (self.corner_left, self.corner_right, self.hints, self.chooser,
                       *self._screens_by_kind.values(), *self._runs.values()):
            widget.set_scale(scale)

    def _cancel_other_runs(self, keep: str) -> None:
        for key, screen in self._runs.items():
            if key != keep and screen.is_running:
                screen.cancel()

    # ------------------------------------------------------------------ Qt events ------------

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        key = event.key()
        on_chooser = self._screen < 0
        if key == Qt.Key.Key_Escape:
            self.close()
        elif key == Qt.Key.Key_F11:
            self.showNormal() if self.isFullScreen() else self.showFullScreen()
        elif key == Qt.Key.Key_Home:
            self.show_chooser()
        elif on_chooser and key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            self.chooser.select(self.chooser.current + (1 if key == Qt.Key.Key_Down else -1))
            self._scenario = self.chooser.current
        elif on_chooser and Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
            index = int(key) - int(Qt.Key.Key_1)
            if index < len(self.scenarios):
                self.present(index)
        elif on_chooser and key == Qt.Key.Key_D:
            self._on_chooser_data_file_requested()
        elif key == Qt.Key.Key_R:
            self.rerun()
        elif key in NEXT_KEYS or (key == Qt.Key.Key_Down and not on_chooser):
            self.next_screen()
        elif key in BACK_KEYS or (key == Qt.Key.Key_Up and not on_chooser):
            self.previous_screen()
        else:
            super().keyPressEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        super().resizeEvent(event)
        self._apply_scale()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        stopped = all([screen.stop(CLOSE_TIMEOUT_MS) for screen in self._runs.values()])
        if not stopped:  # a step that does not check the cancel token: close when it ends
            self._close_pending = True
            self.hide()
            event.ignore()
            return
        super().closeEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        # The main window closes: close with it (and stop the run) first.
        if event.type() == QEvent.Type.Close and watched is self.parent():
            self.close()
        return False

    # ------------------------------------------------------------------ slots -----------------

    @Slot(int)
    def _on_chooser_chosen(self, index: int) -> None:
        self.present(index)

    @Slot()
    def _on_chooser_data_file_requested(self) -> None:
        scenario = self.chooser.wants_data
        if scenario is None or scenario.user_data is None:
            return
        current = self._user_files.get(scenario.key) or str(Path.home())
        names = " ".join(f"*{Path(n).suffix}" for n in scenario.user_data.file_names)
        path, _ = QFileDialog.getOpenFileName(
            self, f"Choose {scenario.user_data.label}", current,
            f"{scenario.user_data.label} ({names});;All files (*)")
        if path:
            self.set_user_file(scenario, path)

    @Slot(object)
    def _on_run_screen_finished(self, outcome: RunOutcome) -> None:
        self.run_finished.emit(outcome)
        if self._close_pending and not any(s.is_running for s in self._runs.values()):
            self._close_pending = False
            self.close()
            return
        if self.current_screen in ("result", "limits", "compliance"):
            self._show_current()


def open_presenter(parent: QWidget | None = None, *, start: str | None = None,
                   settings: QSettings | None = None, data_hint: str | None = None,
                   full_screen: bool = True) -> PresenterWindow | None:
    """Open presenter mode (on the chooser, or on scenario ``start``); None if the scenarios
    cannot be read (the message says why).
    """
    from ppml_lab.ui.qt_errors import show_message

    try:
        scenarios = load_scenarios()
    except ScenarioError as exc:
        show_message(parent, "Cannot open presenter mode", str(exc))
        return None
    window = PresenterWindow(scenarios, settings=settings, data_hint=data_hint, parent=parent)
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if parent is not None:
        parent.installEventFilter(window)
    if start is not None:
        window.present(start)
    if full_screen:
        # The whole screen the parent is on, also without a window manager to honour the request.
        screen = parent.screen() if parent is not None else QGuiApplication.primaryScreen()
        if screen is not None:
            window.setGeometry(screen.geometry())
        window.showFullScreen()
    else:
        window.show()
    window.activateWindow()
    window.setFocus()
    return window


__all__ = ["COMPLETED", "PresenterWindow", "open_presenter", "screens_of"]
