"""The process runtime: children's events, failures, cancel, time limit, signals, no leftovers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from ppml_lab.engines.base import Cancelled, CancelToken
from ppml_lab.engines.events import Log, Metric, Progress
from ppml_lab.engines.runtime import (
    ChildError,
    ChildFailed,
    ProcessGroup,
    RunTimeout,
    Terminated,
    cancel_token,
    child_niceness,
    describe_interrupt,
    emit,
    exit_code,
    free_ports,
    set_child_niceness,
    stop_helpers,
    termination_as_interrupt,
)

# --------------------------------------------------------------------------------------------
# Children (module level: the fork server imports this module to run them)


def count_metrics(n: int) -> dict[str, int]:
    for i in range(n):
        emit(Metric(step=i, name="test_accuracy", value=i / 10))
    emit(Log(message="done counting"))
    return {"sum": sum(range(n))}


def raise_value_error() -> None:
    raise ValueError("column 'age' has text in row 3")


def raise_key_error() -> None:
    raise KeyError("missing")


def wait_for_cancel() -> str:
    token = cancel_token()
    emit("ready")
    while not token.cancelled:
        time.sleep(0.01)
    return "stopped"


def sleep_forever(ignore_sigterm: bool = False) -> None:
    if ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    emit(Progress(step=0, total=1))
    while True:
        time.sleep(1)


def niceness_here_and_in_a_command() -> tuple[int, int]:
    """This child's niceness, and that of a process it starts (as SMPC parties are started)."""
    out = subprocess.run([sys.executable, "-c", "import os; print(os.nice(0))"],
                         capture_output=True, text=True, check=True).stdout
    return os.nice(0), int(out)


