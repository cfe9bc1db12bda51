"""Reports: how long a comparison's report takes once the runs are done, and `ppml-lab demo`
end to end.

Run: ``.venv/bin/python tests/benchmarks/bench_reports.py [--repeat 3]``.

Prints

1. the time to build and print the report of the comparison of every pattern on the built-in
   default dataset (the demo's comparison, with its membership audits), the first time in this
   process (fonts and Qt warm up) and the best of ``--repeat`` more, against the target of 3 s;
2. the wall time of ``ppml-lab demo --pdf OUT.pdf`` in a fresh process (start-up, every run, the
   report), against the target of 60 s on 2 cores.

Timings are wall times on a shared machine; a timing never fails a test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPORT_TARGET_S = 3.0
DEMO_TARGET_S = 60.0


def comparison_bundle_of_the_demo() -> dict:
    from dataclasses import replace

    from ppml_lab.data import DEFAULT_SOURCE
    from ppml_lab.experiments.compare import run_comparison
    from ppml_lab.experiments.config import Experiment
    from ppml_lab.experiments.runner import drive
    from ppml_lab.reports import comparison_bundle

    experiment = Experiment(name="Benchmark comparison")
    experiment = replace(experiment, dataset=replace(experiment.dataset, source=DEFAULT_SOURCE))
    t0 = time.perf_counter()
    result = drive(run_comparison(experiment, audit=True))
    print(f"comparison runs (not timed below): {time.perf_counter() - t0:.1f} s, "
          f"{len(result.rows)} rows")
    return comparison_bundle(result)


def time_report(doc: dict, out: Path) -> tuple[float, int]:
    from ppml_lab.reports import build_report
    from ppml_lab.reports.qt_pdf import write_pdf

    t0 = time.perf_counter()
    result = write_pdf(build_report(doc), out)
    return time.perf_counter() - t0, result.pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "comparison.pdf"
        doc = comparison_bundle_of_the_demo()
        first, pages = time_report(doc, out)
        best = min(time_report(doc, out)[0] for _ in range(max(args.repeat, 1)))
        print(f"comparison report ({pages} pages): first {first:.2f} s, best of {args.repeat} "
              f"{best:.2f} s; target {REPORT_TARGET_S:.0f} s -> first/target = "
              f"{first / REPORT_TARGET_S:.2f}, best/target = {best / REPORT_TARGET_S:.2f}")
        demo = Path(folder) / "demo.pdf"
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "ppml_lab", "demo", "--pdf", str(demo), "-q"],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        print(f"ppml-lab demo end to end: {seconds:.1f} s; target {DEMO_TARGET_S:.0f} s -> "
              f"ratio {seconds / DEMO_TARGET_S:.2f} ({os.cpu_count()} cores here)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
