"""Schema inference: numeric vs categorical columns, missing values, id-like and constant columns.

pandas 3 reads text as the ``str`` dtype (not ``object``), so categoricals are detected with
:func:`pandas.api.types.is_numeric_dtype`, never by comparing dtypes to ``object``.

A text column is read as **numbers** when its cells are mostly numbers (see
:func:`infer_column` for the rule): a few texts such as "unknown" or "high" in a column of ages
become missing values (imputed, with a "was missing" indicator), and
:attr:`ColumnInfo.text_values` lists them for the preprocessing notes. Codes ("A12") and
categories ("low", "medium", "high") stay categorical.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ppml_lab.data.loading import MISSING_MARKERS
from ppml_lab.lazy import LazyModule

# pandas takes about 0.5 s to import: imported on first use, after the window is shown.
pd = LazyModule("pandas")

_ID_NAME = re.compile(r"(^|[_\s-])(id|uuid|guid|key|index)$|^id[_\s-]", re.IGNORECASE)

#: A text column is numeric when at least this share of its cells are numbers ...
MIN_NUMBER_SHARE = 0.5
#: ... and its other texts are few: at most this many different ones ...
MAX_TEXT_KINDS = 5
#: ... or, however many different ones, at most this share of the cells.
MAX_TEXT_SHARE = 0.05
#: A column with this share of numbers but too many different texts is refused, not one-hot
#: encoded: typos or codes, the user decides.
AMBIGUOUS_NUMBER_SHARE = 0.9

#: How many of the most common texts a :class:`ColumnInfo` keeps (for messages and notes).
_KEPT_TEXTS = 10

_MARKERS = tuple(m for m in MISSING_MARKERS if m)


@dataclass(frozen=True, kw_only=True)
class ColumnInfo:
    """What we inferred about one column.

    Attributes
    ----------
    kind : str
        ``"numeric"`` or ``"categorical"``.
    n_missing : int
        Missing cells, counting the texts of a numeric column (``text_values``), which become
        missing values.
    n_unique : int
        Distinct non-missing values (of the numbers, for a numeric column stored as text).
    id_like : bool
        Every value distinct and integer or text, or a name like ``patient_id``: an identifier
        that a model must not learn from (excluded by default).
    constant : bool
        At most one distinct value: carries no information (excluded by default).
    bad_numeric_row : int | None
        For a column of numbers with too many different texts to treat them as missing values
        (see :func:`infer_column`): the first offending row (0-based). Preparing the data stops
        with an error naming it.
    bad_numeric_value : str | None
        The text in that row.
    text_values : tuple of (str, int)
        For a column of numbers stored as text: its non-numeric texts with their counts, most
        common first (at most 10). In a numeric column they are read as missing values (with
        any standard missing marker such as "n/a" still stored as text); with
        ``bad_numeric_row`` set, they are the reason for the error (markers aside).
    n_text_cells : int
        How many cells hold such texts.
    n_text_kinds : int
        How many different texts there are (``text_values`` keeps at most 10 of them).
    """

    name: str
    kind: str
    n_missing: int
    n_unique: int
    id_like: bool = False
    constant: bool = False
    bad_numeric_row: int | None = None
    bad_numeric_value: str | None = None
    text_values: tuple[tuple[str, int], ...] = ()
    n_text_cells: int = 0
    n_text_kinds: int = 0

    @property
    def excluded_by_default(self) -> bool:
        return self.id_like or self.constant

    @property
    def texts_read_as_missing(self) -> bool:
        """A numeric column whose texts (``text_values``) become missing values."""
        return self.kind == "numeric" and self.n_text_cells > 0


_PROBE_ROWS = 2000
#: Share of numbers in the random probe below which a long text column is settled as text
#: without parsing it all (below MIN_NUMBER_SHARE: the share in a 2,000-row sample is off by
#: more than 0.1 with a probability below 1e-9).
_PROBE_SHARE = MIN_NUMBER_SHARE - 0.1


@dataclass(frozen=True)
class _TextNumbers:
    """A text column parsed as numbers."""

    text: pd.Series  # the non-missing cells as stripped text
    parsed: pd.Series  # the same cells as float64, NaN where the cell is a text
    texts: pd.Series  # counts of the non-numeric texts (stripped), most common first
    n_counted: int  # non-missing cells that are not a standard missing marker ("n/a", "?")
    n_numbers: int  # cells that are numbers


def _to_numbers(text: pd.Series) -> pd.Series:
    """Parse stripped text as float64; texts (and "inf", which no model can use) give NaN."""
    parsed = pd.to_numeric(text, errors="coerce").astype("float64")
    return parsed.where(np.isfinite(parsed.to_numpy()))


def numbers_from_text(col: pd.Series) -> pd.Series:
    """A text column of a numeric :class:`ColumnInfo` as float64: its texts become NaN.

    Parameters
    ----------
    col : Series
        Cells such as ``"1.5"``, ``" 7 "`` or ``"unknown"``.

    Returns
    -------
    Series
        float64 with the same index; NaN for missing cells and texts.
    """
    return _to_numbers(col.astype("string").str.strip())


def _text_numbers(col: pd.Series) -> _TextNumbers | None:
    """Parse a text column whose cells are mostly numbers; None for an ordinary text column."""
    values = col.dropna()
    if len(values) == 0:
        return None
    # Parsing a million strings takes about half a second: decide on a random sample first,
    # which settles ordinary text columns ("Private", "Married") at once.
    if len(values) > _PROBE_ROWS:
        probe = values.sample(_PROBE_ROWS, random_state=0).astype("string").str.strip()
        numbers = int(_to_numbers(probe).notna().sum())
        counted = _PROBE_ROWS - int(probe.isin(_MARKERS).sum())
        if counted == 0 or numbers < _PROBE_SHARE * counted:
            return None
    text = values.astype("string").str.strip()
    parsed = _to_numbers(text)
    texts = text[parsed.isna()].value_counts()
    if len(texts):  # most common first, ties in alphabetical order
        texts = texts.sort_index().sort_values(ascending=False, kind="stable")
    n_counted = len(values) - int(texts[texts.index.isin(_MARKERS)].sum())
    n_numbers = int(parsed.notna().sum())
    if n_counted == 0 or n_numbers < MIN_NUMBER_SHARE * n_counted:
        return None
    return _TextNumbers(
        text=text, parsed=parsed, texts=texts, n_counted=n_counted, n_numbers=n_numbers
    )


def infer_column(col: pd.Series, n_rows: int) -> ColumnInfo:
    """Infer what one column holds.

    A text column (a column read as text because some cells are not numbers, or numbers stored
    as text by Excel or a DataFrame built from strings) is read as **numbers** when, among its
    non-empty cells other than the standard missing markers ("n/a", "?", "-", ...):

    * at least half are numbers (``MIN_NUMBER_SHARE``),
    * the other texts are few: at most 5 different ones (``MAX_TEXT_KINDS``), such as
      "unknown" or "high", or at most 5 % of the cells (``MAX_TEXT_SHARE``), and
    * there are more different numbers than different texts.

    Its texts (and any standard missing marker still stored as text) then become missing
    values, listed in ``text_values``. The share is only half because in a small file a few
    texts weigh a lot (5 "unknown" in 40 rows are 12 %); the number of different texts is what
    tells a column of numbers from a column of categories. Categories ("low", "medium",
    "high") and codes ("A12", "B7") have no numbers and stay categorical; so do mixed columns
    with fewer numbers than texts ("1", "2", "3+", "4+", "n.a."), many different texts (a code
    column "250", "V45", "E878", ...), or as many different texts as numbers (sizes "36",
    "38", "S", "M"). A column with at least 90 % numbers (``AMBIGUOUS_NUMBER_SHARE``) but more
    than 5 different texts in more than 5 % of the cells is ambiguous (typos? codes?): it is
    categorical with ``bad_numeric_row`` set, and preparing the data stops with a message
    naming the row, so the user decides.

    Parameters
    ----------
    col : Series
        The column.
    n_rows : int
        Rows in the table (for the "every value distinct" identifier test).

    Returns
    -------
    ColumnInfo
        The inferred kind, counts and flags.
    """
    n_missing = int(col.isna().sum())
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    integer_like = pd.api.types.is_integer_dtype(col)
    found = None
    if not numeric and not pd.api.types.is_bool_dtype(col):
        found = _text_numbers(col)
    bad: tuple[int, str] | None = None
    texts: pd.Series = pd.Series(dtype="int64")
    if found is None:
        n_unique = int(col.nunique(dropna=True))
    else:
        texts = found.texts
        counted = texts[~texts.index.isin(_MARKERS)]
        few = len(counted) <= MAX_TEXT_KINDS or counted.sum() <= MAX_TEXT_SHARE * found.n_counted
        numbers = found.parsed.dropna()
        n_numbers_unique = int(numbers.nunique())
        if few and n_numbers_unique > len(counted):
            # Numbers stored as text are numbers (the same values in a CSV file would have
            # been parsed as numbers); their few texts become missing values.
            numeric = True
            integer_like = bool((numbers == numbers.round()).all())
            n_missing += int(texts.sum())
            n_unique = n_numbers_unique
        elif few or found.n_numbers < AMBIGUOUS_NUMBER_SHARE * found.n_counted:
            n_unique = int(col.nunique(dropna=True))
            texts = texts.iloc[:0]  # an ordinary categorical column
        else:
            n_unique = int(col.nunique(dropna=True))
            texts = counted  # the reason for the error: missing markers aside
            is_bad = (found.parsed.isna() & ~found.text.isin(_MARKERS)).to_numpy()
            first = int(np.argmax(is_bad))  # the first True: there is one, or this would be numeric
            row = int(np.flatnonzero(col.notna().to_numpy())[first])  # position among all rows
            bad = row, str(found.text.iloc[first])
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
        text_values=tuple((str(k), int(v)) for k, v in texts.iloc[:_KEPT_TEXTS].items()),
        n_text_cells=int(texts.sum()),
        n_text_kinds=len(texts),
    )


def infer_schema(frame: pd.DataFrame) -> dict[str, ColumnInfo]:
    """Infer a :class:`ColumnInfo` for every column, keyed by column name."""
    n = len(frame)
    return {str(c): infer_column(frame[c], n) for c in frame.columns}
