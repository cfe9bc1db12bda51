"""`python -m ppml_lab run ...` end to end, in a subprocess, as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HISTORY_KEYS = {"step", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds"}


def ppml(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ppml_lab", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def csv_experiment(tmp_path: Path, csv_text: str, target: str = "y") -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    write(tmp_path / "data" / "table.csv", csv_text)
    return write(
        tmp_path / "exp.toml",
        f"[dataset]\nsource = 'data/table.csv'\ntarget = '{target}'\n\n[model]\nepochs = 2\n",
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("ppml-lab: error: ")
    for fragment in fragments:
        assert fragment in line, line
    assert result.stdout == ""
    return line


def test_breast_cancer_run_writes_the_results_document(tmp_path):
    experiment = REPO / "ppml_lab/resources/experiments/breast_cancer_baseline.toml"
    out = tmp_path / "results" / "run.json"
    result = ppml("run", str(experiment), "--json", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "baseline: test accuracy" in result.stdout
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["status"] == "completed"
    assert doc["experiment"]["name"] == "Breast cancer, plaintext baseline"
    assert doc["experiment"]["dataset"]["source"] == "builtin:breast_cancer"
    assert doc["experiment"]["pattern"]["name"] == "baseline"
    assert len(doc["history"]) == doc["experiment"]["model"]["epochs"] == 10
    assert [row["step"] for row in doc["history"]] == list(range(1, 11))
    assert all(HISTORY_KEYS <= set(row) for row in doc["history"])
    assert doc["final"]["test_accuracy"] >= 0.95
    assert 0.95 <= doc["final"]["train_accuracy"] <= 1.0
    assert doc["final"]["test_accuracy"] == doc["history"][-1]["test_accuracy"]
    assert doc["baseline"]["test_accuracy"] == doc["final"]["test_accuracy"]
    assert doc["overhead"]["seconds"] > 0
    assert doc["dataset"]["rows_train"] + doc["dataset"]["rows_test"] == 569
    assert set(doc["environment"]) >= {"python", "numpy", "platform"}


def test_set_overrides_a_key(tmp_path):
    experiment = REPO / "ppml_lab/resources/experiments/breast_cancer_baseline.toml"
    out = tmp_path / "three.json"
    result = ppml("run", str(experiment), "--set", "model.epochs=3", "--json", str(out), "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""  # --quiet
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert len(doc["history"]) == 3
    assert doc["experiment"]["model"]["epochs"] == 3


def test_csv_next_to_the_experiment(tmp_path):
    rows = ["a,b,y"] + [f"{i * 0.5},{i % 7},{'p' if i % 3 else 'q'}" for i in range(60)]
    experiment = csv_experiment(tmp_path, "\n".join(rows) + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = elsewhere / "r.json"
    result = ppml("run", str(experiment), "--json", str(out), "-q", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["dataset"]["source"] == str((tmp_path / "data" / "table.csv").resolve())
    assert doc["dataset"]["classes"] == ["p", "q"]
    assert len(doc["history"]) == 2


# --- bad input: exit code 2, one line on stderr, no traceback ---------------------------------


def test_missing_experiment_file(tmp_path):
    result = ppml("run", "nowhere.toml", cwd=tmp_path)
    assert_one_line_error(result, "nowhere.toml", "no such experiment file")


def test_unknown_key(tmp_path):
    write(tmp_path / "e.toml", "[model]\nepochz = 3\n")
    assert_one_line_error(ppml("run", "e.toml", cwd=tmp_path), "e.toml", "unknown key 'epochz'", "epochs")


def test_out_of_range_value(tmp_path):
    write(tmp_path / "e.toml", "[model]\nlearning_rate = -1\n")
    assert_one_line_error(
        ppml("run", "e.toml", cwd=tmp_path), "e.toml", "learning_rate = -1", "greater than 0"
    )


def test_missing_csv(tmp_path):
    write(tmp_path / "e.toml", "[dataset]\nsource = 'gone.csv'\n")
    assert_one_line_error(ppml("run", "e.toml", cwd=tmp_path), "gone.csv", "does not exist")


def test_single_class_target(tmp_path):
    rows = ["a,y"] + [f"{i},same" for i in range(30)]
    experiment = csv_experiment(tmp_path, "\n".join(rows) + "\n")
    assert_one_line_error(
        ppml("run", str(experiment), cwd=tmp_path), "table.csv", "'y'", "only one value ('same')"
    )


def test_a_few_texts_in_a_numeric_column_become_missing_values(tmp_path):
    rows = ["a,b,y"] + [f"{i * 1.5},{i % 3},{'p' if i % 2 else 'q'}" for i in range(50)]
    rows[20] = "oops,1,p"  # data row 20
    experiment = csv_experiment(tmp_path, "\n".join(rows) + "\n")
    out = tmp_path / "r.json"
    result = ppml("run", str(experiment), "--json", str(out), "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    notes = json.loads(out.read_text())["dataset"]["preprocessing"]
    assert 'a: 1 text value treated as missing ("oops" x1).' in notes


def test_many_different_texts_in_a_numeric_column(tmp_path):
    rows = ["a,b,y"] + [f"{i * 1.5},{i % 3},{'p' if i % 2 else 'q'}" for i in range(100)]
    for k, row in enumerate((17, 30, 45, 60, 75, 90)):
        rows[row] = f"oops{k or ''},1,p"
    experiment = csv_experiment(tmp_path, "\n".join(rows) + "\n")
    assert_one_line_error(
        ppml("run", str(experiment), cwd=tmp_path), "table.csv", "column 'a'", "row 17", "'oops'"
    )


def test_unknown_pattern(tmp_path):
    write(tmp_path / "e.toml", "[pattern]\nname = 'quantum'\n")
    assert_one_line_error(
        ppml("run", "e.toml", cwd=tmp_path), "e.toml", "unknown pattern 'quantum'", "baseline"
    )


def test_set_on_a_value_that_is_not_a_section(tmp_path):
    # Regression: `--set name.x=1` crashed with a TypeError traceback and exit code 1.
    experiment = REPO / "ppml_lab/resources/experiments/breast_cancer_baseline.toml"
    result = ppml("run", str(experiment), "--set", "name.x=1", cwd=tmp_path)
    assert_one_line_error(result, "'name' is a single value")
