"""The federated pattern on the Flower backend, from the window: the form, and the one real run
of the test suite with a finished Flower federation.

The run starts a real SuperLink and 3 SuperNodes (separate processes on 127.0.0.1) for 3 rounds
on breast cancer and checks it against the in-process simulation of the same experiment (same
seed, same split), the traffic Flower measured, what the window shows, and that no Flower
process is left. Flower's deployment engine takes seconds per round, so this is the only
finished Flower run of the suite (a cancelled one is in ``tests/unit/test_flower_deploy.py``;
the apps' logic is tested in one process in ``tests/unit/test_flower_apps.py``).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from window_driving import load

from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.federated.engine import run_federated

HOME = b"FLWR_HOME="
FLOWER = b"ppml-lab-flower-"


def _flower_homes() -> dict[int, bytes]:
    """``{pid: FLWR_HOME}`` of the living processes of lab Flower runs (they carry the run's
    temporary FLWR_HOME, whoever their parent is now)."""
    out = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            env = (proc / "environ").read_bytes()
            state = (proc / "stat").read_bytes().rsplit(b")", 1)[-1].split()[0]
        except OSError:
            continue
        if state != b"Z":
            for entry in env.split(b"\0"):
                if entry.startswith(HOME) and FLOWER in entry:
                    out[int(proc.name)] = entry
    return out


def test_the_form_offers_the_flower_backend(window, qtbot) -> None:
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("federated", {})
    form = window.pattern_panel.pattern_form
    assert "only when running on Flower" in form.disabled_reason("superlink")
    window.pattern_panel.set_pattern("federated", {"backend": "flower"})
    form = window.pattern_panel.pattern_form
    assert form.disabled_reason("superlink") == ""
    assert "dropouts are real" in form.disabled_reason("dropout_rate")
    assert "starts a SuperLink and one SuperNode per client" in form.notes_label.text()


def test_a_flower_run_in_the_window_matches_the_simulation(window, qtbot, messages) -> None:
    before = set(_flower_homes())
    load(window, qtbot, "builtin:breast_cancer")
    window.pattern_panel.set_pattern("federated", {"backend": "flower", "clients": 3, "rounds": 3})
    seen: dict[int, bytes] = {}
    with qtbot.waitSignal(window.run_finished, timeout=240_000) as blocker:
        assert window.start_run()
        qtbot.waitUntil(lambda: window.plots.point_count("bytes:bytes_sent") >= 1, timeout=200_000)
        seen.update({p: h for p, h in _flower_homes().items() if p not in before})
    result = blocker.args[0]
    assert result.status == "completed", window.log_view.text()[-2000:]
    assert messages.texts == []

    # The same experiment in the in-process simulation: the same model, to the last bit.
    er = result.engine_result
    sim_params = dataclasses.replace(result.experiment.params, backend="simulation")
    gen = run_federated(result.data, result.experiment.model, sim_params,
                        seed=result.experiment.seed, cancel=CancelToken())
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            sim = stop.value
            break
    assert abs(er.final["test_accuracy"] - sim.final["test_accuracy"]) <= 0.005
    assert er.final["train_loss"] == sim.final["train_loss"]

    # Traffic as Flower serialised it: 3 models down and 3 updates up a round (8 bytes a
    # coordinate) plus headers and records, about 1 kB a message.
    _, sent = result.history.series("bytes_sent")
    per_round = [b - a for a, b in zip([0.0, *sent], sent)]
    dim = len(er.model.get_flat())
    assert len(per_round) == 3
    assert all(2 * 3 * 8 * dim < b < 2 * 3 * (8 * dim + 2000) for b in per_round)
    _, ratios = result.history.series("x_simulation")
    assert len(ratios) == 3 and min(ratios) > 1.0  # a network round costs more than a loop
    assert er.overhead["startup_seconds"] > 0 and er.extra["flower"]["supernodes"] == 3

    # What the window shows.
    kinds = [window.results.overhead_table.item(r, 0).text()
             for r in range(window.results.overhead_table.rowCount())]
    assert "Flower start-up" in kinds and "vs simulation" in kinds
    assert window.plots.point_count("bytes:bytes_sent") == 3
    assert any("in-process simulation of the same run" in e[2] for e in window.log_view.entries())

    # SuperLink, its SuperExec, 3 SuperNodes with theirs, flwr run, the ServerApp: all gone.
    assert len(seen) >= 9
    homes = set(seen.values())
    assert [p for p, h in _flower_homes().items() if h in homes] == []
