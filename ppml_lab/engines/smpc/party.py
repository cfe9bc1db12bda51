"""One MPyC party: ``ppml-lab child ppml_lab.engines.smpc.party --job DIR -M m -I i -P ...``.

The process reads only the shared ``job.json`` and its own ``party_<i>.npz`` from the job
directory, runs the protocol of the job with the other parties (:mod:`.protocols`), prints its
progress as ``PPML-EVENT`` lines (:func:`.wire.event_line`) and writes ``result_<i>.json``.
Everything after ``--job DIR`` that is not the lab's goes to MPyC's own parser (``-M``, ``-I``,
``-P host:port`` per party, ``--no-prss``, ``-K``, ...): MPyC parses ``sys.argv`` when it is first
imported, so ``sys.argv`` is set before that. MPyC's log lines ("All 3 parties connected",
"Stop MPyC -- elapsed time ... | bytes sent ...") go to stdout.

Events (party 0 speaks for the run; every party reports its own bytes):

* ``progress`` after each iteration/round, with its wall time in the message;
* ``overhead`` ``seconds`` (the iteration's wall time), ``bytes_sent`` (this party's cumulative
  bytes), ``rounds`` (its cumulative message exchanges), and once ``connect_seconds``;
* ``weights`` after each aggregation round (the model is public then).

Measures. *Bytes*: what MPyC counts, ``nbytes_sent`` of each peer connection (12 header bytes +
payload per message), summed over the peers, as in MPyC's "Stop MPyC ... bytes sent" line.
*Rounds*: MPyC has no round counter; every communication step of MPyC (a reshare after a
secret product, an opening, an input) sends exactly one message to each peer it involves,
labelled by its program counter, so this party counts the messages it sends to each peer and
reports the largest count: the number of communication steps. Steps that MPyC runs
concurrently share a network round trip, so this is an upper bound on the round complexity.

Light to start: numpy and MPyC only (not pandas, scipy, scikit-learn or Qt). Exit codes: 0 done,
2 bad job or input (one line on stderr), 1 protocol failure, 128 + signal number on SIGTERM /
SIGINT (no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from ppml_lab.engines.smpc import wire
from ppml_lab.process_age import process_age

PROG = "ppml-lab child ppml_lab.engines.smpc.party"


class JobError(Exception):
    """A job that cannot run, said in one line."""


def _on_signal(signum: int, _frame: Any) -> None:
    # The lab terminates the parties on cancel: stop at once, quietly (no traceback, no
    # "Task was destroyed" noise from the event loop).
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(128 + signum)


def _install_signal_handlers() -> None:
    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None:
            with contextlib.suppress(ValueError, OSError):
                signal.signal(sig, _on_signal)


def _emit(event: str, /, **fields: Any) -> None:
    print(wire.event_line(event, **fields), flush=True)


def _parse(argv: list[str]) -> tuple[Path, list[str], int]:
    """(job directory, MPyC's arguments, this party's index) from the command line."""
    parser = argparse.ArgumentParser(prog=PROG, add_help=False, allow_abbrev=False)
    parser.add_argument("--job", required=True)
    try:
        args, rest = parser.parse_known_args(argv)
    except SystemExit:
        raise JobError("usage: --job DIR -M m -I i -P host:port (one -P per party)") from None
    index = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    index.add_argument("-I", "--index", type=int, default=None)
    try:
        known, _ = index.parse_known_args(rest)
    except SystemExit:
        raise JobError("-I needs this party's index (0, 1, ...)") from None
    if known.index is None:
        raise JobError("missing -I: which party this process is (0, 1, ...)")
    return Path(args.job), rest, int(known.index)


def _load(job_dir: Path, pid: int) -> tuple[wire.PartyJob, dict[str, np.ndarray]]:
    """The job and this party's own arrays, checked against each other."""
    if not (job_dir / wire.JOB_FILE).is_file():
        raise JobError(f"no {wire.JOB_FILE} in {job_dir}")
    try:
        job = wire.PartyJob.read(job_dir)
    except (OSError, ValueError, TypeError) as exc:
        raise JobError(f"cannot read {job_dir / wire.JOB_FILE}: {exc}") from None
    if not 2 <= job.parties <= 7 or not 0 <= pid < job.parties:
        raise JobError(f"party {pid} of {job.parties}: parties must be 2 to 7, -I 0 to parties-1")
    if job.protocol not in ("training", "aggregation", "scoring"):
        raise JobError(f"unknown protocol {job.protocol!r} (training, aggregation or scoring)")
    if job.split not in ("rows", "columns"):
        raise JobError(f"unknown split {job.split!r} (rows or columns)")
    if job.protocol == "aggregation" and job.split != "rows":
        raise JobError("secure aggregation needs the rows split")
    if job.protocol != "scoring" and (len(job.rows) != job.parties
                                      or len(job.columns) != job.parties):
        raise JobError("job.json: rows and columns need one entry per party")
    if not 1 <= job.fixed_point_bits <= 48 or not 1 <= job.integer_bits <= 48:
        raise JobError("fixed_point_bits and integer_bits must be 1 to 48")
    if job.iterations < 0:
        raise JobError("iterations must be 0 or more")
    path = wire.party_input(job_dir, pid)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: np.asarray(npz[k]) for k in npz.files}
    except (OSError, ValueError) as exc:
        raise JobError(f"cannot read {path}: {exc}") from None
    _check_arrays(job, pid, arrays)
    return job, arrays


