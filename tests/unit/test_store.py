"""The History store: save, list, load, rename, delete, export; atomic writes; interrupted runs."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ppml_lab.engines.base import CancelToken
from ppml_lab.experiments import store_entry
from ppml_lab.experiments.config import Experiment, experiment_from_dict, load_experiment
from ppml_lab.experiments.runner import drive, prepare_data, run_experiment
from ppml_lab.experiments.store import RunStore, StoreError, curve
from ppml_lab.experiments.sweep import SweepPoint, SweepResult, summarize

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cancer():
    return prepare_data(Experiment())


def _experiment(title: str = "Cancer, DP", epochs: int = 3, pattern: str = "dp") -> Experiment:
    return experiment_from_dict(
        {
            "name": title,
            "model": {"kind": "logistic", "epochs": epochs, "batch_size": 32},
            "pattern": {"name": pattern, **({"epsilon": 1.0} if pattern == "dp" else {})},
        },
        where="test.toml",
    )


def _run(experiment: Experiment, data, cancel: CancelToken | None = None):
    return drive(run_experiment(experiment, data=data, cancel=cancel))


def test_save_list_load_rename_delete(tmp_path: Path, cancer) -> None:
    store = RunStore(tmp_path / "runs")
    assert store.runs() == []  # no folder yet: an empty history, not an error
    first = _run(_experiment("Cancer, baseline", pattern="baseline"), cancer)
    second = _run(_experiment("Cancer, DP"), cancer)
    a = store.save_run(first)
    b = store.save_run(second)

    listed = store.runs()
    assert [r.id for r in listed] == [b, a]  # newest first
    entry = listed[0]
    assert (entry.name, entry.pattern, entry.kind, entry.status) == (
        "Cancer, DP", "dp", "run", "completed"
    )
    assert entry.dataset == "Breast cancer"
    assert (entry.steps_done, entry.steps_total, entry.step_name) == (3, 3, "epoch")
    assert entry.test_accuracy == pytest.approx(second.engine_result.final["test_accuracy"])
    assert entry.epsilon == pytest.approx(second.engine_result.privacy["epsilon"])
    assert listed[1].epsilon is None  # the baseline spends no budget
    for name in ("experiment.toml", "results.json", "meta.json"):
        assert (entry.path / name).is_file()

    # Load: the experiment validates again, the document is the run's.
    assert store.experiment(b) == second.experiment
    doc = store.document(b)
    assert doc["status"] == "completed" and doc["final"] == json.loads(
        json.dumps(second.to_document()["final"])
    )
    xs, ys = store.curve(b, "test_accuracy")
    assert xs == [1.0, 2.0, 3.0] and len(ys) == 3

    # Rename touches the list's name only.
    store.rename(b, "  My best run ")
    assert store.get(b).name == "My best run"
    assert store.experiment(b).name == "Cancer, DP"
    with pytest.raises(ValueError, match="empty"):
        store.rename(b, "   ")

    # Export the experiment file, as TOML or JSON.
    out = store.export_experiment(b, tmp_path / "again.toml")
    assert load_experiment(out) == second.experiment
    assert load_experiment(store.export_experiment(b, tmp_path / "again.json")) == second.experiment

    store.delete(a)
    assert [r.id for r in store.runs()] == [b]
    assert not (tmp_path / "runs" / a).exists()
    with pytest.raises(StoreError, match="no run"):
        store.get(a)
    with pytest.raises(StoreError):
        store.delete("../" + b)  # never outside the root


def test_a_cancelled_run_keeps_its_finished_steps(tmp_path: Path, cancer) -> None:
    store = RunStore(tmp_path)
    cancel = CancelToken()
    run = run_experiment(_experiment(epochs=200), data=cancer, cancel=cancel)
    steps = 0

    def sink(event) -> None:
        nonlocal steps
        if getattr(event, "name", "") == "test_accuracy":
            steps += 1
            if steps == 4:
                cancel.cancel()

    result = drive(run, sink)
    run_id = store.save_run(result)
    entry = store.get(run_id)
    assert entry.status == "cancelled"
    assert entry.steps_done == 4 and entry.steps_total == 200
    assert len(store.curve(run_id, "test_accuracy")[0]) == 4


def test_every_file_is_written_atomically(tmp_path: Path, monkeypatch) -> None:
    store = RunStore(tmp_path)
    run_id = store.start_run(_experiment())
    meta = tmp_path / run_id / "meta.json"
    before = meta.read_text()

    def crash(src, dst) -> None:  # the process dies between writing and replacing
        raise OSError("disk full")

    monkeypatch.setattr(store_entry.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        store.rename(run_id, "new name")
    monkeypatch.undo()
    assert meta.read_text() == before  # the old file, whole
    assert [p.name for p in (tmp_path / run_id).iterdir() if p.name.endswith(".tmp")] == []
    assert store.get(run_id).name == "Cancer, DP"


def test_a_run_interrupted_between_start_and_end_lists_as_incomplete(tmp_path: Path) -> None:
    """Another process starts a run, saves two steps of history and dies without ending it."""
    code = textwrap.dedent(
        f"""
        import os
        from ppml_lab.experiments.config import Experiment
        from ppml_lab.experiments.store import RunStore
        store = RunStore({str(tmp_path)!r})
        run_id = store.start_run(Experiment(name="Doomed"))
        rows = [{{"step": 1, "test_accuracy": 0.8, "test_loss": 0.5}},
                {{"step": 2, "test_accuracy": 0.85, "test_loss": 0.4}}]
        store.save_progress(run_id, rows)
        print(run_id, flush=True)
        os._exit(9)  # a crash: no clean-up, no end of run
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert out.returncode == 9, out.stderr
    run_id = out.stdout.strip()
    store = RunStore(tmp_path)
    (entry,) = store.runs()
    assert entry.id == run_id and entry.name == "Doomed"
    assert entry.status == "incomplete" and "stopped" in entry.reason
    assert entry.steps_done == 2 and entry.test_accuracy == pytest.approx(0.85)
    assert store.curve(run_id, "test_accuracy") == ([1.0, 2.0], [0.8, 0.85])
    assert store.document(run_id)["partial"] is True
    assert store.experiment(run_id).name == "Doomed"  # and it can be reopened


