"""Start-up time of ``ppml-lab``: the window and the command line, from the venv and the bundle.

Run: ``.venv/bin/python tests/benchmarks/bench_startup.py [--runs 3] [--bundle DIR]
[--no-importtime]``. Needs ``Xvfb`` and ``xwininfo`` (scripts/setup.sh installs them).

For each way of launching (``.venv/bin/ppml-lab``, and ``dist/ppml-lab/ppml-lab`` when the
bundle was built with packaging/build.sh, or ``--bundle DIR``):

* ``--version`` and ``--help``: wall time of the whole command, best of ``--runs``;
* the window: the app is started on a private Xvfb (a free display, 1280x800) with a fresh
  HOME (so a first launch: built-in default data set, start-here tour) and
  ``PPML_LAB_STARTUP_TRACE=1``; the benchmark polls ``xwininfo`` until the "PPML Lab" main
  window is mapped (viewable), and reads the app's trace lines for ``window-exposed`` and
  ``dataset-shown`` (the default data set loaded and painted). Median over ``--runs``.

Then the ratios to the targets (window visible <= 2 s from the venv, <= 3 s from the bundle;
``--version`` and ``--help`` <= 1 s): a ratio above 1 misses the target. With the venv it also
prints the slowest imports of the window's module (``python -X importtime``), cumulative, the
first place to look for a slow start. The 1-minute load average is printed too: other processes
on the 2 cores slow every figure.
"""

from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_APP = ROOT / ".venv" / "bin" / "ppml-lab"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
BUNDLE_APP = ROOT / "dist" / "ppml-lab" / "ppml-lab"
TARGETS = {"window (venv)": 2.0, "window (bundle)": 3.0, "--version": 1.0, "--help": 1.0}
TITLE = re.compile(r'^\s*(0x[0-9a-f]+) "PPML Lab[^"]*": \("ppml-lab"', re.MULTILINE)
TRACE = re.compile(r"ppml-lab startup: (\S+) wall=([0-9.]+)")
TIMEOUT_S = 90.0
_KEEP_OPEN: list[int] = []  # the read end of Xvfb's -displayfd pipe


@dataclass
class Launch:
    """One start of the window: seconds from the launch to each milestone."""

    mapped: float | None = None
    milestones: dict[str, float] = field(default_factory=dict)
    problem: str = ""  # why a milestone is missing (the app exited, the time-out)
    stderr_tail: list[str] = field(default_factory=list)


def start_xvfb() -> tuple[subprocess.Popen, str]:
    """A private Xvfb on a display it picks itself (``-displayfd``: no clash with other X servers
    started at the same moment); returns it and the display name."""
    if not shutil.which("Xvfb") or not shutil.which("xwininfo"):
        raise SystemExit("bench_startup: needs Xvfb and xwininfo (bash scripts/setup.sh)")
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    # Read up to the newline, and keep the pipe open while Xvfb runs: a write to a pipe whose
    # reader is gone would kill it (SIGPIPE).
    answer = b""
    deadline = time.monotonic() + 15
    while not answer.endswith(b"\n") and time.monotonic() < deadline:
        ready, _, _ = select.select([read_end], [], [], 0.5)
        if ready:
            chunk = os.read(read_end, 64)
            if not chunk:
                break
            answer += chunk
    _KEEP_OPEN.append(read_end)
    number = answer.decode().strip()
    if not number.isdigit():
        xvfb.kill()
        raise SystemExit("bench_startup: Xvfb did not start")
    return xvfb, f":{number}"


def _mapped(display: str) -> bool:
    env = {**os.environ, "DISPLAY": display}
    tree = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True,
                          env=env, check=False).stdout
    for window_id in TITLE.findall(tree):
        info = subprocess.run(["xwininfo", "-id", window_id], capture_output=True, text=True,
                              env=env, check=False).stdout
        if "Map State: IsViewable" in info:
            return True
    return False


