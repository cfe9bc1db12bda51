"""Links in the results' warnings box that do what a warning asks, where it is shown.

A warning such as "Preprocessing used statistics of the private training rows ... For a strict
guarantee give public feature bounds and categories" names a setting of the Data tab. The
warnings box then ends with a link, "Give public bounds on the Data tab…", that switches the
scaling to public bounds, shows the Data tab and puts the cursor in the public-ranges table
(:meth:`~ppml_lab.ui.qt_preprocessing_panel.PreprocessingPanel.show_public_ranges`).

Warnings come from engines as plain text; "public" with "bounds" or "ranges" is the data layer's
vocabulary (``scaling = "bounds"``), not a pattern's, so nothing here names a pattern.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QLabel

#: The link that opens the public-ranges editor.
PUBLIC_BOUNDS_LINK = "ppml:public-bounds"
LINK_TEXT = "Give public bounds on the Data tab…"


def asks_for_public_bounds(text: str) -> bool:
    """Whether a warning asks for public bounds (or ranges) of the features."""
    words = text.lower()
    return "public" in words and ("bounds" in words or "ranges" in words)


class WarningActions(QObject):
    """Adds the links to ``label`` (the warnings box) and follows them.

    Parameters
    ----------
    label : QLabel
        The warnings box (rich text); :meth:`refresh` after its text is set.
    preprocessing_panel : PreprocessingPanel
        Where public bounds are given.
    """

    def __init__(self, *, label: QLabel, preprocessing_panel: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.label = label
        self.panel = preprocessing_panel
        label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        label.setOpenExternalLinks(False)
        label.linkActivated.connect(self._on_label_link_activated)

    def refresh(self) -> None:
        """Add the link when the box shows a warning that asks for public bounds."""
        text = self.label.text()
        if not text or PUBLIC_BOUNDS_LINK in text or not asks_for_public_bounds(text):
            return
        self.label.setText(
            f"{text}<p style='margin:4px 0 0 0'>→ <a href='{PUBLIC_BOUNDS_LINK}'>{LINK_TEXT}</a> "
            "(scaling to ranges known in advance: the privacy guarantee then covers the "
            "preprocessing too)</p>"
        )

    def has_link(self) -> bool:
        """Whether the box offers the public-bounds link now."""
        return PUBLIC_BOUNDS_LINK in self.label.text()

    @Slot(str)
    def _on_label_link_activated(self, href: str) -> None:
        if href == PUBLIC_BOUNDS_LINK:
            self.panel.show_public_ranges()


__all__ = ["LINK_TEXT", "PUBLIC_BOUNDS_LINK", "WarningActions", "asks_for_public_bounds"]
