"""Typed events that engines yield while they run.

Events are small frozen dataclasses holding only plain numbers, strings and tuples, so they can
cross threads and processes and be stored in a run's history unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """A scalar measured at a step, e.g. ``test_accuracy`` after epoch 3."""

    step: int
    name: str
    value: float


@dataclass(frozen=True)
class Progress:
    """How far the run is: ``step`` of ``total`` units (epochs, rounds, ...)."""

    step: int
    total: int
    message: str = ""


@dataclass(frozen=True)
class Overhead:
    """A cost measured at a step: ``kind`` is e.g. ``"seconds"`` or ``"bytes_sent"``."""

    step: int
    kind: str
    value: float
    unit: str


@dataclass(frozen=True)
class BudgetSpent:
    """The cumulative privacy budget spent after ``step`` (DP runs only)."""

    step: int
    epsilon: float
    delta: float


@dataclass(frozen=True)
class Log:
    """A message for the user; ``level`` is ``"info"``, ``"warning"`` or ``"error"``."""

    message: str
    level: str = "info"
    step: int = -1


@dataclass(frozen=True)
class Artifact:
    """A structured piece of data for the GUI or report, e.g. a federated partition summary.

    ``payload`` holds plain Python data (dicts, lists, numbers), never numpy arrays.
    """

    name: str
    payload: object
    step: int = -1


Event = Metric | Progress | Overhead | BudgetSpent | Log | Artifact

#: Artifact name of a "rows per data owner" chart, any pattern with parties may send it. Payload::
#:
#:     {"party": "client",                      # what one owner is called (singular)
#:      "parties": [{"label": "client 1", "rows": 120, "class_counts": [100, 20]}, ...],
#:      "class_names": ["<=50K", ">50K"],
#:      "empty": [4, 7],                         # 1-based numbers of owners with no rows
#:      "named": False,                          # True: the labels mean something (sites)
#:      "description": "..."}                    # the chart's tooltip
ROWS_PER_PARTY = "rows_per_party"


#: Metric name of the plaintext reference's test accuracy, sent at step 0 as soon as the reference
#: is trained (so the window draws its line before the private run starts). Not a run metric: the
#: history and the results document leave it out.
REFERENCE_ACCURACY = "reference_test_accuracy"
