"""Privacy-utility sweeps: streaming, summaries, the non-private point, seeds, cancel, validation."""

from __future__ import annotations

import json
import math
import os
import signal
import statistics
import time
from dataclasses import replace

import pytest

from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.dp import DPParams
from ppml_lab.engines.runtime import ChildFailed
from ppml_lab.experiments.config import DatasetConfig, Experiment
from ppml_lab.experiments.runner import drive, run_experiment
from ppml_lab.experiments.sweep import (
    NON_PRIVATE,
    SweepPoint,
    check_epsilons,
    parse_epsilons,
    run_sweep,
    summarize,
    with_epsilon,
)
from ppml_lab.models import ModelParams

EPSILONS = (0.3, 1.0)


def small_experiment(**params: object) -> Experiment:
    # Deterministic (seeded, not private) noise: these tests compare points across processes
    # and against plain runs, which OS noise would make differ by design.
    params.setdefault("deterministic_noise", True)
    return Experiment(
        name="breast cancer DP",
        seed=0,
        dataset=DatasetConfig(source="builtin:breast_cancer"),
        model=ModelParams(kind="logistic", epochs=5, batch_size=64, learning_rate=0.5),
        pattern="dp",
        params=DPParams(**params),
    )


@pytest.fixture(scope="module")
def pooled() -> tuple[list[SweepPoint], object]:
    streamed: list[SweepPoint] = []
    result = drive(run_sweep(small_experiment(), epsilons=EPSILONS, seeds=2, workers=2), streamed.append)
    return streamed, result


def test_points_are_streamed_from_worker_processes(pooled) -> None:
    streamed, result = pooled
    assert result.status == "completed"
    assert result.workers == 2
    assert len(streamed) == 6  # 2 epsilons + non-private, x 2 seeds
    assert sorted((p.epsilon, p.seed) for p in streamed) == sorted(
        (p.epsilon, p.seed) for p in result.points
    )
    pids = {p.worker for p in streamed}
    assert os.getpid() not in pids
    assert 1 <= len(pids) <= 2
    # The seeds of one epsilon stay on the worker that calibrated its noise (cached accounting).
    for eps in EPSILONS:
        assert len({p.worker for p in streamed if p.epsilon == eps}) == 1


def test_summaries_are_mean_sd_min_max_per_epsilon(pooled) -> None:
    _, result = pooled
    assert [s.epsilon for s in result.summaries] == [0.3, 1.0, NON_PRIVATE]
    for s in result.summaries:
        accs = [p.test_accuracy for p in result.points if p.epsilon == s.epsilon]
        assert s.n == 2
        assert s.test_accuracy_mean == pytest.approx(statistics.fmean(accs))
        assert s.test_accuracy_sd == pytest.approx(statistics.stdev(accs))
        assert (s.test_accuracy_min, s.test_accuracy_max) == (min(accs), max(accs))


def test_non_private_point_is_the_plaintext_baseline(pooled) -> None:
    _, result = pooled
    np_summary = result.non_private
    assert np_summary is not None and not np_summary.private
    assert np_summary.noise_multiplier is None
    assert result.summary(NON_PRIVATE) is np_summary
    for p in result.points:
        if p.private:
            assert p.noise_multiplier is not None and p.noise_multiplier > 0
            assert p.epsilon_spent is not None and p.epsilon_spent <= p.epsilon * (1 + 1e-9)
        else:
            assert p.privacy == {}


def test_accuracy_broadly_increases_with_epsilon(pooled) -> None:
    _, result = pooled
    low, high, plain = (s.test_accuracy_mean for s in result.summaries)
    assert low < plain
    assert high >= low - 0.01
    assert plain >= high - 0.01


def test_split_is_fixed_and_repetition_zero_reproduces_a_plain_run(pooled) -> None:
    _, result = pooled
    assert result.seeds == (0, 1)
    run = drive(run_experiment(with_epsilon(small_experiment(), 1.0), with_baseline=False))
    p0 = next(p for p in result.points if p.epsilon == 1.0 and p.repetition == 0)
    assert p0.test_accuracy == run.engine_result.final["test_accuracy"]
    assert p0.noise_multiplier == run.engine_result.privacy["noise_multiplier"]


def test_pool_and_in_process_sweeps_agree(pooled) -> None:
    _, result = pooled
    serial = drive(run_sweep(small_experiment(), epsilons=EPSILONS, seeds=2, workers=0))
    assert serial.workers == 0
    assert [(p.epsilon, p.seed, p.test_accuracy) for p in serial.points] == [
        (p.epsilon, p.seed, p.test_accuracy) for p in result.points
    ]


def test_document_is_strict_json(pooled) -> None:
    _, result = pooled
    doc = result.to_document()
    text = json.dumps(doc, allow_nan=False)
    back = json.loads(text)
    assert back["experiment"]["pattern"]["name"] == "dp"
    assert back["design"]["data_seed"] == 0
    assert back["design"]["training_seeds"] == [0, 1]
    assert back["summary"][-1]["epsilon"] is None and back["summary"][-1]["private"] is False
    assert len(back["points"]) == 6


