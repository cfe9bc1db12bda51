"""``--set KEY=VALUE`` overrides of an experiment file: one helper for ``run`` and ``sweep``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ppml_lab.experiments.config import Experiment, experiment_from_dict, load_experiment

__all__ = ["apply_overrides", "load_with_overrides"]

_EXAMPLE = "e.g. model.epochs=5, pattern.epsilon=0.5 or seed=3"


def _value(raw: str) -> Any:
    """JSON when it parses (numbers, true/false, lists), else the text itself."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def apply_overrides(doc: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Return ``doc`` (an experiment as a dict) with each ``KEY=VALUE`` applied.

    ``KEY`` is a top-level key (``seed``, ``name``) or a dotted path into the sections
    (``model.epochs``, ``pattern.epsilon``, ``dataset.bounds.age``). A value that parses as JSON
    is taken as such (``5``, ``0.5``, ``true``, ``[17, 90]``), anything else as text.

    Raises
    ------
    ValueError
        For an item without ``=`` or a path through a single value, with what to write instead.
    """
    out = json.loads(json.dumps(doc))  # a deep copy of plain data
    for item in overrides:
        key, sep, raw = str(item).partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise ValueError(f"--set expects KEY=VALUE ({_EXAMPLE}), got {item!r}")
        *sections, name = key.split(".")
        table = out
        walked: list[str] = []
        for section in sections:
            walked.append(section)
            nxt = table.setdefault(section, {})
            if not isinstance(nxt, dict):
                raise ValueError(
                    f"--set {item}: {'.'.join(walked)!r} is a single value, not a section; "
                    f"use {_EXAMPLE}"
                )
            table = nxt
        table[name] = _value(raw)
    return out


def load_with_overrides(path: str | Path, overrides: Sequence[str] = ()) -> Experiment:
    """Load an experiment file and apply ``--set`` overrides (checked like the file itself)."""
    experiment = load_experiment(path)
    if not overrides:
        return experiment
    doc = apply_overrides(experiment.to_dict(), overrides)
    changed = [str(item).strip() for item in overrides if str(item).partition("=")[0].strip() != "name"]
    if changed and len(changed) == len(overrides) and doc.get("name"):
        # The file's name may describe what was overridden ("10 clients"): the report's title
        # and the History say what was changed rather than repeat it.
        doc["name"] = f"{doc['name']} (changed: {', '.join(changed)})"
    return experiment_from_dict(doc, where=Path(path).name, base_dir=Path(path).parent)
