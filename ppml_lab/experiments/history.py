"""A run's history: the events it yielded, organised per step for plots, tables and JSON."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ppml_lab.engines.events import Artifact, BudgetSpent, Event, Log, Metric, Overhead, Progress


@dataclass
class History:
    """Accumulates events; :meth:`rows` gives one dict per step."""

    _steps: dict[int, dict[str, float]] = field(default_factory=lambda: defaultdict(dict))
    logs: list[Log] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)
    last_progress: Progress | None = None

    def add(self, event: Event) -> None:
        if isinstance(event, Metric):
            self._steps[event.step][event.name] = event.value
        elif isinstance(event, BudgetSpent):
            row = self._steps[event.step]
            row["epsilon"] = event.epsilon
            row["delta"] = event.delta
        elif isinstance(event, Overhead):
            self._steps[event.step][event.kind] = event.value
        elif isinstance(event, Log):
            self.logs.append(event)
        elif isinstance(event, Artifact):
            self.artifacts[event.name] = event.payload
        elif isinstance(event, Progress):
            self.last_progress = event

    def steps(self) -> list[int]:
        return sorted(self._steps)

    def rows(self) -> list[dict[str, float]]:
        return [{"step": s, **self._steps[s]} for s in self.steps()]

    def series(self, name: str) -> tuple[list[int], list[float]]:
        xs = [s for s in self.steps() if name in self._steps[s]]
        return xs, [self._steps[s][name] for s in xs]

    def warnings(self) -> list[str]:
        return [log.message for log in self.logs if log.level == "warning"]
