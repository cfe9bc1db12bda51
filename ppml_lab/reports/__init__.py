"""Reports: a results document (a run, a comparison of all patterns, a sweep) as a PDF that a
manager, a lawyer or a compliance officer can read in a minute and trust.

::

    doc = load_results("results.json")            # or RunResult.to_document(), ...
    report = build_report(doc)                    # pure data (reports.model)
    write_pdf(report, "report.pdf", paper="a4")   # Qt's QPdfWriter, headless

Layers: the builders (``build_*``, :mod:`.sections`, :mod:`.charts`) are Qt-free and read only
results documents and the engines' contract; :mod:`.html` turns the model into HTML;
:mod:`.qt_pdf` and :mod:`.qt_charts` print it with QtGui (no widgets). No raw record of the data
appears unless ``data_preview=True`` is asked for.
"""

from __future__ import annotations

from ppml_lab.reports.documents import (
    ReportError,
    build_report,
    comparison_bundle,
    document_kind,
    load_results,
    make_report,
)

__all__ = [
    "ReportError",
    "build_report",
    "comparison_bundle",
    "document_kind",
    "load_results",
    "make_report",
]
