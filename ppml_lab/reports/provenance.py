"""Where a report's numbers come from: the dataset's SHA-256, software versions, and the opt-in
data preview (the only part of a report that may show raw records).
"""

from __future__ import annotations

import hashlib
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from ppml_lab import __version__

__all__ = ["DataFingerprint", "dataset_fingerprint", "data_preview", "library_versions"]

#: Rows of the opt-in data preview.
PREVIEW_ROWS = 5
#: Columns of the opt-in data preview (the first ones of the table).
PREVIEW_COLUMNS = 8


@dataclass(frozen=True)
class DataFingerprint:
    """The SHA-256 of a dataset and what was hashed ("" and a reason when it could not be)."""

    sha256: str
    what: str


def dataset_fingerprint(source: str) -> DataFingerprint:
    """The SHA-256 of the data a run read, taken when the report is made.

    A file is hashed byte for byte (if it changed since the run, the hash says so when compared
    with the run's file); a built-in dataset is hashed as the CSV text of its table (pandas'
    ``to_csv`` without the index), which depends only on its version.
    """
    from ppml_lab.data import is_builtin, load_builtin

    if not source:
        return DataFingerprint("", "no data source recorded")
    if is_builtin(source):
        try:
            frame, _ = load_builtin(source)
        except Exception as exc:  # noqa: BLE001 - a report must not fail on its appendix
            return DataFingerprint("", f"the built-in table could not be loaded ({exc})")
        text = frame.to_csv(index=False, lineterminator="\n")
        return DataFingerprint(
            hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "the built-in table written as CSV (UTF-8, no index), when this report was made",
        )
    path = Path(source)
    try:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return DataFingerprint("", f"the file could not be read when this report was made "
                                   f"({reason.lower()})")
    return DataFingerprint(digest.hexdigest(),
                           "the file's bytes, read when this report was made")


def library_versions() -> list[tuple[str, str]]:
    """``(name, version)`` of PPML Lab and its declared dependencies as installed now."""
    out = [("PPML Lab", __version__), ("Python", platform.python_version())]
    try:
        requires = metadata.requires("ppml-lab") or []
    except metadata.PackageNotFoundError:
        requires = []
    seen = set()
    for req in requires:
        if "extra ==" in req:
            continue
        name = req.split(";")[0].strip()
        for stop in "<>=!~[ (":
            name = name.split(stop)[0]
        if not name or name in seen:
            continue
        seen.add(name)
        try:
            out.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            out.append((name, "not installed"))
    return out


def data_preview(
    source: str, experiment: Mapping[str, Any] | None = None, *, rows: int = PREVIEW_ROWS
) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]] | None:
    """The first ``rows`` rows of the data (header, rows) for an explicit data preview.

    Only called when the person making the report asks for it: these are raw records. Columns
    the experiment excluded are left out; None when the data cannot be read.
    """
    from ppml_lab.data import DatasetError, load_source

    try:
        table = load_source(source)
    except (DatasetError, OSError, ValueError):
        return None
    dataset = (experiment or {}).get("dataset") or {}
    excluded = set(dataset.get("exclude") or ())
    columns = [c for c in table.frame.columns if c not in excluded][:PREVIEW_COLUMNS]
    frame = table.frame[columns].head(rows)
    header = tuple(str(c) for c in columns)
    body = tuple(tuple("" if v is None else str(v) for v in row)
                 for row in frame.astype(object).itertuples(index=False))
    return header, body
