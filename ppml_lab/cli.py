"""The ``ppml-lab`` command.

``ppml-lab`` with no arguments opens the window; ``ppml-lab run EXPERIMENT`` runs headless.
Exit codes: 0 success, 1 unexpected failure, 2 bad input (one-line message), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class BadInput(Exception):
    """A user error reported as one line with exit code 2."""


class TerminalProgress:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        from ppml_lab.experiments.history import RunState

        self.state = RunState()
        self.t0 = time.perf_counter()
        self._last_line = ""
        self._last_plain: tuple[str, int] | None = None  # (phase, tenth) last printed off a tty

    @property
    def latest(self) -> dict[str, float]:
        return self.state.latest

    def __call__(self, event: Any) -> None:
        if self.quiet:
            return
        changes = self.state.apply(event)
        for message in changes.warnings:
            level = self.state.logs[-1].level if self.state.logs else "warning"
            self._print_line(f"{level}: {message}")
        if changes.progress is not None:
            self._draw(changes.progress)

    def _draw(self, p: Any) -> None:
        total = max(p.total, 1)
        frac = min(max(p.step / total, 0.0), 1.0)
        width = 24
        bar = "#" * int(frac * width) + "." * (width - int(frac * width))
        extras = []
        if "test_accuracy" in self.latest:
            extras.append(f"test acc {self.latest['test_accuracy']:.3f}")
        if "epsilon" in self.latest:
            extras.append(f"eps {self.latest['epsilon']:.3g}")
        line = f"[{bar}] {p.message or f'{p.step}/{p.total}'}  {'  '.join(extras)}  {time.perf_counter() - self.t0:5.1f}s"
        if self.tty:
            self.stream.write("\r" + line.ljust(len(self._last_line)))
            self.stream.flush()
            self._last_line = line
        else:
            # A log file gets about ten lines per phase, not one per epoch.
            phase = (p.message or "").split(" ")[0]
            key = (phase, int(frac * 10))
            if key != self._last_plain:
                self.stream.write(line + "\n")
                self._last_plain = key

    def _print_line(self, text: str) -> None:
        if self.tty and self._last_line:
            self.stream.write("\n")
            self._last_line = ""
        self.stream.write(text + "\n")

    def close(self) -> None:
        if self.tty and self._last_line and not self.quiet:
            self.stream.write("\n")
            self.stream.flush()


def _load(path: str, overrides: Sequence[str] = ()) -> Any:
    from ppml_lab.experiments.overrides import load_with_overrides

    try:
        return load_with_overrides(path, overrides)
    except ValueError as exc:
        if str(exc).startswith("--set"):
            raise BadInput(str(exc)) from None
        raise


def cmd_run(args: argparse.Namespace) -> int:
    from ppml_lab.engines.base import CancelToken
    from ppml_lab.experiments.runner import drive, run_experiment

    report = None
    if getattr(args, "report", None):  # refuse a bad report path before the run, not after
        from ppml_lab.reports.cli import check_output, paper_size

        report = (check_output(args.report, "--report"), paper_size(args.paper))
    experiment = _load(args.experiment, args.set or ())
    progress = TerminalProgress(quiet=args.quiet)
    cancel = CancelToken()
    run = run_experiment(experiment, cancel=cancel)
    try:
        result = drive(run, progress)
    finally:
        # On Ctrl+C or SIGTERM: cancel and close the run, so an engine's child processes
        # (its ProcessGroup) are stopped now, not only at exit.
        cancel.cancel()
        run.close()
        progress.close()
    doc = result.to_document()
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(doc, indent=2, allow_nan=False), encoding="utf-8")
        tmp.replace(out)
    if not args.quiet:
        _print_summary(doc)
    if report is not None:
        from ppml_lab.reports.cli import write_report

        write_report(doc, str(report[0]), paper=report[1])
    return EXIT_OK


def _print_summary(doc: dict[str, Any]) -> None:
    from ppml_lab.engines.registry import REFERENCE

    final, base = doc.get("final", {}), doc.get("baseline", {})
    parts = [f"{doc['experiment']['pattern']['name']}: test accuracy {final.get('test_accuracy', float('nan')):.4f}"]
    if doc["experiment"]["pattern"]["name"] != REFERENCE and "test_accuracy" in base:
        parts.append(f"plaintext {base['test_accuracy']:.4f}")
    priv = doc.get("privacy") or {}
    if "epsilon" in priv:
        parts.append(f"epsilon {priv['epsilon']:.4g} (delta {priv.get('delta', 0):.2g})")
    if "seconds" in doc.get("overhead", {}):
        parts.append(f"engine time {doc['overhead']['seconds']:.2f} s")
    print("; ".join(parts))
    from ppml_lab.experiments.evaluation import Headline

    is_reference = doc["experiment"]["pattern"]["name"] == REFERENCE
    print(Headline.from_document(doc, is_reference=is_reference).one_line())
    words = priv.get("in_plain_words") or []
    if words:
        print(f"in plain words: {words[0]}")
    audit = (doc.get("extra") or {}).get("audit")
    if audit:
        eps = audit.get("accountant_epsilon")
        bound = f"accountant's epsilon {eps:.3g}" if eps is not None else "no privacy guarantee"
        for name, a in audit["attacks"].items():
            print(
                f"membership audit, {name} attack: AUC {a['auc']:.3f}, TPR at 1% FPR "
                f"{a['tpr_at_1pct_fpr']:.3f}, empirical epsilon >= {a['epsilon_lower_bound']:.3g} "
                f"({bound})"
            )
        if audit.get("verdict"):
            print(f"membership audit: {audit['verdict']}")
    for w in doc.get("warnings", []):
        print(f"warning: {w}")


def cmd_datasets(args: argparse.Namespace) -> int:
    from ppml_lab.data import BUILTINS

    for name, info in BUILTINS.items():
        print(f"builtin:{name:15s} {info.description}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    from ppml_lab import __version__

    parser = argparse.ArgumentParser(
        prog="ppml-lab",
        description="PPML Lab: privacy-preserving machine learning on your own data. "
        "Without a command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"ppml-lab {__version__}")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run an experiment file headless")
    run.add_argument("experiment", help="experiment file (.toml or .json)")
    run.add_argument("--json", metavar="OUT.json", help="write the results document here")
    run.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE", help="override a key")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    from ppml_lab.reports.cli import add_report_options

    add_report_options(run)
    run.set_defaults(func=cmd_run)
    ds = sub.add_parser("datasets", help="list the built-in datasets")
    ds.set_defaults(func=cmd_datasets)
    gui = sub.add_parser("gui", help="open the window (the default)")
    gui.add_argument("experiment", nargs="?", help="experiment file to open")
    gui.set_defaults(func=None)
    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


# Later modules (sweeps, benchmarks, reports) add sub-commands here.
_EXTRA_COMMANDS: list[Any] = []


def _register_optional_commands() -> None:
    import importlib

    for module in ("ppml_lab.experiments.sweep_cli", "ppml_lab.bench", "ppml_lab.reports.cli"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        if mod.register_cli not in _EXTRA_COMMANDS:  # main() may run more than once (tests)
            _EXTRA_COMMANDS.append(mod.register_cli)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "child":
        # A child program of an engine (e.g. an MPyC party): no parser, no GUI, fast start.
        from ppml_lab.engines.runtime.command import run_child

        return run_child(argv[1:])
    _register_optional_commands()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in (None, "gui"):
        from ppml_lab.ui.app import main as gui_main

        return gui_main(experiment=getattr(args, "experiment", None))
    from ppml_lab.data import DatasetError, LoadCancelled
    from ppml_lab.engines.runtime.signals import (
        describe_interrupt,
        exit_code,
        termination_as_interrupt,
    )

    try:
        # SIGTERM (kill, a stopped service) and SIGHUP (a closed terminal) unwind like Ctrl+C,
        # so every child process of the run is stopped; exit code 128 + signal (130, 143, 129).
        with termination_as_interrupt():
            return int(args.func(args))
    except KeyboardInterrupt as exc:
        print(f"ppml-lab: {describe_interrupt(exc)}", file=sys.stderr)
        return exit_code(exc)
    except LoadCancelled:
        return EXIT_INTERRUPTED
    except (BadInput, DatasetError, ValueError, OSError) as exc:
        # OSError: an unwritable --json path, a file that vanished, ...
        message = " ".join(str(exc).split())
        print(f"ppml-lab: error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
