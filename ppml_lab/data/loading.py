"""Reading user files (CSV, Excel, Parquet) into a DataFrame, with clear errors and progress.

CSV files are decoded as UTF-8 (with or without a byte-order mark) and fall back to Latin-1, which
can decode any byte sequence. The delimiter (comma, semicolon, tab or pipe) is sniffed from the
first lines. Large files are read in chunks so a caller can show progress and cancel.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ppml_lab.data.errors import DatasetError

#: Strings read as "missing" in every file, in addition to empty cells.
MISSING_MARKERS = ["?", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "-", ""]

ProgressCallback = Callable[[float], bool | None]
"""Called with the fraction read (0..1); returning False cancels the load."""

_CHUNK_ROWS = 200_000


class LoadCancelled(Exception):
    """The progress callback asked to stop loading."""


def detect_encoding(path: Path, sample_size: int = 1 << 20) -> str:
    """Return ``"utf-8-sig"`` when the sample decodes as UTF-8, else ``"latin-1"``."""
    with open(path, "rb") as fh:
        sample = fh.read(sample_size)
    try:
        # A multi-byte character may be cut at the end of the sample: drop up to 3 bytes.
        sample.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:
            return "latin-1"
    return "utf-8-sig"


def detect_delimiter(text_sample: str) -> str:
    """Sniff the delimiter among comma, semicolon, tab and pipe (comma if unsure)."""
    lines = [ln for ln in text_sample.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)  # type: ignore[arg-type]
        return best if counts[best] > 0 else ","


def read_csv(path: Path, *, progress: ProgressCallback | None = None) -> pd.DataFrame:
    """Read a CSV file with detected encoding and delimiter."""
    encoding = detect_encoding(path)
    with open(path, encoding=encoding, newline="") as fh:
        sample = fh.read(64 * 1024)
    if not sample.strip():
        raise DatasetError(f"The file {path.name} is empty.")
    delimiter = detect_delimiter(sample)
    size = max(os.path.getsize(path), 1)
    kwargs = dict(
        sep=delimiter,
        encoding=encoding,
        na_values=MISSING_MARKERS,
        keep_default_na=True,
        skipinitialspace=True,
        chunksize=_CHUNK_ROWS,
        low_memory=False,
    )
    chunks: list[pd.DataFrame] = []
    try:
        with open(path, "rb") as raw:
            reader = pd.read_csv(raw, **kwargs)  # type: ignore[call-overload]
            for chunk in reader:
                chunks.append(chunk)
                if progress is not None and progress(min(raw.tell() / size, 1.0)) is False:
                    raise LoadCancelled()
    except pd.errors.EmptyDataError:
        raise DatasetError(f"The file {path.name} has no columns: is it really a CSV file?") from None
    except pd.errors.ParserError as exc:
        raise DatasetError(
            f"{path.name} could not be read as a table ({_first_line(exc)}). Check that every row "
            "has the same number of fields and that quoted text is closed."
        ) from None
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    # Strip spaces around text values (" Male" in the UCI files).
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            stripped = frame[col].astype("string").str.strip()
            frame[col] = stripped.where(~stripped.isin(MISSING_MARKERS), pd.NA)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def load_file(path: str | os.PathLike[str], *, progress: ProgressCallback | None = None) -> pd.DataFrame:
    """Load a CSV, Excel or Parquet file into a DataFrame.

    Raises
    ------
    DatasetError
        When the file is missing, unreadable, of an unknown type, empty, or needs an optional
        package that is not installed (the message names it).
    """
    p = Path(path)
    if not p.exists():
        raise DatasetError(f"The file {p} does not exist.")
    if p.is_dir():
        raise DatasetError(f"{p} is a folder, not a data file.")
    suffix = p.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt", ".data", ""):
            frame = read_csv(p, progress=progress)
        elif suffix in (".xlsx", ".xlsm", ".xls"):
            frame = _read_optional(
                p, "openpyxl", lambda: pd.read_excel(p, na_values=MISSING_MARKERS)
            )
        elif suffix in (".parquet", ".pq"):
            frame = _read_optional(p, "pyarrow", lambda: pd.read_parquet(p))
        else:
            raise DatasetError(
                f"{p.name}: unknown file type {suffix!r}. Open a .csv, .tsv, .xlsx or .parquet file."
            )
    except (DatasetError, LoadCancelled):
        raise
    except PermissionError:
        raise DatasetError(f"You do not have permission to read {p}.") from None
    except (OSError, ValueError, UnicodeError) as exc:
        raise DatasetError(f"{p.name} could not be read: {_first_line(exc)}") from None
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise DatasetError(f"{p.name} contains no data rows.")
    if progress is not None:
        progress(1.0)
    return frame


def _read_optional(p: Path, package: str, reader: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    try:
        __import__(package)
    except ImportError:
        raise DatasetError(
            f"Reading {p.suffix} files needs the Python package '{package}'. Install it with "
            f"'pip install {package}' (or 'pip install ppml-lab[files]'), or save the table as CSV."
        ) from None
    return reader()


def read_text_table(text: str) -> pd.DataFrame:
    """Parse CSV text (used by tests and the clipboard)."""
    return pd.read_csv(io.StringIO(text), sep=detect_delimiter(text), na_values=MISSING_MARKERS)
