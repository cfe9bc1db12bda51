"""Find the Flower processes a run started, from /proc (Linux), for the lifecycle tests.

Every process of a local Flower deployment (SuperLink, SuperNodes, SuperExecs, the ServerApp and
ClientApp processes, ``flwr run``) carries the run's own ``FLWR_HOME`` (a temporary folder named
``ppml-lab-flower-...``) in its environment, even one that was orphaned: that is how a process
left behind is found, whoever its parent is now.
"""

from __future__ import annotations

import os
from pathlib import Path

MARK = b"FLWR_HOME="


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _alive(pid: str) -> bool:
    stat = _read(Path("/proc") / pid / "stat")
    # A zombie (state Z) has exited; it only waits for its parent to read its status.
    return bool(stat) and stat.rsplit(b")", 1)[-1].split()[0] != b"Z"


def flower_homes_of_descendants(root: int | None = None) -> dict[int, str]:
    """``{pid: FLWR_HOME}`` of the living descendants of ``root`` (default: this process)
    that belong to a lab Flower run."""
    root = os.getpid() if root is None else root
    parent: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            stat = _read(proc / "stat")
            if stat:
                parent[int(proc.name)] = int(stat.rsplit(b")", 1)[-1].split()[1])
    out = {}
    for pid in parent:
        p = pid
        while p in parent and p not in (0, 1, root):
            p = parent[p]
        if p == root and pid != root and _alive(str(pid)):
            home = flower_home(pid)
            if home:
                out[pid] = home
    return out


def flower_home(pid: int) -> str:
    """The ``FLWR_HOME`` of a lab Flower process, else ""."""
    for entry in _read(Path("/proc") / str(pid) / "environ").split(b"\0"):
        if entry.startswith(MARK) and b"ppml-lab-flower-" in entry:
            return entry[len(MARK):].decode(errors="replace")
    return ""


def processes_with_homes(homes: set[str]) -> list[tuple[int, str]]:
    """Living processes (anyone's children) of the Flower runs whose ``FLWR_HOME`` is in
    ``homes``: ``(pid, command line)``."""
    left = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and _alive(proc.name) and flower_home(int(proc.name)) in homes:
            cmd = _read(proc / "cmdline").replace(b"\0", b" ").decode(errors="replace")
            left.append((int(proc.name), cmd))
    return left
