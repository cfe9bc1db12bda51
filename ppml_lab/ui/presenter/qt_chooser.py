"""The presenter's first screen: choose a scenario (arrow keys and Enter, a number, or a click),
and point the lab at a data file a scenario can use (e.g. the UCI Adult census file).
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from ppml_lab.experiments.scenarios import Scenario
from ppml_lab.ui.presenter import qt_theme as theme
from ppml_lab.ui.presenter.qt_fit_text import FitTextWidget

_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class ScenarioTile(QFrame):
    """One scenario: its number, title and one line; highlighted when selected."""

    clicked = Signal(int)

    def __init__(self, index: int, scenario: Scenario, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.setObjectName("scenarioTile")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.number = FitTextWidget(self, max_px=56, min_px=18, bold=True, color=theme.ACCENT,
                                    align=Qt.AlignmentFlag.AlignCenter)
        self.number.set_html(str(index + 1))
        self.text = FitTextWidget(self, max_px=theme.SMALL_PX + 6, min_px=13, align=_LEFT)
        self.text.set_html(f"<b>{html.escape(scenario.title)}</b><br>"
                           f"<span style='color:{theme.MUTED}'>{html.escape(scenario.summary)}</span>")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.addWidget(self.number, 8)
        layout.addWidget(self.text, 92)
        self.set_selected(False)

    def set_selected(self, selected: bool) -> None:
        background = theme.PANEL if selected else theme.BACKGROUND
        edge = theme.ACCENT if selected else "#dfe4ea"
        self.setStyleSheet(f"QFrame#scenarioTile {{ background: {background}; "
                           f"border: 3px solid {edge}; border-radius: 14px; }}")

    def set_scale(self, scale: float) -> None:
        self.number.set_scale(scale)
        self.text.set_scale(scale)
        m = max(4, round(12 * scale))
        self.layout().setContentsMargins(m, m // 2, m, m // 2)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        self.clicked.emit(self.index)


class ChooserScreen(QWidget):
    """The list of scenarios and the data-file line.

    Signals
    -------
    chosen(int)
        A tile was clicked (the scenario's index).
    data_file_requested()
        The user asked to point the lab at a data file (the button, or the D key).
    """

    chosen = Signal(int)
    data_file_requested = Signal()

    def __init__(self, scenarios: list[Scenario], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scenarios = scenarios
        self.current = 0
        self.title = FitTextWidget(self, max_px=theme.TITLE_PX, min_px=26, bold=True, align=_LEFT)
        self.title.set_html(f"Privacy-preserving machine learning, <span style='color:{theme.ACCENT}'>"
                            "in five stories</span>"
                            if len(scenarios) == 5 else "Privacy-preserving machine learning")
        self.tiles = [ScenarioTile(i, s, self) for i, s in enumerate(scenarios)]
        for tile in self.tiles:
            tile.clicked.connect(self.chosen)
        self.data_line = FitTextWidget(self, max_px=theme.SMALL_PX - 2, min_px=12,
                                       color=theme.MUTED, align=_LEFT)
        self.data_button = QPushButton("Choose the data file…", self)
        self.data_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.data_button.clicked.connect(self.data_file_requested)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_line, 1)
        data_row.addWidget(self.data_button, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title, 12)
        layout.addSpacing(8)
        for tile in self.tiles:
            layout.addWidget(tile, 13)
        layout.addSpacing(8)
        layout.addLayout(data_row, 7)
        self.select(0)
        self.set_data_file(None)

    @property
    def wants_data(self) -> Scenario | None:
        """The first scenario that can use a file of the user's."""
        return next((s for s in self.scenarios if s.user_data is not None), None)

    def select(self, index: int) -> None:
        if not self.tiles:
            return
        self.current = max(0, min(index, len(self.tiles) - 1))
        for tile in self.tiles:
            tile.set_selected(tile.index == self.current)

    def set_data_file(self, path: str | None) -> None:
        """Say which data the scenario that can use a user's file will run on."""
        scenario = self.wants_data
        self.data_line.setVisible(scenario is not None)
        self.data_button.setVisible(scenario is not None)
        if scenario is None or scenario.user_data is None:
            return
        label = html.escape(scenario.user_data.label)
        if scenario.uses_user_data(path):
            text = (f"“{html.escape(scenario.title)}” uses {label}: "
                    f"<b>{html.escape(Path(str(path)).name)}</b> "
                    f"<span style='color:{theme.FAINT}'>({html.escape(str(Path(str(path)).parent))})</span>")
        else:
            names = " or ".join(scenario.user_data.file_names)
            text = (f"“{html.escape(scenario.title)}” uses invented records. Have {label} "
                    f"({html.escape(names)})? Press <b>D</b> or the button to use it.")
        self.data_line.set_html(text)

    def set_scale(self, scale: float) -> None:
        self.title.set_scale(scale)
        self.data_line.set_scale(scale)
        for tile in self.tiles:
            tile.set_scale(scale)
        self.data_button.setStyleSheet(f"font-size: {max(11, round(22 * scale))}px; "
                                       f"padding: {max(3, round(8 * scale))}px "
                                       f"{max(6, round(16 * scale))}px;")
