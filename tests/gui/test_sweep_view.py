"""The privacy-budget sweep view: points appear as they finish, cancel keeps them, the planner."""

from __future__ import annotations

import math
import os

import pytest
from window_driving import load

from ppml_lab.engines import registry
from ppml_lab.experiments.config import DatasetConfig, Experiment
from ppml_lab.experiments.planner import plan_epsilon
from ppml_lab.experiments.planner_text import points_words
from ppml_lab.experiments.runner import drive
from ppml_lab.experiments.sweep import TUNING_IS_A_RELEASE, run_sweep
from ppml_lab.models import ModelParams
from ppml_lab.ui.qt_main_window import MainWindow
from ppml_lab.ui.qt_sweep_view import SweepViewWidget
from ppml_lab.ui.qt_worker import live_threads


def _sweepable() -> str:
    return next(n for n in registry.engine_names() if registry.get_engine(n).sweepable)


def _choose(window: MainWindow, pattern: str) -> None:
    combo = window.pattern_panel.pattern_combo
    combo.setCurrentIndex(combo.findData(pattern))
    assert window.pattern_panel.pattern_name() == pattern


def _experiment(epochs: int = 3) -> Experiment:
    engine = registry.get_engine(_sweepable())
    return Experiment(name="tiny sweep", dataset=DatasetConfig(source="builtin:breast_cancer"),
                      model=ModelParams(epochs=epochs, learning_rate=0.5),
                      pattern=engine.name, params=engine.Params())


def _fork_server_children() -> list[int]:
    from multiprocessing import forkserver

    server = forkserver._forkserver._forkserver_pid
    found = []
    for entry in os.listdir("/proc") if server is not None else []:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                    state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
            except OSError:
                continue
            if int(ppid) == server and state != "Z":
                found.append(int(entry))
    return found


def test_a_two_point_sweep_appears_point_by_point(window, qtbot, messages, monkeypatch) -> None:
    import time

    from ppml_lab.experiments.sweep import worker

    run_point = worker.run_point

    def spaced(task, cancel=None):  # noqa: ANN001, ANN202 - in the sweep's worker thread
        point = run_point(task, cancel)
        time.sleep(0.3)  # the baseline point takes milliseconds: keep the two deliveries apart
        return point

    monkeypatch.setattr(worker, "run_point", spaced)
    load(window, qtbot, "builtin:breast_cancer")
    _choose(window, _sweepable())
    window.pattern_panel.model_form.editor("epochs").setValue(3)
    view = window.sweep_view
    view.set_settings(epsilons=[1.0], seeds=1, tolerance=1.0)
    drawn: list[int] = []
    original = view.add_points

    def recording(points):  # noqa: ANN001, ANN202
        original(points)
        drawn.append(len(view.points))
        assert view.seed_dots.data.size + (1 if view.non_private_line.isVisible() else 0) == len(
            view.points)

    view.add_points = recording
    assert window.sweep_action.isEnabled()
    with qtbot.waitSignal(window.study_finished, timeout=60_000):
        assert window.start_sweep(workers=0)  # in the worker thread, no process pool
        assert window.is_busy and not window.compare_action.isEnabled()
        assert window.view_tabs.currentWidget() is view
    assert drawn == [1, 2]  # one point, then both
    assert len(view.points) == 2 and view.result.status == "completed"
    assert view.non_private_line.isVisible()
    assert view.majority_line.isVisible()
    assert 0.5 < view.majority_line.value() < 0.7  # breast cancer: 63% benign
    # One epsilon: no plan, and the view says why; the caveat is always there.
    assert view.plan is None and "two or more" in view.plan_label.text()
    assert TUNING_IS_A_RELEASE[:40] in view.caveat_label.text()
    assert window.state == "Sweep done"
    assert messages.texts == []
    # Saved in the History.
    assert any(run.kind == "sweep" for run in window.run_store.runs())


