"""Can the Flower backend run here, and with these settings? (No Flower import.)

The federated pattern runs in-process by default; ``backend = "flower"`` runs the same
experiment on Flower's deployment engine (a SuperLink and one SuperNode per client, see
:mod:`.flower_deploy`). Flower is an optional extra (``pip install ppml-lab[flower]``): this module
finds out whether it is installed in a version the lab was written for *without importing it*
(the window lists the patterns without paying Flower's import), and refuses the settings a
Flower run cannot honour, each with a sentence that says what to change.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import sys
from typing import Any

__all__ = [
    "INSTALL_HINT",
    "MAX_LOCAL_NODES",
    "PROGRAMS",
    "check_flower_params",
    "flower_problem",
    "flower_version",
    "parse_superlink",
    "program_path",
    "validate_flower",
]

#: How to get the optional Flower extra.
INSTALL_HINT = "pip install 'ppml-lab[flower]'"

#: The Flower versions this backend was written and tested against: [low, high).
SUPPORTED = ((1, 42), (2, 0))

#: The programs a local deployment starts (all installed by the ``flwr`` package).
PROGRAMS = ("flower-superlink", "flower-supernode", "flower-superexec", "flwr")

#: At most this many SuperNodes are started on this computer (each is two Python processes of
#: about 140 MB); more clients need the simulation, or SuperNodes on other machines.
MAX_LOCAL_NODES = 16


def flower_version() -> str | None:
    """The installed ``flwr`` version, or None when it is not installed (nothing is imported)."""
    if importlib.util.find_spec("flwr") is None:
        return None
    try:
        return importlib.metadata.version("flwr")
    except importlib.metadata.PackageNotFoundError:
        return None


def _version_tuple(text: str) -> tuple[int, int]:
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return (parts + [0, 0])[0], (parts + [0, 0])[1]


def program_path(name: str) -> str | None:
    """Where Flower program ``name`` is: next to this Python first (the lab's own environment),
    then on the PATH.
    """
    here = os.path.dirname(sys.executable)
    return shutil.which(name, path=here) or shutil.which(name)


def flower_problem() -> str | None:
    """None when the Flower backend can run here; else why not and how to fix it."""
    if getattr(sys, "frozen", False):
        return (
            "The Flower backend needs the lab installed with Python (not the stand-alone app): "
            f"{INSTALL_HINT}. The in-process simulation works everywhere."
        )
    version = flower_version()
    low, high = SUPPORTED
    wanted = f"{low[0]}.{low[1]} or newer, below {high[0]}"
    if version is None:
        return (
            "The Flower backend needs Flower (the flwr package), which is not installed. "
            f"Install it with: {INSTALL_HINT} (Flower {wanted}), or use the in-process "
            "simulation."
        )
    if not low <= _version_tuple(version) < high:
        return (
            f"Flower {version} is installed, but the lab's Flower backend needs Flower {wanted}. "
            f"Install a matching version with: {INSTALL_HINT}"
        )
    missing = [p for p in PROGRAMS if program_path(p) is None]
    if missing:
        return (
            f"Flower {version} is installed but its programs {', '.join(missing)} were not "
            f"found next to this Python or on the PATH. Reinstall it with: {INSTALL_HINT}"
        )
    return None


def parse_superlink(text: str | None) -> tuple[str, int] | None:
    """``(host, port)`` of a user-given SuperLink address, or None for "start one here".

    Raises ValueError with an example for anything but ``host:port``.
    """
    if text is None or not str(text).strip():
        return None
    value = str(text).strip()
    for prefix in ("http://", "https://"):
        if value.startswith(prefix):
            value = value[len(prefix):]
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(
            f"superlink = {text!r} is not an address: write host:port, e.g. "
            "'192.168.1.20:9092' (the address the SuperLink was started with: "
            "flower-superlink --host ... --port ...), or leave it empty to start a SuperLink and "
            "the SuperNodes on this computer."
        )
    return host, int(port)


def check_flower_params(params: Any, *, n_clients: int) -> None:
    """Refuse settings a Flower run cannot honour (ValueError saying what to change).

    ``n_clients`` is the number of clients of the split: SuperNodes started here, or expected
    at a user-given SuperLink.
    """
    remote = parse_superlink(params.superlink) is not None
    if params.dropout_rate:
        raise ValueError(
            f"dropout_rate = {params.dropout_rate:g}: with the Flower backend, dropouts are real "
            "(a SuperNode that does not answer), not simulated. Set the dropout rate to 0, or use "
            "the in-process simulation to study dropouts."
        )
    if not remote and n_clients > MAX_LOCAL_NODES:
        raise ValueError(
            f"{n_clients} clients would start {n_clients} Flower SuperNodes on this computer "
            f"(two processes of about 140 MB each); the lab starts at most {MAX_LOCAL_NODES}. "
            "Use fewer clients, the in-process simulation, or SuperNodes on other machines "
            "(set superlink to their SuperLink's address)."
        )
    if params.secure_aggregation:
        _check_secagg(params, n_clients)


def _check_secagg(params: Any, n_clients: int) -> None:
    """Flower's SecAgg+ needs two clients per round and a threshold below their number."""
    per_round = max(1, int(round(params.client_fraction * n_clients)))
    if params.epsilon is None and per_round < 2:
        raise ValueError(
            f"Secure aggregation with Flower (SecAgg+) needs at least 2 clients per round; "
            f"{params.client_fraction:g} of {n_clients} clients selects {per_round}. Select "
            "more clients per round."
        )
    t = params.secagg_threshold
    if t is not None and per_round >= 3 and t >= per_round:
        raise ValueError(
            f"secagg_threshold {t}: Flower's SecAgg+ needs the threshold below the number of "
            f"clients in a round ({per_round}), so that it can rebuild the secrets of a client "
            f"that drops out. Use at most {per_round - 1}, or leave it empty (a majority)."
        )


def validate_flower(data: Any, params: Any) -> None:
    """Every Flower check that can be made before training (the engine's ``validate``)."""
    problem = flower_problem()
    if problem is not None:
        raise ValueError(problem)
    parse_superlink(params.superlink)  # a malformed address is refused before any work
    if params.partition == "column":
        column = data.train_frame[params.partition_column]
        n_clients = int(column.astype("string").fillna("(missing)").nunique())
    else:
        n_clients = int(params.clients)
    check_flower_params(params, n_clients=n_clients)
