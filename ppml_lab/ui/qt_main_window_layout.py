"""The main window's layout: its widgets, actions (with shortcuts and tooltips) and menus.

Left: the setup tabs (1 Data: :class:`~ppml_lab.ui.qt_dataset_panel.DatasetPanel` and
:class:`~ppml_lab.ui.qt_preprocessing_panel.PreprocessingPanel`; 2 Privacy & training:
:class:`~ppml_lab.ui.qt_pattern_panel.PatternPanel`) above the Run and Cancel buttons. Right: the
views (data preview, training plots with the results under them, membership audit, the history
of saved runs). Below: the status bar with the state, the run's progress and the time it took.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ppml_lab._resources import example_experiments
from ppml_lab.experiments.store import RunStore
from ppml_lab.ui.qt_audit import AuditViewWidget
from ppml_lab.ui.qt_compare_view import CompareViewWidget
from ppml_lab.ui.qt_data_preview import DataPreviewWidget
from ppml_lab.ui.qt_dataset_panel import DatasetPanel
from ppml_lab.ui.qt_history_panel import HistoryPanel, history_root
from ppml_lab.ui.qt_log_pane import RunLogWidget
from ppml_lab.ui.qt_pattern_panel import PatternPanel
from ppml_lab.ui.qt_plots import RunPlotsWidget
from ppml_lab.ui.qt_preprocessing_panel import PreprocessingPanel
from ppml_lab.ui.qt_report_export import ReportExport
from ppml_lab.ui.qt_results import ResultsPanel
from ppml_lab.ui.qt_sweep_view import SweepViewWidget
from ppml_lab.ui.qt_warning_actions import WarningActions


def _scrolling(content: QWidget, parent: QWidget) -> QScrollArea:
    """``content`` in a frameless area that scrolls vertically when the window is too low."""
    area = QScrollArea(parent)
    area.setWidget(content)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


def _example_title(node: Any) -> str:
    """An example file's ``name`` (its first line ``name = "..."``), else its file name."""
    import tomllib

    try:
        name = tomllib.loads(node.read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError):
        name = None
    return str(name) if isinstance(name, str) and name else node.name


