"""From a raw table to the numeric matrices every engine trains on.

Steps, fitted on the training split only:

1. split rows into train and test (stratified by the target, seeded);
2. numeric columns: missing values - including the few texts of a column of numbers, such as
   "unknown" (see :func:`ppml_lab.data.schema.infer_column`), listed in the notes - replaced by
   the training median (and, when a column has any, a 0/1 "was missing" indicator column); then
   scaled: z-scores ("standard"), or clipped to user-given public bounds and mapped to [-1, 1]
   ("bounds"), or left as they are ("none");
3. categorical columns: one-hot encoded; missing values become their own "(missing)" level; levels
   seen in fewer than ``rare_min_fraction`` of training rows are grouped as "(other)" - unless
   public category lists are given, which are then used as they are.

Any statistic taken from the data (means, medians, discovered categories) leaks a little about the
training rows that a DP accountant does not count. :attr:`PreparedData.data_dependent_steps`
lists them so the DP engine can warn, and "bounds" scaling with public categories avoids them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ppml_lab.data.errors import DatasetError
from ppml_lab.data.schema import (
    MAX_TEXT_KINDS,
    MAX_TEXT_SHARE,
    ColumnInfo,
    infer_schema,
    numbers_from_text,
)
from ppml_lab.lazy import LazyModule

# pandas takes about 0.5 s to import: imported on first use, after the window is shown.
pd = LazyModule("pandas")

MISSING_LEVEL = "(missing)"
OTHER_LEVEL = "(other)"


@dataclass(frozen=True, kw_only=True)
class PreprocessOptions:
    """How to turn a table into numbers. See the module docstring."""

    test_fraction: float = 0.2
    scaling: str = "standard"
    bounds: Mapping[str, tuple[float, float]] | None = None
    categories: Mapping[str, Sequence[str]] | None = None
    rare_min_fraction: float = 0.0005
    max_levels: int = 100

    def __post_init__(self) -> None:
        if not 0.05 <= self.test_fraction <= 0.5:
            raise DatasetError("The test fraction must be between 0.05 and 0.5.")
        if self.scaling not in ("standard", "bounds", "none"):
            raise DatasetError("Scaling must be 'standard', 'bounds' or 'none'.")


@dataclass(frozen=True, kw_only=True)
class PreparedData:
    """A dataset ready for training: numeric train/test matrices plus what was done to get them."""

    name: str
    source: str
    target: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    train_frame: pd.DataFrame = field(repr=False)
    columns_used: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    data_dependent_steps: tuple[str, ...] = ()

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_train(self) -> int:
        return int(len(self.y_train))


@dataclass
class _Encoder:
    """The fitted transformation (training statistics only)."""

    numeric: list[str]
    categorical: list[str]
    medians: dict[str, float]
    indicators: list[str]
    centers: dict[str, float]
    scales: dict[str, float]
    clip: dict[str, tuple[float, float]]
    levels: dict[str, list[str]]

    def feature_names(self) -> list[str]:
        names = list(self.numeric) + [f"{c} was missing" for c in self.indicators]
        for c in self.categorical:
            names += [f"{c}={lv}" for lv in self.levels[c]]
        return names

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        blocks: list[np.ndarray] = []
        if self.numeric:
            num = _as_float_frame(frame, self.numeric)
            # An explicit copy: with pandas copy-on-write, to_numpy() of a one-column frame is a
            # read-only view, and the scaling below writes in place.
            num_filled = np.array(num.fillna(self.medians).to_numpy(), dtype=np.float64, copy=True)
            for j, c in enumerate(self.numeric):
                if c in self.clip:
                    lo, hi = self.clip[c]
                    num_filled[:, j] = np.clip(num_filled[:, j], lo, hi)
                num_filled[:, j] = (num_filled[:, j] - self.centers[c]) / self.scales[c]
            blocks.append(num_filled)
            if self.indicators:
                blocks.append(num[self.indicators].isna().to_numpy(dtype=np.float64))
        for c in self.categorical:
            levels = self.levels[c]
            col = frame[c].astype("string").fillna(MISSING_LEVEL)
            # Unseen levels go to "(other)" when there is one, else to NA (all zeros): pandas
            # deprecates building a Categorical from values outside its categories.
            col = col.where(col.isin(levels), OTHER_LEVEL if OTHER_LEVEL in levels else pd.NA)
            codes = pd.Categorical(col, categories=levels).codes
            onehot = np.zeros((len(frame), len(levels)))
            known = codes >= 0  # unseen levels without an "(other)" bucket encode as all zeros
            onehot[np.nonzero(known)[0], codes[known]] = 1.0
            blocks.append(onehot)
        if not blocks:
            return np.zeros((len(frame), 0))
        return np.hstack(blocks)


def _as_float_frame(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The numeric columns as float64; numbers stored as text ("1.5") are parsed, and the few
    texts of a mostly-numeric column ("unknown") become missing values.
    """
    out = {}
    for c in columns:
        col = frame[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            # An infinity ("inf" parsed by the reader) would turn every scaled value into NaN.
            out[c] = col.astype("float64").replace([np.inf, -np.inf], np.nan)
        else:
            out[c] = numbers_from_text(col)
    return pd.DataFrame(out, index=frame.index)


def _shown_text(text: str, limit: int = 30) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "\u2026"
    return '"' + text + '"'


def _texts_note(info: ColumnInfo) -> str:
    """``age: 3 text values treated as missing ("n/a" x2, "unknown" x1)``."""
    shown = [f"{_shown_text(t)} x{n:,}" for t, n in info.text_values]
    others = info.n_text_kinds - len(info.text_values)
    if others > 0:
        shown.append(f"and {others:,} other text{'s' if others > 1 else ''}")
    n = info.n_text_cells
    return (
        f"{info.name}: {n:,} text value{'s' if n != 1 else ''} treated as missing "
        f"({', '.join(shown)})."
    )


def _check_target(frame: pd.DataFrame, target: str, where: str) -> tuple[pd.Series, list[str]]:
    notes: list[str] = []
    if target not in frame.columns:
        raise DatasetError(
            f"{where}there is no column called {target!r}. Columns are: "
            f"{', '.join(map(str, frame.columns[:20]))}{' ...' if frame.shape[1] > 20 else ''}."
        )
    y = frame[target]
    if y.isna().any():
        n_na = int(y.isna().sum())
        notes.append(
            f"{n_na} row{'s' if n_na != 1 else ''} with no value in the target column "
            f"{'were' if n_na != 1 else 'was'} left out."
        )
    y = y.dropna()
    if pd.api.types.is_float_dtype(y):
        if (y != np.round(y)).any() and y.nunique() > 20:
            raise DatasetError(
                f"{where}the target column {target!r} holds continuous numbers "
                f"({y.nunique()} different values). PPML Lab trains classifiers: choose a column "
                "with a few categories (such as yes/no) as the target."
            )
    counts = y.astype("string").value_counts()
    if len(counts) < 2:
        only = counts.index[0] if len(counts) else "nothing"
        raise DatasetError(
            f"{where}the target column {target!r} has only one value ({only!r}), so there is "
            "nothing to predict. Choose another target column."
        )
    if len(counts) > 100:
        raise DatasetError(
            f"{where}the target column {target!r} has {len(counts)} different values: that looks "
            "like an identifier or a free-text column, not a category to predict. Choose another target."
        )
    rare = counts[counts < 2]
    if len(rare):
        raise DatasetError(
            f"{where}the class {rare.index[0]!r} of the target column {target!r} has only "
            f"{int(rare.iloc[0])} row; every class needs at least 2 rows (one to train on, one to "
            "test on). Remove that row or merge the class with another."
        )
    return y, notes


def target_class_counts(frame: pd.DataFrame, target: str) -> pd.Series:
    """Rows per class of ``target`` (missing values left out), as training will see them.

    Raises
    ------
    DatasetError
        When the column cannot be a target (one value only, continuous numbers, too many
        values, a class with a single row): the same check and message as :func:`prepare_dataset`,
        so the window can say so before a run starts.
    """
    y, _ = _check_target(frame, target, "")
    return y.astype("string").value_counts()


def _fit_encoder(
    train: pd.DataFrame,
    schema: Mapping[str, ColumnInfo],
    features: list[str],
    options: PreprocessOptions,
) -> tuple[_Encoder, list[str], list[str]]:
    notes: list[str] = []
    data_dependent: list[str] = []
    numeric = [c for c in features if schema[c].kind == "numeric"]
    categorical = [c for c in features if schema[c].kind == "categorical"]
    bounds = dict(options.bounds or {})
    num = _as_float_frame(train, numeric) if numeric else pd.DataFrame(index=train.index)
    medians = {c: float(num[c].median()) if num[c].notna().any() else 0.0 for c in numeric}
    indicators = [c for c in numeric if num[c].isna().any()]
    if indicators:
        filler = (
            "the middle of their public range"
            if options.scaling == "bounds"
            else "the training median"
        )
        notes.append(
            f"Missing numbers were replaced by {filler}, with a 'was missing' column for: "
            + ", ".join(indicators)
            + "."
        )
        data_dependent.append("median imputation of missing numbers")
    centers: dict[str, float] = {}
    scales: dict[str, float] = {}
    clip: dict[str, tuple[float, float]] = {}
    if options.scaling == "standard":
        for c in numeric:
            sd = float(num[c].std(ddof=0)) if num[c].notna().sum() > 1 else 0.0
            centers[c] = float(num[c].mean()) if num[c].notna().any() else 0.0
            scales[c] = sd if sd > 0 else 1.0
        if numeric:
            notes.append("Numbers were standardised (mean 0, sd 1) using the training rows.")
            data_dependent.append("standardisation (means and standard deviations)")
    elif options.scaling == "bounds":
        missing = [c for c in numeric if c not in bounds]
        if missing:
            raise DatasetError(
                "Scaling to public bounds needs a (low, high) range for every numeric column; "
                f"none was given for: {', '.join(missing)}."
            )
        for c in numeric:
            lo, hi = map(float, bounds[c])
            if not hi > lo:
                raise DatasetError(f"The bounds for column {c!r} must have low < high, got ({lo}, {hi}).")
            clip[c] = (lo, hi)
            centers[c] = (lo + hi) / 2.0
            scales[c] = (hi - lo) / 2.0
            # Medians are data-dependent; with public bounds use the middle of the range instead.
            medians[c] = centers[c]
        if "median imputation of missing numbers" in data_dependent:
            data_dependent.remove("median imputation of missing numbers")
            # Which columns get a 'was missing' indicator still depends on the training rows.
            data_dependent.append("'was missing' columns chosen from the data")
        if numeric:
            notes.append("Numbers were clipped to public bounds and mapped to [-1, 1].")
    else:
        for c in numeric:
            centers[c], scales[c] = 0.0, 1.0
    levels: dict[str, list[str]] = {}
    public = dict(options.categories or {})
    grouped: list[str] = []
    for c in categorical:
        col = train[c].astype("string").fillna(MISSING_LEVEL)
        if c in public:
            # Always an "(other)" bucket (missing and unlisted values): whether it exists must
            # not depend on the training rows, or the feature layout itself would leak.
            lv = list(dict.fromkeys(str(v) for v in public[c]))
            levels[c] = lv if OTHER_LEVEL in lv else lv + [OTHER_LEVEL]
            continue
        counts = col.value_counts()
        keep = counts[counts >= max(1, options.rare_min_fraction * len(col))].index.astype(str).tolist()
        keep = sorted(keep[: options.max_levels])
        if len(keep) < len(counts):
            keep.append(OTHER_LEVEL)
            grouped.append(c)
        levels[c] = keep
    if categorical:
        discovered = [c for c in categorical if c not in public]
        if discovered:
            data_dependent.append("category lists discovered from the data")
        notes.append(
            "Text columns were one-hot encoded; a missing value is its own category"
            + (f"; rare values were grouped as '{OTHER_LEVEL}' in: {', '.join(grouped)}" if grouped else "")
            + "."
        )
    enc = _Encoder(numeric, categorical, medians, indicators, centers, scales, clip, levels)
    return enc, notes, data_dependent


def prepare_dataset(
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    exclude: Sequence[str] = (),
    include_flagged: Sequence[str] = (),
    options: PreprocessOptions | None = None,
    seed: int = 0,
    name: str = "data",
    source: str = "",
) -> PreparedData:
    """Validate a table and turn it into train/test matrices.

    Parameters
    ----------
    frame : DataFrame
        The raw table.
    target : str, optional
        The column to predict; defaults to the last column.
    exclude : sequence of str
        Columns the user chose to leave out.
    include_flagged : sequence of str
        Id-like or constant columns the user chose to keep anyway.
    options : PreprocessOptions
        Split, scaling and encoding choices.
    seed : int
        Seed of the train/test split.

    Raises
    ------
    DatasetError
        With a message naming the file, column or row at fault and what to do.
    """
    options = options or PreprocessOptions()
    where = f"{name}: " if name else ""
    if frame.shape[1] < 2:
        raise DatasetError(
            f"{where}the table has only {frame.shape[1]} column; it needs at least one feature and "
            "a target. If everything ended up in one column, the delimiter may be unusual."
        )
    target = target if target else str(frame.columns[-1])
    names = pd.Index([str(c) for c in frame.columns])
    repeated = names[names.duplicated()]
    if len(repeated):
        raise DatasetError(
            f"{where}the column name {repeated[0]!r} is used more than once. Every column "
            "needs its own name: rename one of them."
        )
    frame = frame.reset_index(drop=True)
    y_raw, notes = _check_target(frame, target, where)
    frame = frame.loc[y_raw.index]
    schema = infer_schema(frame)
    excluded = set(exclude) | {target}
    unknown = [c for c in exclude if c not in frame.columns]
    if unknown:
        raise DatasetError(f"{where}cannot exclude {unknown[0]!r}: there is no such column.")
    auto = [
        c for c, info in schema.items()
        if c not in excluded and info.excluded_by_default and c not in include_flagged
    ]
    for c in auto:
        reason = "looks like an identifier" if schema[c].id_like else "has a single value"
        notes.append(f"Column {c!r} was left out because it {reason}.")
    features = [c for c in map(str, frame.columns) if c not in excluded and c not in auto]
    if not features:
        raise DatasetError(f"{where}no feature columns are left once the target and excluded columns are removed.")
    for c in features:
        info = schema[c]
        if info.bad_numeric_row is not None:
            # The schema counts rows of the table without missing-target rows; the index labels
            # (0..n-1 after reset_index) are the rows of the table the user gave.
            row = int(frame.index[info.bad_numeric_row])
            examples = ", ".join(repr(t) for t, _ in info.text_values[:5])
            raise DatasetError(
                f"{where}column {c!r} holds numbers, but data row {row + 1} has the "
                f"text {info.bad_numeric_value!r}, and the column has {info.n_text_kinds:,} "
                f"different texts in {info.n_text_cells:,} cells ({examples}, ...): too many to "
                f"read them as missing values (at most {MAX_TEXT_KINDS} different texts, or "
                f"{MAX_TEXT_SHARE:.0%} of the cells). Correct those values, leave the cells empty "
                "to mark them as missing, or exclude the column."
            )
        if info.texts_read_as_missing:
            notes.append(_texts_note(info))
        col = frame[c]
        if info.kind == "numeric" and pd.api.types.is_float_dtype(col):
            n_inf = int(np.isinf(col.to_numpy(dtype="float64", na_value=np.nan)).sum())
            if n_inf:
                notes.append(
                    f"{c}: {n_inf} infinite value{'s' if n_inf != 1 else ''} treated as missing."
                )
    if len(frame) < 10:
        raise DatasetError(f"{where}only {len(frame)} usable rows; at least 10 are needed to train and test.")
    y_str = y_raw.astype("string")
    class_names = sorted(y_str.unique().tolist(), key=_natural_key)
    y_all = pd.Categorical(y_str, categories=class_names).codes.astype(np.int64)
    tr, te = stratified_split(y_all, options.test_fraction, seed)
    train_frame = frame.iloc[tr][features].reset_index(drop=True)
    test_frame = frame.iloc[te][features].reset_index(drop=True)
    enc, enc_notes, data_dependent = _fit_encoder(train_frame, schema, features, options)
    X_train = enc.transform(train_frame)
    X_test = enc.transform(test_frame)
    return PreparedData(
        name=name,
        source=source,
        target=target,
        X_train=np.ascontiguousarray(X_train),
        y_train=y_all[tr],
        X_test=np.ascontiguousarray(X_test),
        y_test=y_all[te],
        feature_names=tuple(enc.feature_names()),
        class_names=tuple(class_names),
        train_frame=train_frame,
        columns_used=tuple(features),
        notes=tuple(notes + enc_notes),
        data_dependent_steps=tuple(data_dependent),
    )


def stratified_split(
    y: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stratified split: each class keeps its share in both parts (at least one row each).

    Returns sorted train and test row indices.
    """
    rng = np.random.default_rng(seed)
    test: list[np.ndarray] = []
    for cls in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == cls))
        n_test = min(max(1, int(round(test_fraction * len(rows)))), len(rows) - 1)
        test.append(rows[:n_test])
    te = np.sort(np.concatenate(test))
    mask = np.ones(len(y), dtype=bool)
    mask[te] = False
    return np.flatnonzero(mask), te


def _natural_key(s: str) -> tuple[int, float, str]:
    try:
        return (0, float(s), s)
    except ValueError:
        return (1, 0.0, s)
