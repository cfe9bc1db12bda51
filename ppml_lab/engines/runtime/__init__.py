"""The process runtime: one place that starts, watches and stops an engine's child processes.

Qt-free and usable from an engine generator. A run's children live in a :class:`ProcessGroup`::

    from ppml_lab.engines.runtime import ProcessGroup, free_ports

    def run(self, data, model, params, *, seed, cancel):
        ports = free_ports(params.parties)                       # 127.0.0.1, distinct
        with ProcessGroup(name="smpc", cancel=cancel, timeout=params.timeout) as group:
            for i in range(params.parties):
                group.start_command(
                    [sys.executable, "-m", "ppml_lab.engines.smpc.party", f"-I{i}", ...],
                    name=f"party {i}",
                    parse=party_line_to_event,                   # optional: line -> event
                )
            yield from group.events()      # the parties' events, until every one has exited
        ...

* ``group.start(target, args)`` runs a module-level Python function in a new process (forkserver
  on Linux, preloaded; spawn elsewhere; never a fork of this possibly threaded process). Inside
  it, :func:`emit` sends events to the parent, where they arrive as the same typed events, and
  :func:`cancel_token` tells it to stop; its return value becomes ``child.result``.
* ``group.start_command(argv)`` starts a command in its own process group; each line of its
  stdout/stderr becomes a :class:`~ppml_lab.engines.events.Log` (or what ``parse`` makes of it).
* ``group.events()`` yields events until every child has exited; ``group.poll(timeout)`` returns
  :class:`Received` (child, event) pairs for schedulers (the sweep). A child that is killed or
  exits non-zero raises :class:`ChildFailed` naming it, its pid and its exit code or signal (after
  an error :class:`~ppml_lab.engines.events.Log` from ``events()``); the time limit raises
  :class:`RunTimeout`; the cancel token :class:`~ppml_lab.engines.base.Cancelled`.
* ``group.close()`` (also on leaving the ``with`` block, whatever the reason) sends SIGTERM to
  every child's process group, SIGKILL after a deadline, and reaps them all. Groups still open
  at interpreter exit are closed then, and the fork server and resource tracker stopped
  (:func:`stop_helpers`), so no process outlives the program.
* :func:`termination_as_interrupt` makes SIGTERM and SIGHUP raise :class:`Terminated` (a
  ``KeyboardInterrupt``), so the command line shuts down the same way for them as for Ctrl+C.
* :func:`~ppml_lab.engines.runtime.relay.relay` runs a whole generator function (a run, a
  comparison) in one child and yields its events in the calling thread: how the window keeps
  the engines off its own interpreter.
"""

from __future__ import annotations

from ppml_lab.engines.runtime.child import cancel_token, emit, in_child
from ppml_lab.engines.runtime.children import (
    Child,
    ChildError,
    ChildFailed,
    Received,
    RunTimeout,
)
from ppml_lab.engines.runtime.command import child_argv, run_child
from ppml_lab.engines.runtime.context import (
    child_niceness,
    free_ports,
    lower_fork_server_priority,
    mp_context,
    set_child_niceness,
    stop_helpers,
)
from ppml_lab.engines.runtime.group import CLOSE_TIMEOUT, POLL_SECONDS, ProcessGroup
from ppml_lab.engines.runtime.signals import (
    Terminated,
    describe_interrupt,
    exit_code,
    termination_as_interrupt,
)

__all__ = [
    "CLOSE_TIMEOUT",
    "POLL_SECONDS",
    "Child",
    "ChildError",
    "ChildFailed",
    "ProcessGroup",
    "Received",
    "RunTimeout",
    "Terminated",
    "cancel_token",
    "child_argv",
    "child_niceness",
    "describe_interrupt",
    "emit",
    "exit_code",
    "free_ports",
    "in_child",
    "lower_fork_server_priority",
    "mp_context",
    "run_child",
    "set_child_niceness",
    "stop_helpers",
    "termination_as_interrupt",
]
