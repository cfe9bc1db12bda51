"""Start a Flower federation (or connect to one), launch the lab's app on it, stream the results.

A local deployment, all on 127.0.0.1 with ports that are free right now:

* ``flower-superlink`` (the server's side: Fleet, Control and Runtime APIs on one HTTP port)
  and a ``flower-superexec`` that starts the ServerApp for a run;
* per client a ``flower-supernode`` (``--node-config 'partition-id=K num-partitions=N
  data-file="..."'``, the client's rows in its own file) and a ``flower-superexec`` that starts
  the ClientApp for each message;
* ``flwr run APP lab --stream``: builds the Flower App (a ``pyproject.toml`` naming
  :mod:`.flower_server` and :mod:`.flower_client`, with the run's :class:`~.flower_wire.RunSpec`
  in its run configuration), submits it to the SuperLink and streams the ServerApp's output back.

On Linux all of these are forked from one launcher process that imports Flower once
(:mod:`.flower_launcher`: each Flower program otherwise spends about 2 s of CPU importing
Flower); elsewhere they are started one by one. The SuperLink and SuperNodes run with
``--isolation process`` and the lab starts their SuperExecs itself, so every process Flower
starts (ServerApp and ClientApp processes included)
lives in the process group of one of the lab's children: the process runtime
(:class:`~ppml_lab.engines.runtime.ProcessGroup`) stops them all on finish, cancel, error or exit.

With a user-given SuperLink (``superlink = "host:port"``) only ``flwr run`` is started here; the
SuperNodes are wherever their owners started them (see the README), and a cancelled run is
stopped on the SuperLink with ``flwr stop``.

Flower's own telemetry and update check are switched off for every process, and its state
(``FLWR_HOME``: the installed app, the connection) lives in a temporary folder deleted at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ppml_lab.engines.base import CancelToken
from ppml_lab.engines.events import Log
from ppml_lab.engines.federated import flower_launcher
from ppml_lab.engines.federated.flower_launcher import superlink_answers
from ppml_lab.engines.federated.flower_setup import INSTALL_HINT, program_path
from ppml_lab.engines.federated.flower_wire import SPEC_KEY, RunSpec, decode_line
from ppml_lab.engines.runtime import ChildFailed, ProcessGroup, free_ports
from ppml_lab.engines.runtime.command import child_argv

__all__ = ["FlowerFailed", "deploy", "no_superlink_message", "superlink_answers"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_RUN_ID = re.compile(r"started run (\d+)")
#: Seconds to wait for the local SuperLink to answer.
_SUPERLINK_START = 60.0
#: Connection name in the temporary Flower configuration.
_CONNECTION = "lab"


class FlowerFailed(ValueError):
    """The Flower run failed or could not start; the message says what Flower reported.

    A ValueError, like every refusal of an engine, so that the window and the command line show
    the message to act on (a SuperLink that does not answer, a SuperNode without its data
    file, ...) rather than a crash report.
    """


def _env(home: Path) -> dict[str, str]:
    bindir = os.path.dirname(sys.executable)
    return {
        "FLWR_HOME": str(home),
        "FLWR_TELEMETRY_ENABLED": "0",
        "FLWR_DISABLE_UPDATE_CHECK": "1",
        "FLWR_SUPEREXEC_TASK_POLL_INTERVAL": "0.05",
        # Flower starts flwr-serverapp / flwr-clientapp by name: find the lab's first.
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONUNBUFFERED": "1",
        "NO_COLOR": "1",
    }


def no_superlink_message(host: str, port: int) -> str:
    return (
        f"No Flower SuperLink answers at {host}:{port}. Start one there (flower-superlink "
        f"--insecure --host 0.0.0.0 --port {port} --disable-runtime-dependency-installation), "
        "check the address and the firewall, or leave superlink empty to start a SuperLink and "
        "the SuperNodes on this computer."
    )


def write_app(folder: Path, spec: RunSpec, *, secure: bool) -> Path:
    """The Flower App of this run: a ``pyproject.toml`` naming the lab's ServerApp and ClientApp."""
    app = folder / "app"
    app.mkdir(parents=True)
    client = "secagg_app" if secure else "app"
    (app / "pyproject.toml").write_text(
        "[build-system]\n"
        'requires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n\n'
        "[project]\n"
        'name = "ppml-lab-federated"\n'
        'version = "1.0.0"\n'
        'description = "PPML Lab: a federated experiment on Flower"\n'
        'license = "MIT"\n'
        'dependencies = ["flwr>=1.42,<2"]\n\n'
        "[tool.flwr.app]\n"
        'publisher = "ppml-lab"\n\n'
        "[tool.flwr.app.components]\n"
        'serverapp = "ppml_lab.engines.federated.flower_server:app"\n'
        f'clientapp = "ppml_lab.engines.federated.flower_client:{client}"\n\n'
        "[tool.flwr.app.config]\n"
        f'{SPEC_KEY} = "{spec.to_config_value()}"\n',
        encoding="utf-8",
    )
    return app


