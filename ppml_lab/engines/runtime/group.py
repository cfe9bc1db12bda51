"""ProcessGroup: every child process of one run, their events, a time limit and a clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from multiprocessing import connection
from multiprocessing.context import BaseContext
from typing import Any

from ppml_lab.engines.base import Cancelled, CancelToken
from ppml_lab.engines.events import Log
from ppml_lab.engines.runtime.child import child_main
from ppml_lab.engines.runtime.children import (
    Child,
    ChildError,
    ChildFailed,
    CommandChild,
    FunctionChild,
    LineParser,
    Received,
    RunTimeout,
)
from ppml_lab.engines.runtime.context import (
    child_nice_level,
    lower_fork_server_priority,
    mp_context,
    register_group,
    unregister_group,
)

__all__ = ["ProcessGroup"]

POLL_SECONDS = 0.1
"""Longest wait of :meth:`ProcessGroup.poll` by default, and of each look at the cancel token."""

CLOSE_TIMEOUT = 2.0
"""How long :meth:`ProcessGroup.close` waits after SIGTERM before it sends SIGKILL."""

_SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)


class ProcessGroup:
    """The child processes of one run; use it as a context manager.

    ::

        with ProcessGroup(name="smpc", cancel=cancel, timeout=600) as group:
            ports = free_ports(3)
            for i in range(3):
                group.start_command([sys.executable, "-m", "my.party", f"-I{i}", ...],
                                    name=f"party {i}")
            yield from group.events()      # every child's events, until all have exited

    Leaving the block (normally, by an exception, by a cancel or by closing the generator that
    holds it) calls :meth:`close`, which terminates and reaps every child that is still running.

    Parameters
    ----------
    name : str
        Names the run in errors ("smpc: party 2 (pid 4242) was killed by SIGKILL").
    timeout : float, optional
        Time limit of the whole run in seconds, from the group's creation: :meth:`poll` then
        stops every child and raises :class:`RunTimeout`.
    cancel : CancelToken, optional
        :meth:`poll` stops every child and raises :class:`~ppml_lab.engines.base.Cancelled`
        once it is set (checked at least every :data:`POLL_SECONDS`).
    preload : iterable of str
        Modules for the fork server to import before it forks function children (see
        :func:`~ppml_lab.engines.runtime.mp_context`).
    """

    def __init__(
        self,
        *,
        name: str = "run",
        timeout: float | None = None,
        cancel: CancelToken | None = None,
        preload: Iterable[str] = (),
    ) -> None:
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be a number of seconds > 0 (got {timeout!r})")
        self.name = name
        self.timeout = timeout
        self._cancel = cancel
        self._preload = tuple(preload)
        self._t0 = time.monotonic()
        self._ctx: BaseContext | None = None
        self._stop_r: Any = None
        self._stop_w: Any = None
        self._children: list[Child] = []
        self._failure: BaseException | None = None
        self._closed = False
        self._lock = threading.Lock()
        register_group(self)

    # ----------------------------------------------------------------------------------------
    # Starting children

    @property
    def context(self) -> BaseContext:
        """The multiprocessing context of function children (e.g. for ``context.Pipe()``)."""
        if self._ctx is None:
            self._ctx = mp_context(self._preload)
        return self._ctx

    @property
    def children(self) -> tuple[Child, ...]:
        return tuple(self._children)

    def start(self, target: Callable[..., Any], args: Sequence[Any] = (), *, name: str | None = None) -> Child:
        """Run ``target(*args)`` in a new process; return its :class:`Child`.

        ``target`` must be a module-level function and ``args`` picklable (the child is a fresh
        process, not a fork of this one). Inside, :func:`~ppml_lab.engines.runtime.emit` sends
        events back and :func:`~ppml_lab.engines.runtime.cancel_token` tells when to stop. What
        ``target`` returns becomes ``child.result``; an exception it raises is raised by
        :meth:`poll` (a ValueError as ValueError, anything else as :class:`ChildError`).
        """
        self._check_open()
        ctx = self.context
        if self._stop_w is None:
            # The children hold the read end; closing the write end (or dying) tells them to stop.
            self._stop_r, self._stop_w = ctx.Pipe(duplex=False)
        reader, writer = ctx.Pipe(duplex=False)
        name = name or f"{getattr(target, '__name__', 'child')} {len(self._children) + 1}"
        process = ctx.Process(
            target=child_main,
            args=(target, tuple(args), writer, self._stop_r, child_nice_level()),
            name=name,
        )
        try:
            process.start()
        finally:
            writer.close()  # the child has its own copy; ours would hide its end of file
        lower_fork_server_priority()  # if this start started it
        child = FunctionChild(name, process, reader)
        self._children.append(child)
        return child

    def start_command(
        self,
        argv: Sequence[str],
        *,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        parse: LineParser | None = None,
    ) -> Child:
        """Start the command ``argv``; each line it prints becomes an event.

        Parameters
        ----------
        argv : sequence of str
            The command, e.g. ``[sys.executable, "-m", "my.party", "-I1", ...]``.
        env : mapping, optional
            Variables added to this process's environment (``PYTHONUNBUFFERED=1`` is set, so
            a Python child's lines arrive as it prints them).
        parse : callable, optional
            ``parse(line, stream) -> event | list of events | None``; by default every
            non-empty line becomes a :class:`~ppml_lab.engines.events.Log` ("info" for stdout,
            "warning" for stderr) prefixed with the child's name.
        """
        self._check_open()
        argv = [os.fspath(a) for a in argv]
        name = name or f"{os.path.basename(argv[0])} {len(self._children) + 1}"
        environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        if os.name == "posix":
            extra: dict[str, Any] = {"process_group": 0}
        else:  # pragma: no cover - Windows
            extra = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
        popen = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            cwd=cwd,
            close_fds=True,
            **extra,
        )
        child = CommandChild(name, popen, parse)
        self._children.append(child)
        return child

    # ----------------------------------------------------------------------------------------
    # Events

    @property
    def running(self) -> list[Child]:
        return [c for c in self._children if c.exitcode is None]

    @property
    def finished(self) -> bool:
        """Every child has exited, its events were delivered and no error is pending."""
        return not self.running and self._failure is None

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._t0

    def poll(self, timeout: float = POLL_SECONDS) -> list[Received]:
        """Wait up to ``timeout`` seconds for events; return what arrived, in arrival order.

        Raises
        ------
        ChildFailed
            A child was killed or exited with a non-zero code (the events that arrived with
            it are returned first; the next call raises).
        ValueError, ChildError
            A function child's target raised.
        Cancelled, RunTimeout
            The cancel token was set, or the time limit passed.

        The group is closed (every child stopped) before any of these is raised.
        """
        self._check_open()
        if self._failure is not None:
            self._raise(self._failure)
        running = self.running
        if not running:
            return []
        if self._cancel is not None and self._cancel.cancelled:
            self._raise(Cancelled(f"{self.name} was cancelled"))
        wait = max(0.0, timeout)
        if self.timeout is not None:
            left = self.timeout - self.elapsed
            if left <= 0:
                self._raise(
                    RunTimeout(
                        f"{self.name}: still running after its time limit of {self.timeout:g} s; "
                        f"stopped {len(running)} child process(es)"
                    )
                )
            wait = min(wait, left)
        if self._cancel is not None:
            wait = min(wait, POLL_SECONDS)
        if any(getattr(c, "needs_polling", False) for c in running):
            wait = min(wait, 0.02)
        received: list[Received] = []
        owners = {obj: child for child in running for obj in child.waitables()}
        for obj in connection.wait(list(owners), wait):
            owners[obj].read(obj, received)
        failure = None
        for child in running:
            if child.update(received) and failure is None:
                failure = child.failure(self.name)
        if failure is not None:
            if received:
                self._failure = failure
                return received
            self._raise(failure)
        return received

    def events(self) -> Iterator[Any]:
        """Yield every child's events until all children have exited.

        A child that dies, a time-out or an exception in a child yields one
        :class:`~ppml_lab.engines.events.Log` at level "error" and then raises (see
        :meth:`poll`).
        """
        try:
            while not self.finished:
                for item in self.poll():
                    yield item.event
        except (ChildFailed, ChildError, RunTimeout) as exc:
            yield Log(message=str(exc).splitlines()[0], level="error")
            raise

    # ----------------------------------------------------------------------------------------
    # Stopping

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"the process group {self.name!r} is closed")

    def _raise(self, error: BaseException) -> None:
        self._failure = None
        self.close()
        raise error

    def _reap(self, deadline: float) -> None:
        """Until every child has exited or ``deadline``: read (and drop) output, notice exits."""
        dropped: list[Received] = []
        while True:
            running = self.running
            for child in running:
                child.update(dropped)
            running = self.running
            left = deadline - time.monotonic()
            if not running or left <= 0:
                return
            owners = {obj: child for child in running for obj in child.waitables()}
            # Reading keeps a child that is still writing from blocking on a full pipe.
            for obj in connection.wait(list(owners), min(left, 0.02)):
                owners[obj].read(obj, dropped)
            dropped.clear()

    def close(self, timeout: float = CLOSE_TIMEOUT, *, grace: float = 0.0) -> None:
        """Stop every child still running and wait for it; idempotent.

        The stop pipe is closed first (function children see their cancel token set); after
        ``grace`` seconds for them to end on their own, every child's process group gets
        SIGTERM, and after ``timeout`` more seconds SIGKILL. A second Ctrl+C during the wait
        skips to SIGKILL, then is raised again.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
        unregister_group(self)
        interrupted: BaseException | None = None
        try:
            if self._stop_w is not None:
                self._stop_w.close()
            if grace > 0:
                self._reap(time.monotonic() + grace)
            for child in self.running:
                child.send_signal(signal.SIGTERM)
            self._reap(time.monotonic() + timeout)
        except KeyboardInterrupt as exc:
            interrupted = exc
        try:
            for child in self.running:
                child.send_signal(_SIGKILL)
            self._reap(time.monotonic() + CLOSE_TIMEOUT)
        finally:
            for child in self._children:
                child.release()
            if self._stop_r is not None:
                self._stop_r.close()
        if interrupted is not None:
            raise interrupted

    def __enter__(self) -> ProcessGroup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self.running)} running"
        return f"<ProcessGroup {self.name!r}: {len(self._children)} children, {state}>"
