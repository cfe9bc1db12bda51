"""A titled section whose content is shown or hidden by clicking the title ("Advanced")."""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QToolButton, QVBoxLayout, QWidget


class CollapsibleSectionWidget(QWidget):
    """A titled section whose content is shown or hidden by clicking the title."""

    def __init__(self, title: str, parent: QWidget | None = None, *, expanded: bool = False) -> None:
        super().__init__(parent)
        self.toggle_button = QToolButton(self)
        self.toggle_button.setText(title)
        self.toggle_button.setCheckable(True)
        self.toggle_button.setChecked(expanded)
        self.toggle_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle_button.setArrowType(
            Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow
        )
        self.toggle_button.setAutoRaise(True)
        self.toggle_button.setToolTip(f"Show or hide the {title.lower()} settings")
        self.content = QWidget(self)
        self.content.setVisible(expanded)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.toggle_button)
        layout.addWidget(self.content)
        self.toggle_button.toggled.connect(self._on_toggle_button_toggled)

    @property
    def expanded(self) -> bool:
        return self.toggle_button.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        self.toggle_button.setChecked(expanded)

    @Slot(bool)
    def _on_toggle_button_toggled(self, checked: bool) -> None:
        self.toggle_button.setArrowType(
            Qt.ArrowType.DownArrow if checked else Qt.ArrowType.RightArrow
        )
        self.content.setVisible(checked)