def _check_arrays(job: wire.PartyJob, pid: int, arrays: dict[str, np.ndarray]) -> None:
    from ppml_lab.engines.smpc import protocols, sigmoid

    try:
        sigmoid.get(job.sigmoid)
    except ValueError as exc:
        raise JobError(str(exc)) from None
    bits = job.integer_bits

    def bounded(name: str, a: np.ndarray) -> None:
        try:
            protocols.check_bound(name, a, bits)
        except ValueError as exc:
            raise JobError(f"party {pid + 1}: {exc}") from None

    if job.protocol == "scoring":
        if pid == 0:
            if "weights" not in arrays or arrays["weights"].ndim != 1:
                raise JobError("party 1 (model owner) needs 'weights' in its input")
            bounded("the model", arrays["weights"])
        else:
            if "X_score" not in arrays or arrays["X_score"].ndim != 2:
                raise JobError(f"party {pid + 1} needs 'X_score' (records x features)")
            bounded("the records", arrays["X_score"])
        return
    X = arrays.get("X")
    y = arrays.get("y", np.zeros(0))
    if X is None or X.ndim != 2:
        raise JobError(f"party {pid + 1}'s input has no 2-D 'X'")
    n, d = protocols.data_shape(job)
    expect = (job.rows[pid], d) if job.split == "rows" else (n, job.columns[pid])
    if X.shape != tuple(expect):
        raise JobError(f"party {pid + 1}: X has shape {X.shape}, job.json says {tuple(expect)}")
    holds_labels = job.split == "rows" or pid == 0
    if holds_labels and y.shape != (X.shape[0],):
        raise JobError(f"party {pid + 1}: y has {y.size} labels for {X.shape[0]} rows")
    if holds_labels and y.size and not np.all((y == 0) | (y == 1)):
        raise JobError(f"party {pid + 1}: labels must be 0 or 1")
    bounded("the features", X)
    if job.protocol == "aggregation":
        w0 = arrays.get("w0")
        if w0 is None or w0.shape != (d + 1,):
            raise JobError(f"party {pid + 1}: aggregation needs 'w0' of length {d + 1}")


class _Meter:
    """MPyC's own counters for this party.

    Bytes sent: ``nbytes_sent`` of each peer connection. Messages sent to each peer: counted by
    wrapping the runtime's single send path (``mpc._send_message``), without changing it.
    """

    def __init__(self, mpc: Any) -> None:
        self.mpc = mpc
        self.messages = [0] * len(mpc.parties)
        send = mpc._send_message  # every MPyC message to a peer goes through this method

        def counting_send(peer_pid: int, data: bytes) -> None:
            self.messages[peer_pid] += 1
            send(peer_pid, data)

        mpc._send_message = counting_send

    def bytes_sent(self) -> int:
        total = 0
        for peer in self.mpc.parties:
            protocol = getattr(peer, "protocol", None)
            if peer.pid != self.mpc.pid and protocol is not None:
                total += int(getattr(protocol, "nbytes_sent", 0))
        return total

    def rounds(self) -> int:
        return max(self.messages, default=0)


