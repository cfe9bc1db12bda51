"""The parent's view of one child process: a Python function or a command, and how each ends.

A child is *finished* once its process has exited and its output has been read. Both kinds run
in a process group of their own (the child's pid is the group id), so terminating a child also
reaches any process it started, and a Ctrl+C in a terminal (sent to the terminal's foreground
group) reaches only the parent, which then stops its children itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

from ppml_lab.engines.events import Log
from ppml_lab.engines.runtime.child import Raised, Returned

__all__ = ["Child", "ChildError", "ChildFailed", "Received", "RunTimeout"]

LineParser = Callable[[str, str], Any]
"""``parse(line, stream)`` for command children: ``stream`` is ``"stdout"`` or ``"stderr"``;
returns an event, a list of events, or None to drop the line."""

_MAX_LINE = 1 << 20  # a longer run of output without a newline is passed on as one line


class ChildFailed(RuntimeError):
    """A child process died: killed by a signal, or exited with a non-zero code.

    Attributes
    ----------
    child : str
        The child's name.
    pid : int
        Its process id.
    exitcode : int
        Its exit code; ``-N`` when signal ``N`` killed it.
    signal_name : str or None
        ``"SIGKILL"``, ... when a signal killed it.
    output_tail : tuple of str
        The last lines a command child wrote to stderr.
    """

    def __init__(
        self, message: str, *, child: str, pid: int, exitcode: int, output_tail: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.child = child
        self.pid = pid
        self.exitcode = exitcode
        self.signal_name = _signal_name(-exitcode) if exitcode < 0 else None
        self.output_tail = output_tail


class ChildError(RuntimeError):
    """A function child's target raised an exception other than ValueError (traceback included)."""


class RunTimeout(TimeoutError):
    """The run's time limit passed; every child was stopped."""


class Received(NamedTuple):
    """An event a child sent, with the child that sent it."""

    child: Child
    event: Any


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _signal_group(pid: int, sig: int) -> None:
    """Send ``sig`` to the process group ``pid`` leads, or to ``pid`` before it leads one."""
    if not hasattr(os, "killpg"):  # pragma: no cover - Windows
        with contextlib.suppress(OSError):
            os.kill(pid, sig)
        return
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    except PermissionError:
        pass


class Child:
    """A process started by a :class:`~ppml_lab.engines.runtime.ProcessGroup` (read only).

    Attributes
    ----------
    name : str
        The name given at start, used in events and errors (e.g. ``"party 2"``).
    pid : int
        Process id.
    exitcode : int or None
        None while it runs; ``-N`` when signal ``N`` ended it.
    result : object
        What a function child's target returned (None for commands).
    """

    kind = "child"

    def __init__(self, name: str, pid: int) -> None:
        self.name = name
        self.pid = pid
        self.exitcode: int | None = None
        self.result: Any = None

    @property
    def running(self) -> bool:
        return self.exitcode is None

    def describe_exit(self) -> str:
        """``"exited with code 1"``, ``"was killed by SIGKILL"``, ... (``"is running"``)."""
        code = self.exitcode
        if code is None:
            return "is running"
        if code >= 0:
            return f"exited with code {code}"
        name = _signal_name(-code)
        if -code == getattr(signal, "SIGKILL", 9):
            return f"was killed by {name} (from outside this program, e.g. the out-of-memory killer)"
        return f"was killed by {name}"

    def failure(self, group: str) -> BaseException | None:
        """The error this child's end means for the run, or None if it succeeded."""
        if not self.exitcode:
            return None
        return ChildFailed(
            f"{group}: {self.name} (pid {self.pid}) {self.describe_exit()}",
            child=self.name,
            pid=self.pid,
            exitcode=self.exitcode,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} pid {self.pid} {self.describe_exit()}>"

    # The group drives these.
    def waitables(self) -> list[Any]:
        raise NotImplementedError

    def read(self, obj: Any, out: list[Received]) -> None:
        raise NotImplementedError

    def update(self, out: list[Received]) -> bool:
        """Notice that the process exited: read what is left and set ``exitcode``; True if so."""
        raise NotImplementedError

    def send_signal(self, sig: int) -> None:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError


