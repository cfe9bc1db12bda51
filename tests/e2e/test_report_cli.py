"""`ppml-lab report`, `run --report`, `sweep --report` and `demo` end to end, in subprocesses."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest

from ppml_lab.engines import registry

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "ppml_lab/resources/experiments/breast_cancer_baseline.toml"
PDFTOTEXT = shutil.which("pdftotext")


def ppml(*args: str, cwd: Path, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ppml_lab", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ppml-lab: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def text_of(pdf: Path) -> str:
    if PDFTOTEXT is None:
        pytest.skip("pdftotext is not installed (poppler-utils): cannot read the report back")
    out = subprocess.run([PDFTOTEXT, str(pdf), "-"], capture_output=True, text=True, check=True)
    return unicodedata.normalize("NFKC", out.stdout)  # ligatures ("ﬀ") back to letters


@pytest.fixture(scope="module")
def run_json(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    out = folder / "run.json"
    result = ppml("run", str(BASELINE), "--json", str(out), "--set", "model.epochs=2", "-q",
                  cwd=folder)
    assert result.returncode == 0, result.stderr
    return out


def test_report_of_a_results_file(tmp_path, run_json) -> None:
    pdf = tmp_path / "report.pdf"
    result = ppml("report", str(run_json), "--pdf", str(pdf), "--paper", "letter", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"report: {pdf}" in result.stderr and "pages" in result.stderr
    doc = json.loads(run_json.read_text(encoding="utf-8"))
    text = text_of(pdf)
    assert f"{doc['final']['test_accuracy'] * 100:.1f}%" in text
    assert "Page 1 of" in text


def test_bad_inputs_to_report_give_one_line(tmp_path, run_json) -> None:
    not_json = tmp_path / "notes.json"
    not_json.write_text("hello", encoding="utf-8")
    one_line_error(ppml("report", str(not_json), "--pdf", str(tmp_path / "a.pdf"), cwd=tmp_path),
                   "not valid JSON")
    one_line_error(ppml("report", str(tmp_path / "missing.json"), "--pdf",
                        str(tmp_path / "a.pdf"), cwd=tmp_path), "no such file")
    one_line_error(ppml("report", str(run_json), "--pdf", str(tmp_path / "no" / "a.pdf"),
                        cwd=tmp_path), "does not exist")
    one_line_error(ppml("report", str(run_json), "--pdf", str(tmp_path / "a.pdf"), "--paper",
                        "a3", cwd=tmp_path), "--paper must be one of a4, letter")
    assert not list(tmp_path.glob("*.pdf"))


def test_run_with_report(tmp_path) -> None:
    pdf = tmp_path / "run.pdf"
    result = ppml("run", str(BASELINE), "--set", "model.epochs=2", "--report", str(pdf),
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert pdf.exists() and "Without any protection" in " ".join(text_of(pdf).split())
    # A report path that cannot be written is refused before the run starts.
    t0 = time.perf_counter()
    refused = ppml("run", str(BASELINE), "--report", str(tmp_path / "no" / "r.pdf"), cwd=tmp_path)
    one_line_error(refused, "--report", "does not exist")
    assert refused.stdout == "" and time.perf_counter() - t0 < 30


def test_sweep_with_report(tmp_path) -> None:
    name = next(n for n in registry.engine_names() if registry.get_engine(n).sweepable)
    exp = tmp_path / "sweep.toml"
    exp.write_text(f"name = 'tiny sweep'\n[dataset]\nsource = 'builtin:breast_cancer'\n"
                   f"[model]\nepochs = 2\n[pattern]\nname = '{name}'\n", encoding="utf-8")
    pdf = tmp_path / "sweep.pdf"
    result = ppml("sweep", str(exp), "--epsilons", "1,3", "--seeds", "1", "--workers", "0",
                  "--report", str(pdf), "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = " ".join(text_of(pdf).split())
    assert "Privacy-budget sweep" in text and "At ε = 1:" in text and "At ε = 3:" in text
    assert not list(tmp_path.glob("*.json"))  # no stray document when --json was not asked


def test_demo_writes_the_comparison_report_with_progress(tmp_path) -> None:
    pdf, doc = tmp_path / "demo.pdf", tmp_path / "demo.json"
    t0 = time.perf_counter()
    result = ppml("demo", "--pdf", str(pdf), "--json", str(doc), cwd=tmp_path)
    seconds = time.perf_counter() - t0
    assert result.returncode == 0, result.stderr
    assert seconds < 120  # the target is 60 s on 2 cores (bench_reports.py measures it)
    data = json.loads(doc.read_text(encoding="utf-8"))
    assert data["kind"] == "pattern_comparison" and set(data["runs"]) <= set(
        registry.engine_names())
    for row in data["rows"]:  # progress: one line per pattern on stderr
        assert row["label"] in result.stderr
    text = " ".join(text_of(pdf).split())
    assert "Every privacy pattern on the" in text and "Verdict" in text
    for row in data["rows"]:
        assert row["label"] in text
    assert "report:" in result.stdout and "page 1 is the summary" in result.stdout
