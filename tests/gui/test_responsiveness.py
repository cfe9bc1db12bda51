"""What keeps the window responsive during a run (the timings are in
tests/benchmarks/bench_responsiveness.py; these tests check the behaviour behind them).

* the plots repaint one plot per draw, the one waiting longest, and build one new plot per draw;
  a run like the last one of its pattern keeps the plots where they were;
* a run's work happens in a child process, and the History saves the document made there;
* the data preview sizes its columns as ``resizeColumnsToContents`` would, without asking the
  model for every cell again and again;
* the garbage collector's full collections wait while a job runs.
"""

from __future__ import annotations

import gc
import json
import threading

import pandas as pd
import pytest
from window_driving import load, run_to_end

from ppml_lab.data.source import LoadedTable
from ppml_lab.engines.contract import COMMON_LABELS, Label
from ppml_lab.engines.events import Metric, Overhead
from ppml_lab.engines.runtime import relay as relay_module
from ppml_lab.ui import qt_gc
from ppml_lab.ui.qt_data_preview import DataPreviewWidget
from ppml_lab.ui.qt_plots import RunPlotsWidget
from ppml_lab.ui.qt_worker import WorkerThread

LABELS = {**COMMON_LABELS, "clients_dropped": Label("clients dropped out", plot="other"),
          "client_drift": Label("drift of the clients", plot="other")}


@pytest.fixture
def plots(qtbot) -> RunPlotsWidget:  # noqa: ANN001
    widget = RunPlotsWidget()
    qtbot.addWidget(widget)
    widget.set_labels(lambda kind: LABELS.get(kind) or Label(kind.replace("_", " ")))
    widget.resize(1100, 620)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _step(s: int) -> list[object]:
    return [Metric(s, "train_loss", 0.7 / s), Metric(s, "test_accuracy", 0.8 + 0.01 * s),
            Overhead(s, "bytes_sent", 1e4 * s, "B"), Metric(s, "clients_dropped", s % 3),
            Metric(s, "client_drift", 0.1 / s)]


def test_live_drawing_repaints_one_plot_per_draw_oldest_first(plots) -> None:
    plots.reset(planned_steps=10)
    plots._pacer._budget = 1.0  # no waiting between draws in this test
    plots.add_events(_step(1))
    # Bounded work per call: three new legend entries now; a new plot costs a whole call, so
    # the two further-metric plots are built one per draw.
    assert plots.plot_of("clients_dropped") is None and plots.plot_of("client_drift") is None
    assert plots.draw_if_due()  # builds the first new plot and draws the plot waiting longest
    assert plots.plot_of("clients_dropped") is not None and plots.plot_of("client_drift") is None
    drawn = [k for k in ("train_loss", "test_accuracy", "bytes:bytes_sent") if plots.point_count(k)]
    assert drawn == ["train_loss"]  # one plot per draw, the first to get points
    assert plots.draw_if_due()
    assert plots.plot_of("client_drift") is not None
    while plots.draw_if_due():
        pass
    for name in ("train_loss", "test_accuracy", "bytes:bytes_sent", "clients_dropped",
                 "client_drift"):
        assert plots.point_count(name) == 1, name
    assert not plots.plot_of("client_drift").isHidden()
    # The budget spaces the draws: after a draw that took time, the next one waits.
    plots._pacer._budget = 0.3
    plots.add_events(_step(2))
    assert plots.draw_if_due()
    assert plots._pacer.dirty  # other plots wait for their turn...
    assert plots._pacer.due() is None and not plots.draw_if_due()  # ...and for the budget
    plots.draw_now()  # everything, at once (the end of a run)
    assert plots.point_count("client_drift") == 2 and plots.point_count("bytes:bytes_sent") == 2


