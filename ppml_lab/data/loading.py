"""Reading user files (CSV, Excel, Parquet) into a DataFrame, with clear errors and progress.

CSV files are decoded as UTF-8 (with or without a byte-order mark) and fall back to Latin-1, which
can decode any byte sequence. The delimiter (comma, semicolon, tab or pipe) is sniffed from the
first lines. Large files are read in chunks so a caller can show progress and cancel.

A header that names two columns alike is refused (pandas would silently rename the second one
``age.1``): the message names the columns so the user can rename one.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from ppml_lab.data.errors import DatasetError
from ppml_lab.lazy import LazyModule

# pandas takes about 0.5 s to import: imported on first use, after the window is shown.
pd = LazyModule("pandas")

#: Strings read as "missing" in every file, in addition to empty cells.
MISSING_MARKERS = ["?", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "-", ""]

ProgressCallback = Callable[[float], bool | None]
"""Called with the fraction read (0..1); returning False cancels the load."""

_CHUNK_ROWS = 200_000


class LoadCancelled(Exception):
    """The progress callback asked to stop loading."""


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def detect_encoding(path: Path, sample_size: int = 1 << 20) -> str:
    """Return ``"utf-16"`` for a UTF-16 byte-order mark (Excel's "Unicode text"), ``"utf-8-sig"``
    when the sample decodes as UTF-8, else ``"latin-1"``.
    """
    with open(path, "rb") as fh:
        sample = fh.read(sample_size)
    if sample.startswith(_UTF16_BOMS):
        return "utf-16"
    try:
        sample.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Only a multi-byte character cut by the end of a *truncated* sample is forgiven; a bad
        # byte at the very end of a short file (b"caf\xe9\n" in Latin-1) is a real decoding error.
        cut = len(sample) == sample_size and exc.reason == "unexpected end of data"
        if not cut:
            return "latin-1"
    return "utf-8-sig"


def _looks_binary(path: Path, encoding: str) -> bool:
    """A text table has no NUL bytes (except as half of each UTF-16 code unit)."""
    if encoding == "utf-16":
        return False
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024)
    return b"\x00" in head


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


_DECIMAL_COMMA = re.compile(r"^[+-]?(\d+,\d*|,\d+|\d+)$")


def _convert_decimal_commas(frame: pd.DataFrame) -> pd.DataFrame:
    """Turn text columns such as "1,5" / "-3,25" (decimal commas) into numbers.

    Only used when the delimiter is not a comma (European CSV files use ';' with decimal commas).
    A column is converted when every non-missing value is such a number. When most values are
    (see :data:`ppml_lab.data.schema.MIN_NUMBER_SHARE`), those get a decimal point and the other
    texts ("unknown") stay, for schema inference to read as missing values.
    """
    from ppml_lab.data.schema import MIN_NUMBER_SHARE  # the schema module imports this one

    for col in frame.columns:
        if pd.api.types.is_numeric_dtype(frame[col]):
            continue
        values = frame[col].dropna().astype("string").str.strip()
        if len(values) == 0 or not values.str.contains(",", regex=False).any():
            continue
        numbers = values.str.fullmatch(_DECIMAL_COMMA.pattern)
        dotted = values.str.replace(",", ".", regex=False)
        if numbers.all():
            parsed = pd.to_numeric(dotted, errors="coerce").astype("float64")
            frame[col] = parsed.reindex(frame.index)
        elif numbers.mean() >= MIN_NUMBER_SHARE:
            frame[col] = values.where(~numbers, dotted).reindex(frame.index)
    return frame


_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _parser_message(name: str, exc: BaseException) -> str:
    m = _RAGGED.search(str(exc))
    if m:
        expected, line, saw = m.groups()
        return (
            f"{name}: line {line} has {saw} fields but the header has {expected}. Check that every "
            "row has the same number of fields and that quoted text is closed."
        )
    return (
        f"{name} could not be read as a table ({_first_line(exc)}). Check that every row "
        "has the same number of fields and that quoted text is closed."
    )


def read_csv(path: Path, *, progress: ProgressCallback | None = None) -> pd.DataFrame:
    """Read a CSV file with detected encoding and delimiter.

    ``progress`` receives strictly increasing fractions below 1 while chunks are read
    (:func:`load_file` reports the final 1.0).
    """
    encoding = detect_encoding(path)
    if _looks_binary(path, encoding):
        raise DatasetError(
            f"{path.name} is not a text table (it contains binary data). Open a CSV, Excel or "
            "Parquet file."
        )
    with open(path, encoding=encoding, newline="", errors="replace") as fh:
        sample = fh.read(64 * 1024)
    if not sample.strip():
        raise DatasetError(f"The file {path.name} is empty.")
    delimiter = detect_delimiter(sample)
    _check_header(path.name, sample, delimiter)
    last = [0.0]

    def report(fraction: float) -> None:
        # Strictly increasing and below 1.0: a retry in another encoding never goes backwards.
        fraction = min(fraction, 0.99)
        if progress is not None and fraction > last[0]:
            last[0] = fraction
            if progress(fraction) is False:
                raise LoadCancelled()

    try:
        try:
            frame = _read_chunks(path, delimiter, encoding, report)
        except UnicodeDecodeError:
            # The first megabyte was UTF-8, a later byte is not: the file is Latin-1 after all.
            frame = _read_chunks(path, delimiter, "latin-1", report)
    except pd.errors.EmptyDataError:
        raise DatasetError(f"The file {path.name} has no columns: is it really a CSV file?") from None
    except pd.errors.ParserError as exc:
        raise DatasetError(_parser_message(path.name, exc)) from None
    # Strip spaces around text values (" Male" in the UCI files).
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            stripped = frame[col].astype("string").str.strip()
            frame[col] = stripped.where(~stripped.isin(MISSING_MARKERS), pd.NA)
    if delimiter != ",":
        frame = _convert_decimal_commas(frame)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _check_header(name: str, sample: str, delimiter: str) -> None:
    """Refuse a header naming two columns alike, or a first data row longer than the header.

    pandas would silently rename a repeated name ("age", "age.1"), which cannot be told apart
    from a column really called "age.1" once read: the header is read here, as written. And a
    first data row with more fields than the header would become the row index, shifting every
    value one column to the left. Empty extra fields (a delimiter at the end of every line) are
    harmless: :func:`_read_chunks` reads with ``index_col=False``, which drops them.
    """
    reader = csv.reader(io.StringIO(sample), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if row and any(field.strip() for field in row):
                rows.append((reader.line_num, row))
            if len(rows) == 2:
                break
    except csv.Error:
        return  # pandas reports malformed quoting with its own message
    if rows:
        check_unique_names(name, rows[0][1])
    if len(rows) < 2:
        return
    header, (line, first) = rows[0][1], rows[1]
    if len(first) > len(header) and any(f.strip() for f in first[len(header) :]):
        raise DatasetError(
            f"{name}: line {line} has {len(first)} fields but the header has {len(header)}. "
            "Check that every row has the same number of fields and that quoted text is closed."
        )


def check_unique_names(name: str, header: Sequence[object]) -> None:
    """Refuse a header in which two columns have the same name.

    Names are compared without surrounding spaces (as the CSV reader strips them); empty names
    are ignored (pandas calls them "Unnamed: 3", "Unnamed: 4", ...).

    Parameters
    ----------
    name : str
        The file name, for the message.
    header : sequence
        The column names as written in the file, in order.

    Raises
    ------
    DatasetError
        Naming each repeated name with its column positions (1-based).
    """
    positions: dict[str, list[int]] = {}
    for i, raw in enumerate(header, start=1):
        if raw is None or (not isinstance(raw, str) and pd.isna(raw)):  # an empty Excel cell
            continue
        key = str(raw).strip()
        if key:
            positions.setdefault(key, []).append(i)
    repeated = {k: v for k, v in positions.items() if len(v) > 1}
    if not repeated:
        return
    listed = "; ".join(f"{k!r} (columns {_and(v)})" for k, v in list(repeated.items())[:5])
    if len(repeated) > 5:
        listed += f"; and {len(repeated) - 5} more"
    if len(repeated) == 1 and len(next(iter(repeated.values()))) == 2:
        what = "the same column name twice"
        fix = "rename one of them"
    else:
        what = "repeated column names"
        fix = "rename the repeated ones"
    example = next(iter(repeated))
    raise DatasetError(
        f"{name}: the header has {what}: {listed}. Every column needs its own name: {fix} "
        f"in the file (for example to {example + '_2'!r}) and load it again."
    )


def _and(numbers: list[int]) -> str:
    words = [str(n) for n in numbers]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


_RENAMED = re.compile(r"\.\d+$")


def _read_excel(p: Path, *, check_archive: bool = False) -> pd.DataFrame:
    if check_archive:
        _check_workbook_archive(p)
    frame = pd.read_excel(p, na_values=MISSING_MARKERS)
    names = list(frame.columns)
    if any(isinstance(c, str) and _RENAMED.search(c) for c in names):
        # pandas renamed a repeated name "age" to "age.1", or a column is really called so:
        # only the header row as written tells (read again, only when a name looks renamed).
        names = pd.read_excel(p, header=None, nrows=1).iloc[0].tolist()
    check_unique_names(p.name, names)
    return frame


#: The first bytes of an .xlsx/.xlsm workbook (a ZIP archive) and of an old .xls one (OLE2).
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_workbook_signature(p: Path) -> None:
    """Refuse, with what to do, a file named like an Excel workbook that is not one.

    A CSV file renamed to .xlsx (or a web page saved as .xls) would otherwise get the reader's
    own message ("Excel file format cannot be determined, you must specify an engine manually").
    Only the first bytes are read: a ZIP archive is looked into by :func:`_check_workbook_archive`
    once the reader's package is known to be installed.
    """
    with open(p, "rb") as f:
        head = f.read(8)
    if not head:
        raise DatasetError(f"The file {p.name} is empty.")
    suffix = p.suffix.lower()
    if head.startswith(_ZIP_MAGIC):
        return
    if head.startswith(_OLE2_MAGIC):
        if suffix != ".xls":
            raise DatasetError(
                f"{p.name} is not an {suffix} workbook: it is an old-style .xls one. Rename it "
                "to .xls, or open it in a spreadsheet program and save it as .xlsx."
            )
        return
    if _looks_like_text(head):
        raise DatasetError(
            f"{p.name} is not an Excel workbook: it is a text file (a CSV or other table saved "
            "as text, renamed?). If it holds comma- or tab-separated values, rename it to .csv "
            "(or .tsv) and open it again; otherwise open it in a spreadsheet program and save it "
            "as .xlsx."
        )
    raise DatasetError(
        f"{p.name} is not an Excel workbook (its first bytes are not those of a workbook). "
        "Open it in the program that made it and save the table as .xlsx or CSV."
    )


def _check_workbook_archive(p: Path) -> None:
    """Refuse a ZIP archive named .xlsx that holds no spreadsheet (a renamed .docx, ...)."""
    import zipfile

    try:
        with zipfile.ZipFile(p) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        names = set()
    if not names & {"xl/workbook.xml", "xl/workbook.bin"}:
        raise DatasetError(
            f"{p.name} is not an Excel workbook: it is a ZIP archive without a spreadsheet in "
            "it (another document renamed, or a damaged file). Open it in its program and save "
            "the table as .xlsx or CSV."
        )


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return head[:3] == b"\xef\xbb\xbf" or head[:2] in (b"\xff\xfe", b"\xfe\xff")
    return b"\x00" not in head


def _read_parquet(p: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    # Parquet allows repeated names, which pyarrow then refuses to read with a cryptic message.
    check_unique_names(p.name, pq.read_schema(p).names)
    return pd.read_parquet(p)


def _read_chunks(
    path: Path, delimiter: str, encoding: str, report: Callable[[float], None]
) -> pd.DataFrame:
    size = max(os.path.getsize(path), 1)
    chunks: list[pd.DataFrame] = []
    with open(path, "rb") as raw:
        reader = pd.read_csv(  # type: ignore[call-overload]
            raw,
            sep=delimiter,
            encoding=encoding,
            na_values=MISSING_MARKERS,
            keep_default_na=True,
            skipinitialspace=True,
            chunksize=_CHUNK_ROWS,
            low_memory=False,
            index_col=False,
        )
        with reader:
            for chunk in reader:
                chunks.append(chunk)
                report(raw.tell() / size)
    if not chunks:
        raise pd.errors.EmptyDataError("no rows")
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]


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
            check_workbook_signature(p)  # our message for a text file named .xlsx
            # Old binary .xls workbooks need xlrd; openpyxl reads only .xlsx/.xlsm.
            frame = _read_optional(
                p,
                "xlrd" if suffix == ".xls" else "openpyxl",
                "an Excel workbook",
                lambda: _read_excel(p, check_archive=suffix != ".xls"),
            )
        elif suffix in (".parquet", ".pq"):
            frame = _read_optional(p, "pyarrow", "a Parquet file", lambda: _read_parquet(p))
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


def _read_optional(
    p: Path, package: str, kind: str, reader: Callable[[], pd.DataFrame]
) -> pd.DataFrame:
    try:
        __import__(package)
    except ImportError:
        raise DatasetError(
            f"Reading {p.suffix} files needs the Python package '{package}'. Install it with "
            f"'pip install {package}'"
            + (" (or 'pip install ppml-lab[files]')" if package in ("openpyxl", "pyarrow") else "")
            + ", or save the table as CSV."
        ) from None
    try:
        return reader()
    except (PermissionError, DatasetError):
        raise
    except Exception as exc:  # noqa: BLE001 - third-party readers raise many types on corrupt files
        raise DatasetError(f"{p.name} is not {kind} that can be read ({_first_line(exc)}).") from None


def read_text_table(text: str) -> pd.DataFrame:
    """Parse CSV text (used by tests and the clipboard)."""
    delimiter = detect_delimiter(text)
    _check_header("The pasted table", text, delimiter)
    return pd.read_csv(io.StringIO(text), sep=delimiter, na_values=MISSING_MARKERS)
