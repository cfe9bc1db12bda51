"""A test pattern, added the way a new pattern is: one module that registers its engine, plus one
line in the registry's discovery list (the ``fake_engine`` fixture adds that line).

It has its own Params, plan (rounds), form rules, labels, guarantee and events (budget, overhead,
artifacts, warnings), so the GUI is tested against the engine contract rather than against one
engine: no UI code names it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ppml_lab.engines.base import CancelToken, EngineResult, EngineRun
from ppml_lab.engines.contract import EngineBase, FormHints, Guarantee, Label, RunPlan
from ppml_lab.engines.events import (
    ROWS_PER_PARTY,
    Artifact,
    BudgetSpent,
    Log,
    Metric,
    Overhead,
    Progress,
)
from ppml_lab.engines.registry import register
from ppml_lab.params import param


@dataclass(frozen=True, kw_only=True)
class FakeParams:
    rounds: int = param(5, label="Rounds", minimum=1, maximum=50, help="How many rounds.")
    noise: float = param(
        0.5, label="Noise", minimum=0.0, min_inclusive=False, maximum=10.0, log_scale=True,
        help="Noise scale.",
    )
    low: float = param(0.0, label="Low", minimum=-10.0, maximum=10.0, help="Lower end.")
    high: float = param(1.0, label="High", minimum=-10.0, maximum=10.0, help="Upper end.")
    delta: float | None = param(
        None, label="Delta", minimum=0.0, min_inclusive=False, maximum=0.1, log_scale=True,
        help="Optional delta.",
    )
    aggregator: str = param(
        "mean", label="Aggregator", choices=("mean", "median"), help="How to combine.",
    )
    secure: bool = param(True, label="Secure aggregation", help="Mask the updates.", advanced=True)
    clients: int = param(4, label="Clients", unit="parties", minimum=2, maximum=100,
                         help="Number of clients.", advanced=True)

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be smaller than high ({self.high:g})")


class FakeEngine(EngineBase):
    name: ClassVar[str] = "fake"
    label: ClassVar[str] = "Fake private pattern"
    description: ClassVar[str] = "A test double that yields every kind of event."
    protects: ClassVar[str] = "Fake protection."
    does_not_protect: ClassVar[str] = "Everything real."
    Params: ClassVar[type] = FakeParams
    labels: ClassVar[Mapping[str, Label]] = {
        "client_drift": Label("drift of the fake clients", plot="other"),
        "fake_bytes": Label("fake masking bytes", "B", plot="bytes", plot_text="fake masking",
                            extra_over="bytes_sent"),
    }

    def plan(self, model: Any, params: FakeParams, data: Any = None) -> RunPlan:
        return RunPlan(steps=params.rounds, step_name="fake round", reference=model,
                       target_epsilon=1.0, parties=params.clients, party_name="clients")

    def form_rules(self, values: Mapping[str, Any]) -> FormHints:
        disabled = {} if values.get("secure") else {"clients": "only with fake secure aggregation"}
        return FormHints(disabled=disabled, notes=["A fake note from the fake engine."])

    def guarantee(self, params: FakeParams, result: Any, *, n_train: int | None = None) -> Guarantee:
        privacy = dict(result.privacy) if result is not None else {}
        return Guarantee(
            protects=self.protects, not_protected=(self.does_not_protect,),
            epsilon=privacy.get("epsilon"), delta=privacy.get("delta"), unit="client",
            n_protected=params.clients, headline="per fake client",
            covers="the fake model", diagnostics=("fake training curves (history)",),
            in_this_run=("Fake secure aggregation <b>on</b>.",) if params.secure else (),
        )

    def run(
        self, data, model, params: FakeParams, *, seed: int, cancel: CancelToken  # noqa: ANN001
    ) -> EngineRun:
        yield Artifact(
            name=ROWS_PER_PARTY,
            payload={
                "party": "fake client",
                "parties": [
                    {"label": "a", "rows": 30, "class_counts": [10, 20]},
                    {"label": "b", "rows": 25, "class_counts": [25, 0]},
                    {"label": "c", "rows": 0, "class_counts": [0, 0]},
                ],
                "class_names": list(data.class_names),
                "empty": [3],
            },
        )
        yield Log(message="fake engine: this is only a test", level="warning")
        for r in range(1, params.rounds + 1):
            cancel.raise_if_cancelled()
            yield Metric(step=r, name="train_loss", value=1.0 / r)
            yield Metric(step=r, name="test_loss", value=1.1 / r)
            yield Metric(step=r, name="train_accuracy", value=0.5 + 0.05 * r)
            yield Metric(step=r, name="test_accuracy", value=0.5 + 0.04 * r)
            yield Metric(step=r, name="client_drift", value=0.1 * r)
            yield BudgetSpent(step=r, epsilon=0.2 * r, delta=1e-5)
            yield Overhead(step=r, kind="bytes_sent", value=1500.0 * r, unit="bytes")
            yield Overhead(step=r, kind="fake_bytes", value=500.0 * r, unit="B")
            yield Progress(step=r, total=params.rounds, message=f"round {r}/{params.rounds}")
        return EngineResult(
            final={"test_accuracy": 0.5 + 0.04 * params.rounds, "train_accuracy": 0.75},
            privacy={"epsilon": 0.2 * params.rounds, "delta": 1e-5, "accountant": "fake"},
            overhead={"seconds": 0.01, "bytes_sent": 1500.0 * params.rounds,
                      "fake_bytes": 500.0 * params.rounds},
            warnings=["fake engine result warning"],
        )


@dataclass(frozen=True, kw_only=True)
class StubbornParams:
    block_seconds: float = param(
        0.6, label="Block", minimum=0.0, maximum=10.0, help="How long one step ignores cancel."
    )


class StubbornEngine(EngineBase):
    """An engine with a step that does not check the cancel token (like a long preparation)."""

    name: ClassVar[str] = "stubborn"
    label: ClassVar[str] = "Stubborn test pattern"
    description: ClassVar[str] = "A test double whose second step cannot be interrupted."
    protects: ClassVar[str] = "Nothing."
    does_not_protect: ClassVar[str] = "Anything."
    Params: ClassVar[type] = StubbornParams

    def run(
        self, data, model, params: StubbornParams, *, seed: int, cancel: CancelToken  # noqa: ANN001
    ) -> EngineRun:
        yield Progress(step=1, total=2, message="step 1/2")
        threading.Event().wait(params.block_seconds)  # deaf to the cancel token
        cancel.raise_if_cancelled()
        yield Progress(step=2, total=2, message="step 2/2")
        return EngineResult(final={"test_accuracy": 0.5})


register(FakeEngine())
register(StubbornEngine())