def test_a_run_like_the_last_keeps_the_plots_in_place(plots, qtbot) -> None:  # noqa: ANN001
    plots.reset(planned_steps=5, layout="a")
    plots.add_events(_step(1))
    plots.draw_now()
    plots.settle_layout()
    placed = plots.shown_plots()
    assert len(placed) == 5
    # The next run of the same pattern: nothing is rearranged before its points arrive...
    plots.reset(planned_steps=5, layout="a")
    assert plots.shown_plots() == placed
    assert plots.point_count("client_drift") == 0  # ...and the plots are empty
    # ...and a plot that run leaves empty goes when it ends.
    plots.add_events([e for e in _step(1) if getattr(e, "name", "") != "client_drift"])
    plots.draw_now()
    assert plots.shown_plots() == placed
    plots.settle_layout()
    assert plots.plot_of("client_drift").isHidden() and len(plots.shown_plots()) == 4
    # Another pattern (or none) starts from the loss and accuracy plots alone.
    plots.reset(planned_steps=5, layout="b")
    assert len(plots.shown_plots()) == 2
    plots.reset(planned_steps=5)
    assert len(plots.shown_plots()) == 2


def test_a_run_happens_in_a_child_and_the_history_keeps_its_document(window, qtbot, messages,
                                                                      monkeypatch) -> None:
    children = []
    start = relay_module.ProcessGroup.start

    def recording_start(self, target, args=(), *, name=None):  # noqa: ANN001, ANN202
        child = start(self, target, args, name=name)
        children.append(child.pid)
        return child

    monkeypatch.setattr(relay_module.ProcessGroup, "start", recording_start)
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.model_form.editor("epochs").setValue(3)
    result = run_to_end(window, qtbot, timeout=60_000)
    assert result is not None and result.status == "completed"
    assert len(children) == 1
    assert window.plots.point_count("test_accuracy") == 3
    assert window.run_progress.value() == 3 or not window.run_progress.isVisible()
    (entry,) = window.run_store.runs()
    saved = window.run_store.document(entry.id)
    assert saved == json.loads(json.dumps(result.to_document()))
    assert messages.texts == []


def test_the_preview_sizes_its_columns_as_qt_would(qtbot) -> None:  # noqa: ANN001
    preview = DataPreviewWidget()
    qtbot.addWidget(preview)
    frame = pd.DataFrame({
        "age": [25, 38, 122_000], "ratio": [0.5, float("nan"), 1 / 3],
        "city": pd.array(["Oslo", None, "Llanfairpwllgwyngyll-gogerychwyrndrobwll"], dtype="str"),
        "a_rather_long_column_name": [True, False, True],
    })
    table = LoadedTable(frame=frame, name="t.csv", source="t.csv", default_target="age")
    preview.set_table(table, {})
    header = preview.view.horizontalHeader()
    ours = [header.sectionSize(c) for c in range(4)]
    preview.view.resizeColumnsToContents()
    qts = [min(max(header.sectionSize(c), 60), 220) for c in range(4)]
    assert ours == qts
    assert preview.model.index(1, 1).data() == "(missing)"
    assert preview.model.index(2, 1).data() == "0.333333"


def test_full_collections_wait_while_a_job_runs(window, qtbot, monkeypatch) -> None:  # noqa: ANN001
    collector = qt_gc.install()
    monkeypatch.setattr(qt_gc, "FULL_COLLECTION_IDLE_MS", 0)
    threshold = collector._threshold
    monkeypatch.setattr(collector, "_threshold", (10**9, 10**9, -1))  # generation 2 always due
    release = threading.Event()
    job = WorkerThread(release.wait, 10, parent=window)
    with qtbot.waitSignal(job.finished, timeout=15_000):
        job.start()
        qtbot.waitUntil(lambda: job.is_running, timeout=5000)
        assert collector.check() is None  # while it runs: not a full collection
        release.set()
    assert collector.check() == 2  # idle: done
    monkeypatch.setattr(collector, "_threshold", threshold)
    gc.collect()


def _legend_texts(plot) -> list[str]:  # noqa: ANN001
    return plot.getPlotItem().legend.entry_texts()


