"""What the lab, the Flower ServerApp and the ClientApps tell each other (no Flower import).

* The lab -> both apps: a :class:`RunSpec` (model, strategy, rounds, DP noise, secure
  aggregation ...), written into the Flower App's run configuration as one key, ``ppml-spec``
  (base64 of JSON, so that no TOML quoting can break it).
* The ServerApp -> the lab: one line per event on its standard output, ``ppml-lab-flower: {json}``.
  Flower's log stream (``flwr run --stream``) carries these lines to the lab whether the
  SuperLink runs here or on another machine; the lab turns them into its typed events.
  The global model travels in them as base64 of little-endian float64, so the lab evaluates
  exactly the model the federation computed.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "MARKER",
    "SPEC_KEY",
    "RunSpec",
    "decode_line",
    "decode_vector",
    "encode_line",
    "encode_vector",
]

#: Prefix of the ServerApp's lines meant for the lab.
MARKER = "ppml-lab-flower: "

#: The run-configuration key that holds the :class:`RunSpec`.
SPEC_KEY = "ppml-spec"

#: Message types of the lab's own Flower messages (besides Flower's "train").
QUERY = "query"


@dataclass(frozen=True, kw_only=True)
class RunSpec:
    """Everything the ServerApp and the ClientApps need to run the lab's experiment.

    Attributes
    ----------
    seed : int
        The experiment seed: the model initialisation and the clients' shuffling streams (and,
        only with ``deterministic`` noise, the DP noise and client sampling).
    model : dict
        The ``[model]`` settings (``ModelParams`` as a mapping).
    n_features, n_classes : int
        The prepared data's shape, to build the same model as the lab.
    clients : int
        How many SuperNodes (clients) take part; the ServerApp waits for them.
    rounds, local_epochs : int
    client_fraction : float
    strategy : str
        ``"fedavg"`` or ``"fedprox"`` (with ``mu``).
    dp : dict or None
        Client-level DP: ``noise_multiplier``, ``clip``, ``expected_clients``, ``deterministic``.
    secagg : dict or None
        Flower SecAgg+: ``threshold`` (None = a majority), ``max_weight``, ``clipping_range``.
    rows : list of int
        The clients' row counts, when the lab made the split (empty for SuperNodes elsewhere).
    replay : bool
        With ``rows`` and without secure aggregation, the ServerApp hands each client the state
        of the shuffling stream it would have drawn from in the in-process simulation, so that
        a run reproduces the simulation exactly.
    node_wait : float
        Seconds the ServerApp waits for the SuperNodes to connect.
    reply_timeout : float
        Seconds it waits for a round's replies (a client that misses it counts as dropped).
    """

    seed: int
    model: dict[str, Any]
    n_features: int
    n_classes: int
    clients: int
    rounds: int
    local_epochs: int = 1
    client_fraction: float = 1.0
    strategy: str = "fedavg"
    mu: float = 0.0
    dp: dict[str, Any] | None = None
    secagg: dict[str, Any] | None = None
    rows: list[int] = field(default_factory=list)
    replay: bool = True
    node_wait: float = 120.0
    reply_timeout: float = 600.0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_config_value(self) -> str:
        return base64.b64encode(json.dumps(asdict(self)).encode()).decode("ascii")

    @classmethod
    def from_config_value(cls, text: str) -> RunSpec:
        return cls(**json.loads(base64.b64decode(text)))


def encode_vector(vec: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(vec, dtype="<f8").tobytes()).decode("ascii")


def decode_vector(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f8").copy()


def encode_line(kind: str, **payload: Any) -> str:
    """One line for the lab: ``ppml-lab-flower: {"kind": ..., ...}``."""
    return MARKER + json.dumps({"kind": kind, **payload}, separators=(",", ":"))


def decode_line(line: str) -> dict[str, Any] | None:
    """The payload of a line from :func:`encode_line` (anywhere in ``line``), else None."""
    at = line.find(MARKER)
    if at < 0:
        return None
    try:
        payload = json.loads(line[at + len(MARKER):])
    except json.JSONDecodeError:
        return None
    return payload if isinstance(payload, dict) and "kind" in payload else None
