"""Why a run cannot start with the data and settings shown, known before the data is prepared.

The window disables Run and shows the reason (under the button, in its tooltip and in the status
bar) instead of starting a run that can only stop with an error. Two kinds of checks, both made
again after every edit:

* the data: a target column with one value (or continuous numbers, too many values, a class with
  one row: :func:`~ppml_lab.data.preprocess.target_class_counts`, the check the preparation makes),
  no feature column ticked, fewer than 10 usable rows;
* the pattern: the engine's own :meth:`~ppml_lab.engines.contract.EngineBase.validate`, given
  :class:`DataFacts` (the number of classes and the training and test rows, exact, computed like
  the seeded stratified split does). A check that needs more than that (the prepared feature
  matrix, a column's values) cannot be made yet: it is skipped here and made when the run starts.

Qt-free, so it can be tested without a window; nothing here names a pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ppml_lab.data import DatasetError
from ppml_lab.data.preprocess import target_class_counts
from ppml_lab.lazy import LazyModule

# pandas takes about 0.5 s to import: imported on first use, after the window is shown.
pd = LazyModule("pandas")

#: The fewest usable rows the preparation accepts.
MIN_ROWS = 10


@dataclass(frozen=True)
class DataFacts:
    """What is known about the data before it is prepared.

    The engines' checks read these attributes of a prepared dataset; any other attribute is
    missing on purpose (a check that needs it is made when the run starts).
    """

    n_classes: int
    n_train: int
    n_test: int


def split_sizes(class_counts: pd.Series, test_fraction: float) -> tuple[int, int]:
    """``(training rows, test rows)`` of the stratified split (the same rounding per class)."""
    n_test = 0
    for count in class_counts.tolist():
        n_test += min(max(1, int(round(test_fraction * count))), int(count) - 1)
    total = int(class_counts.sum())
    return total - n_test, n_test


class RunReadiness:
    """Answers "why can Run not start?" for the data and settings shown ("" when it can).

    The class counts of a target are computed once per table and target (reading a large
    table's target takes a few milliseconds, and the window asks after every edit).
    """

    def __init__(self) -> None:
        self._frame: pd.DataFrame | None = None
        self._target: str | None = None
        self._counts: pd.Series | None = None
        self._problem = ""

    def target_problem(self, frame: pd.DataFrame, target: str | None) -> tuple[pd.Series | None, str]:
        """``(class counts, "")``, or ``(None, why)`` when ``target`` cannot be predicted."""
        if not target:
            return None, "Choose the target column (what the model learns to predict)."
        if frame is not self._frame or target != self._target:
            self._frame, self._target = frame, target  # a reference: the cache follows the table
            try:
                self._counts, self._problem = target_class_counts(frame, target), ""
            except DatasetError as exc:
                self._counts, self._problem = None, _sentence(str(exc))
            except (KeyError, TypeError, ValueError):  # an odd column: the run will say why
                self._counts, self._problem = None, ""
        return self._counts, self._problem

    def reason(
        self,
        *,
        frame: pd.DataFrame | None,
        target: str | None,
        n_features: int,
        test_fraction: Any,
        engine: Any = None,
        model: Any = None,
        params: Any = None,
    ) -> str:
        """Why a run cannot start ("" when nothing known now stops it).

        Parameters
        ----------
        frame : DataFrame or None
            The loaded table (None: nothing loaded).
        target : str or None
            The target column.
        n_features : int
            How many feature columns are ticked.
        test_fraction : float
            The test share shown (anything else: the data checks only).
        engine, model, params : optional
            The chosen pattern's engine and the model and pattern settings; without them (a
            setting cannot be read yet: the form says why) only the data is checked.
        """
        if frame is None:
            return "Load a dataset first (File > Open data, or pick a built-in one)."
        counts, problem = self.target_problem(frame, target)
        if problem:
            return problem
        if n_features < 1:
            return "No feature column is ticked: tick at least one column to learn from."
        if counts is None:
            return ""
        rows = int(counts.sum())
        if rows < MIN_ROWS:
            return (
                f"Only {rows} row{'s' if rows != 1 else ''} have a value in the target column; at "
                f"least {MIN_ROWS} are needed to train and test."
            )
        if engine is None or model is None or params is None:
            return ""
        if not isinstance(test_fraction, (int, float)):
            return ""
        n_train, n_test = split_sizes(counts, float(test_fraction))
        facts = DataFacts(n_classes=len(counts), n_train=n_train, n_test=n_test)
        try:
            engine.validate(facts, model, params)
        except ValueError as exc:
            return f"{engine.label}: {_sentence(str(exc))}"
        except Exception:  # noqa: BLE001 - a check that needs the prepared data: made at the run
            return ""
        return ""


def _sentence(text: str) -> str:
    """``text`` starting with a capital and ending with a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


__all__ = ["MIN_ROWS", "DataFacts", "RunReadiness", "split_sizes"]
