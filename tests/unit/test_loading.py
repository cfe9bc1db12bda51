"""Reading user files: delimiters, encodings, missing markers, Excel/Parquet, bad input, progress."""

from __future__ import annotations

import builtins
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ppml_lab.data import DatasetError, LoadCancelled, load_file, load_source
from ppml_lab.data.loading import detect_encoding

ADULT = Path(__file__).resolve().parents[2].parent / "shared/datasets/adult.csv"


def write(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode(encoding))
    return path


# --- delimiters and encodings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sep"), [("comma.csv", ","), ("semicolon.csv", ";"), ("tab.tsv", "\t"), ("pipe.txt", "|")]
)
def test_delimiters_are_detected(tmp_path, name, sep):
    text = sep.join(["age", "city", "income"]) + "\n"
    text += sep.join(["31", "Bern", "high"]) + "\n"
    text += sep.join(["45", "Basel", "low"]) + "\n"
    text += sep.join(["27", "Genf", "low"]) + "\n"
    frame = load_file(write(tmp_path / name, text))
    assert list(frame.columns) == ["age", "city", "income"]
    assert frame["age"].tolist() == [31, 45, 27]
    assert pd.api.types.is_numeric_dtype(frame["age"])
    assert frame["city"].tolist() == ["Bern", "Basel", "Genf"]


def test_semicolon_file_with_decimal_commas_gives_numbers(tmp_path):
    # The usual European export: ';' between fields and ',' as the decimal mark.
    path = write(tmp_path / "eu.csv", "weight;height;label\n72,5;1,80;a\n-3,25;2;b\n60;1,65;a\n")
    frame = load_file(path)
    assert pd.api.types.is_float_dtype(frame["weight"])
    assert frame["weight"].tolist() == [72.5, -3.25, 60.0]
    assert frame["height"].tolist() == [1.80, 2.0, 1.65]
    assert frame["label"].tolist() == ["a", "b", "a"]


def test_utf8(tmp_path):
    frame = load_file(write(tmp_path / "u.csv", "city,n\nZürich,1\nKøbenhavn,2\n東京,3\n"))
    assert frame["city"].tolist() == ["Zürich", "København", "東京"]


def test_utf8_with_bom_does_not_leak_into_first_column_name(tmp_path):
    path = write(tmp_path / "bom.csv", "\ufeffcity,n\nZürich,1\nBern,2\n")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    frame = load_file(path)
    assert list(frame.columns) == ["city", "n"]
    assert frame["city"].tolist() == ["Zürich", "Bern"]


def test_latin1_decodes_right(tmp_path):
    path = write(tmp_path / "latin.csv", "city,n\nZürich,1\nGenève,2\n", encoding="latin-1")
    assert b"Z\xfcrich" in path.read_bytes()
    frame = load_file(path)
    assert frame["city"].tolist() == ["Zürich", "Genève"]


def test_latin1_byte_in_the_last_bytes_of_a_small_file(tmp_path):
    # Regression: a non-UTF-8 byte within the last 4 bytes was mistaken for a cut UTF-8 sequence.
    path = write(tmp_path / "end.csv", "a,b\n1,café\n", encoding="latin-1")
    assert detect_encoding(path) == "latin-1"
    assert load_file(path)["b"].tolist() == ["café"]


def test_latin1_byte_after_the_first_megabyte(tmp_path):
    # Regression: the encoding is sniffed from the first 1 MiB; a later Latin-1 byte made the
    # UTF-8 read fail instead of falling back to Latin-1.
    body = "1,plain\n" * 150_000  # 1.2 MB of ASCII
    path = write(tmp_path / "late.csv", "a,b\n" + body + "2,Zürich\n", encoding="latin-1")
    assert path.stat().st_size > (1 << 20)
    frame = load_file(path)
    assert len(frame) == 150_001
    assert frame["b"].iloc[-1] == "Zürich"


def test_utf16_with_bom_as_excel_unicode_text(tmp_path):
    path = write(tmp_path / "unicode.txt", "a\tcity\n1\tZürich\n2\tBern\n", encoding="utf-16")
    frame = load_file(path)
    assert list(frame.columns) == ["a", "city"]
    assert frame["city"].tolist() == ["Zürich", "Bern"]