def test_cancel_keeps_finished_points_and_does_not_wait() -> None:
    cancel = CancelToken()
    gen = run_sweep(small_experiment(), epsilons=EPSILONS, seeds=4, workers=2, cancel=cancel)
    first = next(gen)
    cancel.cancel()
    t0 = time.perf_counter()
    result = drive(gen)
    assert time.perf_counter() - t0 < 5.0
    assert result.status == "cancelled"
    assert first in result.points
    assert 1 <= len(result.points) < 12
    assert result.summaries  # summaries of what finished
    # No worker is left running (nor any other child of the fork server).
    assert not any(_alive(p.worker) for p in result.points)
    assert _fork_server_children() == []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _fork_server_children() -> list[int]:
    """Live processes whose parent is this process's multiprocessing fork server (workers)."""
    from multiprocessing import forkserver

    server = forkserver._forkserver._forkserver_pid
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and server is not None:
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                    state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
            except OSError:
                continue
            if int(ppid) == server and state != "Z":
                found.append(int(entry))
    return found


def test_a_killed_worker_is_a_clear_error_and_leaves_no_process() -> None:
    gen = run_sweep(small_experiment(), epsilons=EPSILONS, seeds=6, workers=2)
    first = next(gen)
    os.kill(first.worker, signal.SIGKILL)
    t0 = time.perf_counter()
    with pytest.raises(ChildFailed, match=r"sweep: sweep worker \d \(pid \d+\) was killed by SIGKILL") as info:
        drive(gen)
    assert time.perf_counter() - t0 < 5.0
    assert info.value.pid == first.worker and info.value.signal_name == "SIGKILL"
    assert _fork_server_children() == []


def test_cancel_between_points_in_process() -> None:
    cancel = CancelToken()
    seen: list[SweepPoint] = []

    def sink(p: SweepPoint) -> None:
        seen.append(p)
        if len(seen) == 2:
            cancel.cancel()

    result = drive(
        run_sweep(small_experiment(), epsilons=EPSILONS, seeds=2, workers=0, cancel=cancel), sink
    )
    assert result.status == "cancelled"
    assert result.points == sorted(seen, key=lambda p: (p.epsilon, p.repetition))


def test_pattern_without_epsilon_is_rejected() -> None:
    exp = small_experiment().with_pattern("baseline")
    with pytest.raises(ValueError, match="no epsilon parameter"):
        next(run_sweep(exp, workers=0))


@pytest.mark.parametrize(
    ("grid", "message"),
    [((0.0, 1.0), "greater than 0"), ((-1.0,), "greater than 0"), ((math.inf,), "finite"), ((), "empty")],
)
def test_bad_grids_are_rejected(grid: tuple[float, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        next(run_sweep(small_experiment(), epsilons=grid, workers=0))


def test_bad_seeds_and_workers_are_rejected() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        next(run_sweep(small_experiment(), seeds=0, workers=0))
    with pytest.raises(ValueError, match="duplicates"):
        next(run_sweep(small_experiment(), seeds=[1, 1], workers=0))
    with pytest.raises(ValueError, match="workers"):
        next(run_sweep(small_experiment(), workers=-1))


def test_parse_epsilons() -> None:
    assert parse_epsilons("1, 0.1,0.3,1") == (0.1, 0.3, 1.0)
    assert check_epsilons([3, 1]) == (1.0, 3.0)
    for bad, message in [("0.1,abc", "not a number"), ("0,1", "greater than 0"), ("", "empty"),
                         ("nan", "not a number"), ("inf", "finite")]:
        with pytest.raises(ValueError, match=message):
            parse_epsilons(bad)


def test_with_epsilon_is_generic_and_clears_a_fixed_noise_multiplier() -> None:
    exp = small_experiment(noise_multiplier=2.0)
    assert exp.params.epsilon is None
    swept = with_epsilon(exp, 0.5)
    assert swept.params.epsilon == 0.5 and swept.params.noise_multiplier is None
    assert swept.params.clip_norm == exp.params.clip_norm
    fed = small_experiment().with_pattern("federated")
    assert with_epsilon(fed, 2.0).params.epsilon == 2.0


def test_summarize_single_seed_has_no_sd() -> None:
    p = SweepPoint(epsilon=1.0, seed=0, repetition=0, test_accuracy=0.9, train_accuracy=0.95)
    (s,) = summarize([p])
    assert math.isnan(s.test_accuracy_sd)
    assert json.loads(json.dumps(s.to_dict(), allow_nan=False))["test_accuracy_sd"] is None


def test_point_failure_is_reported_as_value_error() -> None:
    # delta must be below 1/rows; the worker's ValueError message reaches the caller.
    exp = replace(small_experiment(), params=DPParams(delta=0.05))
    with pytest.raises(ValueError, match="(?i)delta"):
        drive(run_sweep(exp, epsilons=(1.0,), seeds=1, workers=1))
