"""Built-in datasets: scikit-learn's bundled ones (no download) and a seeded synthetic generator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ppml_lab.lazy import LazyModule

# pandas takes about 0.5 s to import: imported on first use, after the window is shown.
pd = LazyModule("pandas")

BUILTIN_PREFIX = "builtin:"
DEFAULT_SOURCE = "builtin:breast_cancer"


@dataclass(frozen=True, kw_only=True)
class BuiltinDataset:
    name: str
    label: str
    description: str
    target: str
    loader: Callable[[], pd.DataFrame]


def _from_sklearn(loader_name: str, target: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import sklearn.datasets as skd

        bunch = getattr(skd, loader_name)()
        frame = pd.DataFrame(bunch.data, columns=[str(c) for c in bunch.feature_names])
        names = np.asarray(bunch.target_names).astype(str)
        frame[target] = names[bunch.target]
        return frame

    return load


def _synthetic() -> pd.DataFrame:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=5000,
        n_features=20,
        n_informative=8,
        n_redundant=4,
        n_classes=2,
        class_sep=1.0,
        flip_y=0.02,
        random_state=7,
    )
    frame = pd.DataFrame(X, columns=[f"x{i:02d}" for i in range(X.shape[1])])
    frame["label"] = np.where(y == 1, "positive", "negative")
    return frame


BUILTINS: dict[str, BuiltinDataset] = {
    d.name: d
    for d in (
        BuiltinDataset(
            name="breast_cancer",
            label="Breast cancer (Wisconsin)",
            description="569 tumour biopsies, 30 measurements each; predict malignant vs benign.",
            target="diagnosis",
            loader=_from_sklearn("load_breast_cancer", "diagnosis"),
        ),
        BuiltinDataset(
            name="wine",
            label="Wine",
            description="178 Italian wines, 13 chemical measurements; predict which of 3 growers.",
            target="cultivar",
            loader=_from_sklearn("load_wine", "cultivar"),
        ),
        BuiltinDataset(
            name="digits",
            label="Handwritten digits",
            description="1,797 8x8 images of handwritten digits as 64 pixel columns; predict 0-9.",
            target="digit",
            loader=_from_sklearn("load_digits", "digit"),
        ),
        BuiltinDataset(
            name="synthetic",
            label="Synthetic (5,000 rows)",
            description="5,000 generated rows, 20 numeric features, two classes; fixed seed.",
            target="label",
            loader=_synthetic,
        ),
    )
}


def is_builtin(source: str) -> bool:
    return source.startswith(BUILTIN_PREFIX)


def load_builtin(source: str) -> tuple[pd.DataFrame, BuiltinDataset]:
    """Load ``builtin:<name>``; raise DatasetError for an unknown name."""
    from ppml_lab.data.errors import DatasetError

    name = source[len(BUILTIN_PREFIX) :] if is_builtin(source) else source
    if name not in BUILTINS:
        raise DatasetError(
            f"There is no built-in dataset called {name!r}. "
            f"Choose one of: {', '.join(BUILTIN_PREFIX + n for n in BUILTINS)}."
        )
    info = BUILTINS[name]
    return info.loader(), info
