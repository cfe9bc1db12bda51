"""Which results document is which, reading one from a file, and making its report.

The lab writes three kinds of results document, and each has a report:

* a run (``RunResult.to_document()``: ``experiment``, ``final``, ``protection`` ...);
* a comparison of all patterns (``ComparisonResult.to_document()``, ``kind =
  "pattern_comparison"``), optionally with each pattern's own run document under ``runs``
  (:func:`comparison_bundle`: the demo and the window pass them, for the attacks, the plain words
  and the curves);
* a privacy-utility sweep (``SweepResult.to_document()``, ``kind = "privacy_utility_sweep"``,
  with the planner's ``plan`` when there is one).

A History entry's ``results.json`` is one of these. Bad input raises :class:`ReportError` with a
one-line message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ppml_lab.jsonable import jsonable
from ppml_lab.reports.model import Report

__all__ = [
    "COMPARISON",
    "RUN",
    "SWEEP",
    "ReportError",
    "build_report",
    "comparison_bundle",
    "document_kind",
    "load_results",
    "make_report",
]

RUN, COMPARISON, SWEEP = "run", "comparison", "sweep"
_KINDS = {"pattern_comparison": COMPARISON, "privacy_utility_sweep": SWEEP}


class ReportError(ValueError):
    """A results document that cannot be reported on (the message says why, in one line)."""


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a results document (JSON) written by the lab; ReportError if it cannot be used."""
    p = Path(path)
    if not p.exists():
        raise ReportError(f"{p}: no such file")
    if p.is_dir():
        results = p / "results.json"  # a History entry's folder
        if not results.is_file():
            raise ReportError(f"{p} is a folder without a results.json")
        p = results
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ReportError(f"{p} is not a results document (not text; expected the JSON file "
                          "written by 'ppml-lab run --json' or 'ppml-lab sweep --json')") from None
    except OSError as exc:
        raise ReportError(f"cannot read {p}: {(exc.strerror or str(exc)).lower()}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{p} is not a results document: not valid JSON (line {exc.lineno}, "
                          f"column {exc.colno}: {exc.msg})") from None
    document_kind(doc, where=str(p))
    return doc


def document_kind(doc: Any, *, where: str = "the document") -> str:
    """``"run"``, ``"comparison"`` or ``"sweep"``; ReportError for anything else."""
    if not isinstance(doc, Mapping):
        raise ReportError(f"{where} is not a results document (expected a JSON object)")
    kind = doc.get("kind")
    if kind in _KINDS:
        if not isinstance(doc.get("experiment"), Mapping):
            raise ReportError(f"{where} has no experiment section")
        return _KINDS[str(kind)]
    if kind is not None:
        raise ReportError(f"{where} is a document of kind {kind!r}, which has no report")
    if isinstance(doc.get("experiment"), Mapping) and (
        "final" in doc or "history" in doc or "status" in doc
    ):
        pattern = doc["experiment"].get("pattern")
        if not isinstance(pattern, Mapping) or not pattern.get("name"):
            raise ReportError(f"{where} has no pattern in its experiment section")
        return RUN
    raise ReportError(f"{where} is not a PPML Lab results document (no experiment section; "
                      "expected the JSON written by 'ppml-lab run --json' or 'ppml-lab sweep "
                      "--json', or a History entry's results.json)")


def comparison_bundle(result: Any) -> dict[str, Any]:
    """A ``ComparisonResult`` as its document plus every pattern's run document (``runs``)."""
    doc = result.to_document()
    doc["runs"] = {name: run.to_document() for name, run in result.runs.items()}
    return jsonable(doc)


def build_report(doc: Mapping[str, Any], *, data_preview: bool = False) -> Report:
    """The report of a results document (any of the three kinds).

    Parameters
    ----------
    data_preview : bool
        Add the first rows of the data, raw (an explicit opt-in; the report then says on
        every page that it contains raw records). Off by default: a report never shows a
        record otherwise.
    """
    kind = document_kind(doc)
    if kind == COMPARISON:
        from ppml_lab.reports.build_comparison import build_comparison_report

        return build_comparison_report(doc, data_preview=data_preview)
    if kind == SWEEP:
        from ppml_lab.reports.build_sweep import build_sweep_report

        return build_sweep_report(doc, data_preview=data_preview)
    from ppml_lab.reports.build_run import build_run_report

    return build_run_report(doc, data_preview=data_preview)


def make_report(
    source: Mapping[str, Any] | str | Path,
    out: str | Path,
    *,
    paper: str = "a4",
    data_preview: bool = False,
) -> Any:
    """Build and print the report of ``source`` (a document, or a results file) to ``out``.

    Returns the renderer's :class:`~ppml_lab.reports.qt_pdf.PdfResult` (path, pages, seconds).
    """
    from ppml_lab.reports.qt_pdf import write_pdf

    doc = load_results(source) if isinstance(source, (str, Path)) else source
    report = build_report(doc, data_preview=data_preview)
    return write_pdf(report, out, paper=paper)