def test_a_run_like_the_last_keeps_its_legends_and_drops_what_it_did_not_draw(plots) -> None:
    plots.reset(planned_steps=5, layout="a")
    plots.add_events(_step(1))
    plots.draw_now()
    plots.settle_layout()
    loss = _legend_texts(plots.loss_plot)
    assert loss
    # The same pattern again: its legends stay while its plots are empty (a legend that changes
    # size moves, and so repaints, every plot of its row)...
    plots.reset(planned_steps=5, layout="a")
    assert _legend_texts(plots.loss_plot) == loss and plots.point_count("train_loss") == 0
    drift = plots.plot_of("client_drift")
    assert _legend_texts(drift)
    # ...and an entry whose curve the run did not draw goes when it ends.
    plots.add_events([e for e in _step(1) if getattr(e, "name", "") != "client_drift"])
    plots.draw_now()
    plots.settle_layout()
    assert _legend_texts(drift) == []
    # Another pattern starts without the earlier run's entries.
    plots.reset(planned_steps=5, layout="b")
    assert _legend_texts(plots.loss_plot) == []


def test_changes_to_every_plot_repaint_one_plot_per_frame(plots, qtbot) -> None:  # noqa: ANN001
    plots.reset(planned_steps=5, layout="a")
    plots.add_events(_step(1))
    plots.draw_now()
    qtbot.waitUntil(lambda: plots._staged.pending == 0)
    shown = plots.shown_plots()
    assert len(shown) == 5
    plots.set_smooth(True)  # restyles every curve: every plot would repaint at once
    held = [w for w in shown if not w.updatesEnabled()]
    assert len(held) == 5 and plots._staged.pending == 5
    seen = [plots._staged.pending]
    qtbot.waitUntil(lambda: (seen.append(plots._staged.pending), seen[-1] == 0)[1], timeout=3000)
    steps = [a - b for a, b in zip(seen, seen[1:]) if a != b]
    assert steps and set(steps) == {1}  # released one at a time
    assert all(w.updatesEnabled() for w in shown)
    # Hidden (a closed window) before they are all released: none stays frozen, no timer runs.
    plots.reset(planned_steps=5, layout="a")
    assert plots._staged.pending == 5
    plots.hide()
    assert plots._staged.pending == 0 and all(w.updatesEnabled() for w in shown)


def test_the_axes_are_cached_so_a_new_point_does_not_redraw_their_texts(plots) -> None:
    from PySide6.QtWidgets import QGraphicsItem

    for plot in (plots.loss_plot, plots.accuracy_plot, plots.epsilon_plot, plots.bytes_plot):
        for name in ("left", "bottom"):
            mode = plot.getPlotItem().getAxis(name).cacheMode()
            assert mode == QGraphicsItem.CacheMode.DeviceCoordinateCache


def test_a_legend_redrawn_with_the_same_entries_is_not_rebuilt(qtbot) -> None:  # noqa: ANN001
    import pyqtgraph as pg

    from ppml_lab.ui.qt_plot_style import add_legend_above

    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    legend = add_legend_above(plot.getPlotItem())
    curve = plot.plot([1, 2], [3, 4])
    line = pg.InfiniteLine(pos=0.5, angle=0)
    plot.addItem(line)

    def draw(name: str) -> list[object]:
        legend.begin()
        legend.add(curve, "runs")
        legend.add(line, name)
        legend.finish()
        return [label for _, label in legend.items]

    first = draw("baseline 90%")
    assert legend.entry_texts() == ["runs", "baseline 90%"]
    assert draw("baseline 90%") == first  # the same entries: the same labels, nothing rebuilt
    changed = draw("baseline 91%")
    assert legend.entry_texts() == ["runs", "baseline 91%"] and changed[0] is not first[0]


def test_the_first_plot_of_a_new_metric_is_built_ahead_not_during_the_run(plots) -> None:
    axis = plots.epsilon_plot.getAxis("left")
    assert plots.epsilon_plot.isHidden() and axis.picture is None  # never painted yet
    plots._make_spare()  # what the window does 1.5 s after start-up and after each run
    spare = plots._spare
    assert spare is not None and spare.isHidden()
    assert axis.picture is not None  # the hidden plots were painted once, off screen
    plots.reset(planned_steps=3, layout="x")
    plots.add_events(_step(1))
    plots.draw_now()
    assert plots.plot_of("clients_dropped") is spare  # taken, not built now
    plots._make_spare()
    assert plots._spare is None  # a run is going: nothing is built until it ends
    plots.settle_layout()
    plots._make_spare()
    assert plots._spare is not None and plots._spare is not spare
