"""The privacy translator: (epsilon, delta) in sentences a manager can act on.

Each sentence of :func:`describe` rests on one function here, so the words can be tested
against the maths:

* :func:`max_posterior` - how far an attacker's belief that a person was in the data can rise.
* :func:`tpr_bound` - the region every membership-inference attack must stay in.
* :func:`max_advantage` - the largest true-positive minus false-positive rate of any attack.
* :func:`protection_level` - a qualitative band for epsilon.

All of them are worst-case statements: they hold for any attacker, with any side knowledge,
for the most exposed person. Real attacks usually achieve far less.
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit, logit

__all__ = [
    "LEVELS",
    "describe",
    "max_advantage",
    "max_posterior",
    "protection_level",
    "tpr_bound",
]

#: Upper ends of the qualitative bands of :func:`protection_level`.
LEVELS: Final = ((1.0, "strong"), (3.0, "moderate"), (10.0, "weak"), (math.inf, "very weak"))


def _check(epsilon: float, delta: float) -> None:
    if math.isnan(epsilon) or epsilon < 0:
        raise ValueError(f"epsilon must be >= 0 (got {epsilon!r}); use inf for no privacy.")
    if not 0.0 <= delta < 1.0:
        raise ValueError(f"delta must be in [0, 1) (got {delta!r}).")


def max_posterior(epsilon: float, delta: float, prior: float = 0.5) -> float:
    """The highest an attacker's confidence that one person was in the data can rise to.

    Parameters
    ----------
    epsilon, delta : float
        The (epsilon, delta)-DP guarantee; ``epsilon`` may be ``inf``.
    prior : float
        The attacker's belief before seeing the output, in (0, 1).

    Returns
    -------
    float
        ``p e^eps / (p e^eps + 1 - p) + delta``, capped at 1. For ``prior = 0.5`` that is
        ``e^eps / (1 + e^eps) + delta``.

    Notes
    -----
    With pure epsilon-DP the likelihood ratio of any output between "in" and "out" is at most
    ``e^eps``, so Bayes' rule turns prior odds ``p / (1 - p)`` into posterior odds at most
    ``e^eps p / (1 - p)``. The delta term is the probability mass on which that ratio may be
    exceeded; adding it is the usual conservative (loose) way to account for it. Computed as
    ``expit(eps + logit(p))`` so large epsilons do not overflow.
    """
    _check(epsilon, delta)
    if not 0.0 < prior < 1.0:
        raise ValueError(f"prior must be strictly between 0 and 1 (got {prior!r}).")
    if math.isinf(epsilon):
        return 1.0
    return float(min(1.0, expit(epsilon + logit(prior)) + delta))


def tpr_bound(fpr: ArrayLike, epsilon: float, delta: float) -> NDArray[np.float64] | float:
    """The highest true-positive rate any membership attack can have at false-positive ``fpr``.

    Parameters
    ----------
    fpr : float or array_like
        False-positive rates in [0, 1] (share of non-members wrongly flagged as members).
    epsilon, delta : float
        The (epsilon, delta)-DP guarantee; ``epsilon`` may be ``inf``.

    Returns
    -------
    float or numpy.ndarray
        ``min(1, e^eps FPR + delta, 1 - e^-eps (1 - delta - FPR))``, of the same shape as
        ``fpr`` (a float for a scalar input).

    Notes
    -----
    An algorithm is (epsilon, delta)-DP if and only if every test of "this person was in the
    data" satisfies both ``FPR + e^eps FNR >= 1 - delta`` and ``FNR + e^eps FPR >= 1 - delta``
    (Kairouz, Oh & Viswanath, "The composition theorem for differential privacy", ICML 2015,
    Thm 2.1; Dong, Roth & Su, "Gaussian differential privacy", JRSS-B 2022, the trade-off
    function f_{eps,delta}). With FNR = 1 - TPR the second gives the familiar
    ``TPR <= e^eps FPR + delta`` and the first the symmetric
    ``TPR <= 1 - e^-eps (1 - delta - FPR)``, which is the tighter one at larger FPR. At
    ``FPR = 0`` the bound is delta: no attack can catch members without false alarms, except
    with probability delta.
    """
    _check(epsilon, delta)
    x = np.asarray(fpr, dtype=float)
    if np.any((x < 0) | (x > 1)) or np.any(np.isnan(x)):
        raise ValueError("false-positive rates must be in [0, 1].")
    if math.isinf(epsilon):
        out = np.ones_like(x)
    else:
        e = math.exp(epsilon) if epsilon < 700 else math.inf
        with np.errstate(invalid="ignore", over="ignore"):
            linear = np.where(x > 0, e * x, 0.0) + delta
        symmetric = 1.0 - math.exp(-epsilon) * (1.0 - delta - x)
        out = np.minimum(1.0, np.minimum(linear, symmetric))
    return float(out) if out.ndim == 0 else out


def max_advantage(epsilon: float, delta: float) -> float:
    """The largest ``TPR - FPR`` of any membership attack: ``(e^eps - 1 + 2 delta) / (e^eps + 1)``.

    Notes
    -----
    The maximum of ``tpr_bound(fpr) - fpr`` is where its two lines cross, at
    ``FPR = (1 - delta) / (e^eps + 1)`` (Kairouz et al. 2015; also Humphries et al.,
    "Investigating membership inference attacks under data dependencies", CSF 2023). 0 means
    the attacker can do no better than guessing, 1 a perfect attack.
    """
    _check(epsilon, delta)
    if math.isinf(epsilon):
        return 1.0
    # tanh(eps/2) = (e^eps - 1) / (e^eps + 1), stable for large epsilon.
    return float(min(1.0, math.tanh(epsilon / 2.0) + 2.0 * delta * expit(-epsilon)))


def protection_level(epsilon: float) -> str:
    """Qualitative band: strong (<= 1), moderate (<= 3), weak (<= 10), very weak, or none (inf)."""
    if math.isnan(epsilon) or epsilon < 0:
        raise ValueError(f"epsilon must be >= 0 (got {epsilon!r}).")
    if math.isinf(epsilon):
        return "none"
    return next(name for upper, name in LEVELS if epsilon <= upper)


_BAND_SENTENCES: Final = {
    "strong": "This is strong protection (epsilon at most 1): what the model reveals about "
    "any one person is close to what it would reveal if that person had stayed out.",
    "moderate": "This is moderate protection (epsilon between 1 and 3), a common choice "
    "for private machine learning.",
    "weak": "This is weak protection (epsilon between 3 and 10): it still blunts many real "
    "attacks, but the worst-case guarantee allows large shifts in what an attacker believes.",
    "very weak": "This protection is nominal (epsilon above 10): the formal guarantee says "
    "little, although the added noise may still make real attacks harder.",
}


def _at_most(p: float) -> str:
    """Say "at most X%" with X rounded *up* to 0.1 %, so the words never understate a bound."""
    if p >= 0.9995:
        return "almost 100%"
    pct = math.ceil(p * 1000.0 - 1e-9) / 10.0
    return f"at most {pct:.0f}%" if pct == int(pct) else f"at most {pct:.1f}%"


def _one_in(delta: float) -> str:
    return f"about 1 in {1.0 / delta:,.0f}" if delta > 0 else "zero"


def describe(epsilon: float, delta: float, n_records: int | None = None) -> list[str]:
    """Plain-language sentences explaining an (epsilon, delta) guarantee.

    Parameters
    ----------
    epsilon, delta : float
        The guarantee; ``epsilon = inf`` means no differential privacy.
    n_records : int, optional
        Number of protected records (or clients), to put delta in proportion.

    Returns
    -------
    list of str
        Three to five sentences: the belief bound (:func:`max_posterior`), the attack bound
        (:func:`tpr_bound` at 1 % false alarms), the qualitative band
        (:func:`protection_level`), and what epsilon and delta do and do not promise.
    """
    _check(epsilon, delta)
    if math.isinf(epsilon):
        return [
            "No formal protection: this model was trained without differential privacy, so "
            "nothing limits what it can reveal about any one person in the data.",
            "A membership attack could, in the worst case, tell with certainty whether a given "
            "person was in the training data.",
            "Other measures (access control, aggregation, a membership-inference audit) may "
            "reduce the risk in practice, but they come with no mathematical guarantee.",
        ]
    posterior = max_posterior(epsilon, delta, prior=0.5)
    tpr = float(tpr_bound(0.01, epsilon, delta))
    sentences = [
        "Someone who was 50% sure a given person was in the data can become "
        f"{_at_most(posterior)} sure after seeing the model.",
        "Any test that tries to spot people in the training data, and wrongly flags only 1% "
        f"of outsiders, can catch {_at_most(tpr)} of the real members.",
        _BAND_SENTENCES[protection_level(epsilon)],
    ]
    caveat = (
        f"Epsilon ({epsilon:.3g}) bounds the worst case, for the most exposed person and an "
        "attacker who knows everyone else's data; real attacks usually achieve much less. "
        f"Delta ({delta:.2g}, {_one_in(delta)}) is, roughly, the small probability that this "
        "guarantee fails."
    )
    sentences.append(caveat)
    if n_records is not None and n_records >= 1:
        limit = 1.0 / n_records
        if delta < limit:
            sentences.append(
                f"With {n_records:,} records, delta is {delta * n_records:.2g} times 1/n, "
                "safely below the 1/n at which a mechanism could publish a whole random record."
            )
        else:
            sentences.append(
                f"Warning: with {n_records:,} records, delta must be well below 1/n = "
                f"{limit:.2g}; at this delta a mechanism that publishes a whole random record "
                "would still qualify, so the guarantee is empty."
            )
    return sentences


def describe_guarantee(
    epsilon: float, delta: float, n_protected: int | None = None, *, per_client: bool = False
) -> list[str]:
    """:func:`describe` for a run's guarantee: record-level, or client-level with ``per_client``.

    Client-level DP (DP-FedAvg) protects all of one client's rows together, so the sentences
    speak of clients and ``n_protected`` counts clients. With ``delta = 0`` (pure DP) there is
    nothing to put in proportion to the number protected, so that sentence is left out.
    """
    sentences = describe(epsilon, delta, n_protected if delta > 0 else None)
    if per_client:
        sentences = [
            s.replace("a given person", "a given client")
            .replace("any one person", "any one client")
            .replace(" records, delta", " clients, delta")
            for s in sentences
        ]
    return sentences
