"""What a sweep produces: the points, the summaries per epsilon and the JSON document."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ppml_lab import __version__
from ppml_lab.experiments.config import Experiment
from ppml_lab.jsonable import jsonable

__all__ = [
    "NON_PRIVATE",
    "TUNING_IS_A_RELEASE",
    "EpsilonSummary",
    "SweepPoint",
    "SweepResult",
    "summarize",
]

NON_PRIVATE: float = math.inf
"""The epsilon of the non-private point (the plaintext baseline): no privacy at all."""

TUNING_IS_A_RELEASE = (
    "Choosing epsilon (or any setting) from this sweep is itself a use of the private data: "
    "every point trained on the same rows, and the accuracies compared here are not covered by "
    "any single run's epsilon (nor is the non-private point's). Tune on public or proxy data "
    "(an older or synthetic extract, a public dataset of the same kind), then train once on the "
    "private data with the chosen settings."
)
"""The caveat every sweep and plan carries (``sweep.warnings``, ``plan.notes``)."""


@dataclass(frozen=True, kw_only=True)
class SweepPoint:
    """One finished run of the sweep.

    Attributes
    ----------
    epsilon : float
        The target epsilon of the run; :data:`NON_PRIVATE` (``inf``) for the plaintext baseline.
    seed : int
        The training seed (the data split always uses ``experiment.seed``).
    repetition : int
        Index of the seed in the sweep, 0 ... seeds - 1.
    test_accuracy, train_accuracy : float
        Final accuracies of the run.
    noise_multiplier : float or None
        The noise multiplier the engine used (calibrated for ``epsilon``); None when the
        mechanism has none (the baseline, objective perturbation, local DP).
    epsilon_spent : float or None
        The epsilon the engine's accountant reports for the whole run (<= ``epsilon``).
    seconds : float
        Wall time of the point in its worker, including noise calibration and accounting.
    engine_seconds : float
        Time the engine itself reports (``overhead["seconds"]``).
    privacy : dict
        The engine's privacy figures (delta, sample rate, steps, accountant, ...), plain data.
    overhead : dict
        The engine's cost figures (``seconds``, and for DP-SGD ``train_seconds``,
        ``accounting_seconds``, ``calibration_seconds``).
    curve : tuple of float
        Test accuracy after each epoch / round, for "was it still improving?" checks.
    warnings : tuple of str
        Plain-language caveats the engine attached to the run.
    worker : int
        Process id of the worker that ran the point.
    audit : dict or None
        With ``run_sweep(audit=True)``: the membership audit of the point's model,
        ``epsilon_lower_bound`` (the best attack's empirical epsilon), ``epsilon_ceiling`` (the
        most the audit could show) and ``attacks`` (per attack: AUC, TPR at 1% FPR, lower bound,
        ceiling); None without an audit.
    """

    epsilon: float
    seed: int
    repetition: int
    test_accuracy: float
    train_accuracy: float
    noise_multiplier: float | None = None
    epsilon_spent: float | None = None
    seconds: float = 0.0
    engine_seconds: float = 0.0
    privacy: dict[str, Any] = field(default_factory=dict)
    overhead: dict[str, float] = field(default_factory=dict)
    curve: tuple[float, ...] = ()
    warnings: tuple[str, ...] = ()
    worker: int = 0
    audit: dict[str, Any] | None = None

    @property
    def private(self) -> bool:
        """False for the non-private (plaintext baseline) point."""
        return math.isfinite(self.epsilon)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; the non-private point has ``epsilon = None``."""
        return {
            "epsilon": self.epsilon if self.private else None,
            "private": self.private,
            "seed": self.seed,
            "repetition": self.repetition,
            "test_accuracy": self.test_accuracy,
            "train_accuracy": self.train_accuracy,
            "noise_multiplier": self.noise_multiplier,
            "epsilon_spent": self.epsilon_spent,
            "seconds": self.seconds,
            "engine_seconds": self.engine_seconds,
            "privacy": jsonable(self.privacy),
            "overhead": jsonable(self.overhead),
            "curve": list(self.curve),
            **({"audit": jsonable(self.audit)} if self.audit is not None else {}),
        }


@dataclass(frozen=True, kw_only=True)
class EpsilonSummary:
    """Accuracy over the seeds at one epsilon.

    ``*_sd`` is the sample standard deviation (n - 1 in the denominator); it is NaN for a single
    seed, where a spread cannot be estimated.
    """

    epsilon: float
    n: int
    test_accuracy_mean: float
    test_accuracy_sd: float
    test_accuracy_min: float
    test_accuracy_max: float
    train_accuracy_mean: float
    train_accuracy_sd: float
    noise_multiplier: float | None
    seconds_mean: float

    @property
    def private(self) -> bool:
        return math.isfinite(self.epsilon)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "epsilon": self.epsilon if self.private else None,
                "private": self.private,
                "n": self.n,
                "test_accuracy_mean": self.test_accuracy_mean,
                "test_accuracy_sd": self.test_accuracy_sd,
                "test_accuracy_min": self.test_accuracy_min,
                "test_accuracy_max": self.test_accuracy_max,
                "train_accuracy_mean": self.train_accuracy_mean,
                "train_accuracy_sd": self.train_accuracy_sd,
                "noise_multiplier": self.noise_multiplier,
                "seconds_mean": self.seconds_mean,
            }
        )


