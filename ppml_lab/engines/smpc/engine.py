"""The SMPC engine: MPyC parties as real processes on loopback (or on several machines).

A run splits the training rows (or columns) between the parties, writes each party's own part to
a private job directory, starts one party process per party through the lab's process runtime
(``ppml-lab child ppml_lab.engines.smpc.party ...``: the same command from a bundle), streams
their progress back as events, and reads their results. The parties talk to each other over TCP;
the lab's process sees only what every party sees at the end: the revealed output.

Nothing here imports MPyC: the parties do (``party.py``), so listing the patterns stays fast.
"""

from __future__ import annotations

import ipaddress
import socket
import tempfile
import time
from collections.abc import Generator
from typing import Any

import numpy as np

from ppml_lab.data import PreparedData
from ppml_lab.engines.base import CancelToken, EngineResult
from ppml_lab.engines.common import evaluate, metric_events
from ppml_lab.engines.events import (
    ROWS_PER_PARTY,
    Artifact,
    Event,
    Log,
    Metric,
    Overhead,
    Progress,
)
from ppml_lab.engines.runtime import ProcessGroup, child_argv, free_ports
from ppml_lab.engines.smpc import wire
from ppml_lab.engines.smpc.params import SMPCParams, parse_hosts
from ppml_lab.models import LinearModel, ModelParams

PARTY_MODULE = "ppml_lab.engines.smpc.party"

#: Public bound on features, model and scores: |value| < 2^8. Standardised or bounds-scaled
#: features fit; 16 bits cost 12% more bytes for nothing (bench_smpc.py).
INTEGER_BITS = 8

#: Seeded (not private) randomness: which rows go to which party.
_SPLIT_STREAM = 401


def check(data: PreparedData, params: SMPCParams) -> None:
    """Refuse what the secure protocols cannot run, with what to change."""
    if data.n_classes != 2:
        raise ValueError(
            f"the secure protocols train a two-class logistic model; this target has "
            f"{data.n_classes} class{'es' if data.n_classes != 1 else ''}. Choose a yes/no "
            "target."
        )
    if params.split == "rows" and data.n_train < 2 * params.parties:
        raise ValueError(
            f"{params.parties} parties need at least {2 * params.parties} training rows "
            f"(2 each); the training split has {data.n_train}."
        )
    if params.split == "columns" and data.n_features < params.parties:
        raise ValueError(
            f"the columns split gives every party at least one column: {params.parties} parties "
            f"need {params.parties} feature columns, the data has {data.n_features}."
        )
    if params.protocol == "scoring" and len(data.y_test) < params.parties - 1:
        raise ValueError("scoring needs at least one test record per record owner")


def split_parties(data: PreparedData, params: SMPCParams, seed: int) -> list[np.ndarray]:
    """Row indices (rows split) or column indices (columns split) of each party."""
    m = params.parties
    if params.split == "columns":
        return [np.asarray(c) for c in np.array_split(np.arange(data.n_features), m)]
    order = np.random.default_rng([seed, _SPLIT_STREAM]).permutation(data.n_train)
    return [np.sort(part) for part in np.array_split(order, m)]


def make_job(
    data: PreparedData, model: ModelParams, params: SMPCParams, seed: int,
    parts: list[np.ndarray],
) -> wire.PartyJob:
    """The shared, non-secret settings of the run (``job.json``), also used by the twin."""
    m = params.parties
    if params.split == "rows":
        rows = [len(p) for p in parts]
        columns = [data.n_features] * m
    else:
        rows = [data.n_train] * m
        columns = [len(p) for p in parts]
    return wire.PartyJob(
        protocol=params.protocol, split=params.split, parties=m, rows=rows, columns=columns,
        iterations=params.iterations, learning_rate=params.step_size, l2=float(model.l2),
        fixed_point_bits=params.fixed_point_bits, integer_bits=INTEGER_BITS,
        sigmoid=params.sigmoid, local_epochs=1, batch_size=int(model.batch_size),
        seed=int(seed), extra={"aggregation_learning_rate": float(model.learning_rate)},
    )


