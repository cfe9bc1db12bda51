"""The report commands of ``ppml-lab``.

::

    ppml-lab report RESULTS.json --pdf OUT.pdf [--paper a4|letter] [--data-preview]
    ppml-lab demo --pdf OUT.pdf [--paper a4|letter] [--json OUT.json] [-q]
    ppml-lab run EXPERIMENT --report OUT.pdf [--paper letter]        (see ppml_lab.cli)
    ppml-lab sweep EXPERIMENT ... --report OUT.pdf [--paper letter]

``demo`` is the headless main job: the comparison of every available pattern on the built-in
default dataset, with each engine's comparison preset and the membership audit where a pattern
has one, then its report; progress goes to stderr. Bad input raises ValueError (or
:class:`~ppml_lab.reports.ReportError`), which :func:`ppml_lab.cli.main` prints as one line with
exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

__all__ = ["add_report_options", "check_output", "register_cli", "write_report"]

PAPER_CHOICES = ("a4", "letter")
#: Exit codes of ppml_lab.cli (repeated: the reports layer must not import the GUI's module).
EXIT_OK, EXIT_INTERRUPTED = 0, 130


def add_report_options(parser: argparse.ArgumentParser, *, what: str = "run") -> None:
    """``--report OUT.pdf`` and ``--paper`` for a command that makes a results document."""
    parser.add_argument("--report", metavar="OUT.pdf",
                        help=f"also write the {what}'s report (PDF) here")
    parser.add_argument("--paper", default="a4", metavar="SIZE",
                        help="paper size of the report: a4 (default) or letter")


def paper_size(text: str | None) -> str:
    """The paper size's key ("a4", "letter"), or ValueError with the choices."""
    key = str(text or "a4").strip().lower()
    if key not in PAPER_CHOICES:
        raise ValueError(f"--paper must be one of {', '.join(PAPER_CHOICES)}, got {text!r}")
    return key


def check_output(path: str, option: str = "--pdf") -> Path:
    """Refuse, before any work, a PDF path that cannot be written (ValueError, one line)."""
    out = Path(path)
    if out.is_dir():
        raise ValueError(f"{option} {path}: is a folder; give a file name such as report.pdf")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"{option} {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{option} {path}: no permission to write in {folder}")
    if out.exists() and not os.access(out, os.W_OK):
        raise ValueError(f"{option} {path}: the file exists and cannot be overwritten")
    return out


def write_report(doc: Mapping[str, Any], path: str, *, paper: str = "a4",
                 data_preview: bool = False, stream: TextIO | None = None) -> Any:
    """Build and print the report of ``doc``; say where it went on ``stream`` (stderr)."""
    from ppml_lab.reports import build_report
    from ppml_lab.reports.qt_pdf import write_pdf

    report = build_report(doc, data_preview=data_preview)
    result = write_pdf(report, path, paper=paper)
    stream = stream if stream is not None else sys.stderr
    stream.write(f"report: {result.path} ({result.pages} pages, {result.seconds:.1f} s)\n")
    stream.flush()
    return result


# -- ppml-lab report ---------------------------------------------------------------------------


def cmd_report(args: argparse.Namespace) -> int:
    from ppml_lab.reports import load_results

    paper = paper_size(args.paper)
    check_output(args.pdf)
    doc = load_results(args.results)
    write_report(doc, args.pdf, paper=paper, data_preview=args.data_preview)
    return EXIT_OK


# -- ppml-lab demo -----------------------------------------------------------------------------


