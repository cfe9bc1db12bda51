"""A run's state, reduced from its events: the one place that reads engine events.

The CLI's progress line, the window's live views and the results document all feed a run's
events through :meth:`RunState.apply` (or :meth:`RunState.apply_all`), which updates the state
and says what changed (:class:`Changes`): new plot points, costs, warnings, messages, artifacts,
progress.
Nobody else interprets events, so a new kind of event is handled in one place.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ppml_lab.engines.events import (
    REFERENCE_ACCURACY,
    Artifact,
    BudgetSpent,
    Event,
    Log,
    Metric,
    Overhead,
    Progress,
)

__all__ = ["Changes", "History", "Point", "RunState"]

#: The per-step name under which a :class:`BudgetSpent` is recorded (and ``delta`` beside it).
EPSILON = "epsilon"


@dataclass(frozen=True)
class Point:
    """One value at one step: a metric, the budget spent (``epsilon``) or a cost kind."""

    name: str
    step: int
    value: float
    source: str  # "metric", "budget" or "overhead"


@dataclass
class Changes:
    """What a batch of events changed in a :class:`RunState`."""

    points: list[Point] = field(default_factory=list)
    overheads: list[Overhead] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    progress: Progress | None = None
    logs: list[Log] = field(default_factory=list)  # every message, info ones too (the log pane)

    def __bool__(self) -> bool:
        return bool(self.points or self.overheads or self.warnings or self.artifacts
                    or self.progress is not None or self.logs)


@dataclass
class RunState:
    """Everything a run's events said so far.

    Attributes
    ----------
    latest : dict
        The latest value of each metric, ``epsilon`` and each cost kind.
    overheads : dict
        The latest :class:`Overhead` of each kind.
    logs : list of Log
        Every log line.
    artifacts : dict
        The latest payload of each artifact.
    last_progress : Progress or None
        The latest progress.
    """

    _steps: dict[int, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    latest: dict[str, float] = field(default_factory=dict)
    overheads: dict[str, Overhead] = field(default_factory=dict)
    logs: list[Log] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)
    last_progress: Progress | None = None

    def apply(self, event: Event, changes: Changes | None = None) -> Changes:
        """Fold one event into the state; return (or add to ``changes``) what changed."""
        changes = changes if changes is not None else Changes()
        if isinstance(event, Metric):
            self._record(event.name, event.step, event.value, "metric", changes)
        elif isinstance(event, BudgetSpent):
            self._record(EPSILON, event.step, event.epsilon, "budget", changes)
            self._steps[event.step]["delta"] = event.delta
        elif isinstance(event, Overhead):
            self._record(event.kind, event.step, event.value, "overhead", changes)
            self.overheads[event.kind] = event
            changes.overheads.append(event)
        elif isinstance(event, Log):
            self.logs.append(event)
            changes.logs.append(event)
            if event.level in ("warning", "error"):
                changes.warnings.append(event.message)
        elif isinstance(event, Artifact):
            self.artifacts[event.name] = event.payload
            changes.artifacts.append(event)
        elif isinstance(event, Progress):
            self.last_progress = event
            changes.progress = event
        return changes

    def apply_all(self, events: Iterable[Event]) -> Changes:
        """Fold a batch of events in; return everything they changed."""
        changes = Changes()
        for event in events:
            self.apply(event, changes)
        return changes

    # The old name of :meth:`apply`, used by callers that ignore the changes.
    def add(self, event: Event) -> None:
        self.apply(event)

    def _record(self, name: str, step: int, value: float, source: str, changes: Changes) -> None:
        self._steps[step][name] = value
        self.latest[name] = value
        changes.points.append(Point(name, step, value, source))

    def steps(self) -> list[int]:
        return sorted(self._steps)

    def rows(self) -> list[dict[str, float]]:
        """One dict per step: ``step`` and every value recorded at it.

        The plaintext reference's accuracy (sent at step 0 so the window can draw it early) is
        not a step of the run and is left out.
        """
        rows = []
        for s in self.steps():
            values = {k: v for k, v in self._steps[s].items() if k != REFERENCE_ACCURACY}
            if values:
                rows.append({"step": s, **values})
        return rows

    def series(self, name: str) -> tuple[list[int], list[float]]:
        xs = [s for s in self.steps() if name in self._steps[s]]
        return xs, [self._steps[s][name] for s in xs]

    def warnings(self) -> list[str]:
        return [log.message for log in self.logs if log.level in ("warning", "error")]


#: The name the results and the runner have always used.
History = RunState