# --- missing values ---------------------------------------------------------------------------


def test_missing_markers_become_missing(tmp_path):
    path = write(tmp_path / "m.csv", "x,c\n1.5,a\n?,?\n,\nNA,NA\n2.5, b\n")
    frame = load_file(path)
    assert pd.api.types.is_numeric_dtype(frame["x"])
    assert frame["x"].isna().tolist() == [False, True, True, True, False]
    assert frame["c"].isna().tolist() == [False, True, True, True, False]
    # Surrounding spaces are stripped (" Male" in the UCI files).
    assert frame["c"].dropna().tolist() == ["a", "b"]


def test_question_mark_with_spaces_is_missing(tmp_path):
    # The original UCI Adult file writes ", ?" with a space before the marker.
    frame = load_file(write(tmp_path / "uci.csv", "age, work\n39, State-gov\n50, ?\n"))
    assert frame["work"].isna().tolist() == [False, True]


# --- Excel and Parquet ------------------------------------------------------------------------


def _sample_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [31, 45, 27, 60],
            "weight": [70.5, np.nan, 81.25, 66.0],
            "city": ["Zürich", "Bern", None, "Genève"],
            "label": ["yes", "no", "no", "yes"],
        }
    )


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet"])
def test_excel_and_parquet_round_trip(tmp_path, suffix):
    pytest.importorskip("openpyxl" if suffix == ".xlsx" else "pyarrow")
    original = _sample_frame()
    path = tmp_path / f"table{suffix}"
    if suffix == ".xlsx":
        original.to_excel(path, index=False)
    else:
        original.to_parquet(path)
    frame = load_file(path)
    assert list(frame.columns) == list(original.columns)
    assert frame["age"].tolist() == [31, 45, 27, 60]
    np.testing.assert_array_equal(frame["weight"].to_numpy(float), original["weight"].to_numpy(float))
    assert frame["city"].isna().tolist() == [False, False, True, False]
    assert frame["city"].dropna().tolist() == ["Zürich", "Bern", "Genève"]
    assert frame["label"].tolist() == original["label"].tolist()