def write_job(
    job_dir: str, job: wire.PartyJob, data: PreparedData, params: SMPCParams,
    parts: list[np.ndarray], scoring_weights: np.ndarray | None,
) -> None:
    """Write ``job.json`` and each party's own ``party_<i>.npz`` (nothing else goes to a party)."""
    m = params.parties
    X, y = data.X_train, data.y_train.astype(np.float64)
    job.write(job_dir)
    empty = np.zeros((0,))
    score_parts = (
        np.array_split(np.arange(len(data.y_test)), m - 1) if params.protocol == "scoring" else []
    )
    for i, part in enumerate(parts):
        arrays: dict[str, np.ndarray] = {}
        if params.protocol == "scoring":
            if i == 0:
                arrays["weights"] = np.asarray(scoring_weights, dtype=np.float64)
            else:
                arrays["X_score"] = data.X_test[score_parts[i - 1]]
            arrays.setdefault("X", np.zeros((0, data.n_features)))
            arrays["y"] = empty
        elif params.split == "rows":
            arrays["X"], arrays["y"] = X[part], y[part]
        else:
            arrays["X"] = X[:, part]
            arrays["y"] = y if i == 0 else empty
        if params.protocol == "aggregation":
            arrays["w0"] = np.zeros(data.n_features + 1)
        np.savez(wire.party_input(job_dir, i), **arrays)


def _is_local(address: str) -> bool:
    host = address.rsplit(":", 1)[0].strip("[]")
    if host in ("localhost", socket.gethostname()):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Collector:
    """Turns the parties' event lines into the lab's events (bytes summed over parties)."""

    def __init__(self, parties: int, total: int, step_name: str,
                 on_weights: Any = None) -> None:
        self.bytes = [0.0] * parties
        self.total = total
        self.step_name = step_name
        self.on_weights = on_weights
        self.secure_seconds = 0.0

    def parser(self, party: int) -> Any:
        def parse(line: str, stream: str) -> Event | list[Event] | None:
            obj = wire.parse_event_line(line)
            if obj is None:
                # MPyC's own log lines: party 1's on stdout as info, any party's stderr as a warning.
                if stream == "stderr" and line.strip():
                    return Log(message=f"party {party + 1}: {line.strip()}", level="warning")
                if party == 0 and line.strip():
                    return Log(message=f"party 1: {line.strip()}", level="info")
                return None
            return self._event(party, obj)

        return parse

    def _event(self, party: int, obj: dict[str, Any]) -> Event | list[Event] | None:
        kind = obj.get("event")
        step = int(obj.get("step", -1))
        if kind == "overhead" and obj.get("kind") == "bytes_sent":
            self.bytes[party] = float(obj.get("value", 0.0))
            return Overhead(step=step, kind="bytes_sent", value=sum(self.bytes), unit="B")
        if party != 0:
            return None  # one party speaks for the run's progress
        if kind == "progress":
            message = f"{self.step_name} {step}/{self.total}"
            if self.step_name == "iteration":
                message += " (the model stays secret-shared until the last one)"
            return Progress(step=step, total=int(obj.get("total", self.total)), message=message)
        if kind == "overhead" and obj.get("kind") == "seconds":
            # A party reports each iteration's time; the run shows the running total.
            self.secure_seconds += float(obj.get("value", 0.0))
            return Overhead(step=step, kind="secure_seconds", value=self.secure_seconds, unit="s")
        if kind == "overhead":
            return Overhead(step=step, kind=str(obj.get("kind")), value=float(obj.get("value", 0.0)),
                            unit=str(obj.get("unit", "")))
        if kind == "weights":  # aggregation: the model is public after every round
            weights = np.asarray([float(v) for v in obj.get("weights", [])])
            return self.on_weights(step, weights) if self.on_weights is not None else None
        if kind == "log":
            return Log(message=str(obj.get("message", "")), level=str(obj.get("level", "info")))
        return None


def linear_model(weights: np.ndarray, n_features: int) -> LinearModel:
    """A two-class logistic model from coefficients followed by the intercept."""
    net = LinearModel(n_features=n_features, n_classes=2)
    w = np.asarray(weights, dtype=np.float64)
    net.params = [w[:n_features].reshape(-1, 1).copy(), w[n_features:n_features + 1].copy()]
    return net


