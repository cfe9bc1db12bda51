"""One JSON convention for every document the lab writes (results, sweeps, plans, audits).

:func:`jsonable` turns a result into plain JSON data: dicts with string keys, lists, numbers,
strings, booleans and None. numpy scalars and arrays become Python numbers and lists, and every
non-finite number (NaN, infinity) becomes ``null``: JSON has no such numbers, and a document
must parse in any reader (``json.dumps(..., allow_nan=False)`` accepts the output). A reader
sees ``null`` where a figure does not exist or is unbounded (the non-private point of a sweep has
no epsilon).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["finite_or_none", "jsonable", "number_or_none"]


def finite_or_none(x: Any) -> float | None:
    """``float(x)``, or None for None, NaN and infinity."""
    if x is None:
        return None
    value = float(x)
    return value if math.isfinite(value) else None


def number_or_none(value: Any) -> float | None:
    """``value`` as a float if it is a finite real number, else None (also for a bool, text,
    NaN or infinity): how a figure is read from a document that may hold anything (a history
    file edited by hand, an older version's result), where :func:`finite_or_none` would raise.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def jsonable(obj: Any) -> Any:
    """Plain JSON data for ``obj`` (see the module docstring for the convention)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy arrays and scalars
        return jsonable(obj.tolist())
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    return obj