def test_a_running_entry_of_this_process_is_running_until_it_ends(tmp_path: Path, cancer) -> None:
    store = RunStore(tmp_path)
    run_id = store.start_run(_experiment())
    assert store.get(run_id).status == "running"
    assert RunStore(tmp_path).get(run_id).status == "running"  # another view of the same root
    store.save_progress(run_id, [{"step": 1, "test_accuracy": 0.9}])
    assert store.get(run_id).steps_done == 1
    # The window was closed during the run: whatever finished, marked incomplete.
    result = _run(_experiment(epochs=2), cancer)
    entry = store.finish_run(run_id, result, status="incomplete",
                             reason="the window was closed during the run")
    assert entry.status == "incomplete" and entry.steps_done == 2
    store.save_progress(run_id, [])  # too late: never overwrites the final document
    assert store.document(run_id)["final"]["test_accuracy"] > 0.5
    with pytest.raises(ValueError):
        store.finish_run(run_id, result, status="running")


def test_a_failed_run_keeps_its_reason_and_history(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    run_id = store.start_run(_experiment())
    entry = store.finish_run(run_id, rows=[{"step": 1, "test_accuracy": 0.7}],
                             reason="delta must be below 1/n")
    assert (entry.status, entry.reason, entry.steps_done) == ("failed", "delta must be below 1/n", 1)
    assert store.get(run_id).status == "failed"


def test_unreadable_entries_are_skipped(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    good = store.start_run(_experiment())
    (tmp_path / "junk").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "meta.json").write_text("{ not json")
    (tmp_path / "stray.txt").write_text("x")
    assert [r.id for r in store.runs()] == [good]


def test_a_sweep_is_saved_like_a_run(tmp_path: Path) -> None:
    experiment = _experiment("Sweep of cancer")
    points = [
        SweepPoint(epsilon=eps, seed=0, repetition=0, test_accuracy=acc, train_accuracy=acc)
        for eps, acc in ((0.5, 0.85), (2.0, 0.93), (math.inf, 0.96))
    ]
    result = SweepResult(experiment=experiment, epsilons=(0.5, 2.0), seeds=(0,), points=points,
                         summaries=summarize(points))
    store = RunStore(tmp_path)
    sweep_id = store.save_sweep(result)
    entry = store.get(sweep_id)
    assert (entry.kind, entry.status, entry.points) == ("sweep", "completed", 3)
    assert entry.epsilon_range == (0.5, 2.0)
    assert entry.accuracy_range == (0.85, 0.93)
    assert entry.baseline_accuracy == pytest.approx(0.96)
    assert not entry.has_curves
    assert store.document(sweep_id)["kind"] == "privacy_utility_sweep"
    assert store.experiment(sweep_id) == experiment


def test_curve_reads_finite_values_only() -> None:
    doc = {"history": [{"step": 1, "test_loss": 0.5}, {"step": 2, "test_loss": None},
                       {"step": 3}, "junk", {"step": 4, "test_loss": 0.25}]}
    assert curve(doc, "test_loss") == ([1.0, 4.0], [0.5, 0.25])
    assert curve(None, "test_loss") == ([], [])


def test_relative_file_sources_are_stored_absolute(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("a,b\n1,x\n2,y\n")
    experiment = experiment_from_dict({"dataset": {"source": "data.csv"}}, where="x.toml")
    store = RunStore(tmp_path / "runs")
    run_id = store.start_run(experiment)
    assert store.experiment(run_id).dataset.source == str(tmp_path / "data.csv")
    assert store.get(run_id).dataset == "data.csv"
    assert os.path.isabs(store.experiment(run_id).dataset.source)


def test_a_comparison_is_saved_and_listed(tmp_path) -> None:
    from ppml_lab.experiments.compare import run_comparison
    from ppml_lab.experiments.config import experiment_from_dict
    from ppml_lab.experiments.runner import drive
    from ppml_lab.experiments.store import COMPARISON, RunStore

    experiment = experiment_from_dict({"model": {"epochs": 2}})
    result = drive(run_comparison(experiment, tiny=True, patterns=["baseline", "dp"]))
    store = RunStore(tmp_path)
    run_id = store.save_comparison(result)
    (entry,) = store.runs()
    assert entry.id == run_id and entry.kind == COMPARISON and entry.points == len(result.rows)
    assert store.document(run_id)["rows"]
    assert not entry.has_curves
