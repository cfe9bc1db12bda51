"""SIGTERM and SIGHUP as Ctrl+C: one clean shutdown path for the command line.

Python turns SIGINT (Ctrl+C) into :class:`KeyboardInterrupt`, which unwinds the stack: generators
are closed, ``with`` blocks exit, and a :class:`~ppml_lab.engines.runtime.ProcessGroup` stops its
children. SIGTERM (``kill``, a stopped service) and SIGHUP (a closed terminal) kill the process
outright by default, and every child process it started runs on, orphaned. Inside
:func:`termination_as_interrupt` they raise :class:`Terminated`, a ``KeyboardInterrupt``, so they
take the same path; :func:`exit_code` gives the shell's convention, 128 + the signal number
(130 for Ctrl+C, 143 for SIGTERM, 129 for SIGHUP).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["Terminated", "exit_code", "describe_interrupt", "termination_as_interrupt"]

TERMINATION_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""The signals :func:`termination_as_interrupt` turns into :class:`Terminated`."""


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM or SIGHUP.

    A subclass of :class:`KeyboardInterrupt`, so ``except Exception`` does not swallow it and
    every ``except KeyboardInterrupt`` cleanup runs for it too.

    Attributes
    ----------
    signum : int
        The signal received.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


def exit_code(exc: BaseException) -> int:
    """The exit status for an interruption: 128 + signal number (130 for plain Ctrl+C)."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


def describe_interrupt(exc: BaseException) -> str:
    """``"interrupted"`` for Ctrl+C, ``"terminated (SIGTERM)"`` for a termination signal."""
    signum = getattr(exc, "signum", None)
    if signum is None:
        return "interrupted"
    return f"terminated ({signal.Signals(signum).name})"


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextmanager
def termination_as_interrupt(
    signals: tuple[signal.Signals, ...] = TERMINATION_SIGNALS,
) -> Iterator[None]:
    """Within the block, ``signals`` raise :class:`Terminated` in the main thread.

    A signal the process ignores (SIGHUP under ``nohup``) stays ignored, and outside the main
    thread (where Python cannot install handlers) the block runs unchanged. The previous handlers
    are restored on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for sig in signals:
        if signal.getsignal(sig) is signal.SIG_IGN:
            continue
        previous[sig] = signal.signal(sig, _raise_terminated)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