class MainWindowLayout:
    """Builds the widgets, actions and menus of :class:`~ppml_lab.ui.qt_main_window.MainWindow`.

    The slots the actions trigger live in the window's other parts (``qt_main_window_*``).
    """

    def _build_widgets(self) -> None:
        self.dataset_panel = DatasetPanel(self)
        self.preprocessing_panel = PreprocessingPanel(self)
        data_page = QWidget(self)
        data_layout = QVBoxLayout(data_page)
        data_layout.setContentsMargins(0, 0, 0, 8)
        data_layout.addWidget(self.dataset_panel, 1)
        data_layout.addWidget(self.preprocessing_panel, 1)
        self.pattern_panel = PatternPanel(self)
        self.setup_tabs = QTabWidget(self)
        self.setup_tabs.setObjectName("setupTabs")
        self.setup_tabs.addTab(_scrolling(data_page, self), "1  Data")
        self.setup_tabs.addTab(_scrolling(self.pattern_panel, self), "2  Privacy && training")
        self.setup_tabs.setTabToolTip(
            0, "Choose the data, the target column, the features and how they become numbers"
        )
        self.setup_tabs.setTabToolTip(1, "Choose the privacy pattern and its settings")

        self.run_button = QPushButton("▶  Run", self)
        self.run_button.setObjectName("runButton")
        self.cancel_button = QPushButton("■  Cancel", self)
        self.cancel_button.setObjectName("cancelButton")
        buttons = QHBoxLayout()
        buttons.setContentsMargins(8, 4, 8, 8)
        buttons.addWidget(self.run_button, 2)
        buttons.addWidget(self.cancel_button, 1)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.setup_tabs, 1)
        self.run_blocked_label = QLabel(self)  # why Run is off (see qt_run_readiness)
        self.run_blocked_label.setObjectName("runBlockedLabel")
        self.run_blocked_label.setWordWrap(True)
        self.run_blocked_label.setTextFormat(Qt.TextFormat.PlainText)
        self.run_blocked_label.setVisible(False)
        left_layout.addWidget(self.run_blocked_label)
        left_layout.addLayout(buttons)
        left.setMinimumWidth(380)

        self.preview = DataPreviewWidget(self)
        self.plots = RunPlotsWidget(self)
        self.results = ResultsPanel(self)
        run_page = QSplitter(Qt.Orientation.Vertical, self)
        run_page.setObjectName("runSplitter")
        run_page.addWidget(self.plots)
        run_page.addWidget(self.results)
        run_page.setStretchFactor(0, 3)
        run_page.setStretchFactor(1, 1)
        run_page.setChildrenCollapsible(False)
        run_page.setSizes([520, 330])
        self.results.setMinimumHeight(150)
        # A warning asking for public bounds links to their editor (see qt_warning_actions).
        self.warning_actions = WarningActions(
            label=self.results.warnings_label, preprocessing_panel=self.preprocessing_panel,
            parent=self,
        )
        self.audit_view = AuditViewWidget(self)
        self.view_tabs = QTabWidget(self)
        self.view_tabs.setObjectName("viewTabs")
        self.view_tabs.addTab(self.preview, "Preview")
        self.view_tabs.addTab(run_page, "Training")
        self.view_tabs.addTab(self.audit_view, "Audit")
        self.history_panel = HistoryPanel(
            store=RunStore(history_root(self.settings)), directory=self._last_dir, parent=self
        )
        self.history_panel.setObjectName("historyPanel")
        self.view_tabs.setTabToolTip(0, "Data preview: the first rows of the loaded table")
        self.view_tabs.setTabToolTip(1, "Live curves of the run and its results")
        self.view_tabs.setTabToolTip(
            2, "Membership audit: membership-inference attacks against the trained model, next "
            "to what the DP guarantee allows (run with 'Membership audit' ticked)"
        )
        self.history_panel.reopen_requested.connect(self._on_history_panel_reopen_requested)
        self.history_panel.rerun_requested.connect(self._on_history_panel_rerun_requested)
        self.run_splitter = run_page
        self.compare_view = CompareViewWidget(self)
        self.compare_view.setObjectName("compareView")
        self.sweep_view = SweepViewWidget(self)
        self.sweep_view.setObjectName("sweepView")
        self.view_tabs.addTab(self.compare_view, "Compare")
        self.view_tabs.addTab(self.sweep_view, "Budget sweep")
        # History last: the views of the current data first, then everything saved.
        self.view_tabs.addTab(self.history_panel, "History")
        self.log_view = RunLogWidget(self)
        self.view_tabs.addTab(self.log_view, "Log")
        self.view_tabs.setTabToolTip(
            self.view_tabs.indexOf(self.log_view),
            "Every message of the current run (what the engine is doing, warnings, errors), "
            "with the time; copyable",
        )
        self.log_view.follow_in_tab(self.view_tabs)
        self.view_tabs.setTabToolTip(
            self.view_tabs.indexOf(self.history_panel),
            "Every run, saved automatically: reopen, re-run, rename, delete, export its "
            "experiment file; tick runs to compare their curves",
        )
        self.view_tabs.setTabToolTip(
            self.view_tabs.indexOf(self.compare_view),
            "The baseline and every pattern on the same data and split: accuracy, guarantee, "
            "time and data sent side by side (Run > Compare all patterns)",
        )
        self.view_tabs.setTabToolTip(
            self.view_tabs.indexOf(self.sweep_view),
            "Privacy-budget sweep: accuracy against the privacy budget ε over several seeds, "
            "with the planner's answer (Run > Privacy-budget sweep…)",
        )

        self.main_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_splitter.setObjectName("mainSplitter")
        self.main_splitter.addWidget(left)
        self.main_splitter.addWidget(self.view_tabs)
        self.main_splitter.setStretchFactor(0, 0)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setChildrenCollapsible(False)
        self.main_splitter.setSizes([430, 970])
        self.setCentralWidget(self.main_splitter)

        self.state_label = QLabel(self)
        self.state_label.setObjectName("stateLabel")
        self.state_label.setTextFormat(Qt.TextFormat.PlainText)
        self.state_label.setToolTip("What the application is doing")
        # A long state (a reason Run is off) must not widen the window: it is cut at the edge.
        self.state_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.elapsed_label = QLabel(self)
        self.elapsed_label.setToolTip("Time since the run started")
        self.run_progress = QProgressBar(self)
        self.run_progress.setMaximumWidth(220)
        self.run_progress.setTextVisible(True)
        self.run_progress.setToolTip("Steps of the run done so far")
        self.run_progress.setVisible(False)
        self.statusBar().addWidget(self.state_label, 1)
        self.statusBar().addPermanentWidget(self.run_progress)
        self.statusBar().addPermanentWidget(self.elapsed_label)
        self.resize(1400, 900)

    def _build_actions(self) -> None:
        def action(text: str, tip: str, shortcuts: list[Any], slot: Any) -> QAction:
            act = QAction(text, self)
            act.setShortcuts([QKeySequence(s) for s in shortcuts])
            keys = ", ".join(QKeySequence(s).toString(QKeySequence.SequenceFormat.NativeText) for s in shortcuts)
            act.setToolTip(f"{tip} ({keys})" if keys else tip)
            act.setStatusTip(tip)
            act.triggered.connect(slot)
            self.addAction(act)  # shortcuts work even while the menu bar is hidden
            return act

        self.open_data_action = action(
            "&Open data…", "Open a CSV, TSV, Excel or Parquet file",
            [QKeySequence.StandardKey.Open], self._on_open_data_triggered,
        )
        self.open_experiment_action = action(
            "Open &experiment…", "Open an experiment file (.toml or .json)",
            ["Ctrl+Shift+O"], self._on_open_experiment_triggered,
        )
        self.save_experiment_action = action(
            "&Save experiment as…", "Save the data choice and all settings as an experiment file",
            ["Ctrl+Shift+S"], self._on_save_experiment_triggered,
        )
        self.export_results_action = action(
            "E&xport results JSON…", "Write the last run's results document (JSON)",
            ["Ctrl+Shift+E"], self._on_export_results_triggered,
        )
        self.report_export = ReportExport(self)
        self.export_report_action = action(
            "Export &report (PDF)…", "Write a PDF report of the run, comparison or sweep in front "
            "(for managers, legal and compliance: no raw data)", ["Ctrl+E"],
            self.report_export.start,
        )
        self.quit_action = action(
            "&Quit", "Quit PPML Lab", [QKeySequence("Ctrl+Q")], self._on_quit_triggered
        )
        self.run_action = action(
            "&Run", "Train with the chosen pattern and settings", ["Ctrl+R"],
            self._on_run_triggered,
        )
        self.cancel_action = action(
            "&Cancel", "Stop the run (or the loading) at the next step", ["Esc"],
            self._on_cancel_triggered,
        )
        self.compare_action = action(
            "Com&pare all patterns", "Run the baseline and every available pattern with a "
            "preset on the same data and split, side by side", ["Ctrl+Shift+R"],
            self._on_compare_triggered,
        )
        self.sweep_action = action(
            "Privacy-budget &sweep…", "Accuracy of the chosen pattern over a grid of ε values "
            "and seeds (set the grid in the sweep view), with the planner's answer", [],
            self._on_sweep_triggered,
        )
        self.about_action = action(
            "&About PPML Lab", "The version, and the libraries it is built on with their licences",
            [], self._on_about_triggered,
        )
        self.tour_action = action(
            "Show the start-&here tour", "Walk through the five steps: data, pattern, run, "
            "compare, report", [], self._on_tour_triggered,
        )
        self.run_button.setToolTip(self.run_action.toolTip())
        self.cancel_button.setToolTip(self.cancel_action.toolTip())
        self.run_button.clicked.connect(self.run_action.trigger)
        self.cancel_button.clicked.connect(self.cancel_action.trigger)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.setToolTipsVisible(True)
        file_menu.addAction(self.open_data_action)
        file_menu.addAction(self.open_experiment_action)
        file_menu.addAction(self.save_experiment_action)
        file_menu.addAction(self.export_report_action)
        file_menu.addAction(self.export_results_action)
        self.examples_menu = file_menu.addMenu("Open e&xample")
        self.examples_menu.setToolTipsVisible(True)
        for node in example_experiments():
            act = self.examples_menu.addAction(_example_title(node))
            act.setData(node.name)
            act.setToolTip(node.name)
        self.examples_menu.triggered.connect(self._on_examples_menu_triggered)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        run_menu = bar.addMenu("&Run")
        run_menu.setToolTipsVisible(True)
        run_menu.addAction(self.run_action)
        run_menu.addAction(self.cancel_action)
        run_menu.addSeparator()
        run_menu.addAction(self.compare_action)
        run_menu.addAction(self.sweep_action)
        help_menu = bar.addMenu("&Help")
        help_menu.setToolTipsVisible(True)
        help_menu.addAction(self.tour_action)
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)
