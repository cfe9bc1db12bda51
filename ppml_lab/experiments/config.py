"""Experiment files (TOML or JSON): dataset, model, pattern, parameters and seed.

Example::

    name = "Adult, plaintext"
    seed = 0

    [dataset]
    source = "builtin:breast_cancer"   # or a file path (relative to the experiment file)
    target = "diagnosis"

    [model]
    kind = "logistic"
    epochs = 10

    [pattern]
    name = "baseline"

Unknown keys and bad values raise :class:`ConfigError` naming the file, the key and the range.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ppml_lab.data import DEFAULT_SOURCE, PreprocessOptions, is_builtin
from ppml_lab.engines.registry import REFERENCE, get_engine
from ppml_lab.models import ModelParams
from ppml_lab.params import ParamError, describe, from_mapping, param, to_mapping


class ConfigError(ValueError):
    """An experiment file is malformed; the message names the file, the key and what is allowed."""


_TOP_KEYS = {"name", "seed", "description", "dataset", "model", "pattern"}
_DATASET_KEYS = {
    "source",
    "target",
    "exclude",
    "include",
    "test_fraction",
    "scaling",
    "bounds",
    "categories",
}


#: The ``scaling`` that clips numbers to public ranges (``bounds``) and uses public ``categories``.
PUBLIC_BOUNDS = "bounds"


@dataclass(frozen=True, kw_only=True)
class DatasetConfig:
    """The ``[dataset]`` section: which table, which columns, and how they become numbers.

    ``test_fraction`` and ``scaling`` carry parameter metadata (:func:`ppml_lab.params.param`),
    so the window builds their editors like a pattern's settings. ``source``, ``target``,
    ``exclude`` and ``include`` are chosen with the data; ``bounds`` (numeric column ->
    ``(low, high)``) and ``categories`` (text column -> levels) are public knowledge about the
    columns, used with ``scaling = "bounds"``.
    """

    source: str = DEFAULT_SOURCE
    target: str | None = None
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    test_fraction: float = param(
        0.2,
        label="Test share",
        minimum=0.05,
        maximum=0.5,
        help="Share of the rows held out to measure accuracy (0.2 = 20 %). The model never "
        "trains on them; the split keeps the classes' proportions and follows the seed.",
    )
    scaling: str = param(
        "standard",
        label="Scaling",
        choices=("standard", PUBLIC_BOUNDS, "none"),
        choice_labels={
            "standard": "Standardise (from the data)",
            PUBLIC_BOUNDS: "Public bounds (not from the data)",
            "none": "None (as they are)",
        },
        choice_help={
            "standard": "Subtract the mean and divide by the standard deviation of the training "
            "rows. These statistics come from the private rows; a privacy budget does not count "
            "them.",
            PUBLIC_BOUNDS: "Clip every numeric column to a public range you give below and map "
            "it to [-1, 1]; text columns use public category lists. Nothing is learnt from the "
            "data before training, so a privacy guarantee covers the whole pipeline.",
            "none": "Use the numbers as they are (only for columns already on similar scales).",
        },
        help="How numeric columns are brought to a common scale before training.\n"
        "standard: subtract the mean and divide by the standard deviation of the training "
        "rows. Those statistics come from the private rows, and a privacy budget (epsilon) "
        "does not count what they reveal.\n"
        "bounds: clip each column to a public range known without looking at the data (e.g. "
        "age 0 to 120) and map it to [-1, 1]; with public category lists for the text columns, "
        "nothing is learnt from the data before training.\n"
        "none: use the numbers as they are.",
    )
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def preprocess_options(self) -> PreprocessOptions:
        return PreprocessOptions(
            test_fraction=self.test_fraction,
            scaling=self.scaling,
            bounds=dict(self.bounds) or None,
            categories=dict(self.categories) or None,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source}
        if self.target:
            out["target"] = self.target
        if self.exclude:
            out["exclude"] = list(self.exclude)
        if self.include:
            out["include"] = list(self.include)
        if self.test_fraction != 0.2:
            out["test_fraction"] = self.test_fraction
        if self.scaling != "standard":
            out["scaling"] = self.scaling
        if self.bounds:
            out["bounds"] = {k: list(v) for k, v in self.bounds.items()}
        if self.categories:
            out["categories"] = {k: list(v) for k, v in self.categories.items()}
        return out


@dataclass(frozen=True, kw_only=True)
class Experiment:
    """A whole experiment: everything needed to reproduce a run."""

    name: str = "Untitled experiment"
    seed: int = 0
    description: str = ""
    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    model: ModelParams = field(default_factory=ModelParams)
    pattern: str = REFERENCE
    params: Any = None

    def __post_init__(self) -> None:
        if self.params is None:
            object.__setattr__(self, "params", get_engine(self.pattern).Params())

    def with_pattern(self, pattern: str, params: Any = None) -> Experiment:
        engine = get_engine(pattern)
        return replace(self, pattern=pattern, params=params or engine.Params())

    def to_dict(self) -> dict[str, Any]:
        pattern = {"name": self.pattern}
        pattern.update({k: v for k, v in to_mapping(self.params).items() if v is not None})
        out: dict[str, Any] = {"name": self.name, "seed": self.seed}
        if self.description:
            out["description"] = self.description
        out["dataset"] = self.dataset.to_dict()
        out["model"] = to_mapping(self.model)
        out["pattern"] = pattern
        return out

    def to_toml(self) -> str:
        return dumps_toml(self.to_dict())


def _err(where: str, message: str) -> ConfigError:
    return ConfigError(f"{where}: {message}")


def _table(value: Any, where: str, section: str) -> dict[str, Any]:
    """A section that must be a TOML table (``model = 5`` is an error, not a crash)."""
    if not isinstance(value, Mapping):
        raise _err(where, f"{section} must be a table of keys, got {value!r}")
    return dict(value)


def _as_str_tuple(value: Any, where: str, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise _err(where, f"[dataset] {key} must be a list of column names, got {value!r}")


def experiment_from_dict(
    doc: Mapping[str, Any], *, where: str = "experiment", base_dir: Path | None = None
) -> Experiment:
    """Validate a parsed experiment document and build an :class:`Experiment`."""
    if not isinstance(doc, Mapping):
        raise _err(where, "the experiment must be a table of keys")
    unknown = sorted(set(doc) - _TOP_KEYS)
    if unknown:
        raise _err(where, f"unknown key {unknown[0]!r}; allowed: {', '.join(sorted(_TOP_KEYS))}")
    name = doc.get("name", "Untitled experiment")
    seed = doc.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise _err(where, f"seed must be a whole number between 0 and {2**32 - 1}, got {seed!r}")
    ds = doc.get("dataset", {})
    if not isinstance(ds, Mapping):
        raise _err(where, f"[dataset] must be a table of keys, got {ds!r}")
    unknown = sorted(set(ds) - _DATASET_KEYS)
    if unknown:
        raise _err(
            where,
            f"unknown key [dataset] {unknown[0]!r}; allowed: {', '.join(sorted(_DATASET_KEYS))}",
        )
    source = ds.get("source", DEFAULT_SOURCE)
    if not isinstance(source, str) or not source:
        raise _err(where, "[dataset] source must be 'builtin:<name>' or a file path")
    if not is_builtin(source) and base_dir is not None and not Path(source).is_absolute():
        source = str((base_dir / source).resolve())
    test_fraction = ds.get("test_fraction", 0.2)
    if not isinstance(test_fraction, (int, float)) or not 0.05 <= test_fraction <= 0.5:
        raise _err(where, f"[dataset] test_fraction must be between 0.05 and 0.5, got {test_fraction!r}")
    scaling = ds.get("scaling", "standard")
    if scaling not in ("standard", "bounds", "none"):
        raise _err(where, f"[dataset] scaling must be one of 'standard', 'bounds', 'none', got {scaling!r}")
    bounds_raw = _table(ds.get("bounds", {}), where, "[dataset.bounds]")
    bounds: dict[str, tuple[float, float]] = {}
    for col, pair in bounds_raw.items():
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(v, (int, float)) for v in pair)
            or not pair[0] < pair[1]
        ):
            raise _err(where, f"[dataset.bounds] {col} must be [low, high] with low < high, got {pair!r}")
        bounds[str(col)] = (float(pair[0]), float(pair[1]))
    categories = {
        str(col): _as_str_tuple(levels, where, f"categories.{col}")
        for col, levels in _table(ds.get("categories", {}), where, "[dataset.categories]").items()
    }
    target = ds.get("target")
    if target is not None and not isinstance(target, str):
        raise _err(where, f"[dataset] target must be a column name, got {target!r}")
    dataset = DatasetConfig(
        source=source,
        target=target,
        exclude=_as_str_tuple(ds.get("exclude", []), where, "exclude"),
        include=_as_str_tuple(ds.get("include", []), where, "include"),
        test_fraction=float(test_fraction),
        scaling=scaling,
        bounds=bounds,
        categories=categories,
    )
    model_doc = _table(doc.get("model", {}), where, "[model]")
    try:
        model = from_mapping(ModelParams, model_doc, where=f"{where}: [model] ")
    except ParamError as exc:
        raise ConfigError(str(exc)) from None
    pat = _table(doc.get("pattern", {}), where, "[pattern]")
    pattern_name = pat.pop("name", REFERENCE)
    try:
        engine = get_engine(str(pattern_name))
    except ValueError as exc:
        raise _err(where, f"[pattern] name: {exc}") from None
    allowed = ["name"] + [spec.name for spec in describe(engine.Params)]
    unknown = [k for k in pat if k not in allowed]
    if unknown:
        # Checked here rather than by from_mapping so that "name" is listed as allowed too.
        raise _err(
            where,
            f"[pattern] unknown key {unknown[0]!r}; allowed keys for the {pattern_name!r} pattern: "
            + ", ".join(allowed),
        )
    try:
        params = from_mapping(engine.Params, pat, where=f"{where}: [pattern] ")
    except ParamError as exc:
        raise ConfigError(str(exc)) from None
    return Experiment(
        name=str(name),
        seed=int(seed),
        description=str(doc.get("description", "")),
        dataset=dataset,
        model=model,
        pattern=str(pattern_name),
        params=params,
    )


def load_experiment(path: str | Path) -> Experiment:
    """Read a TOML (or JSON) experiment file.

    Raises
    ------
    ConfigError
        If the file is missing, not valid TOML/JSON, or has unknown keys or bad values.
    """
    p = Path(path)
    where = p.name
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such experiment file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot be read ({exc})") from None
    try:
        doc = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{where}: not a valid {'JSON' if p.suffix.lower() == '.json' else 'TOML'} file ({exc})") from None
    return experiment_from_dict(doc, where=where, base_dir=p.parent)


def save_experiment(experiment: Experiment, path: str | Path) -> None:
    """Write an experiment as TOML (or JSON for a ``.json`` path)."""
    p = Path(path)
    text = (
        json.dumps(experiment.to_dict(), indent=2)
        if p.suffix.lower() == ".json"
        else experiment.to_toml()
    )
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(p)  # atomic: a crash never leaves a half-written experiment


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} to TOML")


def _toml_string(v: str) -> str:
    # JSON escapes are TOML escapes, but ensure_ascii would write astral characters as surrogate
    # pairs ("\\ud83d\\ude00"), which TOML rejects; DEL is the one control JSON leaves raw.
    return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(k: str) -> str:
    # Bare keys are ASCII only: "größe" (which str.isalnum() accepts) must be quoted.
    return k if _BARE_KEY.fullmatch(k) else _toml_string(k)


def dumps_toml(doc: Mapping[str, Any], _prefix: str = "") -> str:
    """A small TOML writer for experiment documents (scalars, lists and nested tables)."""
    lines: list[str] = []
    tables: list[tuple[str, Mapping[str, Any]]] = []
    for k, v in doc.items():
        if isinstance(v, Mapping):
            tables.append((k, v))
        elif v is not None:
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for k, v in tables:
        name = f"{_prefix}{_toml_key(k)}"
        lines.append("")
        lines.append(f"[{name}]")
        lines.append(dumps_toml(v, _prefix=name + ".").rstrip("\n"))
    return "\n".join(line for line in lines).strip("\n") + "\n"
