"""``ppml-lab sweep``: a privacy-utility sweep from the command line.

::

    ppml-lab sweep EXPERIMENT --epsilons 0.1,0.3,1,3,10 --seeds 3 --json OUT.json
                   [--workers N] [--plan-tolerance 1.0] [--audit] [--set SECTION.KEY=VALUE] [-q]

One progress line per finished point goes to stderr; the per-epsilon table (and the planner's
recommendation with ``--plan-tolerance``) to stdout. Bad input raises ValueError, which
:func:`ppml_lab.cli.main` prints as one line with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

__all__ = ["cmd_sweep", "register_cli"]


def register_cli(subparsers: Any) -> None:
    """Add the ``sweep`` sub-command to the ``ppml-lab`` parser."""
    p = subparsers.add_parser(
        "sweep",
        help="accuracy over a grid of epsilons x seeds (privacy-utility curve)",
        description="Run the experiment's private pattern at every epsilon of the grid and the "
        "plaintext baseline (the non-private point), each with several training seeds, in "
        "parallel worker processes. The train/test split stays fixed (the experiment's seed); "
        "only the training seed varies.",
    )
    p.add_argument("experiment", help="experiment file (.toml or .json) with a private pattern")
    # Options are read as text and validated here, so that a bad value gives one line (exit 2)
    # instead of argparse's usage block.
    p.add_argument(
        "--epsilons",
        default="0.1,0.3,1,3,10",
        metavar="LIST",
        help="comma-separated epsilons, each > 0 (default 0.1,0.3,1,3,10); the non-private "
        "point is added automatically",
    )
    p.add_argument("--seeds", default="3", metavar="N", help="training seeds per epsilon (default 3)")
    p.add_argument("--json", metavar="OUT.json", help="write the sweep document here")
    p.add_argument(
        "--workers",
        default=None,
        metavar="N",
        help="worker processes (default: one per core, at most one per point; 0 = no pool)",
    )
    p.add_argument(
        "--plan-tolerance",
        default=None,
        metavar="POINTS",
        help="also recommend the smallest epsilon whose accuracy stays within POINTS "
        "percentage points of non-private",
    )
    p.add_argument(
        "--audit",
        action="store_true",
        help="attack every point's model with the membership audit (points[].audit: the "
        "measured epsilon); for patterns with an audit setting, several times slower",
    )
    p.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE", help="override a key")
    p.add_argument("--no-non-private", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines or table")
    p.set_defaults(func=cmd_sweep)


# The exit codes of ppml_lab.cli, repeated rather than imported: ppml_lab.cli also opens the GUI,
# and the experiments layer must not depend on the ui layer, not even indirectly. An interrupted
# sweep exits with 128 + the signal number: 130 for Ctrl+C, 143 for SIGTERM, 129 for SIGHUP.
EXIT_OK, EXIT_FAILURE, EXIT_INTERRUPTED = 0, 1, 130


def _load_experiment(path: str, overrides: Sequence[str] = ()) -> Any:
    """Load an experiment file and apply ``--set KEY=VALUE`` overrides (as ``run`` does)."""
    from ppml_lab.experiments.overrides import load_with_overrides

    return load_with_overrides(path, overrides)


def _whole_number(text: str | None, what: str, minimum: int) -> int | None:
    if text is None:
        return None
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ValueError(f"{what} must be a whole number, got {text!r}") from None
    if value < minimum:
        raise ValueError(f"{what} must be at least {minimum}, got {value}")
    return value


def _tolerance(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"--plan-tolerance must be a number of accuracy points, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"--plan-tolerance must be a number of points greater than 0, got {text!r}")
    return value


class _PointProgress:
    """One line per finished point on stderr: '[ 4/18] epsilon 3  seed 1: test accuracy ...'."""

    def __init__(self, total: int, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.t0 = time.perf_counter()

    def __call__(self, point: Any) -> None:
        self.done += 1
        if self.quiet:
            return
        eps = f"{point.epsilon:g}" if point.private else "non-private"
        extra = f"  noise x{point.noise_multiplier:.3g}" if point.noise_multiplier is not None else ""
        width = len(str(self.total))
        self.stream.write(
            f"[{self.done:>{width}}/{self.total}] epsilon {eps:<11} seed {point.seed}: "
            f"test accuracy {point.test_accuracy:.4f}{extra}  "
            f"({point.seconds:.1f} s; {time.perf_counter() - self.t0:.1f} s elapsed)\n"
        )
        self.stream.flush()


def _print_table(result: Any) -> None:
    print(f"{'epsilon':>11}  {'test accuracy':>19}  {'min':>7}  {'max':>7}  {'noise':>7}")
    for s in result.summaries:
        eps = f"{s.epsilon:g}" if s.private else "non-private"
        sd = "    n/a" if math.isnan(s.test_accuracy_sd) else f"{s.test_accuracy_sd:.4f}"
        sigma = f"{s.noise_multiplier:7.3g}" if s.noise_multiplier is not None else "      -"
        print(
            f"{eps:>11}  {s.test_accuracy_mean:.4f} +/- {sd:>7}  "
            f"{s.test_accuracy_min:7.4f}  {s.test_accuracy_max:7.4f}  {sigma}"
        )


def _write_json(doc: dict[str, Any], path: str) -> None:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    # allow_nan=False: the document must be strict JSON (inf and NaN were turned into null).
    tmp.write_text(json.dumps(doc, indent=2, allow_nan=False), encoding="utf-8")
    tmp.replace(out)  # atomic: never a half-written document


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run ``ppml-lab sweep``; return the exit code."""
    from ppml_lab.engines.base import CancelToken
    from ppml_lab.engines.runtime import ChildFailed, describe_interrupt, exit_code
    from ppml_lab.experiments.runner import drive
    from ppml_lab.experiments.sweep import check_sweepable, parse_epsilons, run_sweep

    # Validate everything cheap before loading data or starting processes.
    epsilons = parse_epsilons(args.epsilons)
    seeds = _whole_number(args.seeds, "--seeds", 1)
    workers = _whole_number(args.workers, "--workers", 0)
    tolerance = _tolerance(args.plan_tolerance)
    if tolerance is not None and len(epsilons) < 2:
        raise ValueError("--plan-tolerance needs at least two epsilons in --epsilons")
    if tolerance is not None and args.no_non_private:
        raise ValueError("--plan-tolerance needs the non-private point")
    experiment = _load_experiment(args.experiment, args.set or ())
    check_sweepable(experiment)

    assert seeds is not None
    total = (len(epsilons) + (0 if args.no_non_private else 1)) * seeds
    progress = _PointProgress(total, quiet=args.quiet)
    cancel = CancelToken()
    gen = run_sweep(
        experiment,
        epsilons=epsilons,
        seeds=seeds,
        include_non_private=not args.no_non_private,
        workers=workers,
        cancel=cancel,
        audit=bool(getattr(args, "audit", False)),
    )
    try:
        result = drive(gen, progress)
    except KeyboardInterrupt as exc:  # Ctrl+C, or SIGTERM / SIGHUP (runtime.Terminated)
        # Closing the generator stops and reaps the workers; the finished points are lost with
        # it, so say so rather than write a partial document silently.
        cancel.cancel()
        gen.close()
        print(f"ppml-lab: sweep {describe_interrupt(exc)}; no document written", file=sys.stderr)
        return exit_code(exc)
    except ChildFailed as exc:  # a worker was killed (out of memory, kill -9, ...)
        print(f"ppml-lab: error: {exc}; no document written", file=sys.stderr)
        return EXIT_FAILURE
    doc = result.to_document()
    plan = None
    if tolerance is not None:
        from ppml_lab.experiments.planner import plan_epsilon

        plan = plan_epsilon(result, tolerance=tolerance)
        doc["plan"] = plan.to_dict()
    if args.json:
        _write_json(doc, args.json)
    if not args.quiet:
        _print_table(result)
        print(f"{len(result.points)} points in {result.wall_seconds:.1f} s "
              f"({result.workers or 'no'} worker processes)")
        for w in result.warnings:
            print(f"warning: {w}")
        if plan is not None:
            print(plan.explanation)
    return EXIT_OK
