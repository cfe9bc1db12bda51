"""The engine protocol, the cancel token and the result every engine returns.

An engine is a Qt-free object whose :meth:`Engine.run` is a generator: it yields
:mod:`~ppml_lab.engines.events` while it trains and *returns* an :class:`EngineResult`.
Engines check the cancel token between yields, so any run can be stopped within one step.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ppml_lab.engines.events import Event


class Cancelled(Exception):
    """Raised inside an engine when its cancel token was set."""


class CancelToken:
    """A thread-safe flag that asks a running engine to stop at its next step."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the engine to stop."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` if the run was cancelled."""
        if self._event.is_set():
            raise Cancelled("the run was cancelled")


@dataclass(kw_only=True)
class EngineResult:
    """What an engine returns when it finishes.

    Attributes
    ----------
    model : object
        The trained model (for audits and reports).
    final : dict
        Final metrics: ``test_accuracy``, ``train_accuracy``, ``test_loss``, ...
    privacy : dict
        Privacy figures (``epsilon``, ``delta``, ``accountant``, ...); empty when not private.
    overhead : dict
        Costs: ``seconds`` (engine time), ``bytes_sent``, ...
    warnings : list of str
        Plain-language caveats to show next to the result.
    extra : dict
        Pattern-specific data (per-client sizes, ...), plain Python only.
    fidelity : dict
        For a computation with a plaintext twin (SMPC, HE): how close it came, e.g.
        ``max_abs_error`` between the secure and the plaintext coefficients or scores.
    sections : dict
        Extra top-level sections of the results document the pattern defines (e.g. ``he`` with
        the encryption parameters), name -> plain dict. A name that is already a section of the
        document is refused.
    """

    model: Any = None
    final: dict[str, float] = field(default_factory=dict)
    privacy: dict[str, Any] = field(default_factory=dict)
    overhead: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    fidelity: dict[str, float] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)


EngineRun = Generator[Event, None, EngineResult]


class Engine(Protocol):
    """What every pattern engine provides (subclass :class:`~ppml_lab.engines.contract.EngineBase`
    for the defaults).

    ``Params`` is a parameter dataclass declared with :func:`ppml_lab.params.param`.
    ``protects`` and ``does_not_protect`` are plain-language sentences for the UI and reports;
    ``labels`` names the engine's own metric and cost kinds. The contract methods
    (``available``, ``plan``, ``form_rules``, ``model_rules``, ``validate``, ``guarantee``) are
    described in :mod:`ppml_lab.engines.contract`.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str]
    protects: ClassVar[str]
    does_not_protect: ClassVar[str]
    Params: ClassVar[type]
    labels: ClassVar[Mapping[str, Any]]
    sweepable: ClassVar[bool]

    def available(self) -> str | None: ...

    def plan(self, model: Any, params: Any, data: Any = None) -> Any: ...

    def form_rules(self, values: Mapping[str, Any]) -> Any: ...

    def model_rules(self, pattern_values: Mapping[str, Any], model_values: Mapping[str, Any]) -> Any: ...

    def validate(self, data: Any, model: Any, params: Any) -> None: ...

    def guarantee(self, params: Any, result: Any, *, n_train: int | None = None) -> Any: ...

    def label_for(self, kind: str) -> Any: ...

    def run(
        self,
        data: Any,
        model: Any,
        params: Any,
        *,
        seed: int,
        cancel: CancelToken,
    ) -> EngineRun:
        """Train on ``data`` (a :class:`~ppml_lab.data.PreparedData`) and yield events."""
        ...