def write_client_files(folder: Path, clients: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[Path]:
    """One ``client_K.npz`` (``X``, ``y``) per client: what its SuperNode reads."""
    data = folder / "data"
    data.mkdir(parents=True)
    paths = []
    for k, (X, y) in enumerate(clients):
        path = data / f"client_{k}.npz"
        np.savez(path, X=np.asarray(X, dtype=np.float64), y=np.asarray(y, dtype=np.int64))
        paths.append(path)
    return paths


class _Tail:
    """The last lines of a child's output, for the error message when it fails."""

    def __init__(self, name: str, *, keep_errors: bool = False) -> None:
        self.name = name
        self.lines: deque[str] = deque(maxlen=30)
        self.keep_errors = keep_errors

    def __call__(self, line: str, stream: str) -> Any:
        text = _ANSI.sub("", line).rstrip()
        payload = decode_line(text)
        if payload is not None:
            return payload
        if not text.strip():
            return None
        self.lines.append(text)
        if self.keep_errors and re.search(r"\bERROR\b|Error:|❌", text):
            return Log(message=f"Flower ({self.name}): {text.strip()}", level="warning")
        return None

    def last(self, n: int = 6) -> str:
        return " | ".join(list(self.lines)[-n:])


def deploy(
    spec: RunSpec,
    *,
    clients: Sequence[tuple[np.ndarray, np.ndarray]],
    superlink: tuple[str, int] | None,
    secure: bool,
    cancel: CancelToken,
    timeout: float | None = None,
) -> Iterator[Any]:
    """Run ``spec`` on Flower; yield the ServerApp's payloads (dicts) and Flower's warnings.

    ``clients``: one ``(X, y)`` per client, written to one file each for their SuperNodes.
    ``superlink`` None: start a SuperLink and the SuperNodes here; a ``(host, port)``: use that
    SuperLink, whose SuperNodes are started by their owners (the log says how). Yields
    ``{"kind": "launched"}`` once the run is submitted. Raises :class:`FlowerFailed` when the run fails,
    :class:`~ppml_lab.engines.base.Cancelled` on cancel; every process it started is stopped.
    """
    work = Path(tempfile.mkdtemp(prefix="ppml-lab-flower-"))
    run_id: list[str] = []
    finished = False
    try:
        home = work / "home"
        home.mkdir()
        env = _env(home)
        app = write_app(work, spec, secure=secure)
        local = superlink is None
        paths = write_client_files(work, clients)
        if local:
            link_port, *node_ports = free_ports(1 + len(paths))
            host = "127.0.0.1"
        else:
            host, link_port = superlink
            if not superlink_answers(host, link_port, timeout=5.0):
                raise FlowerFailed(no_superlink_message(host, link_port))
            yield from _remote_instructions(host, link_port, paths, spec.node_wait)
        (home / "config.toml").write_text(
            f'[superlink]\ndefault = "{_CONNECTION}"\n\n[superlink.{_CONNECTION}]\n'
            f'address = "{host}:{link_port}"\ninsecure = true\n',
            encoding="utf-8",
        )
        tails: list[_Tail] = []

        def start(group: ProcessGroup, argv: list[str], name: str, *, keep_errors: bool = False) -> Any:
            tail = _Tail(name, keep_errors=keep_errors)
            tails.append(tail)
            exe = program_path(argv[0]) or argv[0]
            return group.start_command([exe, *argv[1:]], name=name, env=env, cwd=str(work), parse=tail)

        run_args = ["run", str(app), _CONNECTION, "--stream"]
        with ProcessGroup(name="Flower", cancel=cancel, timeout=timeout) as group:
            if local and flower_launcher.available():
                # One process imports Flower once and forks every Flower program from it.
                runner = _start_forked(group, work, env, tails, link_port, paths, node_ports,
                                       run_args)
            else:
                if local:
                    yield from _start_one_by_one(group, start, tails, link_port, paths, node_ports)
                runner = start(group, ["flwr", *run_args], "flwr run", keep_errors=True)
            yield {"kind": "launched"}
            error = ""
            try:
                # Until the ServerApp's last line: then the lab has all it needs, and stopping
                # the processes now spares the seconds Flower takes to wind the run down.
                while runner.exitcode is None and not finished:
                    for item in group.poll(0.2):
                        event = item.event
                        if isinstance(event, dict):
                            if event["kind"] == "error":
                                error = str(event.get("message", ""))
                            elif event["kind"] == "done":
                                finished = True
                            yield event
                        elif isinstance(event, Log):
                            yield event
                    if not run_id:
                        found = _RUN_ID.search(" ".join(tails[-1].lines))
                        if found:
                            run_id.append(found.group(1))
            except ChildFailed as exc:
                culprit = next((t for t in tails if t.name == exc.child), tails[-1])
                raise FlowerFailed(
                    f"the Flower run failed: {error or exc}; {culprit.name}'s last output: "
                    + culprit.last()
                ) from None
            if not finished:
                raise FlowerFailed(
                    "the Flower run failed: "
                    + (error or f"flwr run {runner.describe_exit()}; its last output: {tails[-1].last()}")
                )
    finally:
        if run_id and not finished and superlink is not None:
            _stop_remote(run_id[0], work / "home")
        shutil.rmtree(work, ignore_errors=True)


def _daemons(link: str, paths: Sequence[Path], node_ports: Sequence[int]) -> list[tuple[str, list[str]]]:
    """The SuperExecs and SuperNodes of a local federation: ``(name, argv)`` each."""
    out = [("SuperLink's SuperExec",
            ["flower-superexec", "--insecure", "--runtime-api-address", link])]
    n = len(paths)
    for k, (path, port) in enumerate(zip(paths, node_ports)):
        config = f'partition-id={k} num-partitions={n} data-file="{path}"'
        out.append((f"SuperNode {k}", ["flower-supernode", "--insecure", "--superlink", link,
                                        "--isolation", "process", "--host", "127.0.0.1",
                                        "--port", str(port), "--node-config", config]))
        out.append((f"SuperNode {k}'s SuperExec", ["flower-superexec", "--insecure",
                                                    "--runtime-api-address", f"127.0.0.1:{port}"]))
    return out


def _link_argv(port: int) -> list[str]:
    return ["flower-superlink", "--insecure", "--isolation", "process", "--host", "127.0.0.1",
            "--port", str(port), "--disable-runtime-dependency-installation"]


def _start_forked(
    group: ProcessGroup, work: Path, env: dict[str, str], tails: list[_Tail], link_port: int,
    paths: Sequence[Path], node_ports: Sequence[int], run_args: list[str],
) -> Any:
    """Start the local federation and ``flwr run`` through :mod:`.flower_launcher`; its child."""
    link = f"127.0.0.1:{link_port}"
    plan = {
        "logs": str(work / "logs"),
        "link": {"args": _link_argv(link_port)[1:], "host": "127.0.0.1", "port": link_port},
        "daemons": [{"name": name, "program": argv[0], "args": argv[1:]}
                    for name, argv in _daemons(link, paths, node_ports)],
        "run": run_args,
    }
    plan_path = work / "plan.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    tail = _Tail("flwr run", keep_errors=True)
    tails.append(tail)
    argv = child_argv("ppml_lab.engines.federated.flower_launcher", [str(plan_path)])
    return group.start_command(argv, name="Flower", env=env, cwd=str(work), parse=tail)


def _start_one_by_one(
    group: ProcessGroup, start: Any, tails: list[_Tail], link_port: int, paths: Sequence[Path],
    node_ports: Sequence[int],
) -> Iterator[Log]:
    """Start the local federation as separate Flower programs (where forking is not used)."""
    start(group, _link_argv(link_port), "SuperLink")
    # The SuperLink first: SuperNodes that find nobody there back off for seconds, and on two
    # cores every process's start-up competes with the SuperLink's.
    deadline = time.monotonic() + _SUPERLINK_START
    while not superlink_answers("127.0.0.1", link_port, timeout=0.5):
        for item in group.poll(0.1):  # notices a child that died, and the cancel
            if isinstance(item.event, Log):
                yield item.event
        if time.monotonic() > deadline:
            raise FlowerFailed(
                f"the Flower SuperLink did not start within {_SUPERLINK_START:g} s: "
                + tails[0].last()
            )
    for name, argv in _daemons(f"127.0.0.1:{link_port}", paths, node_ports):
        start(group, argv, name)


def _remote_instructions(host: str, port: int, paths: list[Path], wait: float) -> Iterator[Log]:
    """How to start each SuperNode for a SuperLink elsewhere (unless they already run)."""
    n = len(paths)
    yield Log(
        message=f"The run waits up to {wait / 60:.0f} min for {n} SuperNodes at the SuperLink "
        f"{host}:{port}. If they are not running yet: on each client's machine (with "
        f"{INSTALL_HINT}), copy that client's data file from {paths[0].parent} and start "
        "its SuperNode as below (several on one machine need different --port values). "
        "SuperNodes that already hold their own data files need nothing.",
        level="warning",
    )
    for k, path in enumerate(paths):
        yield Log(
            message=f"Client {k}: flower-supernode --insecure --superlink {host}:{port} "
            f"--port {9094 + k} --node-config 'partition-id={k} num-partitions={n} "
            f"data-file=\"<folder>/{path.name}\"'",
            level="warning",
        )


def _stop_remote(run_id: str, home: Path) -> None:
    """Ask a user-given SuperLink to stop the run (best effort, a few seconds at most)."""
    exe = program_path("flwr")
    if exe is None:
        return
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            [exe, "stop", run_id, _CONNECTION], env={**os.environ, **_env(home)},
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=15, check=False,
        )
