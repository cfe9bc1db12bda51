"""Shared helpers for the benchmark scripts (not collected by pytest)."""

from __future__ import annotations

import time
from pathlib import Path

ADULT = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "adult.csv"


def adult_data(seed: int = 0):
    """Adult prepared as the experiments do (standardised numbers, one-hot categories)."""
    from ppml_lab.data import load_source, prepare_dataset

    if not ADULT.exists():
        raise SystemExit(f"benchmark needs {ADULT}")
    table = load_source(str(ADULT))
    return prepare_dataset(table.frame, target="income", seed=seed, name="adult")


def best_of(fn, repeat: int = 5) -> float:
    """Minimum wall time of ``fn()`` over ``repeat`` calls (least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
