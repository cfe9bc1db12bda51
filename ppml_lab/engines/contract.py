"""What every engine declares besides its run: the contract the window, the CLI and the
results document read, so that none of them names a pattern.

An engine (see :class:`EngineBase`) says

* whether it can run here (:meth:`EngineBase.available`: ``None`` or why not and how to fix it);
* its plan for a run (:class:`RunPlan`: how many steps and what one is called, the plaintext
  reference's training settings, the target epsilon, the parties);
* which of its settings apply under the current choices (:class:`FormHints`, for its own
  parameters and for the model section);
* what a run protected (:class:`Guarantee`, built from the run's parameters and result: what is
  protected and from whom, how strongly, under which assumptions, what is not, and whether the
  setting gives no protection at all);
* what its metrics and costs mean (:class:`Label`: a person's name, a unit, where to plot it);
* what it means for data-protection compliance (:meth:`EngineBase.compliance`, a
  :class:`~ppml_lab.engines.compliance.ComplianceView`: the principles it supports, what it
  leaves to the organisation, what a regulator would still ask; orientation, not legal advice).

Everything here is plain data (no Qt), so tests and the PDF report read the same objects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from ppml_lab.engines.compliance import COMPLIANCE_NOTICE, ComplianceView
from ppml_lab.privacy import translator

__all__ = [
    "COMMON_LABELS",
    "COMPLIANCE_NOTICE",
    "ComplianceView",
    "DataShape",
    "EngineBase",
    "FormHints",
    "Guarantee",
    "Label",
    "RunPlan",
    "compare_settings",
]


@dataclass(frozen=True)
class DataShape:
    """The size of a dataset before it is prepared (what a plan's estimate needs)."""

    n_train: int
    n_features: int


@dataclass(frozen=True, kw_only=True)
class RunPlan:
    """What a run will do, known before it starts.

    Attributes
    ----------
    steps : int or None
        Steps the live plots will draw (epochs, rounds, ...); None when not known in advance.
    step_name : str
        What one step is, for axes and progress ("epoch", "round", "fit (one shot)").
    reference : object
        The ``ModelParams`` the plaintext reference trains with (same model, same split, as
        many passes over the data as the pattern makes).
    target_epsilon : float or None
        The epsilon the run aims at (drawn as a target line); None without one.
    parties : int or None
        Data owners taking part (clients, parties), when the pattern has them.
    party_name : str
        What they are called ("clients", "parties").
    cost_estimate : str
        A plain-words estimate of the cost when the engine can give one ("" otherwise).
    """

    steps: int | None
    step_name: str = "epoch"
    reference: Any = None
    target_epsilon: float | None = None
    parties: int | None = None
    party_name: str = ""
    cost_estimate: str = ""


@dataclass(frozen=True, kw_only=True)
class FormHints:
    """What a settings form should show besides the values.

    Attributes
    ----------
    disabled : dict
        Field name -> why the field does not apply now (the field is greyed out).
    unset_text : dict
        Optional field name -> what leaving it empty means (shown in the empty editor).
    notes : list of str
        Sentences shown under the form.
    """

    disabled: dict[str, str] = field(default_factory=dict)
    unset_text: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Label:
    """A person's name for a metric or cost kind an engine reports.

    Attributes
    ----------
    text : str
        The name in tables ("masking overhead").
    unit : str
        "s", "B", "" ...
    plot : str
        Where the live view draws it: "" (the cost table only), "bytes" (the data-sent plot),
        or "other" (a plot named from the labels: metrics with the same unit and first word
        share one).
    plot_text : str
        Its legend entry on that plot ("" = ``text``).
    extra_over : str
        For a cost that is part of another (e.g. masking bytes inside ``bytes_sent``): that
        kind; the summary then says how much it added over the rest.
    one_off : bool
        For a time (seconds) inside the engine time that is not training (set-up, calibration,
        bookkeeping): the like-for-like cost leaves it out of the training time and shows it
        separately (:func:`ppml_lab.experiments.evaluation.like_for_like`).
    """

    text: str
    unit: str = ""
    plot: str = ""
    plot_text: str = ""
    extra_over: str = ""
    one_off: bool = False


#: Labels of the kinds every engine may report.
COMMON_LABELS: Mapping[str, Label] = {
    "seconds": Label("engine time", "s"),
    "train_seconds": Label("training time", "s"),
    "time_ratio": Label("time vs baseline", "x"),
    "bytes_sent": Label("data sent (up + down)", "B", plot="bytes", plot_text="sent (up + down)"),
    "bytes_up": Label("uploaded", "B"),
    "bytes_down": Label("downloaded", "B"),
    "train_loss": Label("train"),
    "test_loss": Label("test"),
    "train_accuracy": Label("train"),
    "test_accuracy": Label("test"),
}


@dataclass(frozen=True, kw_only=True)
class Guarantee:
    """What a run protected, from whom, how strongly, and what it did not.

    The results document, the window and the report all read this one object; its
    :meth:`sentences` are the plain words shown with the result.

    Attributes
    ----------
    protects : str
        What is protected, in plain words.
    adversary : str
        From whom ("anyone who sees the trained model", "the server").
    not_protected : tuple of str
        What is not.
    assumptions : tuple of str
        What the protection relies on (a secret noise source, an honest-but-curious server, ...).
    caveats : tuple of str
        Anything else a reader must know to read the numbers.
    epsilon, delta : float or None
        The differential-privacy strength, when the run has one.
    unit : str
        What one epsilon protects: ``"record"`` or ``"client"`` (all of one client's rows).
    n_protected : int or None
        How many units there are (records or clients), to put delta in proportion.
    headline : str
        A few words on the unit ("per training record").
    no_protection : str
        Non-empty when this setting gives *no* protection at all, in a few words
        ("deterministic noise", "two parties"); the label then reads NOT PRIVATE.
    no_protection_reason : str
        The sentence that says why.
    covers : str
        What the protection covers in the results (the model, held-out figures, ...).
    diagnostics : tuple of str
        Outputs of the run computed from the private data without the protection.
    in_this_run : tuple of str
        What this run's settings switched on or off, in plain words (may hold simple HTML
        emphasis: ``<b>on</b>``).
    """

    protects: str
    adversary: str = ""
    not_protected: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()
    epsilon: float | None = None
    delta: float | None = None
    unit: str = "record"
    n_protected: int | None = None
    headline: str = ""
    no_protection: str = ""
    no_protection_reason: str = ""
    covers: str = ""
    diagnostics: tuple[str, ...] = ()
    in_this_run: tuple[str, ...] = ()

    @property
    def has_epsilon(self) -> bool:
        """Whether the run has a usable (epsilon, delta) guarantee."""
        eps, delta = self.epsilon, self.delta
        return (
            isinstance(eps, (int, float))
            and isinstance(delta, (int, float))
            and math.isfinite(eps)
            and eps > 0
            and 0 <= delta < 1
        )

    @property
    def level(self) -> str:
        """The protection level in words: "NOT PRIVATE (...)", "strong" ... "very weak", or "none"."""
        if self.no_protection:
            return f"NOT PRIVATE ({self.no_protection})"
        if self.has_epsilon:
            return translator.protection_level(float(self.epsilon))  # type: ignore[arg-type]
        return "none"

    def sentences(self) -> list[str]:
        """The plain-words sentences: the privacy translator's for an epsilon, else none.

        With ``no_protection`` the first sentence says why the run is not private.
        """
        if not self.has_epsilon:
            return [self.no_protection_reason] if self.no_protection else []
        sentences = translator.describe_guarantee(
            float(self.epsilon),  # type: ignore[arg-type]
            float(self.delta),  # type: ignore[arg-type]
            self.n_protected,
            per_client=self.unit == "client",
        )
        if self.no_protection:
            sentences.insert(0, self.no_protection_reason)
        return sentences

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the results document (``protection``)."""
        out = asdict(self)
        out["level"] = self.level
        for key in ("not_protected", "assumptions", "caveats", "diagnostics", "in_this_run"):
            out[key] = list(out[key])
        return out


class EngineBase:
    """Defaults for the contract; an engine subclasses this and overrides what applies.

    Class attributes an engine sets: ``name`` (the key in experiment files), ``label``,
    ``description``, ``protects`` and ``does_not_protect`` (the two boxes under the pattern
    list), ``Params`` (its parameter dataclass, see :func:`ppml_lab.params.param`) and
    ``labels`` (its own metric and cost kinds).
    """

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    protects: ClassVar[str] = ""
    does_not_protect: ClassVar[str] = ""
    Params: ClassVar[type]
    labels: ClassVar[Mapping[str, Label]] = {}
    #: Whether the sweep may vary this pattern's ``epsilon`` field.
    sweepable: ClassVar[bool] = False
    #: The pattern's compliance view (see :meth:`compliance`); None = not described.
    compliance_view: ClassVar[ComplianceView | None] = None

    def available(self) -> str | None:
        """None if the engine can run here, else why not and how to fix it (e.g. install X)."""
        return None

    def plan(self, model: Any, params: Any, data: Any = None) -> RunPlan:
        """The run's plan; ``data`` (a PreparedData, or a :class:`DataShape` for an estimate
        before the data is prepared) is optional.
        """
        return RunPlan(steps=int(model.epochs), step_name="epoch", reference=model)

    def form_rules(self, values: Mapping[str, Any]) -> FormHints:
        """Hints for this pattern's own settings form, given its current (raw) values."""
        return FormHints()

    def model_rules(
        self, pattern_values: Mapping[str, Any], model_values: Mapping[str, Any]
    ) -> FormHints:
        """Hints for the model section under this pattern (what it uses of it)."""
        return FormHints()

    def validate(self, data: Any, model: Any, params: Any) -> None:
        """Raise ValueError (with what to change) for settings this data cannot support.

        The runner calls it before training the plaintext reference, so a refused run costs
        nothing.
        """

    def guarantee(self, params: Any, result: Any, *, n_train: int | None = None) -> Guarantee:
        """What the run with ``params`` and engine ``result`` protected."""
        return Guarantee(protects=self.protects, not_protected=(self.does_not_protect,))

    def compare_preset(self, model: Any = None, *, tiny: bool = False) -> Any:
        """The parameters "Compare all patterns" runs this pattern with (default ``Params()``).

        A preset shows the pattern at a typical setting next to the others on the same model and
        split (e.g. DP-SGD at epsilon 1, three parties). ``model`` is the comparison's
        ``ModelParams`` (after :meth:`compare_model`), so a preset can make as many passes over
        the data as the plaintext baseline does; ``tiny`` asks for a few steps only (tests, a
        first look). An override may leave out either argument: the comparison passes only the
        ones it accepts (:func:`compare_settings`).
        """
        return self.Params()

    def compare_model(self, model: Any) -> Any:
        """The model settings this pattern's comparison run uses (default: ``model`` as given)."""
        return model

    def compliance(self, params: Any = None, guarantee: Guarantee | None = None) -> ComplianceView:
        """The pattern's compliance view for a run with ``params`` and its ``guarantee``.

        The default is the class's :attr:`compliance_view` (an engine overrides this method when
        its settings change the view); a guarantee with ``no_protection`` turns it into the view
        of a setting that protects nothing. The results document's ``compliance`` section.
        """
        view = self.compliance_view or ComplianceView(
            left_to_organisation=(
                f"The {self.label.lower()} pattern does not describe what it means for "
                "data-protection compliance: assess it as ordinary processing.",
            ),
            regulator_questions=("Which principles does this technique support, and how?",),
        )
        if guarantee is not None and guarantee.no_protection:
            return view.without_protection(guarantee.no_protection, guarantee.no_protection_reason)
        return view

    def label_for(self, kind: str) -> Label:
        """The label of a metric or cost kind (this engine's, then the common ones)."""
        return self.labels.get(kind) or COMMON_LABELS.get(kind) or Label(kind.replace("_", " "))


def compare_settings(engine: EngineBase, model: Any, *, tiny: bool = False) -> tuple[Any, Any]:
    """``(model, params)`` of ``engine``'s run in a comparison of all patterns.

    Calls :meth:`EngineBase.compare_model`, then :meth:`EngineBase.compare_preset` with the
    arguments its override accepts (``model`` and ``tiny`` are both optional there).
    """
    import inspect

    model = engine.compare_model(model)
    accepted = inspect.signature(engine.compare_preset).parameters
    kwargs: dict[str, Any] = {}
    if "model" in accepted:
        kwargs["model"] = model
    if "tiny" in accepted:
        kwargs["tiny"] = tiny
    return model, engine.compare_preset(**kwargs)
