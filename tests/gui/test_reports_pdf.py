"""PDF reports, read back with pdftotext: the page-1 sentences with the document's numbers, page
counts, the table of contents, vector charts, A4 and Letter, no raw record, and Export report in
the window.

QtGui only for the rendering (the window's test at the end uses the main window).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ppml_lab.engines import registry
from ppml_lab.engines.contract import compare_settings
from ppml_lab.experiments.compare import run_comparison
from ppml_lab.experiments.config import DatasetConfig, Experiment
from ppml_lab.experiments.narrative import pct, run_story
from ppml_lab.experiments.runner import drive, run_experiment
from ppml_lab.experiments.sweep import run_sweep, with_audit
from ppml_lab.models import ModelParams
from ppml_lab.reports import build_report, comparison_bundle
from ppml_lab.reports.qt_pdf import ReportWriteError, write_pdf

PDFTOTEXT = shutil.which("pdftotext")
pytestmark = pytest.mark.skipif(
    PDFTOTEXT is None,
    reason="pdftotext is not installed (it comes with poppler-utils: apt-get install "
    "poppler-utils); the reports' text cannot be read back",
)
DATA = DatasetConfig(source="builtin:breast_cancer")
RARE = "Zyxwvutsburg"


def pdf_text(path: Path, first: int | None = None, last: int | None = None) -> str:
    """The PDF's text, ligatures undone and whitespace collapsed (lines join with spaces)."""
    args = [PDFTOTEXT]
    if first is not None:
        args += ["-f", str(first), "-l", str(last or first)]
    out = subprocess.run([*args, str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(unicodedata.normalize("NFKC", out.stdout).split())


def pdf_pages(path: Path) -> int:
    out = subprocess.run([PDFTOTEXT, str(path), "-"], capture_output=True, text=True, check=True)
    return out.stdout.count("\f")


def media_box(path: Path) -> tuple[float, float]:
    found = re.search(rb"/MediaBox\s*\[0 0 ([\d.]+) ([\d.]+)\]", path.read_bytes())
    assert found
    return float(found.group(1)), float(found.group(2))


def line_operators(path: Path) -> int:
    """Straight-line path operators in the PDF's content streams (vector drawing)."""
    count = 0
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", path.read_bytes(), re.S):
        try:
            count += len(re.findall(rb"[\d.\-]+ [\d.\-]+ l\n", zlib.decompress(stream)))
        except zlib.error:
            continue
    return count


def tiny_run(name: str, *, audit: bool = True, experiment: Experiment | None = None):
    engine = registry.get_engine(name)
    model, params = compare_settings(engine, ModelParams(epochs=2), tiny=True)
    exp = experiment or Experiment(name=f"tiny {name}", dataset=DATA)
    exp = replace(exp, model=model, pattern=name, params=params)
    return drive(run_experiment(with_audit(exp, audit)))


@pytest.fixture(scope="module")
def runs():
    return {name: tiny_run(name) for name in registry.engine_names()}


@pytest.fixture(scope="module")
def comparison():
    exp = Experiment(name="tiny comparison", dataset=DATA, model=ModelParams(epochs=2))
    return drive(run_comparison(exp, tiny=True, audit=True))


@pytest.fixture(scope="module")
def sweep_doc():
    name = next(n for n in registry.engine_names() if registry.get_engine(n).sweepable)
    exp = Experiment(name="tiny sweep", dataset=DATA, model=ModelParams(epochs=3), pattern=name)
    return drive(run_sweep(exp, epsilons=(0.5, 2.0), seeds=2, workers=0)).to_document()


def check_contents(path: Path, report) -> None:
    """Every section is listed in the contents with the page its heading is on."""
    contents = pdf_text(path, 2)
    assert contents.startswith(report.running_title) and "Contents" in contents
    for number, section in enumerate(report.sections, 1):
        heading = f"{number}. {section.title}"
        found = re.search(rf"{re.escape(heading)} (\d+)", contents)
        assert found, (heading, contents[:400])
        page = int(found.group(1))
        assert heading in pdf_text(path, page).split("Contents", 1)[-1], (heading, page)


@pytest.mark.parametrize("name", registry.engine_names())
def test_a_run_report_says_the_results_numbers_on_page_one(qapp, tmp_path, runs, name) -> None:
    doc = runs[name].to_document()
    report = build_report(doc)
    out = tmp_path / f"{name}.pdf"
    result = write_pdf(report, out)
    assert result.summary_pages == 1
    assert pdf_pages(out) == result.pages >= 3
    page1 = pdf_text(out, 1)
    story = run_story(doc, label=registry.get_engine(name).label,
                      is_reference=name == registry.REFERENCE)
    for sentence in story.sentences:  # the same sentences, with the same numbers
        assert " ".join(sentence.split()) in page1, sentence
    assert pct(doc["final"]["test_accuracy"]) in page1
    assert story.cost_verdict in page1 and story.protection_verdict in page1
    assert f"Page 1 of {result.pages}" in page1
    assert "Test accuracy: protected, unprotected, and guessing" in page1
    check_contents(out, report)
    # Charts are vector drawings (lines in the content streams), no raster image.
    assert line_operators(out) >= 20 * len(report.charts())
    assert b"/Subtype /Image" not in out.read_bytes()


def test_a4_and_letter(qapp, tmp_path, runs) -> None:
    report = build_report(runs[registry.REFERENCE].to_document())
    a4, letter = tmp_path / "a4.pdf", tmp_path / "letter.pdf"
    write_pdf(report, a4)
    write_pdf(report, letter, paper="Letter")
    assert media_box(a4) == (595.0, 842.0)
    assert media_box(letter) == (612.0, 792.0)
    with pytest.raises(ValueError, match="unknown paper size 'a3'"):
        write_pdf(report, tmp_path / "a3.pdf", paper="a3")


def test_a_comparison_report_and_its_numbers(qapp, tmp_path, comparison) -> None:
    doc = comparison_bundle(comparison)
    report = build_report(doc)
    out = tmp_path / "comparison.pdf"
    result = write_pdf(report, out)
    assert result.summary_pages == 1 and pdf_pages(out) == result.pages
    page1 = pdf_text(out, 1)
    for row in comparison.rows:
        assert row.label in page1
        if row.test_accuracy is not None:
            assert pct(row.test_accuracy) in page1
        if row.change_points is not None and not row.is_reference and abs(row.change_points) >= .05:
            assert f"({row.change_points:+.1f} points)" in page1
    assert "Verdict" in page1 and "Test accuracy of every pattern on the same data" in page1
    check_contents(out, report)
    assert line_operators(out) >= 20 * len(report.charts())


def test_a_sweep_report(qapp, tmp_path, sweep_doc) -> None:
    report = build_report(sweep_doc)
    out = tmp_path / "sweep.pdf"
    result = write_pdf(report, out, paper="letter")
    assert result.summary_pages == 1
    page1 = pdf_text(out, 1)
    for s in sweep_doc["summary"]:
        if s["private"]:
            assert f"At ε = {s['epsilon']:g}: {pct(s['test_accuracy_mean'])}" in page1
    assert "Accuracy at each privacy budget ε" in page1
    check_contents(out, report)


def test_no_raw_record_reaches_the_report_unless_asked_for(qapp, tmp_path) -> None:
    rng = np.random.default_rng(1)
    n = 300
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, n), "income": rng.normal(50, 10, n).round(1),
        "city": rng.choice(["Leeds", "York", "Hull"], n), "score": rng.normal(0, 1, n),
    })
    frame.loc[17, "city"] = RARE
    frame["label"] = np.where(frame.score + 0.02 * frame.age > 1, "yes", "no")
    csv = tmp_path / "people.csv"
    frame.to_csv(csv, index=False)
    name = next(n for n in registry.engine_names() if registry.get_engine(n).sweepable)
    exp = Experiment(name="rare value", dataset=DatasetConfig(source=str(csv), target="label"))
    doc = tiny_run(name, experiment=exp).to_document()
    out = tmp_path / "report.pdf"
    write_pdf(build_report(doc), out)
    text = pdf_text(out)
    assert "rare value" in text and len(text) > 2000
    assert RARE not in text
    # The explicit opt-in shows the first rows (so the check above can fail).
    frame.loc[0, "city"] = RARE
    frame.to_csv(csv, index=False)
    preview = tmp_path / "preview.pdf"
    write_pdf(build_report(doc, data_preview=True), preview)
    shown = pdf_text(preview)
    assert RARE in shown and "CONTAINS RAW RECORDS" in shown