@pytest.mark.parametrize(("suffix", "package"), [(".xlsx", "openpyxl"), (".parquet", "pyarrow"), (".xls", "xlrd")])
def test_missing_optional_package_is_named(tmp_path, monkeypatch, suffix, package):
    path = write(tmp_path / f"t{suffix}", b"PK\x03\x04 whatever")
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == package or name.startswith(package + "."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(DatasetError) as info:
        load_file(path)
    assert f"'{package}'" in str(info.value)
    assert f"pip install {package}" in str(info.value)


# --- repeated column names -------------------------------------------------------------------


@pytest.mark.parametrize(("name", "sep"), [("dup.csv", ","), ("dup.tsv", "\t"), ("dup.txt", ";")])
def test_repeated_name_in_a_text_header(tmp_path, name, sep):
    text = sep.join(["age", "city", "age", "label"]) + "\n" + sep.join(["31", "Bern", "32", "y"]) + "\n"
    with pytest.raises(DatasetError) as info:
        load_file(write(tmp_path / name, text))
    message = str(info.value)
    assert message.startswith(f"{name}: the header has the same column name twice")
    assert "'age' (columns 1 and 3)" in message
    assert "rename one of them" in message


def test_several_repeated_names_with_spaces_and_quotes(tmp_path):
    text = 'a,b, a,"b",c,b\n1,2,3,4,5,6\n'
    with pytest.raises(DatasetError) as info:
        load_file(write(tmp_path / "many.csv", text))
    message = str(info.value)
    assert "repeated column names: 'a' (columns 1 and 3); 'b' (columns 2, 4 and 6)" in message
    assert "rename the repeated ones" in message


def test_a_column_really_named_like_a_renamed_one_is_fine(tmp_path):
    frame = load_file(write(tmp_path / "ok.csv", "age,age.1,age.2\n1,2,3\n"))
    assert list(frame.columns) == ["age", "age.1", "age.2"]
    assert frame.iloc[0].tolist() == [1, 2, 3]


def test_empty_header_names_are_not_repeats(tmp_path):
    frame = load_file(write(tmp_path / "blank.csv", "a,,,b\n1,2,3,4\n"))
    assert frame.shape == (1, 4)


def _workbook(path: Path, header: list) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    sheet.append(list(range(len(header))))
    book.save(path)
    return path


def test_repeated_name_in_an_excel_header(tmp_path):
    path = _workbook(tmp_path / "dup.xlsx", ["age", "city", "age.1", "age", 2019, 2019])
    with pytest.raises(DatasetError) as info:
        load_file(path)
    message = str(info.value)
    assert "'age' (columns 1 and 4); '2019' (columns 5 and 6)" in message
    assert "dup.xlsx" in message


def test_excel_column_really_named_age_1(tmp_path):
    frame = load_file(_workbook(tmp_path / "ok.xlsx", ["age", "age.1", "label"]))
    assert list(frame.columns) == ["age", "age.1", "label"]


def test_repeated_name_in_a_parquet_file(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table([pa.array([1, 2]), pa.array(["x", "y"]), pa.array([3, 4])], names=["age", "city", "age"])
    pq.write_table(table, tmp_path / "dup.parquet")
    with pytest.raises(DatasetError, match=r"dup\.parquet: .*'age' \(columns 1 and 3\).*rename one"):
        load_file(tmp_path / "dup.parquet")
    ok = pa.table([pa.array([1]), pa.array([2])], names=["age", "age.1"])
    pq.write_table(ok, tmp_path / "ok.parquet")
    assert list(load_file(tmp_path / "ok.parquet").columns) == ["age", "age.1"]


def test_repeated_name_through_load_source(tmp_path):
    with pytest.raises(DatasetError, match="the same column name twice"):
        load_source(str(write(tmp_path / "d.csv", "x,x\n1,2\n")))


# --- bad input: always a DatasetError naming the file, never a raw exception ------------------


def test_nonexistent_file(tmp_path):
    with pytest.raises(DatasetError, match="nope.csv.*does not exist"):
        load_file(tmp_path / "nope.csv")


def test_directory(tmp_path):
    folder = tmp_path / "data.csv"
    folder.mkdir()
    with pytest.raises(DatasetError, match="data.csv is a folder"):
        load_file(folder)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file(tmp_path, content):
    with pytest.raises(DatasetError, match="empty.csv is empty"):
        load_file(write(tmp_path / "empty.csv", content))


def test_header_only_file(tmp_path):
    with pytest.raises(DatasetError, match="header.csv contains no data rows"):
        load_file(write(tmp_path / "header.csv", "a,b,c\n"))


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 40,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + np.random.default_rng(0).bytes(4000),
        b"PK\x03\x04\x14\x00\x06\x00" + np.random.default_rng(1).bytes(4000),
    ],
    ids=["all-bytes", "png", "zip"],
)
def test_binary_garbage_named_csv(tmp_path, content):
    # Regression: bytes(range(256)) used to load as a one-row "table" of control characters.
    with pytest.raises(DatasetError, match=r"garbage.csv is not a text table"):
        load_file(write(tmp_path / "garbage.csv", content))


@pytest.mark.parametrize(("suffix", "kind"), [(".xlsx", "Excel"), (".parquet", "Parquet")])
def test_corrupt_excel_and_parquet(tmp_path, suffix, kind):
    pytest.importorskip("openpyxl" if suffix == ".xlsx" else "pyarrow")
    with pytest.raises(DatasetError, match=rf"broken{suffix} is not an? {kind}"):
        load_file(write(tmp_path / f"broken{suffix}", b"this is not a real file" * 10))


def test_ragged_rows_name_file_and_line(tmp_path):
    path = write(tmp_path / "ragged.csv", "a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n11,12,13\n")
    with pytest.raises(DatasetError) as info:
        load_file(path)
    message = str(info.value)
    assert "ragged.csv" in message
    assert "line 4" in message  # the header is line 1
    assert "4 fields" in message and "header has 3" in message


def test_ragged_row_beyond_the_first_chunk_reports_the_absolute_line(tmp_path):
    path = write(tmp_path / "late.csv", "a,b\n" + "1,2\n" * 250_000 + "1,2,3\n")
    with pytest.raises(DatasetError, match="late.csv: line 250002 has 3 fields"):
        load_file(path)


def test_unclosed_quote(tmp_path):
    with pytest.raises(DatasetError, match="quote.csv.*quoted text"):
        load_file(write(tmp_path / "quote.csv", 'a,b\n1,"never closed\n2,3\n'))


