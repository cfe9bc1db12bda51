"""Schema inference and preprocessing: column kinds, exclusions, validation, leakage-free scaling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ppml_lab.data import DatasetError, PreprocessOptions, infer_schema, load_file, prepare_dataset
from ppml_lab.data.preprocess import OTHER_LEVEL, stratified_split


def table(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "weight": rng.normal(70.0, 12.0, n),
            "city": pd.array(rng.choice(["Bern", "Basel", "Genf"], n), dtype="str"),
            "outcome": pd.array(rng.choice(["yes", "no"], n, p=[0.3, 0.7]), dtype="str"),
        }
    )


# --- schema -----------------------------------------------------------------------------------


def test_pandas3_str_dtype_is_categorical():
    frame = table()
    assert isinstance(frame["city"].dtype, pd.StringDtype)  # the pandas 3 `str` dtype
    schema = infer_schema(frame)
    assert schema["city"].kind == "categorical"
    assert schema["outcome"].kind == "categorical"
    assert schema["age"].kind == "numeric" and schema["weight"].kind == "numeric"
    # object and nullable "string" columns too
    frame["obj"] = frame["city"].astype(object)
    frame["nullable"] = frame["city"].astype("string")
    schema = infer_schema(frame)
    assert schema["obj"].kind == schema["nullable"].kind == "categorical"


def test_numbers_stored_as_text_are_numeric():
    # Regression: a text column of numbers (Excel "text" cells) was categorical, and, its values
    # all being distinct, then dropped as an "identifier".
    frame = table()
    frame["weight"] = frame["weight"].round(3).astype("str")
    schema = infer_schema(frame)
    assert schema["weight"].kind == "numeric" and not schema["weight"].id_like
    prepared = prepare_dataset(frame, target="outcome")
    assert "weight" in prepared.columns_used
    assert "weight" in prepared.feature_names
    j = prepared.feature_names.index("weight")
    assert abs(prepared.X_train[:, j].mean()) < 1e-9


@pytest.mark.parametrize("name", ["patient_id", "row"])
def test_id_like_columns_are_excluded_with_a_note(name):
    frame = table()
    rng = np.random.default_rng(1)
    frame.insert(0, name, rng.permutation(len(frame)) + 1000)  # unique integers
    schema = infer_schema(frame)
    assert schema[name].id_like and schema[name].excluded_by_default
    prepared = prepare_dataset(frame, target="outcome")
    assert name not in prepared.columns_used
    assert not any(f.startswith(name) for f in prepared.feature_names)
    assert any(name in note and "identifier" in note for note in prepared.notes)


def test_id_named_column_with_repeats_is_still_id_like():
    frame = table()
    frame["patient_id"] = np.arange(len(frame)) * 3 // 4  # 150 ids for 200 rows
    assert infer_schema(frame)["patient_id"].id_like


def test_flagged_column_can_be_kept():
    frame = table()
    frame.insert(0, "patient_id", np.arange(len(frame)))
    prepared = prepare_dataset(frame, target="outcome", include_flagged=["patient_id"])
    assert "patient_id" in prepared.columns_used


def test_float_measurements_are_not_id_like():
    # All-distinct floats are measurements, not identifiers.
    assert not infer_schema(table())["weight"].id_like


def test_constant_columns_are_excluded():
    frame = table()
    frame["country"] = "CH"
    frame["version"] = 3
    prepared = prepare_dataset(frame, target="outcome")
    assert "country" not in prepared.columns_used and "version" not in prepared.columns_used
    assert any("'country'" in n and "single value" in n for n in prepared.notes)


# --- validation -------------------------------------------------------------------------------


def _many_texts(frame: pd.DataFrame, column: str, first_row: int, first_text: str) -> None:
    """Too many different texts (7, in 13 of 200 cells) to read them as missing values."""
    frame[column] = frame[column].round(2).astype("str")
    frame.loc[first_row, column] = first_text
    for k, row in enumerate(range(first_row + 10, first_row + 70, 10)):
        frame.loc[row, column] = f"about {k}"
        frame.loc[row + 1, column] = "?"  # a standard missing marker: not counted as a text
    for row in range(first_row + 2, first_row + 8):
        frame.loc[row, column] = "about 0"


def test_text_in_numeric_column_names_column_row_and_value():
    frame = table()
    _many_texts(frame, "weight", 41, "seventy")
    with pytest.raises(DatasetError) as info:
        prepare_dataset(frame, target="outcome", name="clinic.csv")
    message = str(info.value)
    assert "clinic.csv" in message
    assert "'weight'" in message
    assert "row 42" in message  # 1-based data row
    assert "'seventy'" in message
    assert "7 different texts in 13 cells" in message and "exclude the column" in message


def test_bad_number_row_counts_rows_with_missing_target():
    # Regression: rows dropped for a missing target shifted the reported row number.
    frame = table()
    _many_texts(frame, "weight", 100, "oops")
    frame["outcome"] = frame["outcome"].astype(object)
    frame.loc[[3, 4, 5], "outcome"] = None
    with pytest.raises(DatasetError, match=r"data row 101 has the text 'oops'"):
        prepare_dataset(frame, target="outcome")


def test_single_class_target():
    frame = table()
    frame["outcome"] = "yes"
    with pytest.raises(DatasetError, match=r"'outcome' has only one value \('yes'\)"):
        prepare_dataset(frame, target="outcome")


def test_class_with_a_single_row():
    frame = table()
    frame.loc[7, "outcome"] = "maybe"
    with pytest.raises(DatasetError, match=r"class 'maybe' .* has only 1 row"):
        prepare_dataset(frame, target="outcome")


def test_continuous_target():
    frame = table()
    with pytest.raises(DatasetError, match=r"'weight' holds continuous numbers"):
        prepare_dataset(frame, target="weight")


def test_whole_number_float_target_is_a_class_label():
    frame = table()
    frame["outcome"] = (frame["age"] > 50).astype(float)
    prepared = prepare_dataset(frame, target="outcome")
    assert prepared.class_names == ("0.0", "1.0")


def test_missing_target_rows_are_dropped_with_a_note():
    frame = table()
    frame["outcome"] = frame["outcome"].astype(object)
    frame.loc[[3, 50, 99], "outcome"] = None
    prepared = prepare_dataset(frame, target="outcome")
    assert prepared.n_train + len(prepared.y_test) == len(frame) - 3
    assert any(n.startswith("3 rows with no value in the target") for n in prepared.notes)


def test_fewer_than_ten_rows():
    frame = table(n=9)
    frame["outcome"] = ["a", "b"] * 4 + ["a"]
    with pytest.raises(DatasetError, match="only 9 usable rows; at least 10"):
        prepare_dataset(frame, target="outcome")
    frame10 = table(n=10)
    frame10["outcome"] = ["a", "b"] * 5
    assert prepare_dataset(frame10, target="outcome").n_train == 8


def test_unknown_target_lists_columns():
    with pytest.raises(DatasetError, match="no column called 'income'. Columns are: age, weight"):
        prepare_dataset(table(), target="income")


def test_single_numeric_feature():
    # Regression: with one numeric column, pandas copy-on-write handed back a read-only array
    # and scaling failed with "assignment destination is read-only".
    frame = table()[["weight", "outcome"]]
    prepared = prepare_dataset(frame, target="outcome")
    assert prepared.X_train.shape == (160, 1)


# --- fitted on the training split only --------------------------------------------------------


def test_standardisation_uses_training_rows_only():
    prepared = prepare_dataset(table(n=500), target="outcome")
    for name in ("age", "weight"):
        j = prepared.feature_names.index(name)
        train, test = prepared.X_train[:, j], prepared.X_test[:, j]
        assert abs(train.mean()) < 1e-12 and abs(train.std() - 1.0) < 1e-12
        # the test rows were transformed with the training statistics, not their own
        assert abs(test.mean()) > 1e-6 and abs(test.std() - 1.0) > 1e-6
    assert "standardisation (means and standard deviations)" in prepared.data_dependent_steps


@pytest.mark.filterwarnings("error")
def test_changing_a_test_row_does_not_change_x_train():
    frame = table(n=300)
    frame.loc[5, "city"] = None
    frame.loc[9, "weight"] = np.nan
    before = prepare_dataset(frame, target="outcome", seed=3)
    y = pd.Categorical(frame["outcome"], categories=["no", "yes"]).codes
    _, te = stratified_split(y, 0.2, 3)
    changed = frame.copy()
    for row in te[:20]:
        changed.loc[row, "weight"] = 1e6
        changed.loc[row, "age"] = -50
        changed.loc[row, "city"] = "Lugano"  # a level never seen in training
    after = prepare_dataset(changed, target="outcome", seed=3)
    np.testing.assert_array_equal(before.X_train, after.X_train)
    assert before.feature_names == after.feature_names
    assert not np.array_equal(before.X_test, after.X_test)


def test_missing_numbers_use_training_median_and_indicator():
    frame = table(n=300)
    frame["weight"] = frame["weight"].astype(float)
    frame.loc[frame.index % 10 == 0, "weight"] = np.nan
    prepared = prepare_dataset(frame, target="outcome", options=PreprocessOptions(scaling="none"))
    j = prepared.feature_names.index("weight")
    k = prepared.feature_names.index("weight was missing")
    missing = prepared.X_train[:, k] == 1.0
    assert missing.sum() > 0
    observed = prepared.X_train[~missing, j]
    np.testing.assert_allclose(prepared.X_train[missing, j], np.median(observed))


# --- categories -------------------------------------------------------------------------------


def test_rare_levels_are_grouped_as_other():
    n = 400
    frame = table(n=n)
    frame["city"] = ["Bern"] * 190 + ["Basel"] * 190 + ["Chur", "Sion", "Zug", "Thun"] * 5
    prepared = prepare_dataset(
        frame, target="outcome", options=PreprocessOptions(rare_min_fraction=0.05)
    )
    city = [f for f in prepared.feature_names if f.startswith("city=")]
    assert city == ["city=Basel", "city=Bern", f"city={OTHER_LEVEL}"]
    assert any("grouped" in note and "city" in note for note in prepared.notes)
    other = prepared.X_train[:, prepared.feature_names.index(f"city={OTHER_LEVEL}")]
    rare_rows = prepared.train_frame["city"].isin(["Chur", "Sion", "Zug", "Thun"]).to_numpy()
    np.testing.assert_array_equal(other == 1.0, rare_rows)
    # every row is exactly one-hot
    block = prepared.X_train[:, [prepared.feature_names.index(c) for c in city]]
    np.testing.assert_array_equal(block.sum(axis=1), 1.0)


def test_missing_category_is_its_own_level():
    frame = table()
    frame["city"] = frame["city"].astype(object)
    frame.loc[frame.index % 4 == 0, "city"] = None
    prepared = prepare_dataset(frame, target="outcome")
    assert "city=(missing)" in prepared.feature_names


def test_public_categories_give_a_data_independent_layout():
    opts = PreprocessOptions(categories={"city": ["Bern", "Basel", "Genf"]})
    a = prepare_dataset(table(seed=0), target="outcome", options=opts)
    only_bern = table(seed=0)
    only_bern["city"] = "Bern"
    only_bern["pad"] = np.arange(len(only_bern)) % 7  # keep two features besides city
    b = prepare_dataset(only_bern, target="outcome", options=opts, include_flagged=["city"])
    city_a = [f for f in a.feature_names if f.startswith("city=")]
    city_b = [f for f in b.feature_names if f.startswith("city=")]
    assert city_a == city_b == ["city=Bern", "city=Basel", "city=Genf", f"city={OTHER_LEVEL}"]
    assert "category lists discovered from the data" not in a.data_dependent_steps


# --- public bounds ----------------------------------------------------------------------------


def test_bounds_scaling_maps_to_minus_one_one_without_data_statistics():
    frame = table(n=400)[["age", "weight", "outcome"]]
    opts = PreprocessOptions(scaling="bounds", bounds={"age": (0, 100), "weight": (40, 100)})
    prepared = prepare_dataset(frame, target="outcome", options=opts)
    assert prepared.X_train.min() >= -1.0 and prepared.X_train.max() <= 1.0
    assert prepared.X_test.min() >= -1.0 and prepared.X_test.max() <= 1.0
    j = prepared.feature_names.index("age")
    np.testing.assert_allclose(
        prepared.X_train[:, j], (prepared.train_frame["age"].to_numpy() - 50.0) / 50.0
    )
    assert prepared.data_dependent_steps == ()
    assert not any("standardis" in s for s in prepared.data_dependent_steps)
    assert any("public bounds" in n for n in prepared.notes)


def test_bounds_clip_values_outside_the_range():
    frame = table()[["weight", "outcome"]]
    opts = PreprocessOptions(scaling="bounds", bounds={"weight": (60, 80)})
    prepared = prepare_dataset(frame, target="outcome", options=opts)
    col = prepared.X_train[:, 0]
    raw = prepared.train_frame["weight"].to_numpy()
    np.testing.assert_array_equal(col[raw <= 60], -1.0)
    np.testing.assert_array_equal(col[raw >= 80], 1.0)


def test_bounds_missing_for_a_column():
    opts = PreprocessOptions(scaling="bounds", bounds={"age": (0, 100)})
    with pytest.raises(DatasetError, match="none was given for: weight"):
        prepare_dataset(table(), target="outcome", options=opts)


def test_bounds_missing_value_note_is_honest():
    frame = table()
    frame["weight"] = frame["weight"].astype(float)
    frame.loc[::7, "weight"] = np.nan
    opts = PreprocessOptions(scaling="bounds", bounds={"age": (0, 100), "weight": (40, 100)})
    prepared = prepare_dataset(frame, target="outcome", options=opts)
    note = next(n for n in prepared.notes if n.startswith("Missing numbers"))
    assert "middle of their public range" in note and "median" not in note
    j = prepared.feature_names.index("weight")
    k = prepared.feature_names.index("weight was missing")
    np.testing.assert_array_equal(prepared.X_train[prepared.X_train[:, k] == 1, j], 0.0)


def test_bad_options():
    with pytest.raises(DatasetError, match="test fraction"):
        PreprocessOptions(test_fraction=0.9)
    with pytest.raises(DatasetError, match="Scaling"):
        PreprocessOptions(scaling="minmax")


# --- split ------------------------------------------------------------------------------------


def test_stratified_split_keeps_class_proportions():
    rng = np.random.default_rng(0)
    y = rng.choice(3, size=2000, p=[0.6, 0.3, 0.1])
    tr, te = stratified_split(y, 0.25, seed=4)
    assert len(np.intersect1d(tr, te)) == 0 and len(tr) + len(te) == len(y)
    for cls in range(3):
        share = (y == cls).mean()
        assert abs((y[te] == cls).mean() - share) < 0.003
        assert abs((y[tr] == cls).mean() - share) < 0.003
    assert abs(len(te) / len(y) - 0.25) < 0.002


def test_every_class_in_both_parts():
    y = np.array([0] * 50 + [1] * 2)
    tr, te = stratified_split(y, 0.2, seed=0)
    assert set(y[tr]) == set(y[te]) == {0, 1}


def test_same_seed_same_split_different_seed_different_split():
    frame = table(n=300)
    a = prepare_dataset(frame, target="outcome", seed=1)
    b = prepare_dataset(frame, target="outcome", seed=1)
    c = prepare_dataset(frame, target="outcome", seed=2)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert a.X_train.shape == c.X_train.shape
    assert not np.array_equal(a.X_train, c.X_train)
    assert (a.y_train == 1).sum() == (c.y_train == 1).sum()  # stratified either way


def test_large_columns_are_typed_from_all_rows_not_only_the_probe():
    # Above the probe size the schema samples first; the verdict must still cover every row.
    n = 20_000
    numbers = np.arange(n).astype(float).astype(str).astype(object)
    mostly = numbers.copy()
    mostly[n - 7] = "n/a?"  # one bad cell far from the start
    frame = pd.DataFrame(
        {
            "as_text": pd.Series(numbers, dtype="str"),
            "one_bad": pd.Series(mostly, dtype="str"),
            "words": pd.Series(np.where(np.arange(n) % 2, "yes", "no"), dtype="str"),
        }
    )
    schema = infer_schema(frame)
    assert schema["as_text"].kind == "numeric"
    assert schema["one_bad"].kind == "numeric" and schema["one_bad"].bad_numeric_row is None
    assert schema["one_bad"].text_values == (("n/a?", 1),)
    assert schema["one_bad"].n_missing == 1
    assert schema["words"].kind == "categorical" and schema["words"].text_values == ()


# --- a few texts in a column of numbers -------------------------------------------------------


def _mixed_csv(path: Path, n: int = 40) -> Path:
    """Three columns of numbers with a few texts each (12 % of the rows), a category, a label."""
    rng = np.random.default_rng(3)
    texts = {
        "age": {5: "unknown", 12: "n.a.", 20: "unknown", 27: "unknown", 33: "n/a", 38: "unknown"},
        "income": {1: "high", 9: "high", 17: "not asked", 25: "high", 31: "not asked"},
        "score": {3: "?", 14: "refused", 22: "refused", 29: "#DIV/0!", 30: "refused",
                  36: "#DIV/0!"},
    }
    lines = ["age,income,score,city,label"]
    for i in range(n):
        age = texts["age"].get(i, str(rng.integers(18, 90)))
        income = texts["income"].get(i, f"{rng.normal(50_000, 9_000):.2f}")
        score = texts["score"].get(i, f"{rng.random():.3f}")
        lines.append(f"{age},{income},{score},{'ABC'[i % 3]},{'yn'[i % 2]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_three_mostly_numeric_columns_stay_numeric(tmp_path):
    frame = load_file(_mixed_csv(tmp_path / "mixed.csv"))
    prepared = prepare_dataset(frame, target="label")
    # Before: the three columns were one-hot encoded, 91 features; now 3 numbers, their 3
    # 'was missing' indicators and the 3 cities.
    assert prepared.feature_names == (
        "age", "income", "score",
        "age was missing", "income was missing", "score was missing",
        "city=A", "city=B", "city=C",
    )
    assert prepared.n_features == 9
    assert np.isfinite(prepared.X_train).all() and np.isfinite(prepared.X_test).all()


def test_notes_list_the_texts_with_counts(tmp_path):
    prepared = prepare_dataset(load_file(_mixed_csv(tmp_path / "mixed.csv")), target="label")
    notes = [n for n in prepared.notes if "treated as missing" in n]
    # "n/a" and "?" are standard missing markers: the file reader already made them empty cells.
    assert notes == [
        'age: 5 text values treated as missing ("unknown" x4, "n.a." x1).',
        'income: 5 text values treated as missing ("high" x3, "not asked" x2).',
        'score: 5 text values treated as missing ("refused" x3, "#DIV/0!" x2).',
    ]
    missing = next(n for n in prepared.notes if n.startswith("Missing numbers"))
    assert "age, income, score" in missing


def test_note_for_a_frame_built_in_memory():
    frame = table()
    frame["age"] = frame["age"].astype("str")
    frame.loc[[3, 60], "age"] = "n/a"
    frame.loc[120, "age"] = " unknown "
    info = infer_schema(frame)["age"]
    assert info.kind == "numeric" and info.n_missing == 3
    assert info.text_values == (("n/a", 2), ("unknown", 1))
    prepared = prepare_dataset(frame, target="outcome")
    assert 'age: 3 text values treated as missing ("n/a" x2, "unknown" x1).' in prepared.notes
    assert "age was missing" in prepared.feature_names


@pytest.mark.parametrize(
    "values",
    [
        ["low", "medium", "high"],  # categories
        ["A12", "B7", "C3", "A12", "D40"],  # codes
        ["1", "2", "3+", "4+", "n.a."],  # fewer numbers than texts
        ["250", "401", "V45", "E878", "V12", "428", "E9", "V3", "E1", "414"],  # many texts
        ["36", "38", "40", "S", "M", "L", "36", "38"],  # as many different texts as numbers
        ["0", "0", "0", "yes"],  # a single number
    ],
)
def test_categorical_columns_stay_categorical(values):
    frame = table(n=200)
    frame["grade"] = pd.array([values[i % len(values)] for i in range(200)], dtype="str")
    info = infer_schema(frame)["grade"]
    assert info.kind == "categorical" and info.text_values == () and info.bad_numeric_row is None
    prepared = prepare_dataset(frame, target="outcome")
    assert "grade" not in prepared.feature_names
    assert f"grade={values[0]}" in prepared.feature_names
    assert not any(n.startswith("grade:") for n in prepared.notes)


def test_half_numbers_with_one_text_is_numeric():
    frame = table(n=200)
    frame["age"] = frame["age"].astype("str")
    frame.loc[frame.index % 5 < 2, "age"] = "not measured"  # 40 % of the cells
    info = infer_schema(frame)["age"]
    assert info.kind == "numeric" and info.n_missing == 80
    assert info.text_values == (("not measured", 80),)


def test_decimal_numbers_with_na_keep_their_values(tmp_path):
    weights = [70.25, 81.5, 66.125, 90.0, 55.75] * 20
    lines = ["weight,label"] + [f"{w},{'ab'[i % 2]}" for i, w in enumerate(weights)]
    lines[8] = "n/a,b"  # data row 7 (0-based), a standard missing marker
    lines[21] = "unknown,a"  # data row 20
    path = tmp_path / "w.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = load_file(path)
    prepared = prepare_dataset(frame, target="label", options=PreprocessOptions(scaling="none"))
    expected = pd.Series(weights, dtype="float64")
    expected[[7, 20]] = np.nan
    got = prepared.train_frame["weight"]
    parsed = pd.to_numeric(got, errors="coerce")
    assert prepared.feature_names == ("weight", "weight was missing")
    # Every number keeps its decimals; the two texts became missing (median-filled, flagged).
    np.testing.assert_array_equal(
        prepared.X_train[:, 0][parsed.notna().to_numpy()], parsed.dropna().to_numpy()
    )
    assert sorted(set(parsed.dropna())) == sorted(set(weights))
    assert (prepared.X_train[:, 1] == parsed.isna().to_numpy()).all()


def test_semicolon_file_with_decimal_commas_and_a_text(tmp_path):
    lines = ["weight;label"] + [f"{60 + i % 30},{i % 4 * 25};{'ab'[i % 2]}" for i in range(100)]
    lines[5] = "unknown;a"
    path = tmp_path / "eu.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = load_file(path)
    prepared = prepare_dataset(frame, target="label", options=PreprocessOptions(scaling="none"))
    assert 'weight: 1 text value treated as missing ("unknown" x1).' in prepared.notes
    numbers = set(prepared.X_train[:, 0]) | set(prepared.X_test[:, 0])
    assert {60.0, 61.25, 62.5, 63.75} <= numbers


@pytest.mark.parametrize("n", [5_000, 50_000])
def test_thousands_of_rows_with_one_text(tmp_path, n):
    # Above the probe size: the random probe may well miss the one text; every row is read.
    rng = np.random.default_rng(0)
    path = tmp_path / "big.csv"
    values = [f"{v:.3f}" for v in rng.normal(size=n)]
    values[n - 3] = "high"
    lines = ["x,y"] + [f"{v},{'ab'[i % 2]}" for i, v in enumerate(values)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = load_file(path)
    info = infer_schema(frame)["x"]
    assert info.kind == "numeric" and info.text_values == (("high", 1),) and info.n_missing == 1
    assert info.n_unique == len({float(v) for v in values if v != "high"})
    prepared = prepare_dataset(frame, target="y")
    assert 'x: 1 text value treated as missing ("high" x1).' in prepared.notes
    assert prepared.n_features in (1, 2)  # "x was missing" only if the row is in the training part


@pytest.mark.parametrize(
    ("kinds", "cells", "numeric"),
    [
        (5, 16, True),  # 5 different texts in 8 % of the cells: few kinds
        (6, 16, False),  # 6 in 8 %: too many kinds and too many cells: refused
        (12, 8, True),  # 12 in 4 %: many kinds but few cells
    ],
)
def test_the_rule_for_few_texts(kinds, cells, numeric):
    frame = table(n=200)
    frame["age"] = frame["age"].astype("str")
    for i in range(cells):
        frame.loc[10 + 11 * i, "age"] = f"text {i % kinds}"
    # Standard missing markers stored as text count neither as texts nor as cells.
    frame.loc[[1, 2, 3, 4, 5, 6], "age"] = ["?", "-", "n/a", "NA", "null", "None"]
    info = infer_schema(frame)["age"]
    if numeric:
        assert info.kind == "numeric" and info.n_missing == cells + 6
        prepare_dataset(frame, target="outcome")
    else:
        assert info.bad_numeric_row == 10 and info.n_text_kinds == kinds
        with pytest.raises(DatasetError, match=r"data row 11 has the text 'text 0'"):
            prepare_dataset(frame, target="outcome")


def test_infinity_is_a_text_not_a_number():
    frame = table()
    frame["weight"] = frame["weight"].round(2).astype("str")
    frame.loc[[4, 9], "weight"] = ["inf", "-Infinity"]
    info = infer_schema(frame)["weight"]
    assert info.kind == "numeric" and info.n_text_cells == 2
    prepared = prepare_dataset(frame, target="outcome")
    assert np.isfinite(prepared.X_train).all() and np.isfinite(prepared.X_test).all()


def test_many_listed_texts_are_cut_short():
    frame = table(n=400)
    frame["age"] = frame["age"].astype("str")
    for i in range(14):  # 14 different texts in 3.5 % of the cells
        frame.loc[7 + 25 * i, "age"] = f"code {i:02d}" + ("x" * 40 if i == 0 else "")
    prepared = prepare_dataset(frame, target="outcome")
    note = next(n for n in prepared.notes if n.startswith("age:"))
    assert note.startswith('age: 14 text values treated as missing ("code 00xxx')
    assert "\u2026\" x1" in note and note.endswith("and 4 other texts).")


def test_repeated_column_names_in_a_frame():
    frame = table()
    frame.columns = ["age", "weight", "age", "outcome"]
    with pytest.raises(DatasetError, match=r"'age' is used more than once.*rename one"):
        prepare_dataset(frame, target="outcome")


def test_infinity_in_a_numeric_column_is_a_missing_value():
    import io

    csv = "a,b,y\n" + "".join(f"{i * 1.5},{i % 3},{'p' if i % 2 else 'q'}\n" for i in range(50))
    frame = pd.read_csv(io.StringIO(csv.replace("3.0,2,q", "inf,2,q").replace("6.0,1,q", "-inf,1,q")))
    assert np.isinf(frame["a"]).sum() == 2
    data = prepare_dataset(frame, target="y", seed=0)
    assert np.isfinite(data.X_train).all() and np.isfinite(data.X_test).all()
    assert "a: 2 infinite values treated as missing." in data.notes
    assert "a was missing" in data.feature_names