def test_cancel_keeps_the_finished_points_and_stops_the_workers(window, qtbot, messages) -> None:
    load(window, qtbot, "builtin:synthetic")
    _choose(window, _sweepable())
    window.pattern_panel.model_form.editor("epochs").setValue(40)
    view = window.sweep_view
    view.set_settings(epsilons=[0.3, 1, 3], seeds=4, tolerance=1.0)
    with qtbot.waitSignal(window.study_finished, timeout=120_000):
        assert window.start_sweep(workers=2)  # the real process pool
        qtbot.waitUntil(lambda: len(view.points) >= 1, timeout=90_000)
        window.cancel_action.trigger()  # Esc
    result = view.result
    assert result is not None and result.status == "cancelled"
    assert 1 <= len(result.points) < 16
    assert len(view.points) == len(result.points)
    assert window.state.startswith("Sweep cancelled")
    assert "Cancelled" in view.header.text()
    assert live_threads() == []
    assert _fork_server_children() == []
    assert messages.texts == []


def test_sweeping_needs_a_pattern_with_epsilon(window, qtbot) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    _choose(window, registry.REFERENCE)
    assert not window.sweep_action.isEnabled()
    assert "no privacy budget" in window.sweep_action.toolTip()
    assert not window.sweep_view.run_button.isEnabled()
    _choose(window, _sweepable())
    assert window.sweep_action.isEnabled() and window.sweep_view.run_button.isEnabled()


@pytest.fixture(scope="module")
def pilot():
    result = drive(run_sweep(_experiment(), epsilons=(0.3, 3.0), seeds=2, workers=0))
    return result, plan_epsilon(result, tolerance=20.0, bootstrap=20, calibrate=False)


def test_the_planner_is_marked_on_the_curve(qtbot, pilot) -> None:
    result, plan = pilot
    view = SweepViewWidget()
    qtbot.addWidget(view)
    view.start(title="pilot", epsilons=result.epsilons, seeds=2, audit=False)
    for point in result.points:
        view.add_points([point])
    assert view.mean_curve.xData.tolist() == pytest.approx([math.log10(0.3), math.log10(3.0)])
    assert not view.plan_line.isVisible()
    view.set_result(result, plan)
    assert plan.reachable
    assert view.plan_line.isVisible()
    assert view.plan_line.value() == pytest.approx(math.log10(plan.epsilon))
    assert view.target_line.value() == pytest.approx(plan.target_accuracy)
    assert view.fit_curve.isVisible()
    assert plan.explanation[:40] in view.plan_label.text().replace("&#x27;", "'")
    entries = view.legend.entry_texts()
    assert any(e.startswith("planner: ε") for e in entries)
    assert any(e.startswith("non-private") for e in entries)
    assert "target: non-private − 20 points" in entries
    assert "(within 20 points)" in view.plan_label.text()
    assert points_words(1) == "1 point" and points_words(2.5) == "2.5 points"  # not "1 points"
    # Error bars: mean +/- sd over the two seeds.
    sd = [s.test_accuracy_sd for s in result.private_summaries]
    assert view.error_bars.opts["top"].tolist() == pytest.approx(sd)


def test_the_audit_panel_shows_each_points_measured_epsilon(qtbot) -> None:
    result = drive(run_sweep(_experiment(epochs=2), epsilons=(1.0,), seeds=1, workers=0,
                             audit=True))
    assert all(p.audit and "epsilon_lower_bound" in p.audit for p in result.points)
    view = SweepViewWidget()
    qtbot.addWidget(view)
    view.show()
    view.start(title="audit", epsilons=result.epsilons, seeds=1, audit=True)
    view.set_result(result)
    assert view.audit_plot.isVisible()
    assert view.audit_panel.dots.data.size == 1
    assert view.audit_panel.ceiling_line.isVisible() and view.audit_panel.non_private_line.isVisible()
    assert result.to_document()["points"][0]["audit"]["epsilon_ceiling"] > 0


def test_closing_the_window_mid_sweep_stops_everything(qtbot, settings, messages, qtlog) -> None:
    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.show()
    load(win, qtbot, "builtin:synthetic")
    _choose(win, _sweepable())
    win.pattern_panel.model_form.editor("epochs").setValue(40)
    win.sweep_view.set_settings(epsilons=[0.3, 1, 3], seeds=4)
    assert win.start_sweep(workers=2)
    qtbot.waitUntil(lambda: win._study_token is not None, timeout=5000)
    assert win.close()
    assert live_threads() == []
    qtbot.waitUntil(lambda: win._study_job is None, timeout=10_000)
    assert not win._study_timer.isActive()
    assert _fork_server_children() == []
    assert not any("Destroyed while thread" in r.message for r in qtlog.records)