PRINTER = [
    sys.executable,
    "-c",
    "import sys\nfor i in range(3): print(f'step {i}')\nprint('careful', file=sys.stderr)",
]
# A command that starts a process of its own (in its process group), prints its pid and waits.
SPAWNER = [
    sys.executable,
    "-c",
    textwrap.dedent(
        """\
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print(child.pid)
        time.sleep(60)
        """
    ),
]


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def gone(*pids: int, within: float = 2.0) -> bool:
    """True once none of ``pids`` is alive (a reparented zombie is reaped by init soon)."""
    deadline = time.monotonic() + within
    while any(alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def first_event(group: ProcessGroup, timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        received = group.poll(0.1)
        if received:
            return received[0].event
    raise AssertionError("no event from the children")


# --------------------------------------------------------------------------------------------
# Function children


def test_function_children_send_typed_events_and_return_values() -> None:
    with ProcessGroup(name="test") as group:
        a = group.start(count_metrics, (3,), name="counter a")
        b = group.start(count_metrics, (2,), name="counter b")
        events = list(group.events())
    assert [e for e in events if isinstance(e, Metric)].count(Metric(2, "test_accuracy", 0.2)) == 1
    assert len([e for e in events if isinstance(e, Metric)]) == 5
    assert events.count(Log(message="done counting")) == 2
    assert (a.result, b.result) == ({"sum": 3}, {"sum": 1})
    assert (a.exitcode, b.exitcode) == (0, 0)
    assert a.pid != os.getpid() and gone(a.pid, b.pid)


@pytest.mark.skipif(not hasattr(os, "nice"), reason="POSIX niceness only")
def test_children_and_their_fork_server_run_at_the_niceness_asked_for() -> None:
    from multiprocessing import forkserver

    base = os.nice(0)
    low = min(base + 3, 19)

    def fork_server_niceness() -> int:
        return os.getpriority(os.PRIO_PROCESS, forkserver._forkserver._forkserver_pid)

    try:
        stop_helpers()  # a fork server started by an earlier test has that test's niceness
        set_child_niceness(0)
        with ProcessGroup(name="test") as group:
            plain = group.start(niceness_here_and_in_a_command)
            list(group.events())
        assert fork_server_niceness() == base
        set_child_niceness(3)  # lowers the running server too: its next children start low
        assert child_niceness() == 3 and fork_server_niceness() == low
        with ProcessGroup(name="test") as group:
            niced = group.start(niceness_here_and_in_a_command)
            list(group.events())
        stop_helpers()
        with ProcessGroup(name="test") as group:  # a server started afresh is lowered at once
            group.start(niceness_here_and_in_a_command)
            list(group.events())
            assert fork_server_niceness() == low
    finally:
        set_child_niceness(0)
        stop_helpers()
    assert plain.result == (base, base)
    assert niced.result == (low, low)  # and what a child starts (SMPC parties) inherits it
    with pytest.raises(ValueError, match="only be raised"):
        set_child_niceness(-1)


def test_a_value_error_in_a_child_is_a_value_error() -> None:
    with ProcessGroup(name="test") as group:
        group.start(raise_value_error)
        with pytest.raises(ValueError, match="column 'age' has text in row 3"):
            list(group.events())


def test_another_exception_in_a_child_carries_its_traceback() -> None:
    with ProcessGroup(name="test") as group:
        group.start(raise_key_error, name="keys")
        with pytest.raises(ChildError, match="keys failed with KeyError") as info:
            list(group.events())
    assert "raise KeyError" in str(info.value)


def test_a_killed_child_is_a_clear_error_and_no_child_is_left() -> None:
    with ProcessGroup(name="test") as group:
        victim = group.start(sleep_forever, name="victim")
        other = group.start(wait_for_cancel, name="other")
        first_event(group)
        first_event(group)
        os.kill(victim.pid, signal.SIGKILL)
        events = []
        with pytest.raises(ChildFailed) as info:
            for event in group.events():
                events.append(event)
    error = info.value
    assert error.signal_name == "SIGKILL" and error.exitcode == -signal.SIGKILL
    assert error.child == "victim" and error.pid == victim.pid
    assert f"test: victim (pid {victim.pid}) was killed by SIGKILL" in str(error)
    assert events[-1] == Log(message=str(error), level="error")
    assert other.exitcode is not None  # the failure stopped the rest of the run
    assert gone(victim.pid, other.pid)


def test_cancel_stops_every_child_within_a_second() -> None:
    cancel = CancelToken()
    with ProcessGroup(name="test", cancel=cancel) as group:
        children = [group.start(sleep_forever) for _ in range(2)]
        first_event(group)
        cancel.cancel()
        t0 = time.perf_counter()
        with pytest.raises(Cancelled):
            list(group.events())
        assert time.perf_counter() - t0 < 1.0
    assert all(c.exitcode == -signal.SIGTERM for c in children)
    assert gone(*(c.pid for c in children))


def test_close_kills_a_child_that_ignores_sigterm() -> None:
    group = ProcessGroup(name="test")
    child = group.start(sleep_forever, (True,))
    first_event(group)
    t0 = time.perf_counter()
    group.close(timeout=0.3)
    assert time.perf_counter() - t0 < 2.0
    assert child.exitcode == -signal.SIGKILL and gone(child.pid)


def test_closing_the_group_sets_the_childrens_cancel_token() -> None:
    group = ProcessGroup(name="test")
    child = group.start(wait_for_cancel)
    assert first_event(group) == "ready"
    group.close(grace=5.0)
    assert (child.exitcode, child.result) == (0, "stopped")  # it ended on its own


def test_closing_the_generator_that_holds_the_group_stops_its_children() -> None:
    pids: list[int] = []

    def engine():
        with ProcessGroup(name="test") as group:
            pids.append(group.start(sleep_forever).pid)
            yield from group.events()

    gen = engine()
    assert next(gen) == Progress(step=0, total=1)
    gen.close()
    assert gone(*pids)


# --------------------------------------------------------------------------------------------
# Command children


def test_command_lines_become_log_events() -> None:
    with ProcessGroup(name="test") as group:
        child = group.start_command(PRINTER, name="printer")
        events = list(group.events())
    assert events[:3] == [Log(message=f"printer: step {i}") for i in range(3)]
    assert events[3] == Log(message="printer: careful", level="warning")
    assert child.exitcode == 0


def test_a_parse_callback_turns_lines_into_events() -> None:
    def parse(line: str, stream: str) -> object:
        if line.startswith("step"):
            return Progress(step=int(line.split()[1]) + 1, total=3)
        return None

    with ProcessGroup(name="test") as group:
        group.start_command(PRINTER, parse=parse)
        assert list(group.events()) == [Progress(step=i, total=3) for i in (1, 2, 3)]


def test_a_failing_command_names_its_exit_code_and_last_error_line() -> None:
    argv = [sys.executable, "-c", "import sys; print('port 5000 in use', file=sys.stderr); sys.exit(3)"]
    with ProcessGroup(name="smpc") as group:
        child = group.start_command(argv, name="party 1")
        with pytest.raises(ChildFailed, match=r"smpc: party 1 \(pid \d+\) exited with code 3; "
                           "its last error output: port 5000 in use"):
            list(group.events())
    assert child.exitcode == 3


def test_cancel_kills_a_command_and_the_process_it_started() -> None:
    cancel = CancelToken()
    with ProcessGroup(name="test", cancel=cancel) as group:
        child = group.start_command(SPAWNER, parse=lambda line, stream: int(line))
        grandchild = first_event(group)
        assert alive(grandchild)
        cancel.cancel()
        with pytest.raises(Cancelled):
            group.poll()
    assert child.exitcode == -signal.SIGTERM
    assert gone(child.pid, grandchild)


def test_the_time_limit_stops_a_command() -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    t0 = time.perf_counter()
    events = []
    with ProcessGroup(name="test", timeout=0.5) as group:
        child = group.start_command(sleeper)
        with pytest.raises(RunTimeout, match="time limit of 0.5 s"):
            for event in group.events():
                events.append(event)
    assert time.perf_counter() - t0 < 3.0
    assert events[-1].level == "error"
    assert child.exitcode is not None and gone(child.pid)


def test_free_ports_are_distinct_and_bindable() -> None:
    ports = free_ports(4)
    assert len(set(ports)) == 4
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))
            s.listen()


# --------------------------------------------------------------------------------------------
# Signals and exit


def test_sigterm_raises_terminated_and_the_handler_is_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated) as info, termination_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    assert isinstance(info.value, KeyboardInterrupt)
    assert exit_code(info.value) == 143 and exit_code(KeyboardInterrupt()) == 130
    assert describe_interrupt(info.value) == "terminated (SIGTERM)"
    assert describe_interrupt(KeyboardInterrupt()) == "interrupted"
    assert signal.getsignal(signal.SIGTERM) is before


def test_an_ignored_sighup_stays_ignored() -> None:
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with termination_as_interrupt():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)


def session_processes(sid: int) -> list[str]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                found.append(entry)
    return found


def test_a_group_left_open_is_closed_at_exit_with_the_fork_server() -> None:
    """A program that exits without closing its group leaves no process behind: not the
    children, not the fork server, not the resource tracker."""
    script = textwrap.dedent(
        """\
        import sys, time
        from ppml_lab.engines.runtime import ProcessGroup

        if __name__ == "__main__":
            group = ProcessGroup(name="left open")
            group.start(time.sleep, (60,))
            group.start_command([sys.executable, "-c", "import time; time.sleep(60)"])
            time.sleep(0.5)
            print("started", flush=True)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    # communicate() returns once every holder of the output pipes has exited, children included.
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert stdout.strip() == "started" and stderr == ""
    assert session_processes(proc.pid) == []
