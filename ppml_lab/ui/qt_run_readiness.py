"""Run is disabled, with the reason shown, when the data or the settings cannot work.

:class:`RunReadinessMixin` is a part of :class:`~ppml_lab.ui.qt_main_window.MainWindow`: after
every edit (:meth:`_update_actions`) it asks :class:`~ppml_lab.ui.run_readiness.RunReadiness` why
a run cannot start, and shows the answer under the Run button, in the button's tooltip and in
the status bar ("Cannot run: ..."). The checks are Qt-free and name no pattern.
"""

from __future__ import annotations

from typing import Any

from ppml_lab.engines.registry import get_engine
from ppml_lab.params import ParamError
from ppml_lab.ui.run_readiness import RunReadiness

#: What the status bar says before the reason.
BLOCKED_PREFIX = "Cannot run: "


class RunReadinessMixin:
    """Why Run is disabled (a part of the main window).

    Uses the window's ``table``, panels, ``run_action``, ``run_button``, ``run_blocked_label``,
    ``state`` and ``_set_state``.
    """

    _readiness: RunReadiness | None = None

    def run_blocked_reason(self) -> str:
        """Why a run cannot start with what is shown ("" when it can, or nothing is loaded)."""
        table = getattr(self, "table", None)
        if table is None:
            return ""
        if self._readiness is None:
            self._readiness = RunReadiness()
        engine: Any = None
        model: Any = None
        params: Any = None
        try:
            engine = get_engine(self.pattern_panel.pattern_name())
            model = self.pattern_panel.model_form.build()
            params = self.pattern_panel.pattern_form.build()
        except (ParamError, ValueError):
            engine = None  # a setting that cannot be read: its form says why, in red
        return self._readiness.reason(
            frame=table.frame,
            target=self.dataset_panel.target(),
            n_features=len(self.dataset_panel.used_columns()),
            test_fraction=self.preprocessing_panel.form.raw_values().get("test_fraction"),
            engine=engine,
            model=model,
            params=params,
        )

    def _show_run_blocked(self, reason: str) -> None:
        """Show ``reason`` (or nothing) under Run, in its tooltip and in the status bar."""
        label = self.run_blocked_label
        label.setText(f"Run is off: {reason}" if reason else "")
        label.setToolTip(reason)
        label.setVisible(bool(reason))
        tip = self.run_action.toolTip()
        self.run_button.setToolTip(f"Run is off: {reason}\n\n{tip}" if reason else tip)
        if reason:
            if self.state != BLOCKED_PREFIX + reason:
                self._set_state(BLOCKED_PREFIX + reason)
        elif self.state.startswith(BLOCKED_PREFIX):
            self._set_state("Ready")


__all__ = ["BLOCKED_PREFIX", "RunReadinessMixin"]
