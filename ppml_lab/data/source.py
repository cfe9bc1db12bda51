"""One entry point for any dataset source: ``builtin:<name>`` or a file path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ppml_lab.data.catalog import is_builtin, load_builtin
from ppml_lab.data.loading import ProgressCallback, load_file
from ppml_lab.lazy import LazyModule

# pandas takes about 0.5 s to import: imported on first use, after the window is shown.
pd = LazyModule("pandas")


@dataclass(frozen=True, kw_only=True)
class LoadedTable:
    """A raw table with its display name and the target a built-in dataset suggests."""

    frame: pd.DataFrame
    name: str
    source: str
    default_target: str
    description: str = ""


def load_source(source: str, *, progress: ProgressCallback | None = None) -> LoadedTable:
    """Load a built-in dataset or a user file (raises DatasetError with a readable message)."""
    if is_builtin(source):
        frame, info = load_builtin(source)
        return LoadedTable(
            frame=frame,
            name=info.label,
            source=source,
            default_target=info.target,
            description=info.description,
        )
    frame = load_file(source, progress=progress)
    return LoadedTable(
        frame=frame,
        name=Path(source).name,
        source=str(source),
        default_target=str(frame.columns[-1]),
        description=f"{len(frame):,} rows x {frame.shape[1]} columns from {Path(source).name}",
    )