def launch_window(command: list[str], display: str) -> Launch:
    """Start the window once, wait for the default data set (or the time-out), stop it."""
    result = Launch()
    with tempfile.TemporaryDirectory(prefix="ppml-bench-home-") as home:
        env = {
            k: v for k, v in os.environ.items()
            if k not in {"QT_QPA_PLATFORM", "PYTHONPATH", "VIRTUAL_ENV"}
        }
        env.update(DISPLAY=display, HOME=home, XDG_CONFIG_HOME=f"{home}/config",
                   XDG_DATA_HOME=f"{home}/data", XDG_CACHE_HOME=f"{home}/cache",
                   PPML_LAB_STARTUP_TRACE="1", LANG="C.UTF-8")
        t0 = time.time()
        app = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, cwd=home)

        def read_trace() -> None:
            assert app.stderr is not None
            for line in app.stderr:
                found = TRACE.search(line)
                if found:
                    result.milestones[found.group(1)] = float(found.group(2)) - t0
                else:
                    result.stderr_tail = [*result.stderr_tail[-9:], line.rstrip()]

        reader = threading.Thread(target=read_trace, daemon=True)
        reader.start()
        try:
            while time.time() - t0 < TIMEOUT_S and app.poll() is None:
                if result.mapped is None and _mapped(display):
                    result.mapped = time.time() - t0
                if result.mapped is not None and "dataset-shown" in result.milestones:
                    break
                time.sleep(0.02)
            else:
                code = app.poll()
                result.problem = (f"the app exited with code {code}" if code is not None
                                  else f"not shown within {TIMEOUT_S:.0f} s")
        finally:
            app.send_signal(signal.SIGTERM)
            try:
                app.wait(timeout=15)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait()
            reader.join(timeout=5)
    return result


def command_time(command: list[str], runs: int) -> float:
    """Best wall time of ``command`` over ``runs`` (it must succeed)."""
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True,
                       env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        best = min(best, time.perf_counter() - t0)
    return best


def slowest_imports(module: str = "ppml_lab.ui.qt_main_window", top: int = 12) -> list[str]:
    """The ``top`` largest cumulative import times of ``module`` (``python -X importtime``)."""
    out = subprocess.run([str(VENV_PYTHON), "-X", "importtime", "-c", f"import {module}"],
                         capture_output=True, text=True, check=True,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}).stderr
    rows = []
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    rows.sort(reverse=True)
    return [f"{us / 1e6:6.2f} s  {name}" for us, name in rows[:top]]


def _fmt(value: float | None) -> str:
    return f"{value:6.2f} s" if value is not None else "   n/a  "


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="launches per way (default 3)")
    parser.add_argument("--bundle", type=Path, help="bundle folder (default dist/ppml-lab)")
    parser.add_argument("--no-importtime", action="store_true", help="skip -X importtime")
    args = parser.parse_args()

    ways: list[tuple[str, list[str]]] = []
    if VENV_APP.exists():
        ways.append(("venv", [str(VENV_APP)]))
    bundle = (args.bundle / "ppml-lab") if args.bundle else BUNDLE_APP
    if bundle.exists():
        ways.append(("bundle", [str(bundle)]))
    else:
        print(f"(no bundle at {bundle}: build it with bash packaging/build.sh)")
    if not ways:
        raise SystemExit("bench_startup: neither .venv/bin/ppml-lab nor a bundle was found")

    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared with other work)")
    xvfb, display = start_xvfb()
    ratios: list[tuple[str, float, float]] = []
    try:
        for name, command in ways:
            version = command_time([*command, "--version"], args.runs)
            helped = command_time([*command, "--help"], args.runs)
            launches = [launch_window(command, display) for _ in range(args.runs)]
            mapped = _median([launch.mapped for launch in launches])
            exposed = _median([launch.milestones.get("window-exposed") for launch in launches])
            shown = _median([launch.milestones.get("dataset-shown") for launch in launches])
            print(f"\n{name}: {' '.join(command)}")
            print(f"  --version            {_fmt(version)}   (best of {args.runs})")
            print(f"  --help               {_fmt(helped)}   (best of {args.runs})")
            print(f"  window mapped        {_fmt(mapped)}   (median of {args.runs}: "
                  f"{', '.join(_fmt(x.mapped).strip() for x in launches)})")
            print(f"  window exposed       {_fmt(exposed)}   (the app's own trace)")
            print(f"  default data shown   {_fmt(shown)}")
            for number, launch in enumerate(launches, 1):
                if launch.problem:
                    print(f"  launch {number}: {launch.problem}; its last stderr lines:")
                    print("\n".join(f"    | {line}" for line in launch.stderr_tail))
            ratios.append((f"window ({name})", mapped if mapped is not None else float("inf"),
                           TARGETS[f"window ({name})"]))
            ratios.append((f"--version ({name})", version, TARGETS["--version"]))
            ratios.append((f"--help ({name})", helped, TARGETS["--help"]))
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)

    print("\nratio to target (measured / target; above 1 misses it):")
    for label, measured, target in ratios:
        verdict = "ok" if measured <= target else "MISSED"
        print(f"  {label:20s} {measured:6.2f} s / {target:.0f} s = {measured / target:5.2f}  {verdict}")
    if VENV_PYTHON.exists() and not args.no_importtime:
        print("\nslowest imports of the window's module (cumulative, python -X importtime):")
        for line in slowest_imports():
            print(f"  {line}")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
