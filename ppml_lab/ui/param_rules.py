"""Which settings apply right now: the forms ask the engine of the chosen pattern (Qt-free).

The parameter metadata says what a field *is*; whether it *applies* depends on other fields
(``noise_multiplier`` only for DP-SGD, ``alpha`` only for the Dirichlet split, ...). Each engine
declares that in its contract (:meth:`~ppml_lab.engines.contract.EngineBase.form_rules` and
``model_rules``); the forms ask after every edit and grey out the fields that do not apply, with
the reason in the tooltip and a short note under the form. A disabled optional field counts as
empty, so a value typed earlier for another mechanism cannot make a run fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ppml_lab.engines.contract import FormHints
from ppml_lab.engines.registry import get_engine


def _engine(pattern: str) -> Any:
    try:
        return get_engine(pattern)
    except ValueError:
        return None


def pattern_hints(pattern: str, values: Mapping[str, Any]) -> FormHints:
    """Hints for the settings form of ``pattern`` given its current (raw) values."""
    engine = _engine(pattern)
    return engine.form_rules(values) if engine is not None else FormHints()


def model_hints(
    pattern: str, pattern_values: Mapping[str, Any], model_values: Mapping[str, Any]
) -> FormHints:
    """Hints for the model form: what every model needs, plus what the chosen pattern uses.

    Every run also trains the plaintext baseline with these settings, so fields that the
    pattern ignores stay editable unless the engine says otherwise.
    """
    disabled: dict[str, str] = {}
    notes: list[str] = []
    if model_values.get("kind", "logistic") != "mlp":
        disabled["hidden"] = "only the MLP has a hidden layer"
    engine = _engine(pattern)
    if engine is not None:
        own = engine.model_rules(pattern_values, model_values)
        disabled.update(own.disabled)
        notes.extend(own.notes)
    return FormHints(disabled=disabled, notes=notes)


def is_column_field(name: str) -> bool:
    """Whether a text parameter names a column of the dataset (offered as a drop-down)."""
    return name.endswith("_column")


__all__ = ["FormHints", "is_column_field", "model_hints", "pattern_hints"]
