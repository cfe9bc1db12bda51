"""Schema inference and preprocessing: column kinds, exclusions, validation, leakage-free scaling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ppml_lab.data import DatasetError, PreprocessOptions, infer_schema, prepare_dataset
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


def test_text_in_numeric_column_names_column_row_and_value():
    frame = table()
    frame["weight"] = frame["weight"].round(2).astype("str")
    frame.loc[41, "weight"] = "seventy"
    with pytest.raises(DatasetError) as info:
        prepare_dataset(frame, target="outcome", name="clinic.csv")
    message = str(info.value)
    assert "clinic.csv" in message
    assert "'weight'" in message
    assert "row 42" in message  # 1-based data row
    assert "'seventy'" in message


def test_bad_number_row_counts_rows_with_missing_target():
    # Regression: rows dropped for a missing target shifted the reported row number.
    frame = table()
    frame["weight"] = frame["weight"].round(2).astype("str")
    frame.loc[100, "weight"] = "oops"
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
    assert schema["one_bad"].bad_numeric_row == n - 7
    assert schema["one_bad"].bad_numeric_value == "n/a?"
    assert schema["words"].kind == "categorical" and schema["words"].bad_numeric_row is None