def test_an_unwritable_path_is_a_clear_error(qapp, tmp_path, runs) -> None:
    report = build_report(runs[registry.REFERENCE].to_document())
    with pytest.raises(ReportWriteError, match="does not exist"):
        write_pdf(report, tmp_path / "no" / "such" / "folder" / "r.pdf")
    with pytest.raises(ReportWriteError, match="is a folder"):
        write_pdf(report, tmp_path)
    assert list(tmp_path.glob(".*.tmp")) == []


# -- the window ----------------------------------------------------------------------------------


def test_export_report_is_ctrl_e_and_writes_the_run_in_front(window, qtbot, tmp_path, runs,
                                                             comparison) -> None:
    from PySide6.QtGui import QKeySequence

    assert window.export_report_action.shortcut() == QKeySequence("Ctrl+E")
    assert window.export_results_action.shortcut() == QKeySequence("Ctrl+Shift+E")
    assert window.report_export.current() is None
    window._last_result = runs[registry.REFERENCE]
    window._update_actions()
    assert window.export_report_action.isEnabled()
    kind, _, doc = window.report_export.current()
    assert kind == "run"
    out = tmp_path / "from-window.pdf"
    job = window.report_export.write(doc, str(out))
    with qtbot.waitSignal(job.finished, timeout=30_000):
        pass
    assert out.exists() and pdf_pages(out) >= 3
    assert "Report written to from-window.pdf" in window.state
    # The Compare tab in front: its comparison.
    window.compare_view.set_result(comparison)
    window.view_tabs.setCurrentWidget(window.compare_view)
    kind, _, doc = window.report_export.current()
    assert kind == "comparison" and doc["runs"]
    # The History tab in front: the selected entry's saved results.
    run_id = window.history_panel.store.save_run(runs[registry.REFERENCE])
    window.history_panel.refresh(select=run_id)
    window.view_tabs.setCurrentWidget(window.history_panel)
    kind, name, doc = window.report_export.current()
    assert kind == "run" and doc["experiment"]["pattern"]["name"] == registry.REFERENCE