class _DemoProgress:
    """A progress line per pattern on stderr (rewritten in place on a terminal)."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.t0 = time.perf_counter()
        self._last = ""
        self._printed: set[str] = set()

    def __call__(self, item: Any) -> None:
        from ppml_lab.engines.events import Progress

        if self.quiet:
            return
        elapsed = f"{time.perf_counter() - self.t0:5.1f} s"
        if isinstance(item, Progress):
            line = f"[{elapsed}] {item.message}"
            if self.tty:
                self.stream.write("\r" + line[:110].ljust(len(self._last)))
                self._last = line[:110]
            else:
                head = item.message.split(":")[0]
                if head not in self._printed:  # one line per pattern in a log file
                    self._printed.add(head)
                    self.stream.write(line + "\n")
        elif hasattr(item, "status") and hasattr(item, "label"):
            self._end_line()
            self.stream.write(f"[{elapsed}] {item.label}: {_row_words(item)}\n")
        self.stream.flush()

    def _end_line(self) -> None:
        if self.tty and self._last:
            self.stream.write("\r" + " " * len(self._last) + "\r")
            self._last = ""

    def close(self) -> None:
        if not self.quiet:
            self._end_line()
            self.stream.flush()


def _row_words(row: Any) -> str:
    if row.status != "completed":
        return f"{row.status}: {row.reason}"
    acc = f"{row.test_accuracy * 100:.1f}%" if row.test_accuracy is not None else "no accuracy"
    if row.change_points is not None and not row.is_reference:
        acc += f" ({row.change_points:+.1f} points)"
    guarantee = row.guarantee_text if not row.is_reference else "no protection"
    return f"test accuracy {acc}; {guarantee}"


def cmd_demo(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ppml_lab.data import BUILTINS, DEFAULT_SOURCE
    from ppml_lab.engines.base import CancelToken
    from ppml_lab.experiments.compare import run_comparison
    from ppml_lab.experiments.config import Experiment
    from ppml_lab.experiments.runner import drive
    from ppml_lab.reports import build_report, comparison_bundle
    from ppml_lab.reports.qt_pdf import write_pdf

    t0 = time.perf_counter()
    paper = paper_size(args.paper)
    check_output(args.pdf)
    if args.json:
        check_output(args.json, "--json")
    name = BUILTINS[DEFAULT_SOURCE.split(":", 1)[1]].label
    experiment = Experiment(
        name=f"Every privacy pattern on the {name} data",
        description="The built-in demonstration: the plaintext baseline and every available "
        "privacy pattern at its comparison preset, on one split, with a membership attack on "
        "every model that allows one.",
    )
    experiment = replace(experiment, dataset=replace(experiment.dataset, source=DEFAULT_SOURCE))
    progress = _DemoProgress(quiet=args.quiet)
    cancel = CancelToken()
    gen = run_comparison(experiment, cancel=cancel, audit=True)
    try:
        result = drive(gen, progress)
    except KeyboardInterrupt:
        progress.close()
        print("ppml-lab: demo interrupted; no report written", file=sys.stderr)
        raise
    finally:
        cancel.cancel()
        gen.close()  # stops every child process of the run in progress
        progress.close()
    doc = comparison_bundle(result)
    if args.json:
        _write_json(doc, args.json)
    report = write_pdf(build_report(doc), args.pdf, paper=paper)
    if not args.quiet:
        print(f"report: {report.path} ({report.pages} pages, page 1 is the summary); "
              f"{time.perf_counter() - t0:.1f} s in all")
    return EXIT_OK


def _write_json(doc: Mapping[str, Any], path: str) -> None:
    out = Path(path)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=out.parent, delete=False,
                                     suffix=".tmp") as fh:
        json.dump(doc, fh, indent=2, allow_nan=False)
    os.replace(fh.name, out)


# -- sweep --report ------------------------------------------------------------------------------


def _wrap_sweep(parser: argparse.ArgumentParser) -> None:
    """Add ``--report`` to ``ppml-lab sweep`` (the sweep's own module is below this layer)."""
    if any("--report" in a.option_strings for a in parser._actions):
        return  # main() may build the parser more than once (tests)
    add_report_options(parser, what="sweep")
    sweep = parser.get_default("func")

    def cmd_sweep_with_report(args: argparse.Namespace) -> int:
        if not args.report:
            return int(sweep(args))
        paper = paper_size(args.paper)
        check_output(args.report, "--report")
        keep = args.json
        with tempfile.TemporaryDirectory(prefix="ppml-lab-sweep-") as folder:
            if not keep:
                args.json = str(Path(folder) / "sweep.json")
            code = int(sweep(args))
            if code != EXIT_OK:
                return code
            doc = json.loads(Path(args.json).read_text(encoding="utf-8"))
        write_report(doc, args.report, paper=paper)
        return EXIT_OK

    parser.set_defaults(func=cmd_sweep_with_report)


def register_cli(subparsers: Any) -> None:
    """Add ``report`` and ``demo`` to the ``ppml-lab`` parser, and ``--report`` to ``sweep``."""
    p = subparsers.add_parser(
        "report", help="a PDF report of a results document (run, comparison or sweep)",
        description="Make the PDF report of a results document written by 'ppml-lab run "
        "--json', 'ppml-lab sweep --json' or 'ppml-lab demo --json' (or a History entry's "
        "results.json). The report never shows a record of the data unless --data-preview "
        "is given.",
    )
    p.add_argument("results", help="the results document (.json)")
    p.add_argument("--pdf", required=True, metavar="OUT.pdf", help="where to write the report")
    p.add_argument("--paper", default="a4", metavar="SIZE", help="a4 (default) or letter")
    p.add_argument("--data-preview", action="store_true",
                   help="include the first rows of the data, raw (off by default)")
    p.set_defaults(func=cmd_report)
    d = subparsers.add_parser(
        "demo", help="compare every pattern on the built-in data and write the report",
        description="Run the plaintext baseline and every available privacy pattern, each at "
        "its comparison preset, on the built-in default dataset (with a membership attack on "
        "every model that allows one), then write the report. Under a minute on 2 cores.",
    )
    d.add_argument("--pdf", required=True, metavar="OUT.pdf", help="where to write the report")
    d.add_argument("--paper", default="a4", metavar="SIZE", help="a4 (default) or letter")
    d.add_argument("--json", metavar="OUT.json",
                   help="also write the comparison (with every run's results document)")
    d.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    d.set_defaults(func=cmd_demo)
    sweep = subparsers.choices.get("sweep")
    if sweep is not None:
        _wrap_sweep(sweep)