def run_parties(
    job_dir: str, params: SMPCParams, *, cancel: CancelToken, collector: _Collector,
) -> Generator[Event, None, list[wire.PartyResult]]:
    """Start the local parties, stream their events, return every party's result."""
    m = params.parties
    hosts = parse_hosts(params.hosts)
    addresses = hosts or [f"127.0.0.1:{port}" for port in free_ports(m)]
    peers = [arg for address in addresses for arg in ("-P", address)]
    local = [i for i, address in enumerate(addresses) if not hosts or _is_local(address)]
    with ProcessGroup(name="smpc", cancel=cancel, timeout=params.timeout) as group:
        for i in range(m):
            argv = child_argv(PARTY_MODULE, ["--job", job_dir, "-M", str(m), "-I", str(i), *peers])
            if i in local:
                group.start_command(argv, name=f"party {i + 1}", parse=collector.parser(i))
            else:
                yield Log(
                    message=f"Party {i + 1} runs on {addresses[i]}: copy job.json and "
                    f"party_{i}.npz from {job_dir} there and run: ppml-lab child {PARTY_MODULE} "
                    f"--job <that folder> -M {m} -I {i} " + " ".join(peers),
                    level="warning",
                )
        yield from group.events()
    return [wire.PartyResult.read(job_dir, i) for i in local]


def run_smpc(
    data: PreparedData, model: ModelParams, params: SMPCParams, *, seed: int, cancel: CancelToken,
) -> Generator[Event, None, EngineResult]:
    """Run the protocol with real party processes, next to its plaintext twin."""
    check(data, params)
    t_start = time.perf_counter()
    parts = split_parties(data, params, seed)
    step_name = {"training": "iteration", "aggregation": "round"}.get(params.protocol, "scoring pass")
    total = 1 if params.protocol == "scoring" else params.iterations
    if params.split == "rows":
        yield Artifact(name=ROWS_PER_PARTY, payload=_rows_payload(data, parts))
    # The same computation in plaintext: the yardstick for fidelity and time (and, for scoring,
    # the model the model owner holds).
    with tempfile.TemporaryDirectory(prefix="ppml-smpc-") as job_dir:
        job = make_job(data, model, params, seed, parts)
        twin, plaintext_seconds = plaintext_twin(data, job, parts)
        write_job(job_dir, job, data, params, parts, twin.get("weights"))
        collector = _Collector(params.parties, total, step_name,
                               on_weights=lambda step, w: list(
                                   metric_events(step, evaluate(linear_model(w, data.n_features),
                                                                data))))
        yield Progress(step=0, total=total, message=f"starting {params.parties} party processes")
        results = yield from run_parties(job_dir, params, cancel=cancel, collector=collector)
    first = next((r for r in results if r.party == 0), None)
    if first is None:
        raise RuntimeError("party 1's result did not arrive")
    result = _result(data, params, results, first, twin, plaintext_seconds,
                     time.perf_counter() - t_start, parts)
    yield from final_events(result, total)
    return result


def _rows_payload(data: PreparedData, parts: list[np.ndarray]) -> dict[str, Any]:
    y = data.y_train
    return {
        "party": "party",
        "parties": [
            {"label": f"party {i + 1}", "rows": int(len(p)),
             "class_counts": [int(v) for v in np.bincount(y[p], minlength=data.n_classes)]}
            for i, p in enumerate(parts)
        ],
        "class_names": list(data.class_names),
        "empty": [],
        "named": True,
        "description": "How the training rows were split between the parties: each inputs only "
        "its own rows, secret-shared.",
    }


