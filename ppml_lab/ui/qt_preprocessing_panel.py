"""The Data tab's "Preprocessing" box: how the table becomes numbers, as saved in ``[dataset]``.

The test share and the scaling are edited by the same generated form as the pattern settings
(:class:`~ppml_lab.ui.qt_param_form.ParamFormWidget` over the metadata of
:class:`~ppml_lab.experiments.config.DatasetConfig`). With scaling "bounds" the public ranges and
category lists (:class:`~ppml_lab.ui.qt_public_ranges.PublicRangesWidget`) appear under it.
:meth:`PreprocessingPanel.dataset_config` builds the ``[dataset]`` section from what is shown,
and :meth:`PreprocessingPanel.set_config` shows an experiment file's, so nothing is kept hidden.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QGroupBox,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.data import ColumnInfo
from ppml_lab.engines.contract import FormHints
from ppml_lab.experiments.config import PUBLIC_BOUNDS, DatasetConfig
from ppml_lab.lazy import LazyModule
from ppml_lab.params import ParamError
from ppml_lab.ui.qt_param_form import ParamFormWidget
from ppml_lab.ui.qt_public_ranges import PublicRangesWidget

# pandas takes about 0.5 s to import: imported on first use, after the window is shown.
pd = LazyModule("pandas")


def _scaling_hints(values: Mapping[str, Any]) -> FormHints:
    if values.get("scaling") == "standard":
        return FormHints(notes=[
            "The mean and spread come from the training rows, which a privacy budget does not "
            "cover. Choose public bounds for a strict guarantee."
        ])
    return FormHints()


class PreprocessingPanel(QGroupBox):
    """Test share, scaling and, for scaling "bounds", the public ranges and categories.

    Signals
    -------
    changed()
        A setting was edited.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Preprocessing", parent)
        self.setObjectName("preprocessingPanel")
        self.setToolTip(
            "How the columns are turned into numbers for training; saved in the [dataset] "
            "section of experiment files"
        )
        self.form = ParamFormWidget(DatasetConfig, self, where="Data: ", hints=_scaling_hints)
        self.ranges = PublicRangesWidget(self)
        self.kept_label = QLabel(self)
        self.kept_label.setObjectName("hintLabel")
        self.kept_label.setWordWrap(True)
        self.kept_label.setTextFormat(Qt.TextFormat.PlainText)
        self.kept_label.setToolTip("Public ranges are used only with scaling by public bounds")
        self.kept_label.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.kept_label)
        layout.addWidget(self.ranges, 1)
        self.form.changed.connect(self._on_form_changed)
        self.ranges.changed.connect(self._on_ranges_changed)
        self._show_ranges()

    # -- API ---------------------------------------------------------------------------------

    def uses_public_bounds(self) -> bool:
        """Whether the scaling chosen is "bounds" (public ranges and categories apply)."""
        return self.form.raw_values().get("scaling") == PUBLIC_BOUNDS

    def show_public_ranges(self) -> None:
        """Choose scaling by public bounds, bring this box into view and put the cursor in the
        public-ranges table (on the first numeric column without a range).

        What a warning's "Give public bounds…" link does: the tab holding this box is selected
        and its scroll area scrolled, whatever the window's layout.
        """
        combo = self.form.editor("scaling")
        combo.setCurrentIndex(combo.findData(PUBLIC_BOUNDS))  # the form's changed() follows
        self._show_ranges()
        child: QWidget = self
        parent = child.parentWidget()
        while parent is not None:
            tabs = parent.parentWidget()
            if isinstance(parent, QStackedWidget) and isinstance(tabs, QTabWidget):
                tabs.setCurrentWidget(child)
            child, parent = parent, parent.parentWidget()
        widget: QWidget | None = self.parentWidget()
        while widget is not None and not isinstance(widget, QScrollArea):
            widget = widget.parentWidget()
        if widget is not None:
            widget.ensureWidgetVisible(self.ranges)
        self.ranges.focus_first_missing()

    def set_columns(self, columns: Sequence[ColumnInfo], frame: pd.DataFrame | None = None) -> None:
        """The feature columns in use (and the table, to fill ranges from on request)."""
        self.ranges.set_columns(columns, frame)
        self._show_ranges()

    def set_config(self, dataset: DatasetConfig) -> None:
        """Show the preprocessing of an experiment's ``[dataset]`` section."""
        self.ranges.set_ranges(dataset.bounds, dataset.categories)
        self.form.set_values({"test_fraction": dataset.test_fraction, "scaling": dataset.scaling})
        self._show_ranges()

    def dataset_config(
        self, *, source: str, target: str | None, exclude: tuple[str, ...], include: tuple[str, ...]
    ) -> DatasetConfig:
        """The ``[dataset]`` section for the given data choice and the settings shown.

        Raises
        ------
        ParamError
            For a test share that is not allowed or a public range that cannot be read (the
            message is shown in the box too).
        """
        base = self.form.build()
        bounds: dict[str, tuple[float, float]] = {}
        categories: dict[str, tuple[str, ...]] = {}
        if self.uses_public_bounds():
            errors = self.ranges.errors()
            if errors:
                raise ParamError("bounds", "Data: public ranges: " + next(iter(errors.values())))
            bounds = self.ranges.bounds()
        # Public category lists apply with every scaling (they replace lists read from the
        # data), so they are kept, and saved, whatever the scaling; ranges need "bounds".
        categories = self.ranges.categories()
        return replace(
            base, source=source, target=target, exclude=exclude, include=include,
            bounds=bounds, categories=categories,
        )

    def has_errors(self) -> bool:
        """Whether a setting shown here cannot be used as it is."""
        return bool(self.form.field_errors()) or bool(self.form.validate()) or (
            self.uses_public_bounds() and bool(self.ranges.errors())
        )

    def missing_ranges(self) -> list[str]:
        """Numeric columns in use without a public range, when the scaling needs them."""
        return self.ranges.missing() if self.uses_public_bounds() else []

    def missing_message(self) -> str:
        missing = self.missing_ranges()
        shown = ", ".join(missing[:8]) + (" …" if len(missing) > 8 else "")
        return (
            "Scaling by public bounds needs a lowest and a highest value for every numeric "
            f"column in use; {len(missing)} have none yet: {shown}.\n\nType them into the "
            "public ranges on the Data tab, untick those columns, or choose another scaling."
        )

    # -- internals ---------------------------------------------------------------------------

    def _show_ranges(self) -> None:
        bounds = self.uses_public_bounds()
        self.ranges.setVisible(bounds)
        # Share the Data tab's height with the column list only while the table is shown.
        vertical = QSizePolicy.Policy.Expanding if bounds else QSizePolicy.Policy.Maximum
        self.setSizePolicy(QSizePolicy.Policy.Preferred, vertical)
        ranges, lists = len(self.ranges.bounds()), len(self.ranges.categories())
        parts = []
        if ranges:
            parts.append(
                f"Public ranges are given for {ranges} column{'s' if ranges != 1 else ''}: they "
                "are used (and saved) only with scaling by public bounds."
            )
        if lists:
            parts.append(
                f"Public categories are given for {lists} column{'s' if lists != 1 else ''}: "
                "they are used with every scaling (choose public bounds to see or edit them)."
            )
        self.kept_label.setText(" ".join(parts))
        self.kept_label.setVisible(not bounds and bool(parts))

    @Slot()
    def _on_form_changed(self) -> None:
        self._show_ranges()
        self.changed.emit()

    @Slot()
    def _on_ranges_changed(self) -> None:
        self.changed.emit()


__all__ = ["PreprocessingPanel"]
