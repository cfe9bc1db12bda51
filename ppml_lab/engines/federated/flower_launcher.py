"""Start a local Flower federation from one Python process that imports Flower once, then forks.

A local deployment is eight long-lived Flower processes (the SuperLink and its SuperExec, and per
SuperNode the SuperNode and its SuperExec) plus ``flwr run``. Started as separate programs, each
spends 1.5-2 s of CPU importing Flower (FastAPI, SQLAlchemy, protobuf, ...) before it does
anything: about 15 s of CPU that two cores need 7-8 s for. This launcher imports each Flower
program's entry point once and starts every process as a fork of itself, so each one is ready in
a fraction of a second; they are the same Flower programs (the console-script entry points of the
installed ``flwr``), run as separate processes talking HTTP over 127.0.0.1 exactly as when
started by hand.

Run as a child program of the lab (``ppml-lab child ppml_lab.engines.federated.flower_launcher
PLAN.json``); the plan says what to start (see :func:`~.flower_deploy.deploy`):

* ``link``: the SuperLink's arguments, ``host`` and ``port`` (its ``/health`` says it is up);
  everything else starts after that, so that SuperNodes do not back off for seconds;
* ``daemons``: the SuperExecs and SuperNodes (``name``, ``program``, ``args``), each writing to
  its own log file in ``logs``;
* ``run``: the arguments of ``flwr run``, whose output is this program's output: the lab reads
  the ServerApp's lines from it as from ``flwr run`` started on its own.

Exits with ``flwr run``'s exit code. When a SuperLink, SuperNode or SuperExec stops before
``flwr run`` has finished, it prints an ``error`` line (:func:`~.flower_wire.encode_line`) with
that process's last output and exits 1. Every fork stays in this program's process group, which
the lab's process runtime stops as a whole on finish, cancel, error or exit (the ServerApp and
ClientApp processes Flower starts included).

Only where ``fork`` is safe for this (Linux); elsewhere :mod:`.flower_deploy` starts the programs
one by one.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import signal
import sys
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ppml_lab.engines.federated.flower_wire import encode_line

__all__ = ["available", "main", "superlink_answers"]

#: Seconds to wait for the SuperLink to answer its health check.
_LINK_WAIT = 60.0


def available() -> bool:
    """True where the launcher is used: Linux, with ``os.fork``."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


@functools.cache
def entry_point(program: str) -> Callable[[], Any]:
    """The function that the installed ``flwr``'s console script ``program`` calls (imported;
    looked up once per program: reading every package's entry points takes time).
    """
    for ep in importlib.metadata.entry_points(group="console_scripts", name=program):
        if ep.value.startswith("flwr."):
            return ep.load()
    raise LookupError(f"the installed Flower has no program {program!r}")


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _exit_code(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)
    return 1


def fork(program: str, args: Sequence[str], log: Path | None) -> int:
    """Run ``program args`` (an imported Flower entry point) in a forked process; its pid.

    With ``log``, the process's standard output and error go to that file; else to this one's.
    """
    entry = entry_point(program)
    _flush()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:  # the child: never returns into the launcher's code
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if log is not None:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.close(fd)
        sys.argv = [program, *args]
        code = _exit_code(entry())
    except SystemExit as stop:
        code = _exit_code(stop.code)
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # noqa: BLE001 - reported in the process's own output
        traceback.print_exc()
    finally:
        _flush()
        os._exit(code)
    return 0  # pragma: no cover - unreachable


def superlink_answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when a SuperLink answers its health check at ``host:port``."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=timeout) as reply:
            return 200 <= reply.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _last_lines(path: Path, n: int = 6) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no output)"
    lines = [line.strip() for line in lines if line.strip()]
    return " | ".join(lines[-n:]) or "(no output)"


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was stopped by signal {os.WTERMSIG(status)}"
    return f"exited with code {os.waitstatus_to_exitcode(status)}"


class _Daemons:
    """The forked Flower processes that must outlive ``flwr run``: name and log by pid."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.by_pid: dict[int, tuple[str, Path]] = {}

    def start(self, name: str, program: str, args: Sequence[str]) -> Path:
        """Fork ``program``; the file its output goes to."""
        log = self.logs / (name.replace(" ", "_").replace("'", "") + ".log")
        self.by_pid[fork(program, args, log)] = (name, log)
        return log

    def check(self) -> None:
        """Raise ``_Stopped`` when one of them has exited."""
        for pid, (name, log) in list(self.by_pid.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                raise _Stopped(f"the Flower {name} {_describe(status)}: {_last_lines(log)}")


class _Stopped(RuntimeError):
    pass


def launch(plan: dict[str, Any]) -> int:
    logs = Path(plan["logs"])
    logs.mkdir(parents=True, exist_ok=True)
    daemons = _Daemons(logs)
    link = plan.get("link")
    if link:
        link_log = daemons.start("SuperLink", "flower-superlink", link["args"])
        deadline = time.monotonic() + _LINK_WAIT
        # Import the other programs while the SuperLink starts (the other core is free).
        for item in plan["daemons"]:
            entry_point(item["program"])
        entry_point("flwr")
        while not superlink_answers(link["host"], int(link["port"]), timeout=0.5):
            daemons.check()
            if time.monotonic() > deadline:
                raise _Stopped(
                    f"the Flower SuperLink did not start within {_LINK_WAIT:g} s: "
                    + _last_lines(link_log)
                )
            time.sleep(0.05)
    for item in plan["daemons"]:
        daemons.start(item["name"], item["program"], item["args"])
    runner = fork("flwr", plan["run"], None)
    while True:
        done, status = os.waitpid(runner, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            if code:  # a process that died first is the cause: say which
                time.sleep(0.3)
                daemons.check()
            return code
        daemons.check()
        time.sleep(0.1)


def main(argv: Sequence[str]) -> int:
    """``PLAN.json``: start what it says; ``flwr run``'s exit code, or 1 with an error line."""
    if len(argv) != 1:
        print("usage: flower_launcher PLAN.json", file=sys.stderr)
        return 2
    try:
        plan = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
        return launch(plan)
    except (_Stopped, LookupError, OSError, ValueError) as exc:
        print(encode_line("error", message=str(exc)), flush=True)
        return 1
