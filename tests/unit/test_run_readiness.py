"""Why Run is off: the checks made before the data is prepared agree with those made after."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ppml_lab.data import DatasetError
from ppml_lab.data.loading import load_file
from ppml_lab.data.preprocess import PreprocessOptions, prepare_dataset
from ppml_lab.data.source import load_source
from ppml_lab.engines.registry import get_engine
from ppml_lab.models import ModelParams
from ppml_lab.ui.run_readiness import DataFacts, RunReadiness, split_sizes


def _frame(labels: list[str], n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "x": rng.integers(0, 9, n), "y": rng.integers(0, 5, n),
        "label": [labels[i % len(labels)] for i in range(n)],
    })


@pytest.mark.parametrize("fraction", [0.05, 0.2, 0.33, 0.5])
@pytest.mark.parametrize("source", ["builtin:wine", "builtin:breast_cancer"])
def test_split_sizes_are_those_of_the_prepared_data(source: str, fraction: float) -> None:
    table = load_source(source)
    data = prepare_dataset(
        table.frame, target=table.default_target, options=PreprocessOptions(test_fraction=fraction)
    )
    counts, problem = RunReadiness().target_problem(table.frame, table.default_target)
    assert problem == ""
    assert split_sizes(counts, fraction) == (data.n_train, len(data.y_test))
    assert len(counts) == data.n_classes


def test_a_one_class_target_is_the_reason() -> None:
    reason = RunReadiness().reason(
        frame=_frame(["yes"]), target="label", n_features=2, test_fraction=0.2
    )
    assert "only one value ('yes')" in reason and "Choose another target column" in reason
    assert reason[0].isupper() and reason.endswith(".")


@pytest.mark.parametrize(
    ("labels", "n_features", "expected"),
    [
        (["a", "b"] * 30, 0, "No feature column is ticked"),
        (["a", "b"] * 4, 2, "Only 8 rows have a value in the target column"),
        (["a", "b"] * 30 + ["c"], 2, "the class 'c' of the target column 'label' has only 1 row"),
        ([f"v{i}" for i in range(120)], 2, "has 120 different values"),
        (["a", "b"] * 30, 2, ""),
    ],
)
def test_data_reasons(labels: list[str], n_features: int, expected: str) -> None:
    frame = pd.DataFrame({"x": np.arange(len(labels)) % 7, "label": labels})
    reason = RunReadiness().reason(
        frame=frame, target="label", n_features=n_features, test_fraction=0.2
    )
    assert (expected.lower() in reason.lower()) if expected else reason == ""


@pytest.mark.parametrize("delta", [0.001, 0.005, 0.0069, 0.0071, 0.01, 0.05])
def test_the_engines_check_agrees_with_the_prepared_data(delta: float) -> None:
    """The readiness check refuses exactly what the engine refuses once the data is prepared."""
    table = load_source("builtin:wine")
    dp = get_engine("dp")
    params = dp.Params(epsilon=1.0, delta=delta)
    model = ModelParams()
    data = prepare_dataset(table.frame, target=table.default_target)
    try:
        dp.validate(data, model, params)
        refused = ""
    except ValueError as exc:
        refused = str(exc)
    reason = RunReadiness().reason(
        frame=table.frame, target=table.default_target, n_features=13, test_fraction=0.2,
        engine=dp, model=model, params=params,
    )
    assert bool(reason) == bool(refused)
    if refused:
        assert reason.startswith(f"{dp.label}: ") and "1/142" in reason


def test_a_check_that_needs_the_prepared_data_is_left_for_the_run() -> None:
    class NeedsColumns:
        label = "Needs columns"

        def validate(self, data, model, params) -> None:  # noqa: ANN001
            _ = data.train_frame  # not known before the data is prepared

    reason = RunReadiness().reason(
        frame=_frame(["a", "b"]), target="label", n_features=2, test_fraction=0.2,
        engine=NeedsColumns(), model=ModelParams(), params=object(),
    )
    assert reason == ""


def test_one_class_reads_1_class_in_the_engines_messages() -> None:
    smpc, he = get_engine("smpc"), get_engine("he")
    facts = DataFacts(n_classes=1, n_train=100, n_test=25)
    with pytest.raises(ValueError, match=r"this target has 1 class\. Choose"):
        smpc.validate(facts, ModelParams(), smpc.Params())
    with pytest.raises(ValueError, match=r"this target has 1 class\. Choose"):
        he.validate(facts, ModelParams(), he.Params(mode="training"))
    three = DataFacts(n_classes=3, n_train=100, n_test=25)
    with pytest.raises(ValueError, match=r"this target has 3 classes\. Choose"):
        smpc.validate(three, ModelParams(), smpc.Params())


# --- a file named like a workbook that is not one ---------------------------------------------


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".xlsm"])
def test_a_text_file_named_like_a_workbook_gets_our_message(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"table{suffix}"
    path.write_text("age,label\n31,yes\n45,no\n", encoding="utf-8")
    with pytest.raises(DatasetError) as info:
        load_file(path)
    text = str(info.value)
    assert text.startswith(f"table{suffix} is not an Excel workbook: it is a text file")
    assert "rename it to .csv" in text
    for theirs in ("engine manually", "File is not a zip file", "xlrd", "openpyxl"):
        assert theirs not in text


def test_other_files_named_like_workbooks(tmp_path: Path) -> None:
    docx = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    with pytest.raises(DatasetError, match="letter.xlsx is not an Excel workbook: it is a ZIP "
                       "archive without a spreadsheet"):
        load_file(docx)
    old = tmp_path / "old.xlsx"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))
    with pytest.raises(DatasetError, match=r"old.xlsx is not an .xlsx workbook: it is an "
                       r"old-style .xls one\. Rename it to .xls"):
        load_file(old)
    binary = tmp_path / "image.xlsx"
    binary.write_bytes(bytes(range(200, 256)) * 4)
    with pytest.raises(DatasetError, match=r"image.xlsx is not an Excel workbook \(its first"):
        load_file(binary)
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    with pytest.raises(DatasetError, match="The file empty.xlsx is empty"):
        load_file(empty)


def test_a_real_workbook_still_loads(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    path = tmp_path / "real.xlsx"
    pd.DataFrame({"age": [31, 45], "label": ["yes", "no"]}).to_excel(path, index=False)
    frame = load_file(path)
    assert frame["age"].tolist() == [31, 45]
