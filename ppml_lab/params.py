"""Parameter dataclasses with metadata: one source of truth for GUI forms, CLI options and reports.

A parameter is declared with :func:`param`, which stores a label, a unit, bounds, choices (each
with its name in words: ``choice_labels``) and a plain-language help text in the dataclass field's
metadata. :func:`describe` turns a parameter
class into a list of :class:`ParamSpec` (what the GUI builds its form from), and
:func:`from_mapping` validates a user mapping (from a TOML file or the command line) against it.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_META_KEY = "ppml"


class ParamError(ValueError):
    """A parameter value is unknown, of the wrong type or out of bounds.

    Attributes
    ----------
    key : str
        The offending key.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass(frozen=True, kw_only=True)
class ParamSpec:
    """Everything a form, a CLI option or a report table needs to know about one parameter."""

    name: str
    label: str
    type: type
    default: Any
    help: str = ""
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    min_inclusive: bool = True
    choices: tuple[Any, ...] | None = None
    #: ``(value, words)`` for each choice, e.g. ``("dp-sgd", "DP-SGD (noisy training)")``.
    choice_labels: tuple[tuple[Any, str], ...] = ()
    #: ``(value, sentence)``: what a choice does, for its tooltip (optional).
    choice_help: tuple[tuple[Any, str], ...] = ()
    log_scale: bool = False
    optional: bool = False
    advanced: bool = False

    def choice_text(self, value: Any) -> str:
        """A choice in words (what the window shows), e.g. ``"DP-SGD (noisy training)"``.

        The value itself (``"dp-sgd"``) is what experiment files and the command line use; a
        value without words is shown as it is.
        """
        for key, words in self.choice_labels:
            if key == value:
                return words
        return "" if value is None else str(value)

    def choice_tip(self, value: Any) -> str:
        """What choice ``value`` does ("" when not declared)."""
        for key, text in self.choice_help:
            if key == value:
                return text
        return ""

    def bounds_text(self) -> str:
        """Return the allowed range in words, e.g. ``"between 0.001 and 10"``."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        lo = self.minimum
        hi = self.maximum
        if lo is not None and hi is not None:
            if not self.min_inclusive:
                return f"greater than {lo:g} and at most {hi:g}"
            return f"between {lo:g} and {hi:g}"
        if lo is not None:
            return f"greater than {lo:g}" if not self.min_inclusive else f"at least {lo:g}"
        if hi is not None:
            return f"at most {hi:g}"
        return "any value"


def param(
    default: Any,
    *,
    label: str,
    help: str = "",
    unit: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
    min_inclusive: bool = True,
    choices: Sequence[Any] | None = None,
    choice_labels: Mapping[Any, str] | None = None,
    choice_help: Mapping[Any, str] | None = None,
    log_scale: bool = False,
    advanced: bool = False,
) -> Any:
    """Declare a dataclass field with user-facing metadata.

    ``choice_labels`` maps each of ``choices`` to words a newcomer understands ("Label skew
    (Dirichlet)" for ``"dirichlet"``); the window shows those and saves the value.
    ``choice_help`` maps a choice to a sentence for its tooltip.
    """
    if choices is not None:
        unknown = [k for k in (*(choice_labels or {}), *(choice_help or {})) if k not in choices]
        if unknown:
            raise ValueError(f"choice_labels/choice_help name {unknown[0]!r}, not one of the choices")
    meta = {
        _META_KEY: {
            "label": label,
            "help": help,
            "unit": unit,
            "minimum": minimum,
            "maximum": maximum,
            "min_inclusive": min_inclusive,
            "choices": tuple(choices) if choices is not None else None,
            "choice_labels": tuple((choice_labels or {}).items()),
            "choice_help": tuple((choice_help or {}).items()),
            "log_scale": log_scale,
            "advanced": advanced,
        }
    }
    return dataclasses.field(default=default, metadata=meta)


def _resolve_type(tp: Any) -> tuple[type, bool]:
    """Return (base type, optional?) for an annotation such as ``float | None``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        non_none = [a for a in args if a is not type(None)]
        base, _ = _resolve_type(non_none[0])
        return base, True
    if tp in (int, float, str, bool):
        return tp, False
    return object, False


def describe(cls: type) -> list[ParamSpec]:
    """List the parameters of a parameter dataclass, in declaration order."""
    hints = typing.get_type_hints(cls)
    specs: list[ParamSpec] = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(_META_KEY)
        if meta is None:
            continue
        base, optional = _resolve_type(hints[f.name])
        specs.append(
            ParamSpec(
                name=f.name,
                label=meta["label"],
                type=base,
                default=f.default,
                help=meta["help"],
                unit=meta["unit"],
                minimum=meta["minimum"],
                maximum=meta["maximum"],
                min_inclusive=meta["min_inclusive"],
                choices=meta["choices"],
                choice_labels=meta.get("choice_labels", ()),
                choice_help=meta.get("choice_help", ()),
                log_scale=meta["log_scale"],
                optional=optional,
                advanced=meta["advanced"],
            )
        )
    return specs


def coerce_value(spec: ParamSpec, value: Any, *, where: str = "") -> Any:
    """Check one value against its spec and convert it to the declared type."""
    prefix = f"{where}{spec.name}"
    if value is None:
        if spec.optional:
            return None
        raise ParamError(spec.name, f"{prefix}: a value is required ({spec.bounds_text()})")
    if spec.type is bool:
        if isinstance(value, bool):
            out: Any = value
        elif isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0"):
            out = value.lower() in ("true", "yes", "1")
        else:
            raise ParamError(spec.name, f"{prefix}: expected true or false, got {value!r}")
    elif spec.type in (int, float):
        if isinstance(value, bool):
            raise ParamError(spec.name, f"{prefix}: expected a number, got {value!r}")
        try:
            num = float(value)
        except (TypeError, ValueError):
            raise ParamError(
                spec.name, f"{prefix}: expected a number ({spec.bounds_text()}), got {value!r}"
            ) from None
        if not math.isfinite(num):
            raise ParamError(spec.name, f"{prefix}: expected a finite number, got {value!r}")
        if spec.type is int:
            if num != int(num):
                raise ParamError(spec.name, f"{prefix}: expected a whole number, got {value!r}")
            out = int(num)
        else:
            out = num
        too_low = spec.minimum is not None and (
            num < spec.minimum or (not spec.min_inclusive and num <= spec.minimum)
        )
        too_high = spec.maximum is not None and num > spec.maximum
        if too_low or too_high:
            raise ParamError(
                spec.name, f"{prefix} = {value!r} is out of range: must be {spec.bounds_text()}"
            )
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        out = ", ".join(v.strip() for v in value)  # a TOML list of texts: one comma-separated text
    else:
        out = str(value) if not isinstance(value, str) else value
    if spec.choices is not None and out not in spec.choices:
        raise ParamError(
            spec.name, f"{prefix} = {value!r} is not allowed: must be {spec.bounds_text()}"
        )
    return out


def from_mapping(cls: type, mapping: Mapping[str, Any], *, where: str = "") -> Any:
    """Build a parameter dataclass from a mapping, validating every key and value.

    Parameters
    ----------
    cls : type
        The parameter dataclass.
    mapping : Mapping
        User values; keys missing from it keep their defaults.
    where : str
        Prefix for messages, e.g. ``"experiment.toml: [pattern] "``.

    Raises
    ------
    ParamError
        For an unknown key or a bad value; the message names the key and the allowed range.
    """
    specs = {s.name: s for s in describe(cls)}
    unknown = [k for k in mapping if k not in specs]
    if unknown:
        raise ParamError(
            unknown[0],
            f"{where}unknown key {unknown[0]!r}; allowed keys: {', '.join(sorted(specs))}",
        )
    values = {k: coerce_value(specs[k], v, where=where) for k, v in mapping.items()}
    try:
        obj = cls(**values)
    except ParamError:
        raise
    except ValueError as exc:  # cross-field checks in __post_init__
        raise ParamError("", f"{where}{exc}") from None
    return obj


def to_mapping(obj: Any) -> dict[str, Any]:
    """Return the declared parameters of a dataclass instance as a plain dict."""
    return {s.name: getattr(obj, s.name) for s in describe(type(obj))}


def values_in_words(cls: type, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(label, value in words)`` for each declared parameter of ``cls`` given in ``values``.

    For tables and tooltips a person reads: choices in words ("DP-SGD (noisy training)"), other
    values as written (``1.0`` -> ``"1"``), unset (None) values left out, unknown keys kept as
    they are.
    """
    specs = {s.name: s for s in describe(cls)}
    out: list[tuple[str, str]] = []
    for key, value in values.items():
        if value is None:
            continue
        spec = specs.get(key)
        if spec is None:
            out.append((key, str(value)))
        elif spec.choices is not None:
            out.append((spec.label, spec.choice_text(value)))
        elif isinstance(value, bool):
            out.append((spec.label, "yes" if value else "no"))
        elif isinstance(value, float):
            out.append((spec.label, f"{value:g}{' ' + spec.unit if spec.unit else ''}"))
        else:
            out.append((spec.label, f"{value}{' ' + spec.unit if spec.unit else ''}"))
    return out
