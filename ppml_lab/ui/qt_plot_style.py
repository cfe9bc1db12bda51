"""What every plot of the window shares: pyqtgraph's settings, the colours and a whole-number axis."""

from __future__ import annotations

import math

import pyqtgraph as pg

# No global antialiasing: with the software rasteriser it makes a plot repaint 3-5x slower, and
# repaint time during a run is GIL time taken from the engine. Curves are smoothed after a run.
pg.setConfigOptions(antialias=False, foreground="#333333", background="w")

#: Colours of the two splits, and of other series in order.
TRAIN_COLOR = "#1f77b4"
TEST_COLOR = "#ff7f0e"
EPSILON_COLOR = "#8c564b"
PALETTE = ["#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
CLASS_PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
                 "#ff9da7", "#9c755f", "#bab0ac"]
#: Legends sit on a translucent white box so a curve passing under them stays readable.
LEGEND_BRUSH = (255, 255, 255, 215)


class IntegerAxisItem(pg.AxisItem):
    """An axis whose ticks are whole numbers only (epochs, rounds, clients)."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:  # noqa: N802, N803
        levels = []
        for spacing, values in super().tickValues(minVal, maxVal, size):
            if spacing < 1:
                continue
            levels.append((spacing, [v for v in values if abs(v - round(v)) < 1e-9]))
        if not levels and maxVal - minVal < 1e6:
            levels = [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]
        return levels