@pytest.mark.parametrize("name", ["table.foo", "data.csv.gz", "model.pkl"])
def test_unknown_extension(tmp_path, name):
    with pytest.raises(DatasetError) as info:
        load_file(write(tmp_path / name, "a,b\n1,2\n"))
    assert name in str(info.value)
    assert "unknown file type" in str(info.value)


def test_first_row_longer_than_header_is_an_error_not_a_shift(tmp_path):
    # Regression: pandas took the first column as the row index and shifted every value one
    # column to the left (a=2, b=3), silently.
    with pytest.raises(DatasetError, match="shift.csv: line 2 has 3 fields but the header has 2"):
        load_file(write(tmp_path / "shift.csv", "a,b\n1,2,3\n4,5,6\n"))


def test_trailing_delimiter_on_every_line_is_harmless(tmp_path):
    frame = load_file(write(tmp_path / "trail.csv", "a,b\n1,2,\n4,5,\n"))
    assert list(frame.columns) == ["a", "b"]
    assert frame.to_numpy().tolist() == [[1, 2], [4, 5]]


def test_library_errors_are_not_chained(tmp_path):
    # "never a raw traceback": the pandas error is not chained into what the user sees.
    with pytest.raises(DatasetError) as info:
        load_file(write(tmp_path / "r.csv", "a,b\n1,2\n3,4,5\n"))
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_unknown_builtin():
    with pytest.raises(DatasetError, match="builtin:breast_cancer"):
        load_source("builtin:nope")


# --- progress and cancelling ------------------------------------------------------------------


def _big_csv(path: Path, n_rows: int) -> Path:
    block = "".join(f"{i % 97},{(i * 7) % 1000 / 10:.1f},{'xyz'[i % 3]},{'pq'[i % 2]}\n" for i in range(1000))
    path.write_text("a,b,c,y\n" + block * (n_rows // 1000), encoding="utf-8")
    return path


def test_progress_increases_and_ends_at_one(tmp_path):
    path = _big_csv(tmp_path / "p.csv", 600_000)
    seen: list[float] = []
    frame = load_file(path, progress=seen.append)
    assert len(frame) == 600_000
    assert len(seen) >= 3  # several chunks, not only the final report
    assert all(0.0 < f <= 1.0 for f in seen)
    assert all(b > a for a, b in zip(seen, seen[1:])), seen
    assert seen[-1] == 1.0


def test_progress_returning_false_cancels(tmp_path):
    path = _big_csv(tmp_path / "c.csv", 600_000)
    calls: list[float] = []

    def stop_after_first(fraction: float) -> bool:
        calls.append(fraction)
        return False

    with pytest.raises(LoadCancelled):
        load_file(path, progress=stop_after_first)
    assert len(calls) == 1 and calls[0] < 1.0


def test_progress_on_a_small_file_reports_one(tmp_path):
    seen: list[float] = []
    load_file(write(tmp_path / "s.csv", "a,b\n1,2\n"), progress=seen.append)
    assert seen[-1] == 1.0
    assert all(b > a for a, b in zip(seen, seen[1:]))


def test_one_million_rows(tmp_path):
    path = _big_csv(tmp_path / "million.csv", 1_000_000)
    t0 = time.perf_counter()
    frame = load_file(path)
    seconds = time.perf_counter() - t0
    assert frame.shape == (1_000_000, 4)
    assert frame["a"].dtype.kind == "i" and frame["b"].dtype.kind == "f"
    assert frame["c"].iloc[:3].tolist() == ["x", "y", "z"]
    assert set(frame["y"].unique()) == {"p", "q"}
    # A timing never fails a unit test; this one only documents the order of magnitude.
    print(f"1M rows loaded in {seconds:.2f} s")


def test_real_adult_file():
    if not ADULT.exists():
        pytest.skip(f"the Adult data set is not at {ADULT}")
    frame = load_file(ADULT)
    assert frame.shape == (30_162, 15)
    assert frame.columns[0] == "age" and frame.columns[-1] == "income"
    assert set(frame["income"].unique()) == {"<=50K", ">50K"}
    assert frame["sex"].str.startswith(" ").sum() == 0