def test_export_report_says_why_it_could_not_write(window, qtbot, tmp_path, runs,
                                                   messages) -> None:
    doc = runs[registry.REFERENCE].to_document()
    job = window.report_export.write(doc, str(tmp_path / "missing" / "r.pdf"))
    with qtbot.waitSignal(job.finished, timeout=30_000):
        pass
    assert messages.boxes and messages.boxes[-1][0] == "Cannot write the report"
    assert "does not exist" in messages.boxes[-1][1]
    assert "not written" in window.state


def test_a_step_axis_has_whole_numbers_and_a_fraction_axis_keeps_its_fractions() -> None:
    from ppml_lab.reports.model import Chart, Series
    from ppml_lab.reports.qt_charts import line_x_ticks

    rounds = Chart(kind="lines", title="t", series=(Series(name="a", x=(1.0, 2.0), y=(0.5, 0.6)),))
    assert line_x_ticks(rounds, 1.0, 2.0) == [(1.0, "1"), (2.0, "2")]  # not 1, 1.2, 1.4 ...
    assert [v for v, _ in line_x_ticks(rounds, 1.0, 30.0)] == [5, 10, 15, 20, 25, 30]
    share = Chart(kind="lines", title="t", x_range=(0.0, 1.0),
                  series=(Series(name="a", x=(0.0, 1.0), y=(0.5, 0.6)),))
    assert [t for _, t in line_x_ticks(share, 0.0, 1.0)] == ["0", "0.2", "0.4", "0.6", "0.8", "1"]
