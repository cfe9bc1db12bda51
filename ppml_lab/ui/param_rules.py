"""Which settings apply right now: the form hints of each pattern (Qt-free, so it is easy to test).

The parameter metadata says what a field *is*; whether it *applies* depends on other fields
(``noise_multiplier`` only for DP-SGD, ``alpha`` only for the Dirichlet split, ...). The forms ask
:func:`pattern_hints` and :func:`model_hints` after every edit and grey out the fields that do
not apply, with the reason in the tooltip and a short note under the form. A disabled optional
field counts as empty, so a value typed earlier for another mechanism cannot make a run fail.

Patterns without rules here (including ones registered later) simply get no hints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class FormHints:
    """What a form should show besides the values.

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


_SEEDED_NOTE = (
    "Deterministic noise is on: the noise can be replayed from the seed, so this run will NOT "
    "be private. Use it for teaching and debugging only."
)


def _dp_hints(values: Mapping[str, Any]) -> FormHints:
    mechanism = values.get("mechanism", "dp-sgd")
    disabled: dict[str, str] = {}
    notes: list[str] = []
    if mechanism != "dp-sgd":
        pure = f"mechanism '{mechanism}' gives pure ε-DP: δ is 0 and the whole ε is spent at once"
        disabled["noise_multiplier"] = (
            f"only DP-SGD takes a noise multiplier; {mechanism} is calibrated from the target ε"
        )
        disabled["delta"] = pure
        disabled["accountant"] = f"{pure}, so there is nothing to account over steps"
    if mechanism == "local":
        disabled["clip_norm"] = (
            "local DP randomises each feature within its range instead of clipping a norm"
        )
    if mechanism == "dp-sgd" and values.get("noise_multiplier") is not None:
        disabled["epsilon"] = (
            "the noise multiplier is set, so the run reports the ε it spends instead of aiming "
            "at a target"
        )
    if mechanism == "objective":
        notes.append(
            "Objective perturbation (diffprivlib) fits a logistic regression in one go: the "
            "whole ε is spent at once, and Clip norm C bounds each row's norm."
        )
    elif mechanism == "local":
        notes.append(
            "Local DP: every record's features and label are randomised before training, with ε "
            "split over the attributes; expect a large accuracy loss compared with central DP."
        )
    elif values.get("noise_multiplier") is None:
        notes.append("DP-SGD: the noise is calibrated so the run spends at most the target ε.")
    if values.get("deterministic_noise"):
        notes.append(_SEEDED_NOTE)
    return FormHints(
        disabled=disabled,
        unset_text={
            "delta": "auto: 1/(10 × training rows)",
            "noise_multiplier": "off: calibrated from ε",
            "epsilon": "not set",
        },
        notes=notes,
    )


def _federated_hints(values: Mapping[str, Any]) -> FormHints:
    disabled: dict[str, str] = {}
    partition = values.get("partition", "iid")
    if partition != "dirichlet":
        disabled["alpha"] = "only the 'dirichlet' data split uses alpha"
    if partition != "column":
        disabled["partition_column"] = "only the 'column' data split uses a client column"
    else:
        disabled["clients"] = (
            "the 'column' split makes one client per value of the client column"
        )
    if not values.get("secure_aggregation"):
        disabled["secagg_threshold"] = "only with secure aggregation"
    if values.get("strategy", "fedavg") != "fedprox":
        disabled["mu"] = "only the FedProx strategy has a proximal term mu"
    if values.get("epsilon") is None:
        why = "only with client-level DP (set Client-level epsilon first)"
        disabled["delta"] = why
        disabled["update_clip"] = why
        disabled["deterministic_noise"] = why
    notes: list[str] = []
    if values.get("epsilon") is not None and values.get("deterministic_noise"):
        notes.append(_SEEDED_NOTE)
    if partition == "column" and not values.get("partition_column"):
        notes.append("Choose the client column: one client per value of that column.")
    return FormHints(
        disabled=disabled,
        unset_text={
            "epsilon": "off: no client-level DP",
            "delta": "auto: 1/(10 × clients)",
            "partition_column": "choose a column…",
            "secagg_threshold": "auto: a majority of each round's clients",
        },
        notes=notes,
    )


_PATTERN_RULES: dict[str, Callable[[Mapping[str, Any]], FormHints]] = {
    "dp": _dp_hints,
    "federated": _federated_hints,
}


def pattern_hints(pattern: str, values: Mapping[str, Any]) -> FormHints:
    """Hints for the settings form of ``pattern`` given its current (raw) values."""
    rules = _PATTERN_RULES.get(pattern)
    return rules(values) if rules is not None else FormHints()


def model_hints(
    pattern: str, pattern_values: Mapping[str, Any], model_values: Mapping[str, Any]
) -> FormHints:
    """Hints for the model form: what the chosen pattern and model use of it.

    Every run also trains the plaintext baseline with these settings, so fields that the
    pattern ignores stay editable; a note says that they apply to the baseline only.
    """
    disabled: dict[str, str] = {}
    notes: list[str] = []
    if model_values.get("kind", "logistic") != "mlp":
        disabled["hidden"] = "only the MLP has a hidden layer"
    if pattern == "dp" and pattern_values.get("mechanism") == "objective":
        notes.append(
            "Objective perturbation trains its own logistic regression: epochs, batch size, "
            "learning rate and L2 here apply to the plaintext baseline only."
        )
        if model_values.get("kind") == "mlp":
            notes.append("The MLP choice is ignored by objective perturbation.")
    elif pattern == "federated":
        disabled["epochs"] = (
            "federated training runs Rounds × Local epochs (pattern settings), and the plaintext "
            "reference trains as many epochs, so the comparison is like for like"
        )
        notes.append(
            "Federated training runs Rounds × Local epochs (pattern settings); the plaintext "
            "reference trains the same number of epochs. Batch size and learning rate are the "
            "clients'."
        )
    elif pattern == "dp" and pattern_values.get("mechanism", "dp-sgd") == "dp-sgd":
        notes.append(
            "For DP-SGD the batch size is the expected batch under Poisson sampling "
            "(rate = batch size / training rows)."
        )
    return FormHints(disabled=disabled, notes=notes)


def is_column_field(name: str) -> bool:
    """Whether a text parameter names a column of the dataset (offered as a drop-down)."""
    return name.endswith("_column")


__all__ = ["FormHints", "is_column_field", "model_hints", "pattern_hints"]
