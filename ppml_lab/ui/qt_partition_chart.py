"""The partition chart: how the training rows were split between the data owners (clients,
parties), one stacked bar per owner, coloured by class.

It draws the generic ``rows_per_party`` artifact (:data:`ppml_lab.engines.events.ROWS_PER_PARTY`)
that any pattern with several data owners may yield; :class:`~ppml_lab.ui.qt_plots.RunPlotsWidget`
shows it next to the live curves.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ppml_lab.ui.qt_plot_export import add_export_button
from ppml_lab.ui.qt_plot_style import (
    CLASS_PALETTE,
    IntegerAxisItem,
    add_legend_above,
    cache_axes,
    set_title,
)


def _nice_step(n: int, max_ticks: int = 12) -> int:
    """A 1-2-5 tick step so that about ``max_ticks`` labels fit (clients 1, 10, 20, ...)."""
    raw = max(1.0, n / max_ticks)
    exponent = math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * 10**exponent >= raw:
            return int(m * 10**exponent)
    return int(10 ** (exponent + 1))


class PartitionChartWidget(QWidget):
    """A stacked bar chart of rows per data owner (client, party), coloured by class.

    :meth:`set_payload` takes a ``rows_per_party`` artifact payload
    (:data:`ppml_lab.engines.events.ROWS_PER_PARTY`). Missing keys are tolerated: without class
    counts each owner is one bar of its rows; a list of numbers instead of dicts is read as rows
    per owner.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = cache_axes(pg.PlotWidget(parent=self, axisItems={"bottom": IntegerAxisItem("bottom")}))
        self.plot.setLabel("left", "rows")
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        # The class names in a row above the bars, never over them.
        self.legend = add_legend_above(self.plot.getPlotItem())
        self.export_button = add_export_button(self.plot)
        self.note = QLabel(self)
        self.note.setObjectName("hintLabel")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.note)
        self._bars: list[pg.BarGraphItem] = []
        self.rows: list[int] = []
        self._party = "owner"
        self._name_parties("owner", "How the training rows were split between the data owners.")
        self.setMinimumHeight(170)

    def _name_parties(self, party: str, description: str) -> None:
        self._party = party
        self._base_tip = description
        set_title(self.plot.getPlotItem(), f"Rows per {html.escape(party)}")
        self.plot.setLabel("bottom", html.escape(party))
        self.plot.setToolTip(description)
        self.note.setToolTip(f"{party.capitalize()}s that received no rows")

    def set_payload(self, payload: Any) -> None:
        """Draw a ``rows_per_party`` payload (see the class docstring); bad shapes draw nothing."""
        rows, counts, class_names, empty = _parse_parties(payload)
        info = payload if isinstance(payload, Mapping) else {}
        self._name_parties(
            str(info.get("party") or "owner"),
            str(info.get("description") or "How the training rows were split between the data "
                "owners: bar height is the number of rows an owner holds, colours are the "
                "classes."),
        )
        labels = _party_labels(payload, len(rows))
        for bar in self._bars:
            self.plot.removeItem(bar)
        self._bars = []
        self.legend.clear()
        self.rows = rows
        n = len(rows)
        x = np.arange(1, n + 1, dtype=float)
        width = 0.75 if n <= 60 else 1.0  # many owners: touching bars (no hairline gaps)
        pen = pg.mkPen("w") if n <= 60 else pg.mkPen(None)
        if counts is not None and counts.size:
            bottom = np.zeros(n)
            for c in range(counts.shape[1]):
                color = CLASS_PALETTE[c % len(CLASS_PALETTE)]
                name = class_names[c] if c < len(class_names) else f"class {c}"
                bar = pg.BarGraphItem(
                    x=x, height=counts[:, c], y0=bottom, width=width, brush=color, pen=pen
                )
                self.plot.addItem(bar)
                self.legend.addItem(bar, html.escape(str(name)))  # '<=50K' is not a tag
                self._bars.append(bar)
                bottom = bottom + counts[:, c]
        elif n:
            bar = pg.BarGraphItem(x=x, height=np.asarray(rows, float), width=width, brush=CLASS_PALETTE[0])
            self.plot.addItem(bar)
            self._bars.append(bar)
        if labels is not None and n <= 12:
            # Named owners (one per site, ...): show the names.
            ticks = [(i + 1, _short(labels[i], max(4, 48 // max(n, 1)))) for i in range(n)]
        else:
            step = _nice_step(n)
            ticks = [(1, "1")] + [(i, str(i)) for i in range(step, n + 1, step) if i != 1]
        self.plot.getAxis("bottom").setTicks([ticks])
        party = self._party
        if labels is not None:
            shown = "\n".join(f"{i + 1}: {name}" for i, name in enumerate(labels[:40]))
            self.plot.setToolTip(self._base_tip + f"\n\n{party.capitalize()}s:\n" + shown
                                 + ("\n…" if len(labels) > 40 else ""))
        else:
            self.plot.setToolTip(self._base_tip)
        if n:
            self.plot.setXRange(0.4, n + 0.6, padding=0)
            self.plot.setYRange(0, max(max(rows), 1) * 1.06, padding=0)
        # The counts go in the axis label: a long title would widen the plot beyond its cell.
        label = f"{party} ({n}, {sum(rows):,} rows in all)" if n else party
        self.plot.setLabel("bottom", html.escape(label))
        if empty:
            shown = ", ".join(str(c) for c in empty[:10])
            self.note.setText(
                f"{party.capitalize()}s with no rows: {shown}{' …' if len(empty) > 10 else ''}"
            )
        else:
            self.note.setText("")
        self.note.setVisible(bool(empty))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"


def _party_labels(payload: Any, n: int) -> list[str] | None:
    """Owner names when they mean something (``named``, e.g. one client per site), else None."""
    if not isinstance(payload, Mapping) or not payload.get("named"):
        return None
    parties = payload.get("parties")
    if not isinstance(parties, Sequence):
        return None
    labels = [str(c.get("label", i + 1)) if isinstance(c, Mapping) else str(i + 1)
              for i, c in enumerate(parties)]
    return labels if len(labels) == n else None


def _parse_parties(payload: Any) -> tuple[list[int], np.ndarray | None, list[str], list[Any]]:
    """Read a rows-per-party payload defensively: (rows, counts (n, k) or None, names, empty)."""
    if not isinstance(payload, Mapping):
        return [], None, [], []
    parties = payload.get("parties") or []
    rows: list[int] = []
    count_rows: list[list[float]] = []
    for party in parties if isinstance(parties, Sequence) else []:
        if isinstance(party, Mapping):
            cc = party.get("class_counts")
            cc_list = [float(v) for v in cc] if isinstance(cc, Sequence) else []
            r = party.get("rows")
            rows.append(int(r) if isinstance(r, (int, float)) else int(sum(cc_list)))
            count_rows.append(cc_list)
        elif isinstance(party, (int, float)):
            rows.append(int(party))
            count_rows.append([])
    counts: np.ndarray | None = None
    k = max((len(c) for c in count_rows), default=0)
    if k:
        counts = np.zeros((len(count_rows), k))
        for i, cc in enumerate(count_rows):
            counts[i, : len(cc)] = cc
    names = payload.get("class_names") or []
    names = [str(n) for n in names] if isinstance(names, Sequence) else []
    empty = payload.get("empty")
    if not isinstance(empty, Sequence) or isinstance(empty, str):
        empty = [i + 1 for i, r in enumerate(rows) if r == 0]
    return rows, counts, names, list(empty)
