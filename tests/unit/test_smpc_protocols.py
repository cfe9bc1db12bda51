"""The SMPC party side: real MPyC parties (separate processes on loopback) against the plaintext twin.

Every job goes through ``python -m ppml_lab child ppml_lab.engines.smpc.party`` exactly as the
engine starts it. Data: breast cancer (569 x 30), standardised, split 70/30, or small synthetic
sets. Tolerances, and why:

* secure training: the features and the model are fixed point with f = 16 fractional bits and
  all arithmetic before the one truncation per iteration is exact, so the secure model differs
  from the plaintext twin by input quantisation (2^-17 per feature) and one rounding per
  iteration of under 2 units of 2^-16: ``TRAIN_TOL = 1e-3`` leaves a wide margin (measured
  about 4e-5); test accuracy within 1 point;
* aggregation: each update is rounded to 2^-16 before the exact secure sum, so one round is
  within ``m * 2^-17`` of the plaintext sum;
* scoring: ``x . w + b`` with x and w rounded to 2^-16: within ``2^-17 (|x|_1 + |w|_1 + 1)``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from ppml_lab.engines.runtime import free_ports
from ppml_lab.engines.smpc import plaintext, sigmoid, wire
from ppml_lab.engines.smpc.protocols import training_scales

TRAIN_TOL = 1e-3
PARTY = "ppml_lab.engines.smpc.party"
ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------------------------
# Helpers


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _start(job_dir: Path, m: int, only: int | None = None) -> list[subprocess.Popen]:
    """Start the m parties (or only party ``only``) as the engine does."""
    ports = free_ports(m)
    peers = [a for p in ports for a in ("-P", f"127.0.0.1:{p}")]
    return [
        subprocess.Popen(
            [sys.executable, "-m", "ppml_lab", "child", PARTY, "--job", str(job_dir),
             "-M", str(m), "-I", str(i), *peers],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        )
        for i in range(m) if only is None or i == only
    ]


def run_job(job_dir: Path, job: wire.PartyJob, arrays: list[dict[str, np.ndarray]],
            timeout: float = 60.0) -> tuple[list[wire.PartyResult], list[str]]:
    """Write the job, run every party to the end, return their results and stdouts."""
    job_dir.mkdir(parents=True, exist_ok=True)
    job.write(job_dir)
    for i, a in enumerate(arrays):
        np.savez(wire.party_input(job_dir, i), **a)
    procs = _start(job_dir, job.parties)
    try:
        outs = [p.communicate(timeout=timeout) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for i, (p, (_, err)) in enumerate(zip(procs, outs)):
        assert p.returncode == 0, f"party {i} exited {p.returncode}: {err[-2000:]}"
    return [wire.PartyResult.read(job_dir, i) for i in range(job.parties)], [o for o, _ in outs]


def events(stdout: str) -> list[dict]:
    return [e for e in map(wire.parse_event_line, stdout.splitlines()) if e is not None]


@pytest.fixture(scope="module")
def cancer() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order].astype(np.float64)
    cut = int(0.7 * len(y))
    mean, std = X[:cut].mean(axis=0), X[:cut].std(axis=0)
    X = (X - mean) / std
    return X[:cut], y[:cut], X[cut:], y[cut:]


def training_job(split: str, m: int, n: int, d: int, **kw) -> wire.PartyJob:
    if split == "rows":
        rows = [len(p) for p in np.array_split(np.arange(n), m)]
        columns = [d] * m
    else:
        rows = [n] * m
        columns = [len(p) for p in np.array_split(np.arange(d), m)]
    kw.setdefault("integer_bits", 8)
    return wire.PartyJob(protocol="training", split=split, parties=m, rows=rows, columns=columns,
                         **kw)


def split_arrays(job: wire.PartyJob, X: np.ndarray, y: np.ndarray) -> list[dict[str, np.ndarray]]:
    m = job.parties
    if job.split == "rows":
        return [{"X": X[p], "y": y[p]} for p in np.array_split(np.arange(len(y)), m)]
    cols = np.array_split(np.arange(X.shape[1]), m)
    return [{"X": X[:, c], "y": y if i == 0 else np.zeros(0)} for i, c in enumerate(cols)]


def accuracy(w: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((plaintext.score(X, w) > 0) == (y == 1)))


# --------------------------------------------------------------------------------------------
# Sigmoid approximations


@pytest.mark.parametrize("name", sorted(sigmoid.APPROXIMATIONS))
def test_sigmoid_error_claim_holds_on_its_range(name: str) -> None:
    approx = sigmoid.get(name)
    lo, hi = (approx.lo, approx.hi) if math.isfinite(approx.hi) else (-60.0, 60.0)
    z = np.concatenate([np.linspace(lo, hi, 400_001), [-2.0, 2.0] if approx.kind != "poly" else []])
    err = float(np.max(np.abs(approx(z) - sigmoid.sigmoid(z))))
    assert err <= approx.max_error, f"{name}: measured {err:.5f} > stated {approx.max_error}"
    assert approx.max_error - err < 1e-4, f"{name}: stated {approx.max_error}, measured {err:.5f}"
    assert approx.describe()["max_error"] == approx.max_error


def test_sigmoid_coefficients_are_the_stated_ones() -> None:
    poly3 = sigmoid.get("poly3")
    assert poly3.c1 == pytest.approx(0.15012, abs=1e-6)
    assert poly3.c3 == pytest.approx(-0.001593, abs=1e-7)
    assert (poly3.lo, poly3.hi) == (-8.0, 8.0)
    assert float(poly3(np.array([0.0]))[0]) == 0.5
    with pytest.raises(ValueError, match="poly3"):
        sigmoid.get("tanh")


def test_training_field_is_sized_from_public_bounds() -> None:
    job = training_job("rows", 3, 3750, 20, iterations=1, learning_rate=1.0)
    sc = training_scales(job, 3750, sigmoid.get("poly3"))
    assert sc.shift == sc.scale - sc.fw + sc.step_bits
    assert sc.eta == round(1.0 / 3750 * 2.0 ** sc.step_bits) and sc.eta.bit_length() == 25
    pw = training_scales(training_job("rows", 3, 3750, 20, iterations=1, learning_rate=1.0,
                                      sigmoid="piecewise"), 3750, sigmoid.get("piecewise"))
    assert pw.compare_bits == 8 + 32 + 2 and pw.bits < sc.bits


# --------------------------------------------------------------------------------------------
# Secure training against its plaintext twin


@pytest.mark.parametrize(("split", "m", "iterations"), [("rows", 3, 20), ("columns", 3, 10),
                                                        ("rows", 2, 10)])
def test_secure_training_matches_plaintext(tmp_path, cancer, split, m, iterations) -> None:
    Xtr, ytr, Xte, yte = cancer
    # step 0.1: the cubic turns back beyond |z| = 5.6; with larger steps on this data the
    # training diverges, in plaintext as well (the twin shows the same)
    job = training_job(split, m, len(ytr), Xtr.shape[1], iterations=iterations,
                       learning_rate=0.1, l2=1e-3)
    results, outs = run_job(tmp_path, job, split_arrays(job, Xtr, ytr))
    plain = plaintext.train(Xtr, ytr, job)
    for r in results:  # every party gets the same revealed model
        assert np.array_equal(r.weights, results[0].weights)
    w = np.asarray(results[0].weights)
    assert np.max(np.abs(w - plain)) <= TRAIN_TOL
    assert abs(accuracy(w, Xte, yte) - accuracy(plain, Xte, yte)) <= 0.01
    assert accuracy(w, Xte, yte) > 0.9
    # MPyC's own counters, and one progress line per iteration
    r0 = results[0]
    assert len(r0.iteration_seconds) == iterations and r0.connect_seconds > 0
    assert r0.bytes_sent > 0 and r0.rounds > 0
    assert r0.extra["threshold"] == (m - 1) // 2
    assert r0.extra["setup_bytes"] > 0 and r0.extra["setup_seconds"] > 0
    assert r0.extra["sigmoid"]["max_error"] == sigmoid.get("poly3").max_error
    ev = events(outs[0])
    assert [e["step"] for e in ev if e["event"] == "progress"] == list(range(1, iterations + 1))
    assert any(e["event"] == "overhead" and e["kind"] == "setup_seconds" for e in ev)
    sent = [e["value"] for e in ev if e["event"] == "overhead" and e["kind"] == "bytes_sent"]
    assert sent == sorted(sent) and sent[-1] <= r0.bytes_sent


def test_a_diverging_training_is_flagged(tmp_path, cancer) -> None:
    Xtr, ytr, _, _ = cancer
    job = training_job("rows", 3, len(ytr), Xtr.shape[1], iterations=8, learning_rate=1.0)
    with np.errstate(all="ignore"):
        assert not np.all(np.isfinite(plaintext.train(Xtr, ytr, job)))  # the twin diverges
    results, outs = run_job(tmp_path, job, split_arrays(job, Xtr, ytr))
    assert all(r.extra["out_of_bounds"] for r in results)
    warnings = [e for e in events(outs[0]) if e["event"] == "log" and e["level"] == "warning"]
    assert len(warnings) == 1 and "lower the step size" in warnings[0]["message"]


def test_secure_training_piecewise_sigmoid(tmp_path) -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(90, 4))
    y = (X @ np.array([2.0, -1.0, 0.5, 0.0]) + 0.3 * rng.normal(size=90) > 0).astype(float)
    job = training_job("rows", 3, 90, 4, iterations=3, learning_rate=2.0, sigmoid="piecewise")
    results, _ = run_job(tmp_path, job, split_arrays(job, X, y))
    plain = plaintext.train(X, y, job)
    assert np.max(np.abs(np.asarray(results[0].weights) - plain)) <= TRAIN_TOL
    # the piecewise approximation saturates: some scores of the plaintext run are beyond +-2
    assert np.max(np.abs(plaintext.with_intercept(X) @ plain)) > 2


def test_masked_truncation_error_is_below_m_plus_1_over_2_and_unbiased(tmp_path) -> None:
    script = textwrap.dedent("""
        import json, sys
        import numpy as np
        from mpyc.runtime import mpc
        from ppml_lab.engines.smpc.protocols import MaskedTruncation, masked_field_bits

        async def main():
            await mpc.start()
            bits, shift, size = 60, 20, 3000
            secint = mpc.SecInt(masked_field_bits(bits, len(mpc.parties)))
            V = np.random.default_rng(5).integers(-2**40, 2**40, size=size).astype(object)
            trunc = MaskedTruncation(mpc, secint, size, shift, bits, calls=2)
            errs = []
            for _ in range(2):
                out = await mpc.output(await trunc(secint.array(V.copy())))
                errs += [int(a) - int(v) / 2**shift for a, v in zip(out, V)]
            await mpc.shutdown()
            if mpc.pid == 0:
                print("ERRS", json.dumps([min(errs), max(errs), float(np.mean(errs))]))
        mpc.run(main())
    """)
    ports = free_ports(3)
    peers = [a for p in ports for a in ("-P", f"127.0.0.1:{p}")]
    procs = [subprocess.Popen([sys.executable, "-c", script, "-M3", f"-I{i}", *peers, "--no-log"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=_env()) for i in range(3)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    line = next(s for s in outs[0][0].splitlines() if s.startswith("ERRS"))
    lo, hi, mean = json.loads(line[5:])
    assert -2 < lo and hi < 2  # (m + 1) / 2 units in the last place for m = 3
    assert abs(mean) < 0.05  # 6000 draws, standard deviation about 0.6: mean within 8 sigma


# --------------------------------------------------------------------------------------------
# Secure aggregation and secure scoring


def test_secure_aggregation_equals_the_plaintext_sum(tmp_path, cancer) -> None:
    Xtr, ytr, _, _ = cancer
    m, n, d = 3, len(ytr), Xtr.shape[1]
    parts = np.array_split(np.arange(n), m)
    job = wire.PartyJob(protocol="aggregation", split="rows", parties=m,
                        rows=[len(p) for p in parts], columns=[d] * m, iterations=3,
                        learning_rate=1.0, batch_size=32, seed=7, integer_bits=8,
                        extra={"aggregation_learning_rate": 0.1})
    w0 = np.zeros(d + 1)
    arrays = [{"X": Xtr[p], "y": ytr[p], "w0": w0} for p in parts]
    results, outs = run_job(tmp_path, job, arrays)
    revealed = [np.asarray(e["weights"]) for e in events(outs[0]) if e["event"] == "weights"]
    assert len(revealed) == 3  # the model is public after every round
    # each round: the revealed sum equals the plaintext sum of the same updates within m * 2^-17
    w = w0
    for r, after in enumerate(revealed):
        plain_sum = plaintext.round_update([Xtr[p] for p in parts], [ytr[p] for p in parts],
                                           w, job, r)
        assert np.max(np.abs((after - w) - plain_sum)) <= m * 2.0 ** -17
        w = after
    assert np.array_equal(results[1].weights, revealed[-1])
    twin = plaintext.aggregation([Xtr[p] for p in parts], [ytr[p] for p in parts], job)
    assert np.max(np.abs(revealed[-1] - twin)) <= 1e-4


def test_secure_scoring_reveals_each_owner_only_its_scores(tmp_path, cancer) -> None:
    _, _, Xte, _ = cancer
    m, d = 3, Xte.shape[1]
    w = np.random.default_rng(2).normal(size=d + 1) * 0.5
    owners = np.array_split(np.arange(len(Xte)), m - 1)
    job = wire.PartyJob(protocol="scoring", split="rows", parties=m, rows=[0] * m,
                        columns=[d] * m, iterations=1, learning_rate=1.0, integer_bits=8)
    arrays = [{"weights": w, "X": np.zeros((0, d)), "y": np.zeros(0)}] + [
        {"X_score": Xte[o], "X": np.zeros((0, d)), "y": np.zeros(0)} for o in owners]
    results, _ = run_job(tmp_path, job, arrays)
    assert results[0].scores is None  # the model owner learns nothing
    for r, o in zip(results[1:], owners):
        plain = plaintext.score(Xte[o], w)
        tol = 2.0 ** -17 * (np.abs(Xte[o]).sum(axis=1) + np.abs(w).sum() + 1) + 1e-9
        assert len(r.scores) == len(o)
        assert np.all(np.abs(np.asarray(r.scores) - plain) <= tol)


# --------------------------------------------------------------------------------------------
# The party process: bad jobs, SIGTERM, light imports


def test_bad_job_exits_with_one_line(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ppml_lab", "child", PARTY, "--job", str(tmp_path / "missing"),
         "-M", "3", "-I", "0", "-P", "127.0.0.1:1", "-P", "127.0.0.1:2", "-P", "127.0.0.1:3"],
        capture_output=True, text=True, timeout=30, env=_env(),
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "job.json" in proc.stderr, proc.stderr
    job = training_job("rows", 3, 30, 4, iterations=1, learning_rate=1.0)
    job.write(tmp_path)
    np.savez(wire.party_input(tmp_path, 0), X=np.zeros((10, 5)), y=np.zeros(10))
    proc = subprocess.run(
        [sys.executable, "-m", "ppml_lab", "child", PARTY, "--job", str(tmp_path),
         "-M", "3", "-I", "0", "-P", "127.0.0.1:1", "-P", "127.0.0.1:2", "-P", "127.0.0.1:3"],
        capture_output=True, text=True, timeout=30, env=_env(),
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "shape (10, 5)" in proc.stderr and "Traceback" not in proc.stderr


def test_sigterm_stops_a_waiting_party_without_traceback(tmp_path) -> None:
    job = training_job("rows", 3, 30, 4, iterations=1, learning_rate=1.0)
    job.write(tmp_path)
    for i in range(3):
        np.savez(wire.party_input(tmp_path, i), X=np.zeros((10, 4)), y=np.zeros(10))
    proc = _start(tmp_path, 3, only=0)[0]  # alone, it waits for the others to connect
    try:
        time.sleep(1.0)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in err


def test_party_imports_only_numpy_and_mpyc() -> None:
    code = (
        "import sys; sys.argv = ['party', '-M1', '--no-log']\n"
        "import ppml_lab.engines.smpc.party, ppml_lab.engines.smpc.protocols, mpyc.runtime\n"
        "heavy = {'pandas', 'scipy', 'sklearn', 'PySide6', 'matplotlib', 'pyqtgraph'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=30, env=_env())
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