def _result(
    data: PreparedData, params: SMPCParams, results: list[wire.PartyResult],
    first: wire.PartyResult, twin: dict[str, Any], plaintext_seconds: float, wall: float,
    parts: list[np.ndarray],
) -> EngineResult:
    d = data.n_features
    secure_seconds = max((r.seconds for r in results), default=0.0)
    overhead: dict[str, float] = {
        "seconds": wall,
        "secure_seconds": secure_seconds,
        "connect_seconds": max((r.connect_seconds for r in results), default=0.0),
        "bytes_sent": float(sum(r.bytes_sent for r in results)),
        "rounds": float(max((r.rounds for r in results), default=0)),
        "plaintext_seconds": plaintext_seconds,
    }
    if plaintext_seconds > 0:
        overhead["time_vs_plaintext"] = secure_seconds / plaintext_seconds
    fidelity: dict[str, float] = {}
    final: dict[str, float]
    model_out: Any = None
    if params.protocol == "scoring":
        secure = np.concatenate([np.asarray(r.scores or [], dtype=float)
                                 for r in sorted(results, key=lambda r: r.party) if r.party > 0])
        plain = np.asarray(twin["scores"], dtype=float)
        fidelity["max_abs_error"] = float(np.max(np.abs(secure - plain))) if len(secure) else 0.0
        pred = (secure > 0).astype(int)
        final = {"test_accuracy": float(np.mean(pred == data.y_test)),
                 "plaintext_test_accuracy": float(np.mean((plain > 0).astype(int) == data.y_test))}
        model_out = linear_model(np.asarray(twin["weights"]), d)
    else:
        weights = np.asarray(first.weights, dtype=float)
        model_out = linear_model(weights, d)
        final = evaluate(model_out, data)
        plain_model = linear_model(np.asarray(twin["weights"]), d)
        final["plaintext_test_accuracy"] = evaluate(plain_model, data)["test_accuracy"]
        fidelity["max_abs_error"] = float(np.max(np.abs(weights - np.asarray(twin["weights"]))))
    warnings: list[str] = []
    if any(r.extra.get("out_of_bounds") for r in results):
        warnings.append(
            "The secure training left the range its fixed-point numbers can hold (the revealed "
            "model is beyond the public bound), so the model is not trustworthy: lower the step "
            "size or the iterations."
        )
    if not np.all(np.isfinite(np.asarray(twin.get("weights", [0.0]), dtype=float))):
        warnings.append(
            "The plaintext twin diverged with this step size (the polynomial sigmoid turns back "
            "beyond its range): lower the step size."
        )
    extra: dict[str, Any] = {
        "parties": params.parties,
        "threshold": (params.parties - 1) // 2,
        "bytes_sent_per_party": [int(r.bytes_sent) for r in results],
        "rounds_per_party": [int(r.rounds) for r in results],
        "iteration_seconds": list(first.iteration_seconds),
    }
    if params.split == "rows":
        extra["rows_per_party"] = [int(len(p)) for p in parts]
    else:
        extra["columns_per_party"] = [int(len(p)) for p in parts]
    extra["sigmoid"] = first.extra.get("sigmoid", params.sigmoid)
    return EngineResult(model=model_out, final=final, overhead=overhead, extra=extra,
                        fidelity={k: v for k, v in fidelity.items() if np.isfinite(v)},
                        warnings=warnings)


def final_events(result: EngineResult, total: int) -> list[Event]:
    """The revealed model's metrics at the last step (nothing is revealed before it)."""
    events: list[Event] = list(metric_events(total, {
        k: v for k, v in result.final.items() if k in ("train_loss", "test_loss",
                                                       "train_accuracy", "test_accuracy")
    }))
    events.append(Metric(step=total, name="plaintext_test_accuracy",
                         value=float(result.final.get("plaintext_test_accuracy", float("nan")))))
    return events


def plaintext_twin(
    data: PreparedData, job: wire.PartyJob, parts: list[np.ndarray]
) -> tuple[dict[str, Any], float]:
    """The same computation in plaintext (numpy): the yardstick for fidelity and time.

    Returns ``({"weights": coefficients then intercept, "scores": test scores (scoring)},
    seconds of the computation the parties do securely)``. For scoring, the weights are the
    model the model owner holds (trained in plaintext first), and only the scoring is timed.
    """
    from ppml_lab.engines.smpc import plaintext

    X, y = data.X_train, data.y_train.astype(np.float64)
    if job.protocol == "aggregation":
        t0 = time.perf_counter()
        weights = plaintext.aggregation([X[p] for p in parts], [y[p] for p in parts], job)
        return {"weights": weights}, time.perf_counter() - t0
    t0 = time.perf_counter()
    weights = plaintext.train(X, y, job)
    seconds = time.perf_counter() - t0
    if job.protocol != "scoring":
        return {"weights": weights}, seconds
    t0 = time.perf_counter()
    scores = plaintext.score(data.X_test, weights, job)
    return {"weights": weights, "scores": scores}, time.perf_counter() - t0
