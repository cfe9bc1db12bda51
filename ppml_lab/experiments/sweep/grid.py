"""The sweep's design, validated before any work starts: the epsilon grid, the seeds, the pattern."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import fields, is_dataclass, replace
from typing import Any

from ppml_lab.experiments.config import Experiment

__all__ = [
    "DEFAULT_EPSILONS",
    "check_epsilons",
    "check_sweepable",
    "parse_epsilons",
    "training_seeds",
    "with_audit",
    "with_epsilon",
]

DEFAULT_EPSILONS: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0)
"""The default grid: from strong (0.1) to weak (10) privacy, evenly spaced in log epsilon."""


def parse_epsilons(text: str) -> tuple[float, ...]:
    """Parse a comma-separated epsilon list such as ``"0.1,0.3,1"`` (sorted, duplicates dropped).

    Raises
    ------
    ValueError
        For an empty list, a non-number, or an epsilon that is not a finite number > 0.
    """
    items = [t.strip() for t in str(text).split(",") if t.strip()]
    if not items:
        raise ValueError("the epsilon list is empty; give comma-separated values such as 0.1,0.3,1")
    values = []
    for item in items:
        try:
            values.append(float(item))
        except ValueError:
            raise ValueError(
                f"epsilon {item!r} is not a number; give comma-separated values such as 0.1,0.3,1"
            ) from None
    return check_epsilons(values)


def check_epsilons(values: Iterable[float]) -> tuple[float, ...]:
    """Validate a private epsilon grid; return it sorted without duplicates."""
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
            raise ValueError(f"epsilon {v!r} is not a number")
        if not v > 0:
            raise ValueError(
                f"every epsilon must be greater than 0 (got {v:g}); the non-private point is "
                "added automatically"
            )
        if math.isinf(v):
            raise ValueError(
                "epsilon must be finite; the non-private point (the plaintext baseline) is "
                "added automatically"
            )
        out.append(float(v))
    if not out:
        raise ValueError("the epsilon grid is empty")
    return tuple(sorted(set(out)))


def _has_epsilon(params: Any) -> bool:
    return is_dataclass(params) and any(f.name == "epsilon" for f in fields(params))


def check_sweepable(experiment: Experiment) -> None:
    """Raise ValueError unless the experiment's pattern has an ``epsilon`` parameter."""
    if not _has_epsilon(experiment.params):
        from ppml_lab.engines.registry import all_engines

        private = [e.name for e in all_engines() if getattr(e, "sweepable", False)]
        raise ValueError(
            f"pattern {experiment.pattern!r} has no epsilon parameter, so there is nothing to "
            f"sweep; use a private pattern ({', '.join(private)})"
        )


def with_epsilon(experiment: Experiment, epsilon: float, *, audit: bool = False) -> Experiment:
    """The experiment with its pattern's ``epsilon`` set (via :func:`dataclasses.replace`).

    A ``noise_multiplier`` that would override the target epsilon is cleared, so the engine
    calibrates the noise for ``epsilon`` itself; a membership audit is switched off unless
    ``audit`` is true (then it is switched on, for patterns whose parameters have an ``audit``
    field). Works for any pattern whose parameters are a dataclass with an ``epsilon`` field.
    """
    check_sweepable(experiment)
    changes: dict[str, Any] = {"epsilon": float(epsilon)}
    names = {f.name for f in fields(experiment.params)}
    if "noise_multiplier" in names and experiment.params.noise_multiplier is not None:
        changes["noise_multiplier"] = None
    if "audit" in names:  # a membership audit per point multiplies the sweep's cost: opt-in
        changes["audit"] = bool(audit)
    return replace(experiment, params=replace(experiment.params, **changes))


def with_audit(experiment: Experiment, audit: bool) -> Experiment:
    """The experiment with its pattern's ``audit`` field set, if its parameters have one."""
    params = experiment.params
    if not (is_dataclass(params) and any(f.name == "audit" for f in fields(params))):
        return experiment
    return replace(experiment, params=replace(params, audit=bool(audit)))


def training_seeds(experiment: Experiment, seeds: int | Sequence[int]) -> tuple[int, ...]:
    """The training seeds: ``experiment.seed + k`` for ``seeds`` repetitions, or the given list."""
    if isinstance(seeds, bool):
        raise ValueError("seeds must be a whole number of repetitions (>= 1) or a list of seeds")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValueError(f"seeds must be at least 1 (got {seeds})")
        return tuple(experiment.seed + k for k in range(seeds))
    out = tuple(int(s) for s in seeds)
    if not out:
        raise ValueError("the list of seeds is empty")
    if len(set(out)) != len(out):
        raise ValueError("the list of seeds has duplicates")
    return out
