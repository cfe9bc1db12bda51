"""The one exception type the data layer raises for bad input."""

from __future__ import annotations


class DatasetError(ValueError):
    """A data problem explained for a non-programmer: which file, column or row, and what to do."""