async def _run(mpc: Any, job: wire.PartyJob, arrays: dict[str, np.ndarray],
               job_dir: Path) -> wire.PartyResult:
    from ppml_lab.engines.smpc import protocols, sigmoid

    pid = mpc.pid
    meter = _Meter(mpc)
    await mpc.start()
    connect = process_age()
    _emit("overhead", step=0, kind="connect_seconds", value=connect, unit="s")
    extra: dict[str, Any] = {"threshold": mpc.threshold, "no_prss": bool(mpc.options.no_prss),
                             "sec_param": int(mpc.options.sec_param)}
    total = 1 if job.protocol == "scoring" else job.iterations
    step_name = {"training": "iteration", "aggregation": "round"}.get(job.protocol, "scoring")
    seconds: list[float] = []
    marks: list[tuple[int, int]] = [(meter.bytes_sent(), meter.rounds())]  # after connecting
    t0 = time.perf_counter()

    def report(step: int, dt: float) -> None:
        # step 0: the one-time set-up (input sharing) is done; 1, 2, ...: iterations/rounds
        sent, rounds = meter.bytes_sent(), meter.rounds()
        marks.append((sent, rounds))
        if step == 0:
            extra["setup_seconds"] = dt
            _emit("overhead", step=0, kind="setup_seconds", value=dt, unit="s")
        else:
            seconds.append(dt)
            _emit("progress", step=step, total=total,
                  message=f"{step_name} {step}/{total}: {dt:.3f} s")
            _emit("overhead", step=step, kind="seconds", value=dt, unit="s")
        _emit("overhead", step=step, kind="bytes_sent", value=sent, unit="B")
        _emit("overhead", step=step, kind="rounds", value=rounds, unit="")

    def on_model(step: int, w: np.ndarray) -> None:
        if pid == 0:
            _emit("weights", step=step, weights=[float(v) for v in w])

    result = wire.PartyResult(party=pid, connect_seconds=connect)
    if job.protocol == "training":
        approx = sigmoid.get(job.sigmoid)
        n, _ = protocols.data_shape(job)
        scales = protocols.training_scales(job, n, approx)
        extra["sigmoid"] = approx.describe()
        extra["scales"] = {"fx": scales.fx, "fw": scales.fw, "bits": scales.bits,
                           "shift": scales.shift, "compare_bits": scales.compare_bits}
        w = await protocols.train(mpc, job, arrays["X"], arrays.get("y", np.zeros(0)), report)
        result.weights = [float(v) for v in w]
        size = float(np.max(np.abs(w))) if len(w) else 0.0
        extra["out_of_bounds"] = size >= 2.0 ** job.integer_bits
        if extra["out_of_bounds"] and pid == 0:
            # Nothing is revealed during training, so this is the first moment it can be seen.
            _emit("log", level="warning", message=(
                f"the revealed model has coefficients of size {size:.3g}, beyond "
                f"2^{job.integer_bits}: the training left the range the secure computation was "
                f"sized for, so the model is meaningless. With a polynomial sigmoid this means "
                f"the training diverged (the plaintext twin diverges too): lower the step size."))
    elif job.protocol == "aggregation":
        w = await protocols.aggregate(mpc, job, arrays["X"], arrays.get("y", np.zeros(0)),
                                      arrays["w0"], report, on_model)
        result.weights = [float(v) for v in w]
    else:
        scores = await protocols.score(mpc, job, arrays.get("weights"), arrays.get("X_score"),
                                       report)
        result.scores = None if scores is None else [float(v) for v in scores]
    result.seconds = time.perf_counter() - t0
    result.iteration_seconds = seconds
    result.bytes_sent = meter.bytes_sent()
    result.rounds = meter.rounds()
    if job.protocol == "training" and len(marks) >= 2:
        # marks: connected, set-up done, then one per iteration
        extra["setup_bytes"] = marks[1][0] - marks[0][0]
        extra["setup_rounds"] = marks[1][1] - marks[0][1]
        if len(marks) > 2:
            k = len(marks) - 2
            extra["bytes_per_step"] = (marks[-1][0] - marks[1][0]) / k
            extra["rounds_per_step"] = (marks[-1][1] - marks[1][1]) / k
    elif len(marks) > 1:
        k = len(marks) - 1
        extra["bytes_per_step"] = (marks[-1][0] - marks[0][0]) / k
        extra["rounds_per_step"] = (marks[-1][1] - marks[0][1]) / k
    extra["messages_per_peer"] = list(meter.messages)
    result.extra = extra
    await mpc.shutdown()
    result.write(job_dir)
    return result


def main(argv: list[str]) -> int:
    """Run one party; see the module docstring for the arguments and exit codes."""
    _install_signal_handlers()
    try:
        job_dir, mpyc_args, pid = _parse(list(argv))
        job, arrays = _load(job_dir, pid)
    except JobError as exc:
        print(f"smpc party: {exc}", file=sys.stderr, flush=True)
        return 2
    # MPyC reads its options from sys.argv when it is first imported.
    sys.argv = [PROG, *mpyc_args]
    from mpyc.runtime import mpc

    if len(mpc.parties) != job.parties or mpc.pid != pid:
        print(f"smpc party: MPyC runs {len(mpc.parties)} parties with this one as {mpc.pid}; "
              f"the job has {job.parties} parties and -I {pid}: give one -P host:port per party",
              file=sys.stderr, flush=True)
        return 2
    try:
        mpc.run(_run(mpc, job, arrays, job_dir))
    except ValueError as exc:
        print(f"smpc party {pid + 1}: {exc}", file=sys.stderr, flush=True)
        return 1
    except (ConnectionError, OSError) as exc:
        print(f"smpc party {pid + 1}: connection failed: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
