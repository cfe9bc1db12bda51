"""Qt-free data layer: built-in catalog, file loading, schema inference and preprocessing."""

from __future__ import annotations

from ppml_lab.data.catalog import BUILTINS, DEFAULT_SOURCE, is_builtin, load_builtin
from ppml_lab.data.errors import DatasetError
from ppml_lab.data.loading import LoadCancelled, load_file
from ppml_lab.data.preprocess import PreparedData, PreprocessOptions, prepare_dataset
from ppml_lab.data.schema import ColumnInfo, infer_schema
from ppml_lab.data.source import load_source

__all__ = [
    "BUILTINS",
    "DEFAULT_SOURCE",
    "ColumnInfo",
    "DatasetError",
    "LoadCancelled",
    "PreparedData",
    "PreprocessOptions",
    "infer_schema",
    "is_builtin",
    "load_builtin",
    "load_file",
    "load_source",
    "prepare_dataset",
]
