"""``python -m ppml_lab sweep`` end to end: the JSON document, progress lines, bad input, and
stopping it (Ctrl+C, SIGTERM, a killed worker) without leaving a process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXPERIMENT = """\
name = "Breast cancer, DP-SGD"
seed = 0

[dataset]
source = "builtin:breast_cancer"

[model]
kind = "logistic"
epochs = 5
batch_size = 64
learning_rate = 0.5

[pattern]
name = "dp"
epsilon = 1.0
"""

BASELINE = """\
name = "Breast cancer, plaintext"
[dataset]
source = "builtin:breast_cancer"
[pattern]
name = "baseline"
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONWARNINGS": "ignore", "QT_QPA_PLATFORM": "offscreen"}


def _sweep(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ppml_lab", "sweep", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


@pytest.fixture()
def experiment(tmp_path: Path) -> Path:
    path = tmp_path / "bc_dp.toml"
    path.write_text(EXPERIMENT, encoding="utf-8")
    return path


def test_sweep_writes_the_document_with_points_summary_and_plan(
    experiment: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "sweep.json"
    proc = _sweep(str(experiment), "--epsilons", "0.3,1", "--seeds", "2", "--workers", "2",
                  "--json", str(out), "--plan-tolerance", "3", "--set", "model.epochs=4")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    progress = [line for line in stderr.splitlines() if line.startswith("[")]
    assert len(progress) == 6 and progress[-1].startswith("[6/6]")
    assert "non-private" in stdout

    doc = json.loads(out.read_text(encoding="utf-8"))
    assert {"experiment", "design", "points", "summary", "plan", "status", "wall_seconds"} <= set(doc)
    assert doc["status"] == "completed"
    assert doc["experiment"]["pattern"]["name"] == "dp"
    assert doc["design"]["epsilons"] == [0.3, 1.0]
    assert doc["design"]["training_seeds"] == [0, 1]
    assert len(doc["points"]) == 6
    assert {"epsilon", "seed", "test_accuracy", "train_accuracy", "noise_multiplier", "seconds"} <= set(
        doc["points"][0]
    )
    summary = {s["epsilon"]: s for s in doc["summary"]}
    assert set(summary) == {0.3, 1.0, None}
    assert summary[None]["private"] is False
    for s in doc["summary"]:
        assert {"test_accuracy_mean", "test_accuracy_sd", "test_accuracy_min", "test_accuracy_max"} <= set(s)
    plan = doc["plan"]
    assert plan["tolerance_points"] == 3.0
    assert {"reachable", "epsilon", "interval", "noise_multiplier", "epochs", "explanation"} <= set(plan)
    assert plan["epochs"] == 4 and doc["experiment"]["model"]["epochs"] == 4
    assert plan["explanation"] in stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--epsilons", "0,1"), "greater than 0"),
        (("--epsilons", "-0.5"), "greater than 0"),
        (("--epsilons", "0.1,abc"), "not a number"),
        (("--seeds", "0"), "--seeds must be at least 1"),
        (("--seeds", "three"), "--seeds must be a whole number"),
        (("--workers", "-2"), "--workers must be at least 0"),
        (("--plan-tolerance", "0"), "--plan-tolerance"),
        (("--plan-tolerance", "1", "--epsilons", "1"), "at least two epsilons"),
        (("--set", "epochs=3"), "unknown key 'epochs'"),
        (("--set", "name.x=1"), "'name' is a single value"),
        (("--set", "model.epochs"), "KEY=VALUE"),
        (("BASELINE",), "no epsilon parameter"),
        (("MISSING",), "no such experiment file"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: tuple[str, ...], message: str, experiment: Path, tmp_path: Path
) -> None:
    path = str(experiment)
    if args == ("BASELINE",):
        baseline = tmp_path / "baseline.toml"
        baseline.write_text(BASELINE, encoding="utf-8")
        path, args = str(baseline), ()
    elif args == ("MISSING",):
        path, args = str(tmp_path / "nope.toml"), ()
    proc = _sweep(path, *args, "--json", str(tmp_path / "x.json"))
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2, (stdout, stderr)
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("ppml-lab: error:")
    assert message in lines[0]
    assert not (tmp_path / "x.json").exists()


# ``ppml-lab`` with the default Ctrl+C handler: a background job started from a non-interactive
# shell (as CI runs tests) inherits SIGINT ignored, and Python keeps it ignored.
WITH_DEFAULT_SIGINT = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from ppml_lab.cli import main; sys.exit(main())"
)


def _long_sweep(experiment: Path, out: Path) -> subprocess.Popen[str]:
    """A 60-point sweep in a session of its own, once it has finished its first point."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WITH_DEFAULT_SIGINT, "sweep", str(experiment), "--seeds", "20",
         "--epsilons", "1,3", "--workers", "2", "--set", "model.epochs=20", "--json", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=True,
    )
    first = proc.stderr.readline()
    assert first.startswith("[ 1/60]"), first + proc.stderr.read()
    return proc


def _stat(pid: str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _session(sid: int) -> dict[int, int]:
    """Live processes of session ``sid``: pid -> parent pid."""
    found = {}
    for entry in os.listdir("/proc"):
        fields = _stat(entry) if entry.isdigit() else None
        if fields and int(fields[3]) == sid and fields[0] != "Z":
            found[int(entry)] = int(fields[1])
    return found


def _assert_nothing_left(sid: int) -> None:
    deadline = time.monotonic() + 2.0  # an orphaned zombie is reaped by init within moments
    while _session(sid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _session(sid) == {}


@pytest.mark.parametrize(
    ("signum", "code", "word"),
    [(signal.SIGTERM, 143, "terminated (SIGTERM)"), (signal.SIGINT, 130, "interrupted")],
    ids=["SIGTERM", "SIGINT"],
)
def test_a_signal_stops_the_sweep_and_every_process_it_started(
    signum: int, code: int, word: str, experiment: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sweep.json"
    proc = _long_sweep(experiment, out)
    assert len(_session(proc.pid)) >= 4  # this process, the fork server, 2 workers (+ tracker)
    os.kill(proc.pid, signum)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == f"ppml-lab: sweep {word}; no document written"
    assert not out.exists()
    _assert_nothing_left(proc.pid)


def test_a_killed_worker_is_a_one_line_error(experiment: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    proc = _long_sweep(experiment, out)
    processes = _session(proc.pid)
    server = next(pid for pid, parent in processes.items() if parent == proc.pid
                  and "forkserver" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"))
    worker = min(pid for pid, parent in processes.items() if parent == server)
    os.kill(worker, signal.SIGKILL)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("ppml-lab: error: sweep: sweep worker ")
    assert f"(pid {worker}) was killed by SIGKILL" in last and last.endswith("no document written")
    assert not out.exists()
    _assert_nothing_left(proc.pid)