class FunctionChild(Child):
    """A Python function running in a multiprocessing process; events arrive over its pipe."""

    kind = "function"

    def __init__(self, name: str, process: Any, conn: Any) -> None:
        super().__init__(name, process.pid)
        self._process = process
        self._conn = conn
        self._eof = False
        self._raised: Raised | None = None

    def waitables(self) -> list[Any]:
        return ([] if self._eof else [self._conn]) + [self._process.sentinel]

    def read(self, obj: Any, out: list[Received]) -> None:
        if obj is self._conn:
            self._drain(out, limit=1000)  # then the other children get their turn

    def _drain(self, out: list[Received], limit: int | None = None) -> None:
        n = 0
        while not self._eof and (limit is None or n < limit):
            try:
                if not self._conn.poll():
                    return
                message = self._conn.recv()
            except (EOFError, OSError):  # closed; or the child died in the middle of a message
                self._eof = True
                return
            n += 1
            if isinstance(message, Returned):
                self.result = message.value
            elif isinstance(message, Raised):
                self._raised = message
            else:
                out.append(Received(self, message))

    def update(self, out: list[Received]) -> bool:
        if self.exitcode is not None:
            return False
        code = self._process.exitcode
        if code is None:
            return False
        # Everything the child sent is in the pipe by now (a send completes before it returns).
        self._drain(out)
        self._eof = True
        self.exitcode = code
        return True

    def failure(self, group: str) -> BaseException | None:
        raised = self._raised
        if raised is None:
            return super().failure(group)
        if raised.is_value_error:  # bad data or parameters: the message is written for the user
            return ValueError(raised.message)
        return ChildError(
            f"{group}: {self.name} failed with {raised.type_name}: {raised.message}\n"
            f"--- traceback in the child ---\n{raised.trace}"
        )

    def send_signal(self, sig: int) -> None:
        if self.exitcode is None and self._process.exitcode is None:
            _signal_group(self.pid, sig)

    def release(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()
        if self._process.exitcode is not None:
            with contextlib.suppress(Exception):
                self._process.close()


class CommandChild(Child):
    """A command (``subprocess.Popen``); each line of its stdout and stderr becomes an event."""

    kind = "command"

    def __init__(self, name: str, popen: Any, parse: LineParser | None = None) -> None:
        super().__init__(name, popen.pid)
        self._popen = popen
        self._parse = parse
        self._streams: dict[int, tuple[str, Any, bytearray]] = {}
        for stream, file in (("stdout", popen.stdout), ("stderr", popen.stderr)):
            os.set_blocking(file.fileno(), False)
            self._streams[file.fileno()] = (stream, file, bytearray())
        self.output_tail: deque[str] = deque(maxlen=5)
        self._pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):
            self._pidfd = os.pidfd_open(popen.pid)  # readable once the process exits (Linux)

    @property
    def needs_polling(self) -> bool:
        """True when nothing to wait on tells that the process ended (no pidfd, streams closed)."""
        return self.exitcode is None and self._pidfd is None and not self._streams

    def waitables(self) -> list[Any]:
        return list(self._streams) + ([self._pidfd] if self._pidfd is not None else [])

    def read(self, obj: Any, out: list[Received]) -> None:
        if obj in self._streams:
            self._read(obj, out, drain=False)

    def _read(self, fd: int, out: list[Received], *, drain: bool) -> None:
        stream, file, buf = self._streams[fd]
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:  # end of file
                if buf:
                    self._line(stream, bytes(buf), out)
                del self._streams[fd]
                file.close()
                return
            buf += data
            *lines, rest = bytes(buf).split(b"\n")
            buf[:] = rest
            for line in lines:
                self._line(stream, line, out)
            if len(buf) > _MAX_LINE:
                self._line(stream, bytes(buf), out)
                buf.clear()
            if not drain:
                return  # one read per wake-up, so that a chatty child cannot starve the others

    def _line(self, stream: str, raw: bytes, out: list[Received]) -> None:
        text = raw.decode("utf-8", errors="replace").rstrip("\r")
        if stream == "stderr" and text.strip():
            self.output_tail.append(text)
        if self._parse is not None:
            result = self._parse(text, stream)
        elif text.strip():
            result = Log(message=f"{self.name}: {text}", level="info" if stream == "stdout" else "warning")
        else:
            result = None
        if result is None:
            return
        if isinstance(result, (list, tuple)):
            out.extend(Received(self, event) for event in result)
        else:
            out.append(Received(self, result))

    def _exited(self) -> bool:
        if not hasattr(os, "waitid"):
            return self._popen.poll() is not None
        try:  # WNOWAIT: leave it a zombie, so that its process group id cannot be reused yet
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def update(self, out: list[Received]) -> bool:
        if self.exitcode is not None or not self._exited():
            return False
        # Whatever it started in its group goes with it: no process outlives the run.
        if hasattr(os, "killpg"):
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)
        for fd in list(self._streams):
            self._read(fd, out, drain=True)
        self.exitcode = self._popen.wait()
        self._close_streams()
        return True

    def failure(self, group: str) -> BaseException | None:
        error = super().failure(group)
        if isinstance(error, ChildFailed) and self.output_tail:
            error = ChildFailed(
                f"{error}; its last error output: {self.output_tail[-1].strip()}",
                child=error.child,
                pid=error.pid,
                exitcode=error.exitcode,
                output_tail=tuple(self.output_tail),
            )
        return error

    def send_signal(self, sig: int) -> None:
        if self.exitcode is not None:
            return
        if hasattr(os, "killpg"):
            _signal_group(self.pid, sig)
        elif sig == getattr(signal, "SIGKILL", None):
            self._popen.kill()
        else:
            self._popen.terminate()

    def _close_streams(self) -> None:
        for _, file, _ in self._streams.values():
            with contextlib.suppress(OSError):
                file.close()
        self._streams.clear()

    def release(self) -> None:
        self._close_streams()
        if self._pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self._pidfd)
            self._pidfd = None
