"""The main window's ways to tell the story: View > Presenter mode (F5), Help > Which pattern
fits?, and the Compliance tab (:class:`PresentingMixin`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtGui import QAction, QKeySequence

from ppml_lab.ui.qt_compliance_view import ComplianceViewWidget

PRESENTER_SHORTCUT = "F5"


class PresentingMixin:
    """Presenter mode, the pattern advisor and the compliance view of
    :class:`~ppml_lab.ui.qt_main_window.MainWindow` (a part of it).
    """

    def _init_presenting(self) -> None:
        self.presenter: Any = None
        self.presenter_action = QAction("&Presenter mode…", self)
        self.presenter_action.setShortcut(QKeySequence(PRESENTER_SHORTCUT))
        self.presenter_action.setToolTip("Full-screen stories for a room of non-specialists: "
                                         "choose a scenario, then arrow keys or a clicker (F5)")
        self.presenter_action.setStatusTip(self.presenter_action.toolTip())
        self.presenter_action.triggered.connect(self._on_presenter_triggered)
        self.addAction(self.presenter_action)
        self.advisor_action = QAction("Which pattern &fits?…", self)
        self.advisor_action.setToolTip("A short questionnaire that recommends a pattern for your "
                                       "situation, with reasons")
        self.advisor_action.setStatusTip(self.advisor_action.toolTip())
        self.advisor_action.triggered.connect(self._on_advisor_triggered)
        bar = self.menuBar()
        help_menu = next((a.menu() for a in bar.actions()
                          if a.menu() is not None and a.text().replace("&", "") == "Help"), None)
        self.view_menu = bar.addMenu("&View") if help_menu is None else None
        if help_menu is not None:
            from PySide6.QtWidgets import QMenu

            self.view_menu = QMenu("&View", self)
            bar.insertMenu(help_menu.menuAction(), self.view_menu)
            first = help_menu.actions()[0] if help_menu.actions() else None
            help_menu.insertAction(first, self.advisor_action)
            help_menu.insertSeparator(first)
        self.view_menu.setToolTipsVisible(True)
        self.view_menu.addAction(self.presenter_action)
        # The compliance view of the last run, under the results' Details (after the engineer's
        # view): hidden until a run has finished.
        self.compliance_view = ComplianceViewWidget(self.results.details_text, scroll=False)
        self.compliance_view.setObjectName("complianceView")
        self.results.details_text.layout().addWidget(self.compliance_view)
        self.compliance_view.setVisible(False)
        self.run_started.connect(self._on_run_started_compliance)
        self.run_finished.connect(self._on_run_finished_compliance)

    # -- public ------------------------------------------------------------------------------

    def open_presenter(self, start: str | None = None, *, full_screen: bool = True) -> Any:
        """Open presenter mode (on the chooser, or on scenario ``start``)."""
        from ppml_lab.ui.presenter.qt_presenter_window import open_presenter

        if self.presenter is not None:
            self.presenter.close()
        table = getattr(self, "table", None)
        hint = getattr(table, "source", None) or str(self.settings.value("data/last_source", ""))
        self.presenter = open_presenter(self, start=start, settings=self.settings,
                                        data_hint=hint, full_screen=full_screen)
        if self.presenter is not None:
            self.presenter.destroyed.connect(self._on_presenter_destroyed)
        return self.presenter

    def open_advisor(self) -> Any:
        """Open the pattern advisor (not modal)."""
        from ppml_lab.ui.presenter.qt_advisor_dialog import AdvisorDialog

        dialog = AdvisorDialog(self)
        dialog.present_requested.connect(self._on_advisor_present_requested)
        dialog.show()
        self.advisor_dialog = dialog
        return dialog

    # -- slots -------------------------------------------------------------------------------

    @Slot()
    def _on_presenter_triggered(self) -> None:
        self.open_presenter()

    @Slot()
    def _on_advisor_triggered(self) -> None:
        self.open_advisor()

    @Slot(str)
    def _on_advisor_present_requested(self, key: str) -> None:
        self.open_presenter(key)

    @Slot()
    def _on_presenter_destroyed(self) -> None:
        self.presenter = None

    @Slot()
    def _on_run_started_compliance(self) -> None:
        self.compliance_view.setVisible(False)

    @Slot(object)
    def _on_run_finished_compliance(self, result: Any) -> None:
        if result is not None and result.engine_result is not None:
            self.compliance_view.show_result(result)
            self.compliance_view.setVisible(True)
