"""The child side of the runtime: what runs inside a process started by ``ProcessGroup.start``.

Inside such a child, :func:`emit` sends an event (any picklable value; engine events are frozen
dataclasses of plain values, so they arrive as the same typed events) to the parent, and
:func:`cancel_token` is the run's :class:`~ppml_lab.engines.base.CancelToken`: it reads as
cancelled once the parent closes the group (or dies).

Each child gets its own pipe to the parent (not one shared queue): a child killed in the middle
of a message then corrupts only its own stream, and no lock shared between processes can be left
held by a dead child.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ppml_lab.engines.base import Cancelled, CancelToken

__all__ = ["cancel_token", "emit", "in_child"]

ORPHAN_GRACE_SECONDS = 5.0
"""How long a child keeps running after its parent closed the group or died, before it exits.

The parent normally terminates its children itself (within ``ProcessGroup.close``); this is the
backstop for a parent killed with SIGKILL, which cannot clean up: its children notice the stop
pipe closing, get this long to finish on their own, then exit.
"""


@dataclass(frozen=True)
class Returned:
    """The child's target returned ``value`` (the last message of a child that succeeded)."""

    value: Any


@dataclass(frozen=True)
class Raised:
    """The child's target raised: the exception as plain data (its class may not unpickle)."""

    type_name: str
    message: str
    is_value_error: bool
    trace: str


class StopToken(CancelToken):
    """A cancel token that is set when the parent closes its end of the stop pipe."""

    def __init__(self, stop: Any) -> None:
        super().__init__()
        self._stop = stop

    @property
    def cancelled(self) -> bool:
        if self._event.is_set():
            return True
        try:
            stopped = self._stop.poll()  # True at end of file: the parent closed it or died
        except (OSError, EOFError, ValueError):
            stopped = True
        if stopped:
            self._event.set()
        return stopped

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise Cancelled("the run was cancelled")


@dataclass
class _Link:
    conn: Any
    token: StopToken


_LINK: _Link | None = None


def in_child() -> bool:
    """Whether this process is a child started by ``ProcessGroup.start``."""
    return _LINK is not None


def emit(event: Any) -> None:
    """Send ``event`` to the parent, where ``ProcessGroup.poll`` / ``events`` deliver it.

    Blocks while the pipe is full (about 64 KiB unread): a child cannot run far ahead of a
    parent that stopped reading.

    Raises
    ------
    RuntimeError
        Outside a child started by ``ProcessGroup.start``.
    """
    if _LINK is None:
        raise RuntimeError("emit() works only inside a child started by ProcessGroup.start")
    _LINK.conn.send(event)


def cancel_token() -> CancelToken:
    """The run's cancel token inside a child; outside one, a fresh token that is never set."""
    return _LINK.token if _LINK is not None else CancelToken()


def _watch_stop_pipe(stop: Any) -> None:
    try:
        stop.poll(None)  # blocks until end of file: the parent never writes to this pipe
    except (OSError, EOFError, ValueError):
        pass
    time.sleep(ORPHAN_GRACE_SECONDS)
    os._exit(1)


def child_main(
    target: Callable[..., Any],
    args: tuple[Any, ...],
    conn: Any,
    stop: Any,
    nice_level: int | None = None,
) -> None:
    """Entry point of every function child (runs in the child process); it lowers its priority
    to ``nice_level`` if that is lower than the one it has (see
    :func:`~ppml_lab.engines.runtime.context.set_child_niceness`).
    """
    global _LINK
    if nice_level is not None and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(max(0, nice_level - os.nice(0)))
    # The parent decides when its children stop: a Ctrl+C in a terminal reaches the whole
    # foreground process group, and a child must not die (with a traceback) on its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(os, "setpgid"):
        try:
            os.setpgid(0, 0)  # its own process group: terminating the group reaches its children
        except OSError:
            pass
    _LINK = _Link(conn=conn, token=StopToken(stop))
    threading.Thread(target=_watch_stop_pipe, args=(stop,), daemon=True, name="stop-pipe").start()
    try:
        value = target(*args)
        conn.send(Returned(value))
    except SystemExit:
        raise
    except BaseException as exc:  # every failure reaches the parent as data
        try:
            conn.send(
                Raised(
                    type_name=type(exc).__name__,
                    message=str(exc),
                    is_value_error=isinstance(exc, ValueError),
                    trace=traceback.format_exc(),
                )
            )
        except (OSError, ValueError):
            pass  # the parent is gone
        sys.exit(1)
