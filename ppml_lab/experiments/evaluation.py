"""What a run's model is worth, and what it cost, like for like: the headline of every run.

Generic for every pattern (nothing here names one):

* :func:`evaluate_model` scores the engine's model on the test split: accuracy, balanced
  accuracy, ROC AUC, the confusion matrix, the majority-class rate ("always guess the commonest
  class") and whether the model is better than that guess (:func:`guessing_test`);
* :func:`like_for_like` compares training time with the plaintext reference's training time,
  with the one-off work (the cost kinds an engine labels ``one_off``) shown separately;
* :class:`Headline` gathers what a person reads first (the window's card, the CLI's line) from a
  results document.

The results document holds the first two as its ``evaluation`` section.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ppml_lab.jsonable import finite_or_none, number_or_none

__all__ = [
    "GUESSING_RULE",
    "SIGNIFICANCE_LEVEL",
    "Headline",
    "Spread",
    "evaluate_model",
    "guessing_test",
    "level_in_words",
    "like_for_like",
    "majority_class_rate",
    "within_noise",
]

#: The level of the one-sided test in :func:`guessing_test`.
SIGNIFICANCE_LEVEL = 0.05

#: The rule of :func:`guessing_test` in words (``evaluation.guessing_test.rule``).
GUESSING_RULE = (
    "no better than guessing unless the test accuracy is above the majority-class rate by more "
    "than chance explains: a one-sided exact binomial test of 'the model is right no more often "
    "than always guessing the commonest class' on the test rows, rejected at the 5% level"
)


# -- the model on the test split --------------------------------------------------------------


def majority_class_rate(y: np.ndarray, n_classes: int | None = None) -> tuple[int, float]:
    """``(class, share)`` of the commonest class in ``y``: the accuracy of always guessing it.

    Ties go to the lowest class index; an empty ``y`` gives ``(0, nan)``.
    """
    y = np.asarray(y, dtype=np.int64)
    if len(y) == 0:
        return 0, float("nan")
    counts = np.bincount(y, minlength=n_classes or 0)
    top = int(np.argmax(counts))
    return top, float(counts[top] / len(y))


def guessing_test(
    correct: int, n: int, majority_rate: float, *, level: float = SIGNIFICANCE_LEVEL
) -> dict[str, Any]:
    """Is a model right on ``correct`` of ``n`` test rows better than always guessing?

    The rule (:data:`GUESSING_RULE`): the model is **no better than guessing** unless a
    one-sided exact binomial test rejects "the model is right with probability at most
    ``majority_rate``" (the accuracy of always guessing the commonest class of the test split)
    at ``level``: ``P(Binomial(n, majority_rate) >= correct) <= level``. A model that is right
    no more often than the guess, or only by a margin the test size can explain by chance, is
    flagged; so is every model when one class fills the test split (nothing can beat the
    guess there).

    Parameters
    ----------
    correct, n : int
        Correct predictions and test rows.
    majority_rate : float
        Share of the commonest class in the test split.
    level : float
        Significance level of the test (5% by default).

    Returns
    -------
    dict
        ``no_better_than_guessing`` (bool, or None without test rows), ``p_value``,
        ``accuracy_needed`` (the smallest accuracy that would count as better on this many rows;
        None when no accuracy can), ``significance_level``, ``rule``.
    """
    from scipy import stats

    out: dict[str, Any] = {
        "no_better_than_guessing": None, "p_value": None, "accuracy_needed": None,
        "significance_level": level, "rule": GUESSING_RULE,
    }
    if n <= 0 or not math.isfinite(majority_rate):
        return out
    p0 = min(max(float(majority_rate), 0.0), 1.0)
    # P(X >= correct) under the guess's accuracy; sf(k - 1) = P(X > k - 1).
    p_value = float(stats.binom.sf(int(correct) - 1, int(n), p0))
    # The smallest k with P(X >= k) <= level: isf gives the smallest x with P(X > x) <= level.
    needed = int(stats.binom.isf(level, int(n), p0)) + 1
    out["p_value"] = p_value
    out["accuracy_needed"] = needed / n if needed <= n else None
    out["no_better_than_guessing"] = not p_value <= level
    return out


def evaluate_model(
    model: Any,
    X: np.ndarray,
    y: np.ndarray,
    class_names: tuple[str, ...] | list[str],
    *,
    accuracy: float | None = None,
) -> dict[str, Any]:
    """The model's figures on a test split (the results document's ``evaluation`` section).

    Parameters
    ----------
    model : object or None
        The engine's model: ``predict_proba(X)`` (or ``predict(X)``) gives its answers. None (a
        cancelled run, an engine that returns no model) leaves the model's figures at None.
    X, y : numpy.ndarray
        The test split (``y`` holds class indices into ``class_names``).
    class_names : sequence of str
        The classes' names, in index order.
    accuracy : float, optional
        The engine's own test accuracy, used for the guessing test when there is no model to
        ask (otherwise the model's predictions are counted).

    Returns
    -------
    dict
        ``test_rows``, ``accuracy``, ``majority_class`` (its name), ``majority_class_rate``,
        ``balanced_accuracy``, ``roc_auc`` (two classes: of the second class's probability; more:
        one-vs-rest, macro average; None when a class is absent from the test split or the
        probabilities are not finite), ``roc_auc_method``, ``confusion_matrix`` (``classes``,
        ``counts`` with one row per true class and one column per predicted class),
        ``no_better_than_guessing`` and ``guessing_test`` (see :func:`guessing_test`).
    """
    from sklearn import metrics

    y = np.asarray(y, dtype=np.int64)
    names = [str(c) for c in class_names]
    k = len(names)
    n = len(y)
    top, rate = majority_class_rate(y, k)
    out: dict[str, Any] = {
        "test_rows": n,
        "accuracy": None,
        "majority_class": names[top] if n and top < k else None,
        "majority_class_rate": finite_or_none(rate),
        "balanced_accuracy": None,
        "roc_auc": None,
        "roc_auc_method": "",
        "confusion_matrix": None,
    }
    proba = _probabilities(model, X)
    pred = None
    if proba is not None:
        pred = np.argmax(np.nan_to_num(proba, nan=-np.inf), axis=1)
    elif model is not None and hasattr(model, "predict"):
        pred = np.asarray(model.predict(X), dtype=np.int64).reshape(-1)
    correct = None
    if pred is not None and len(pred) == n and n:
        labels = list(range(k))
        correct = int(np.sum(pred == y))
        out["accuracy"] = correct / n
        # adjusted=False: 1/k for a constant guess, 1 for a perfect model (sklearn's definition).
        out["balanced_accuracy"] = float(metrics.balanced_accuracy_score(y, pred))
        out["confusion_matrix"] = {
            "classes": names,
            "counts": metrics.confusion_matrix(y, pred, labels=labels).tolist(),
            "rows": "true class",
            "columns": "predicted class",
        }
        out["roc_auc"], out["roc_auc_method"] = _roc_auc(y, proba, k)
    elif accuracy is not None and n and math.isfinite(accuracy):
        correct = int(round(accuracy * n))
        out["accuracy"] = float(accuracy)
    verdict = guessing_test(correct if correct is not None else 0, n if correct is not None else 0,
                            rate)
    out["no_better_than_guessing"] = verdict.pop("no_better_than_guessing")
    out["guessing_test"] = verdict
    return out


def _probabilities(model: Any, X: np.ndarray) -> np.ndarray | None:
    if model is None or not hasattr(model, "predict_proba"):
        return None
    proba = np.asarray(model.predict_proba(X), dtype=np.float64)
    if proba.ndim != 2 or proba.shape[0] != len(X):
        return None
    return proba


def _roc_auc(y: np.ndarray, proba: np.ndarray | None, k: int) -> tuple[float | None, str]:
    from sklearn import metrics

    if proba is None or proba.shape[1] != k or k < 2:
        return None, ""
    if len(np.unique(y)) < k or not np.all(np.isfinite(proba)):
        return None, ""  # AUC is undefined for a class absent from the test rows
    if k == 2:
        return float(metrics.roc_auc_score(y, proba[:, 1])), "two classes"
    # One-vs-rest needs rows summing to 1; renormalise against rounding.
    p = proba / proba.sum(axis=1, keepdims=True)
    return (
        float(metrics.roc_auc_score(y, p, multi_class="ovr", average="macro", labels=list(range(k)))),
        "one-vs-rest, macro average",
    )


# -- cost, like for like -----------------------------------------------------------------------


def like_for_like(
    costs: Mapping[str, Any],
    reference_seconds: float | None,
    one_off: Mapping[str, str],
) -> dict[str, Any] | None:
    """Training time against the plaintext reference's training time, one-off work apart.

    Training time is the engine's ``train_seconds`` when it reports one; otherwise its engine
    time ``seconds`` minus every cost kind it labels one-off (``Label.one_off``: set-up,
    calibration, accounting ...). The reference's training time is its engine time (the
    reference does nothing else). The ratio compares the two; the one-off kinds are listed with
    their seconds, outside the ratio.

    Parameters
    ----------
    costs : mapping
        The run's cost kinds and values (``overhead``).
    reference_seconds : float or None
        The plaintext reference's training time (``baseline.seconds``).
    one_off : mapping
        Cost kind -> its label, for the kinds the engine marks one-off.

    Returns
    -------
    dict or None
        ``training_seconds``, ``measured_as`` (``"train_seconds"`` or ``"seconds minus one-off
        work"``), ``reference_seconds``, ``ratio`` (None without a reference), ``one_off``
        (``[{kind, label, seconds}]``), ``one_off_seconds`` (their sum); None when the run
        reported no time.
    """
    items = [
        {"kind": kind, "label": label, "seconds": float(costs[kind])}
        for kind, label in one_off.items()
        if number_or_none(costs.get(kind)) is not None
    ]
    one_off_total = sum(item["seconds"] for item in items)
    train = number_or_none(costs.get("train_seconds"))
    if train is not None:
        measured_as = "train_seconds"
    else:
        total = number_or_none(costs.get("seconds"))
        if total is None:
            return None
        train = max(total - one_off_total, 0.0)
        measured_as = "seconds minus one-off work" if items else "seconds"
    ref = number_or_none(reference_seconds)
    return {
        "training_seconds": train,
        "measured_as": measured_as,
        "reference_seconds": ref,
        "ratio": train / ref if ref else None,
        "one_off": items,
        "one_off_seconds": one_off_total,
    }


# -- the headline ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Spread:
    """How much accuracy varies between runs with different training seeds.

    Attributes
    ----------
    n_runs : int
        Runs (seeds) behind the figures.
    sd : float
        Standard deviation of the run's test accuracy over them (a fraction, 0.012 = 1.2 points).
    reference_sd : float, optional
        The same for the plaintext reference, when it was run with several seeds too.
    """

    n_runs: int
    sd: float
    reference_sd: float | None = None


def within_noise(difference: float, spread: Spread | None) -> bool | None:
    """Whether an accuracy difference is within the run-to-run noise.

    The rule: within the noise when ``|difference| <= 2 * sqrt(sd^2 + reference_sd^2)`` (two
    standard deviations of the difference of two independent runs; ``reference_sd`` counts as 0
    when unknown). None for a single run or no spread: the noise is not measured.
    """
    if spread is None or spread.n_runs < 2 or not math.isfinite(spread.sd):
        return None
    ref = spread.reference_sd if spread.reference_sd is not None else 0.0
    return abs(difference) <= 2.0 * math.hypot(spread.sd, ref)


#: The protection levels of ``Guarantee.level`` in words, and their bands of epsilon.
_LEVEL_WORDS = {
    "strong": ("strong privacy", "ε at most 1"),
    "moderate": ("moderate privacy", "ε between 1 and 3"),
    "weak": ("weak privacy", "ε between 3 and 10"),
    "very weak": ("nominal privacy only", "ε above 10"),
}


def level_in_words(
    level: str, *, covers: str = "", useless: bool = False, epsilon: float | None = None
) -> str:
    """The guarantee's level (``Guarantee.level``) as a person says it.

    ``epsilon`` is given in brackets (else the level's band); ``covers`` (``Guarantee.covers``)
    says what a pattern without an epsilon protects; ``useless`` (the model is no better than
    guessing) keeps a good level from reading as good news.
    """
    if level in _LEVEL_WORDS:
        words, band = _LEVEL_WORDS[level]
        words += f" (ε = {epsilon:.3g})" if epsilon is not None else f" ({band})"
        return f"{words}, but the model learned nothing useful" if useless else words
    if level == "none":
        if not covers:
            return "no privacy protection"
        # The first clause of what the protection covers ("the clients' raw rows, which ...").
        return f"no formal privacy guarantee (no ε); it protects {covers.split(';')[0].strip()}"
    return level  # NOT PRIVATE (...)


@dataclass(frozen=True, kw_only=True)
class Headline:
    """What a person reads first about a run (the window's card, the CLI's line).

    Build it with :meth:`from_document` from a results document.
    """

    accuracy: float | None
    reference_accuracy: float | None
    is_reference: bool
    majority_class: str | None
    majority_rate: float | None
    no_better_than_guessing: bool | None
    accuracy_needed: float | None
    test_rows: int
    level: str
    level_words: str
    epsilon: float | None
    spread: Spread | None
    cost: Mapping[str, Any] | None
    bytes_sent: float | None
    cancelled: bool

    @classmethod
    def from_document(
        cls, doc: Mapping[str, Any], *, is_reference: bool, spread: Spread | None = None
    ) -> Headline:
        """The headline of a results document (``RunResult.to_document()``)."""
        final = doc.get("final") or {}
        baseline = doc.get("baseline") or {}
        evaluation = doc.get("evaluation") or {}
        protection = doc.get("protection") or {}
        guess = evaluation.get("guessing_test") or {}
        useless = evaluation.get("no_better_than_guessing") is True
        level = str(protection.get("level", "none"))
        epsilon = number_or_none(protection.get("epsilon"))
        accuracy = number_or_none(final.get("test_accuracy"))
        if accuracy is None:
            accuracy = number_or_none(evaluation.get("accuracy"))
        return cls(
            accuracy=accuracy,
            reference_accuracy=None if is_reference else number_or_none(baseline.get("test_accuracy")),
            is_reference=is_reference,
            majority_class=evaluation.get("majority_class"),
            majority_rate=number_or_none(evaluation.get("majority_class_rate")),
            no_better_than_guessing=evaluation.get("no_better_than_guessing"),
            accuracy_needed=number_or_none(guess.get("accuracy_needed")),
            test_rows=int(evaluation.get("test_rows") or 0),
            level=level,
            level_words=level_in_words(level, covers=str(protection.get("covers") or ""),
                                       useless=useless, epsilon=epsilon),
            epsilon=epsilon,
            spread=spread,
            cost=evaluation.get("like_for_like"),
            bytes_sent=number_or_none((doc.get("overhead") or {}).get("bytes_sent")),
            cancelled=doc.get("status") == "cancelled",
        )

    @property
    def difference(self) -> float | None:
        """Accuracy minus the reference's (a fraction), or None."""
        if self.accuracy is None or self.reference_accuracy is None:
            return None
        return self.accuracy - self.reference_accuracy

    def noise_words(self) -> str:
        """"single run", or the spread over seeds and whether the difference is within it."""
        spread = self.spread
        if spread is None or spread.n_runs < 2:
            return "single run"
        text = f"±{spread.sd * 100:.1f} points over {spread.n_runs} seeds"
        diff = self.difference
        inside = within_noise(diff, spread) if diff is not None else None
        if inside is True:
            text += ": the difference to plaintext is within run-to-run noise"
        elif inside is False:
            text += ": the difference to plaintext is larger than run-to-run noise"
        return text

    def cost_words(self) -> str:
        """Training time against the reference's, and the one-off work apart."""
        cost = self.cost
        if not cost:
            return ""
        train = float(cost["training_seconds"])
        ratio = cost.get("ratio")
        if self.is_reference:
            text = f"training {_seconds(train)} (the yardstick for the other patterns)"
        elif ratio is None:
            text = f"training {_seconds(train)} (no plaintext reference to compare with)"
        elif 0.9 <= ratio <= 1.1:
            text = f"training took about as long as plaintext training ({_seconds(train)})"
        else:
            times = f"{ratio:.1f}" if ratio < 10 else f"{ratio:,.0f}"
            text = (f"training took {times}× as long as plaintext training "
                    f"({_seconds(train)} vs {_seconds(float(cost['reference_seconds']))})")
        items = [i for i in cost.get("one_off") or () if i.get("seconds", 0) > 0]
        if items:
            parts = ", ".join(f"{str(i['label']).removesuffix(' time')} "
                              f"{_seconds(float(i['seconds']))}" for i in items)
            text += f"; plus {_seconds(float(cost['one_off_seconds']))} outside training ({parts})"
        return text

    def one_line(self) -> str:
        """The headline in one line (the CLI's summary)."""
        if self.accuracy is None:
            return "headline: no test accuracy" + (" (cancelled)" if self.cancelled else "")
        parts = [f"{self.accuracy * 100:.1f}% test accuracy"]
        against = []
        if self.reference_accuracy is not None:
            against.append(f"plaintext {self.reference_accuracy * 100:.1f}%")
        if self.majority_rate is not None:
            against.append(f"always guessing the commonest class {self.majority_rate * 100:.1f}%")
        if against:
            parts[0] += f" (vs {', vs '.join(against)})"
        if self.no_better_than_guessing:
            parts.append("NO BETTER THAN GUESSING")
        parts.append(f"privacy: {self.level_words}")
        parts.append(self.noise_words())
        cost = self.cost_words()
        if cost:
            parts.append(cost)
        if self.cancelled:
            parts.append("cancelled")
        return "headline: " + "; ".join(parts)


def _seconds(value: float) -> str:
    return f"{value:.2g} s" if value < 10 else f"{value:,.0f} s"
