"""Process start-up and shut-down that are the same for every run.

* :func:`mp_context`: a multiprocessing context that never forks this process. The parent may be
  the GUI, with Qt threads, and forking a threaded process can deadlock the child. On Linux
  ``forkserver`` forks children from a separate server process started fresh, with the preload
  modules imported, so a child starts in milliseconds; elsewhere ``spawn`` starts fresh
  interpreters. The server lives as long as this process, so a second run does not pay the
  imports again.
* :func:`stop_helpers`: stops the forkserver and multiprocessing's resource tracker. Both exit
  on their own once every process holding their pipes has exited; this makes it happen *before*
  this process exits, not some time after. It runs at interpreter exit, after every open
  process group was closed (see :func:`watch_at_exit`).
* :func:`free_ports`: free TCP ports on the loopback interface, for parties that talk over TCP.
* :func:`set_child_niceness`: function children started from then on run at a lower scheduling
  priority (the window asks for it: its GUI thread must get a core the moment it has work).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Iterable
from multiprocessing.context import BaseContext
from typing import Any

__all__ = [
    "child_nice_level",
    "child_niceness",
    "free_ports",
    "lower_fork_server_priority",
    "mp_context",
    "set_child_niceness",
    "stop_helpers",
]

_CHILD_MODULE = "ppml_lab.engines.runtime.child"
_lock = threading.Lock()
_preload: list[str] = ["__main__"]  # multiprocessing's own default, kept for other users
# Strong references: a group dropped without close() must still be closed at exit.
_open_groups: set[Any] = set()
_at_exit_registered = False
_child_niceness = 0


def set_child_niceness(increment: int) -> None:
    """Function children started from now on run ``increment`` below this process (POSIX
    niceness: higher is a lower priority; 0 leaves them as they are), and so does the fork server
    they come from. What they start (SMPC parties, Flower's programs) inherits it. Ignored where
    the system has no niceness. A priority once lowered is not raised again (that needs
    privileges): a fork server lowered for the window stays low until it is stopped.

    The window sets :data:`~ppml_lab.ui.qt_main_window.BACKGROUND_NICENESS`: on two cores an
    engine's process (and its BLAS threads) otherwise competes with the GUI thread on equal
    terms, and the window waits for a core in the middle of a repaint. With it the scheduler
    gives the GUI thread a core as soon as it wakes, and the engine every cycle it leaves.
    """
    global _child_niceness
    if increment < 0:
        raise ValueError("a child's niceness can only be raised (increment >= 0)")
    _child_niceness = int(increment)
    lower_fork_server_priority()


def lower_fork_server_priority() -> None:
    """Give a running fork server the children's niceness (see :func:`set_child_niceness`).

    A child lowers its own priority only once it runs its target; before that it unpickles its
    arguments (a whole table: 6 MB for Adult), and the fork server imports the engines' libraries
    once (1.5 s of CPU, right after data has loaded): both competed with the window at its own
    priority. A process may always lower its own children's priority; a server already as low
    (or lower) is left as is.
    """
    target = child_nice_level()
    if target is None:
        return
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    with contextlib.suppress(OSError):  # the server just exited, or the system says no
        if pid is not None and os.getpriority(os.PRIO_PROCESS, pid) < target:
            os.setpriority(os.PRIO_PROCESS, pid, target)


def child_nice_level() -> int | None:
    """The niceness children started now should run at (this process's plus the increment, at
    most 19), or None when none was asked for or the system has no niceness.
    """
    if _child_niceness <= 0 or not hasattr(os, "setpriority"):
        return None
    return min(os.getpriority(os.PRIO_PROCESS, 0) + _child_niceness, 19)


def child_niceness() -> int:
    """The niceness increment function children started now get (see :func:`set_child_niceness`)."""
    return _child_niceness


def mp_context(preload: Iterable[str] = ()) -> BaseContext:
    """A start method that never forks this process: ``forkserver`` (Linux) or ``spawn``.

    Parameters
    ----------
    preload : iterable of str
        Modules the fork server imports once, so that every child forked from it starts with
        them loaded (numpy, scipy and dp-accounting take seconds to import). Added to the
        modules of earlier calls; ignored once the server is running (it has what it has, and
        children import the rest themselves). Modules that fail to import are skipped.
    """
    watch_at_exit()
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    with _lock:
        for module in (_CHILD_MODULE, *preload):
            if module not in _preload:
                _preload.append(module)
        ctx.set_forkserver_preload(list(_preload))
    return ctx


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """``n`` distinct TCP ports that are free on ``host`` right now.

    All ``n`` sockets are bound at once (so the ports differ) and closed before returning. Another
    program may take a port before the child binds it; a party that cannot bind fails with a
    clear exit, which ``ProcessGroup`` reports.
    """
    if n < 0:
        raise ValueError(f"n must be 0 or more (got {n})")
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(n):
            s = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            s.bind((host, 0))
            ports.append(s.getsockname()[1])
    return ports


def register_group(group: Any) -> None:
    """Remember an open process group so that interpreter exit closes it."""
    watch_at_exit()
    with _lock:
        _open_groups.add(group)


def unregister_group(group: Any) -> None:
    with _lock:
        _open_groups.discard(group)


def _close_open_groups() -> None:
    with _lock:
        groups = list(_open_groups)
    for group in groups:
        with contextlib.suppress(Exception):
            group.close(timeout=1.0)


def watch_at_exit() -> None:
    """At interpreter exit: close every open group, then stop the helper processes.

    Both run as multiprocessing finalizers, whose exit hook orders them: open groups first (high
    priority, before multiprocessing joins its non-daemonic children, which would otherwise wait
    for ours forever), the helpers last (negative priority, after every other finalizer, some of
    which talk to the resource tracker).
    """
    global _at_exit_registered
    with _lock:
        if _at_exit_registered:
            return
        _at_exit_registered = True
    from multiprocessing import util

    owner = os.getpid()

    def in_owner(fn: Any) -> Any:
        return lambda: fn() if os.getpid() == owner else None

    util.Finalize(None, in_owner(_close_open_groups), exitpriority=100)
    util.Finalize(None, in_owner(stop_helpers), exitpriority=-100)


def _reap(pid: int, deadline: float) -> None:
    """Wait for our child ``pid`` until ``deadline``; then kill it and wait again."""
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        if time.monotonic() >= deadline:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            return
        time.sleep(0.005)


def stop_helpers(timeout: float = 2.0) -> None:
    """Stop the multiprocessing fork server and resource tracker this process started, if any.

    Closing their pipe ends asks them to exit; one still running after ``timeout`` seconds (some
    child still holds its pipe) is killed. Best effort: both are private to multiprocessing, and
    anything not found is left alone. The next run starts them again.
    """
    deadline = time.monotonic() + timeout
    with contextlib.suppress(Exception):
        from multiprocessing import forkserver

        server = forkserver._forkserver
        with server._lock:
            pid, fd = server._forkserver_pid, server._forkserver_alive_fd
            address = server._forkserver_address
            if pid is not None:
                server._forkserver_pid = server._forkserver_alive_fd = None
                server._forkserver_address = None
        if pid is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
            _reap(pid, deadline)
            if isinstance(address, str) and address and not address.startswith("\0"):
                with contextlib.suppress(OSError):
                    os.unlink(address)
    with contextlib.suppress(Exception):
        from multiprocessing import resource_tracker

        tracker = resource_tracker._resource_tracker
        with tracker._lock:
            pid, fd = tracker._pid, tracker._fd
            if pid is not None:
                tracker._pid = tracker._fd = None
        if pid is not None:
            with contextlib.suppress(OSError):
                os.close(fd)
            _reap(pid, deadline)
