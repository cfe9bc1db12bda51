"""PPML Lab: a desktop lab for privacy-preserving machine learning."""

from __future__ import annotations

__version__ = "0.1.0"
