"""Schema inference: numeric vs categorical columns, missing values, id-like and constant columns.

pandas 3 reads text as the ``str`` dtype (not ``object``), so categoricals are detected with
:func:`pandas.api.types.is_numeric_dtype`, never by comparing dtypes to ``object``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

_ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|guid|key|index)$|^id[_\s-]", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class ColumnInfo:
    """What we inferred about one column.

    Attributes
    ----------
    kind : str
        ``"numeric"`` or ``"categorical"``.
    id_like : bool
        Every value distinct and integer or text, or a name like ``patient_id``: an identifier
        that a model must not learn from (excluded by default).
    constant : bool
        At most one distinct value: carries no information (excluded by default).
    bad_numeric_row : int | None
        For a column of numbers with a few text values: the first offending row (0-based).
    """

    name: str
    kind: str
    n_missing: int
    n_unique: int
    id_like: bool = False
    constant: bool = False
    bad_numeric_row: int | None = None
    bad_numeric_value: str | None = None

    @property
    def excluded_by_default(self) -> bool:
        return self.id_like or self.constant


_PROBE_ROWS = 2000


def _numeric_like_text(col: pd.Series) -> tuple[int, str] | None:
    """For a text column whose values are mostly numbers, return the first non-numeric cell."""
    values = col.dropna()
    if len(values) == 0:
        return None
    # Parsing a million strings takes about a second: decide on a random sample first, which
    # settles ordinary text columns ("Private", "Married") at once.
    if len(values) > _PROBE_ROWS:
        probe = pd.to_numeric(values.sample(_PROBE_ROWS, random_state=0), errors="coerce")
        if probe.notna().mean() < 0.7:
            return None
    parsed = pd.to_numeric(values, errors="coerce")
    ok = parsed.notna()
    if ok.mean() >= 0.9 and not ok.all():
        first = ok[~ok].index[0]
        return int(col.index.get_loc(first)), str(values.loc[first])
    return None


def _all_numbers_as_text(col: pd.Series) -> pd.Series | None:
    """For a text column whose every value is a number ("1.5", "7"), return it parsed."""
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return None
    values = col.dropna()
    if len(values) == 0:
        return None
    if len(values) > _PROBE_ROWS:  # one text value in a random sample settles it cheaply
        probe = values.sample(_PROBE_ROWS, random_state=0).astype("string").str.strip()
        if pd.to_numeric(probe, errors="coerce").isna().any():
            return None
    parsed = pd.to_numeric(values.astype("string").str.strip(), errors="coerce")
    return parsed.astype("float64") if parsed.notna().all() else None


def infer_column(col: pd.Series, n_rows: int) -> ColumnInfo:
    n_missing = int(col.isna().sum())
    n_unique = int(col.nunique(dropna=True))
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    integer_like = pd.api.types.is_integer_dtype(col)
    # Numbers stored as text (an Excel column formatted as text, a DataFrame built from strings)
    # are numbers: the same values in a CSV file would have been parsed as numbers.
    as_numbers = None if numeric else _all_numbers_as_text(col)
    if as_numbers is not None:
        numeric = True
        integer_like = bool((as_numbers == as_numbers.round()).all())
    bad = None if numeric else _numeric_like_text(col)
    all_distinct = n_rows > 20 and n_unique == n_rows and n_missing == 0
    id_like = bool(_ID_NAME.search(str(col.name))) and n_unique > 0.5 * n_rows
    if all_distinct and (integer_like or not numeric) and bad is None:
        id_like = True
    return ColumnInfo(
        name=str(col.name),
        kind="numeric" if numeric else "categorical",
        n_missing=n_missing,
        n_unique=n_unique,
        id_like=id_like,
        constant=n_unique <= 1,
        bad_numeric_row=bad[0] if bad else None,
        bad_numeric_value=bad[1] if bad else None,
    )


def infer_schema(frame: pd.DataFrame) -> dict[str, ColumnInfo]:
    """Infer a :class:`ColumnInfo` for every column, keyed by column name."""
    n = len(frame)
    return {str(c): infer_column(frame[c], n) for c in frame.columns}