def _sd(values: Sequence[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else math.nan


def summarize(points: Iterable[SweepPoint]) -> list[EpsilonSummary]:
    """Mean, sd, min and max per epsilon: private epsilons ascending, the non-private point last."""
    groups: dict[float, list[SweepPoint]] = {}
    for p in points:
        groups.setdefault(p.epsilon, []).append(p)
    out = []
    for eps in sorted(groups):  # inf sorts last
        pts = groups[eps]
        test = [p.test_accuracy for p in pts]
        train = [p.train_accuracy for p in pts]
        sigmas = [p.noise_multiplier for p in pts if p.noise_multiplier is not None]
        out.append(
            EpsilonSummary(
                epsilon=eps,
                n=len(pts),
                test_accuracy_mean=statistics.fmean(test),
                test_accuracy_sd=_sd(test),
                test_accuracy_min=min(test),
                test_accuracy_max=max(test),
                train_accuracy_mean=statistics.fmean(train),
                train_accuracy_sd=_sd(train),
                # Calibration does not depend on the training seed, so the seeds agree.
                noise_multiplier=statistics.fmean(sigmas) if sigmas else None,
                seconds_mean=statistics.fmean(p.seconds for p in pts),
            )
        )
    return out


@dataclass(kw_only=True)
class SweepResult:
    """What :func:`run_sweep` returns: every finished point and the per-epsilon summaries.

    Attributes
    ----------
    experiment : Experiment
        The swept experiment as given (its own epsilon is not used).
    epsilons : tuple of float
        The private grid, ascending.
    seeds : tuple of int
        The training seeds; the data split uses ``experiment.seed``.
    include_non_private : bool
        Whether the plaintext-baseline point was part of the sweep.
    points : list of SweepPoint
        Finished points, sorted by epsilon then repetition (the non-private point last).
    summaries : list of EpsilonSummary
        One per epsilon that has at least one finished point.
    status : {"completed", "cancelled"}
        "cancelled" keeps the points that finished before the cancel.
    workers : int
        Worker processes used (0 = ran in the calling process).
    wall_seconds : float
        Wall time of the whole sweep, process start-up included.
    warnings : list of str
        Distinct caveats the engines attached to the runs.
    audit : bool
        Whether every point's model was attacked (membership audit, ``SweepPoint.audit``).
    """

    experiment: Experiment
    epsilons: tuple[float, ...]
    seeds: tuple[int, ...]
    include_non_private: bool = True
    points: list[SweepPoint] = field(default_factory=list)
    summaries: list[EpsilonSummary] = field(default_factory=list)
    status: str = "completed"
    workers: int = 0
    wall_seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    audit: bool = False

    def summary(self, epsilon: float) -> EpsilonSummary:
        """The summary at ``epsilon`` (:data:`NON_PRIVATE` for the baseline point).

        Raises
        ------
        KeyError
            If no point at that epsilon finished.
        """
        for s in self.summaries:
            if s.epsilon == epsilon or (
                math.isfinite(epsilon) and math.isclose(s.epsilon, epsilon, rel_tol=1e-12)
            ):
                return s
        raise KeyError(f"no finished point at epsilon {epsilon!r}")

    @property
    def non_private(self) -> EpsilonSummary | None:
        """The plaintext-baseline summary, or None if it was not run (or not finished)."""
        return next((s for s in self.summaries if not s.private), None)

    @property
    def private_summaries(self) -> list[EpsilonSummary]:
        return [s for s in self.summaries if s.private]

    def to_document(self) -> dict[str, Any]:
        """The JSON document written by ``ppml-lab sweep --json`` (without the plan)."""
        return jsonable(
            {
                "ppml_lab_version": __version__,
                "kind": "privacy_utility_sweep",
                "status": self.status,
                "experiment": self.experiment.to_dict(),
                "design": {
                    "pattern": self.experiment.pattern,
                    "epsilons": list(self.epsilons),
                    "training_seeds": list(self.seeds),
                    "data_seed": self.experiment.seed,
                    "non_private": (
                        "plaintext baseline, same model and split" if self.include_non_private
                        else None
                    ),
                    "note": "The train/test split is fixed (data_seed); only the training seed "
                    "varies, so the spread per epsilon is training noise only.",
                    "membership_audit": self.audit,
                },
                "points": [p.to_dict() for p in self.points],
                "summary": [s.to_dict() for s in self.summaries],
                "warnings": list(self.warnings),
                "workers": self.workers,
                "wall_seconds": self.wall_seconds,
            }
        )
