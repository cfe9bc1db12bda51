"""Pattern choice and the generated settings forms (model section and pattern section).

The pattern list comes from :func:`ppml_lab.engines.registry.engine_names`, so engines added
later (DP, federated, ...) appear without changes here. When the pattern changes, its settings
form is rebuilt from ``describe(engine.Params)``. :mod:`ppml_lab.ui.param_rules` says which
fields apply to the current choices (both forms grey out the others and say why), and text
fields that name a column (``partition_column``) offer the dataset's columns.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ppml_lab.engines.registry import engine_names, get_engine
from ppml_lab.models import ModelParams
from ppml_lab.params import ParamError, ParamSpec, to_mapping
from ppml_lab.ui.param_rules import FormHints, is_column_field, model_hints, pattern_hints
from ppml_lab.ui.qt_number_fields import IntSpinBox, number_error
from ppml_lab.ui.qt_param_form import ParamFormWidget

_SEED_SPEC = ParamSpec(name="seed", label="Seed", type=int, default=0, minimum=0, maximum=2**31 - 1)


class PatternPanel(QWidget):
    """Pattern selector with what it protects, plus the model and pattern settings forms.

    Signals
    -------
    pattern_changed(str)
        The selected pattern's name.
    settings_changed()
        Any setting was edited.
    """

    pattern_changed = Signal(str)
    settings_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pattern_combo = QComboBox(self)
        self.pattern_combo.setObjectName("patternCombo")
        self.pattern_combo.setToolTip(
            "The privacy-preserving pattern to train with. Every run also trains the plaintext "
            "baseline on the same split, so you can see what privacy costs."
        )
        for name in engine_names():
            self._add_pattern(name)
        self.description_label = QLabel(self)
        self.description_label.setWordWrap(True)
        self.description_label.setObjectName("hintLabel")
        self.description_label.setToolTip("What this pattern does")
        self.protects_label = QLabel(self)
        self.protects_label.setObjectName("protectsLabel")
        self.protects_label.setWordWrap(True)
        self.protects_label.setTextFormat(Qt.TextFormat.RichText)
        self.protects_label.setToolTip("The threat this pattern defends against")
        self.not_protects_label = QLabel(self)
        self.not_protects_label.setObjectName("notProtectsLabel")
        self.not_protects_label.setWordWrap(True)
        self.not_protects_label.setTextFormat(Qt.TextFormat.RichText)
        self.not_protects_label.setToolTip("What remains exposed even with this pattern")

        self.name_edit = QLineEdit(self)
        self.name_edit.setObjectName("experimentName")
        self.name_edit.setPlaceholderText("Untitled experiment")
        self.name_edit.setToolTip("A name for this experiment (saved in the experiment file)")
        # Read strictly like the form's number fields: "0,5" or "-1" stays red, never becomes 5 or 1.
        self.seed_spin = IntSpinBox(self)
        self.seed_spin.setObjectName("seedSpin")
        self.seed_spin.setRange(0, 2**31 - 1)
        self._seed_tip = (
            "Seed of the train/test split and of all randomness: the same seed reproduces a run "
            "exactly.\nA whole number between 0 and 2147483647, without thousands separators."
        )
        self.seed_spin.setToolTip(self._seed_tip)
        self.seed_spin.lineEdit().textChanged.connect(self._on_seed_text_changed)

        self._columns: list[tuple[str, str]] = []
        self.pattern_form: ParamFormWidget | None = None
        self.model_form = ParamFormWidget(
            ModelParams, self, where="Model: ", hints=self._model_form_hints
        )
        self.model_form.setToolTip("How the model is trained; the same for every pattern")
        self.pattern_box = QGroupBox(f"{get_engine(self.pattern_name()).label} settings", self)
        self.pattern_box.setToolTip("Settings of the selected privacy pattern")
        self._pattern_layout = QVBoxLayout(self.pattern_box)
        self.pattern_form = self._make_pattern_form()
        self._pattern_layout.addWidget(self.pattern_form)
        self.model_form.refresh_hints()

        pattern_box = QGroupBox("Privacy pattern", self)
        pattern_box.setToolTip(self.pattern_combo.toolTip())
        pl = QVBoxLayout(pattern_box)
        pl.addWidget(self.pattern_combo)
        pl.addWidget(self.description_label)
        pl.addWidget(self.protects_label)
        pl.addWidget(self.not_protects_label)
        model_box = QGroupBox("Model and training", self)
        model_box.setToolTip(self.model_form.toolTip())
        ml = QVBoxLayout(model_box)
        ml.addWidget(self.model_form)
        exp_box = QGroupBox("Experiment", self)
        exp_box.setToolTip("Name and seed of the experiment")
        el = QFormLayout(exp_box)
        el.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        el.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        name_label = QLabel("Name:", self)
        name_label.setToolTip(self.name_edit.toolTip())
        seed_label = QLabel("Seed:", self)
        seed_label.setToolTip(self.seed_spin.toolTip())
        el.addRow(name_label, self.name_edit)
        el.addRow(seed_label, self.seed_spin)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(pattern_box)
        layout.addWidget(self.pattern_box)
        layout.addWidget(model_box)
        layout.addWidget(exp_box)
        layout.addStretch(1)

        self.pattern_combo.currentIndexChanged.connect(self._on_pattern_combo_changed)
        self.model_form.changed.connect(self.settings_changed)
        self.seed_spin.valueChanged.connect(self.settings_changed)
        self._show_engine_text()

    # -- API ---------------------------------------------------------------------------------

    def pattern_name(self) -> str:
        return str(self.pattern_combo.currentData())

    def _add_pattern(self, name: str) -> int:
        """List pattern ``name``; one that cannot run here is greyed out, with the reason."""
        engine = get_engine(name)
        why_not = engine.available()
        self.pattern_combo.addItem(engine.label, name)
        index = self.pattern_combo.count() - 1
        tip = engine.description
        if why_not:
            tip = f"Not available here: {why_not}"
            item = self.pattern_combo.model().item(index)
            if item is not None:
                item.setEnabled(False)
        self.pattern_combo.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
        return index

    def set_pattern(self, name: str, values: Mapping[str, Any] | None = None) -> None:
        """Select pattern ``name`` and show ``values`` in its form (ValueError if unknown)."""
        get_engine(name)  # unknown names raise ValueError with the known ones
        index = self.pattern_combo.findData(name)
        if index < 0:  # registered after this panel was built
            index = self._add_pattern(name)
        if index != self.pattern_combo.currentIndex():
            self.pattern_combo.setCurrentIndex(index)  # rebuilds the form
        if values:
            self.pattern_form.set_values(values)
            self.model_form.refresh_hints()

    def model_params(self) -> ModelParams:
        """The model settings (raises ParamError with a readable message)."""
        return self.model_form.build()

    def pattern_params(self) -> Any:
        """The pattern's Params instance (raises ParamError with a readable message).

        Also refuses a seed text that is not an allowed seed (see :meth:`seed`), as the window
        reads the seed next to the pattern settings.
        """
        self.seed()
        return self.pattern_form.build()

    def seed_error(self) -> str:
        """What is wrong with the seed typed ("" when it is a seed), with the allowed range."""
        box = self.seed_spin
        if box.shows_value():
            return ""
        error = number_error(_SEED_SPEC, box.typed_text(), box.locale())
        return f"Experiment: {error}" if error else ""

    def seed(self) -> int:
        """The seed typed, even if not yet committed (ParamError if the text is not a seed)."""
        error = self.seed_error()
        if error:
            raise ParamError("seed", error)
        number, _, _ = self.seed_spin.typed_number()
        return int(number)

    def set_columns(self, columns: Sequence[str | tuple[str, str]]) -> None:
        """The dataset's feature columns (names, or ``(name, description)``), offered by fields
        that name a column.
        """
        self._columns = [(c, "") if isinstance(c, str) else (str(c[0]), str(c[1])) for c in columns]
        self._offer_columns()

    def set_experiment(self, experiment: Any) -> None:
        """Show an :class:`~ppml_lab.experiments.config.Experiment`'s settings."""
        self.set_pattern(experiment.pattern, to_mapping(experiment.params))
        self.model_form.set_values(to_mapping(experiment.model))
        self.seed_spin.setValue(int(experiment.seed))
        self.name_edit.setText(experiment.name)

    # -- internals ---------------------------------------------------------------------------

    def _make_pattern_form(self) -> ParamFormWidget:
        form = ParamFormWidget(
            get_engine(self.pattern_name()).Params, self.pattern_box, where="Pattern: ",
            hints=self._pattern_form_hints,
        )
        form.changed.connect(self._on_pattern_form_changed)
        self.pattern_form = form
        self._offer_columns()
        return form

    def _offer_columns(self) -> None:
        form = self.pattern_form
        if form is None:
            return
        for spec in form.specs:
            if spec.type is str and spec.choices is None and is_column_field(spec.name):
                form.set_suggestions(
                    spec.name, [c for c, _ in self._columns], [t for _, t in self._columns]
                )

    def _pattern_form_hints(self, values: Mapping[str, Any]) -> FormHints:
        return pattern_hints(self.pattern_name(), values)

    def _model_form_hints(self, values: Mapping[str, Any]) -> FormHints:
        pattern_values = self.pattern_form.raw_values() if self.pattern_form is not None else {}
        return model_hints(self.pattern_name(), pattern_values, values)

    @Slot()
    def _on_seed_text_changed(self) -> None:
        error = self.seed_error()
        box = self.seed_spin
        box.set_invalid(bool(error))
        box.setToolTip(f"{error}\n\n{self._seed_tip}" if error else self._seed_tip)

    @Slot()
    def _on_pattern_form_changed(self) -> None:
        self.model_form.refresh_hints()  # e.g. "objective ignores epochs" depends on the mechanism
        self.settings_changed.emit()

    def _show_engine_text(self) -> None:
        engine = get_engine(self.pattern_name())
        self.description_label.setText(engine.description)
        self.protects_label.setText(
            f"<b style='color:#1b7f3b'>Protects:</b> {html.escape(engine.protects)}"
        )
        self.not_protects_label.setText(
            f"<b style='color:#b3261e'>Does not protect:</b> {html.escape(engine.does_not_protect)}"
        )

    @Slot(int)
    def _on_pattern_combo_changed(self, index: int) -> None:
        engine = get_engine(self.pattern_name())
        old = self.pattern_form
        if old is not None:
            self._pattern_layout.removeWidget(old)
            old.hide()
            old.deleteLater()
        self.pattern_box.setTitle(f"{engine.label} settings")
        self._pattern_layout.addWidget(self._make_pattern_form())
        self.model_form.refresh_hints()
        self._show_engine_text()
        self.pattern_changed.emit(self.pattern_name())
        self.settings_changed.emit()
