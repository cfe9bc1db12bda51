"""What the SMPC engine and its party processes exchange: job files, event lines, result files.

The engine (in the lab's process) writes one private job directory per run. Party ``i`` gets
only its own input, ``party_<i>.npz``, plus the shared, non-secret ``job.json`` (sizes and
settings); it reads nothing else. Each party prints progress as lines starting with
:data:`EVENT_PREFIX` followed by one JSON object (see :func:`event_line`), which the engine turns
back into typed events, and writes ``result_<i>.json`` when it finishes (see :class:`PartyResult`).

Party inputs (``party_<i>.npz``; arrays absent when a party holds none of that kind):

``X``
    This party's part of the training features: its rows (``split = "rows"``: all columns) or its
    columns (``split = "columns"``: all rows, in the common row order), float64.
``y``
    Labels 0/1 of its rows (rows split), or of all rows for the label holder (columns split,
    party 0); shape (0,) for a party without labels.
``X_score``
    Scoring protocol: the records this party owns and wants scored (party 1 and up).
``weights``
    Scoring protocol: the model of the model owner (party 0): coefficients, then the intercept.
``w0``
    Aggregation protocol: the initial model (all parties start from it), coefficients then the
    intercept.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "EVENT_PREFIX",
    "JOB_FILE",
    "PartyJob",
    "PartyResult",
    "event_line",
    "parse_event_line",
    "party_input",
    "party_result",
]

#: A line a party prints to report progress: this prefix, then a JSON object.
EVENT_PREFIX = "PPML-EVENT "
JOB_FILE = "job.json"


def party_input(job_dir: str | Path, party: int) -> Path:
    return Path(job_dir) / f"party_{party}.npz"


def party_result(job_dir: str | Path, party: int) -> Path:
    return Path(job_dir) / f"result_{party}.json"


@dataclass(frozen=True, kw_only=True)
class PartyJob:
    """The shared settings of a run (``job.json``): nothing in here is secret.

    Attributes
    ----------
    protocol : str
        "training" (secure gradient descent on the secret-shared data), "aggregation" (local
        plaintext training, secure sum of the updates each round) or "scoring" (secret model x
        secret records -> only the scores).
    split : str
        "rows" (each party holds some rows) or "columns" (each party holds some columns of the
        same rows; party 0 also holds the labels).
    parties : int
        Number of parties M.
    rows : list of int
        Rows each party holds (rows split), or the common number of rows ``[n] * M`` (columns).
    columns : list of int
        Columns each party holds (columns split), or ``[d] * M`` (rows split).
    iterations : int
        Gradient-descent iterations (training) or rounds (aggregation).
    learning_rate : float
        Step size of gradient descent on the mean logistic loss.
    l2 : float
        L2 penalty (0 for none).
    fixed_point_bits : int
        Fractional bits f of MPyC's secure fixed point (``mpc.SecFxp(l, f)``).
    integer_bits : int
        Integer bits: the secure fixed-point type has ``l = integer_bits + fixed_point_bits``.
    sigmoid : str
        Name of the sigmoid approximation (see ``ppml_lab.engines.smpc.sigmoid``).
    local_epochs : int
        Aggregation: local passes per round.
    batch_size : int
        Aggregation: local minibatch size.
    seed : int
        Seed of the non-secret randomness (local SGD shuffling in aggregation).
    """

    protocol: str
    split: str
    parties: int
    rows: list[int]
    columns: list[int]
    iterations: int
    learning_rate: float
    l2: float = 0.0
    fixed_point_bits: int = 16
    integer_bits: int = 16
    sigmoid: str = "poly3"
    local_epochs: int = 1
    batch_size: int = 64
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def write(self, job_dir: str | Path) -> Path:
        path = Path(job_dir) / JOB_FILE
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")
        return path

    @classmethod
    def read(cls, job_dir: str | Path) -> PartyJob:
        return cls(**json.loads((Path(job_dir) / JOB_FILE).read_text(encoding="utf-8")))


@dataclass(kw_only=True)
class PartyResult:
    """What a party writes when it finishes (``result_<i>.json``).

    Attributes
    ----------
    party : int
        Its id.
    weights : list of float or None
        Training/aggregation: the final model (coefficients, then the intercept), revealed to
        every party; None for scoring.
    scores : list of float or None
        Scoring: the scores (logits) of the records of this party, revealed only to it.
    iteration_seconds : list of float
        Wall time of each iteration/round (training, aggregation) as this party saw it.
    seconds : float
        Wall time of the whole protocol after the parties connected.
    connect_seconds : float
        From the start of the process to all parties connected.
    bytes_sent : int
        Bytes this party sent to the others (as MPyC counts them).
    rounds : int
        Message exchanges of this party: the largest number of messages it sent to one peer.
        Every MPyC communication step (a reshare after a secret product, an opening, an input)
        sends one message to each peer involved; steps that run concurrently share a round
        trip, so this is an upper bound on the communication rounds. MPyC has no round counter
        of its own; ``bytes_sent`` is MPyC's own count (``nbytes_sent`` of each connection).
    extra : dict
        Details for reports and benchmarks: the field size and scales, the sigmoid
        approximation (name, formula, range, largest error), bytes and messages of the one-time
        set-up and per iteration (see ``ppml_lab.engines.smpc.party``).
    """

    party: int
    weights: list[float] | None = None
    scores: list[float] | None = None
    iteration_seconds: list[float] = field(default_factory=list)
    seconds: float = 0.0
    connect_seconds: float = 0.0
    bytes_sent: int = 0
    rounds: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def write(self, job_dir: str | Path) -> Path:
        path = party_result(job_dir, self.party)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self)), encoding="utf-8")
        tmp.replace(path)
        return path

    @classmethod
    def read(cls, job_dir: str | Path, party: int) -> PartyResult:
        return cls(**json.loads(party_result(job_dir, party).read_text(encoding="utf-8")))


def event_line(kind: str, /, **fields: Any) -> str:
    """The line a party prints for one event: ``kind`` is "progress", "overhead" or "log".

    ``progress``: ``step``, ``total``, ``message``; ``overhead``: ``step``, ``kind``, ``value``,
    ``unit``; ``log``: ``message``, ``level``.
    """
    return EVENT_PREFIX + json.dumps({"event": kind, **fields})


def parse_event_line(line: str) -> dict[str, Any] | None:
    """The JSON object of an event line, or None for any other line."""
    if not line.startswith(EVENT_PREFIX):
        return None
    try:
        obj = json.loads(line[len(EVENT_PREFIX):])
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None
