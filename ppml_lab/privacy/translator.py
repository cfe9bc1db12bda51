"""The privacy translator: (epsilon, delta) in sentences a manager can act on.

Each sentence of :func:`describe` rests on one function here, so the words can be tested
against the maths:

* :func:`max_balanced_accuracy` - how often an attacker guessing "in or out?" at even odds can
  be right.
* :func:`tpr_bound` - the region every membership-inference attack must stay in.
* :func:`group_privacy` - the guarantee for a group of add-or-remove steps (a record inside a
  client under client-level DP).
* :func:`max_posterior` - (pure DP) how far an attacker's belief can rise; not used in the
  sentences when delta > 0, where no per-outcome bound on the belief exists.
* :func:`max_advantage` - the largest true-positive minus false-positive rate of any attack.
* :func:`protection_level` - a qualitative band for epsilon.

All of them are worst-case statements: they hold for any attacker, with any side knowledge,
for the most exposed person. Real attacks usually achieve far less.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
from numpy.typing import ArrayLike, NDArray


def expit(x: ArrayLike) -> Any:
    """The logistic function (scipy's, imported on first use: scipy is slow to import)."""
    from scipy.special import expit as _expit

    return _expit(x)


def logit(p: ArrayLike) -> Any:
    """The log-odds (scipy's, imported on first use)."""
    from scipy.special import logit as _logit

    return _logit(p)

__all__ = [
    "LEVELS",
    "describe",
    "describe_guarantee",
    "group_privacy",
    "max_advantage",
    "max_balanced_accuracy",
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
    ``e^eps p / (1 - p)``: a true bound for every outcome. With ``delta > 0`` there is no
    per-outcome bound (on outcomes of probability up to delta the belief may reach 1), and adding
    delta is only a heuristic; :func:`describe` therefore speaks of
    :func:`max_balanced_accuracy`, which holds exactly. Computed as ``expit(eps + logit(p))`` so
    large epsilons do not overflow.
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
    "any one {who} is close to what it would reveal if that {who} had stayed out.",
    "moderate": "This is moderate protection (epsilon between 1 and 3), a common choice "
    "for private machine learning.",
    "weak": "This is weak protection (epsilon between 3 and 10): it still blunts many real "
    "attacks, but the worst-case guarantee allows large shifts in what an attacker believes.",
    "very weak": "This protection is nominal (epsilon above 10): the formal guarantee says "
    "little, although the added noise may still make real attacks harder.",
}


def max_balanced_accuracy(epsilon: float, delta: float) -> float:
    """The best accuracy of any attacker guessing "in or out?" at even odds.

    Parameters
    ----------
    epsilon, delta : float
        The (epsilon, delta)-DP guarantee; ``epsilon`` may be ``inf``.

    Returns
    -------
    float
        ``(e^eps + delta) / (1 + e^eps)``: 0.5 is a coin toss, 1 a certain answer.

    Notes
    -----
    Every test of "this record was in the data" satisfies ``FPR + e^eps FNR >= 1 - delta`` and
    ``FNR + e^eps FPR >= 1 - delta`` (Kairouz, Oh & Viswanath 2015). Adding the two,
    ``FPR + FNR >= 2 (1 - delta) / (1 + e^eps)``, so an attacker facing "in" and "out" with
    equal probability is right with probability ``1 - (FPR + FNR) / 2 <= (e^eps + delta) /
    (1 + e^eps)``. Unlike the posterior of :func:`max_posterior`, this holds for delta > 0.
    """
    _check(epsilon, delta)
    if math.isinf(epsilon):
        return 1.0
    return float(min(1.0, 1.0 - (1.0 - delta) * expit(-epsilon)))


def group_privacy(epsilon: float, delta: float, steps: int = 2) -> tuple[float, float]:
    """The guarantee for datasets ``steps`` add-or-remove steps apart.

    Parameters
    ----------
    epsilon, delta : float
        The guarantee for one step.
    steps : int
        Number of neighbouring steps (2: one record inside a client under client-level DP, since
        changing it replaces that client's data: remove the client, add it back changed).

    Returns
    -------
    (float, float)
        ``(k eps, delta (e^{k eps} - 1) / (e^eps - 1))`` for ``k = steps``, the standard group
        privacy bound (Dwork & Roth 2014, Thm 2.2 with delta; ``k delta`` when ``eps = 0``).
        For ``k = 2`` that is ``(2 eps, (1 + e^eps) delta)``.
    """
    _check(epsilon, delta)
    if steps < 1:
        raise ValueError(f"steps must be at least 1 (got {steps!r}).")
    if math.isinf(epsilon):
        return math.inf, delta
    k = int(steps)
    if epsilon == 0.0:
        return 0.0, min(1.0, k * delta)
    # sum_{i<k} e^{i eps} = (e^{k eps} - 1) / (e^eps - 1); expm1 keeps small epsilons exact.
    factor = math.expm1(k * epsilon) / math.expm1(epsilon) if k * epsilon < 700 else math.inf
    return k * epsilon, min(1.0, delta * factor)


def _at_most(p: float) -> str:
    """Say "at most X%" with X rounded *up* to 0.1 %, so the words never understate a bound."""
    if p >= 0.9995:
        return "almost 100%"
    pct = math.ceil(p * 1000.0 - 1e-9) / 10.0
    return f"at most {pct:.0f}%" if pct == int(pct) else f"at most {pct:.1f}%"


def _factor(epsilon: float) -> str:
    """``e^eps`` rounded *up* to three significant digits (never understating the bound)."""
    if epsilon > 700:
        return "an astronomically large number"
    value = math.exp(epsilon)
    digits = 3 - int(math.floor(math.log10(value))) - 1
    scale = 10.0**digits
    up = math.ceil(value * scale - 1e-9) / scale
    return f"{up:,.{max(digits, 0)}f}"


def _one_in(delta: float) -> str:
    return f"about 1 in {1.0 / delta:,.0f}" if delta > 0 else "zero"


#: What the sentences call the protected unit.
_SUBJECTS: Final = {
    "record": {
        "member": "a given person's record",
        "one": "one person's record",
        "exposed": "the most exposed person",
        "members": "people",
        "n": "records",
    },
    "client": {
        "member": "a given client's data",
        "one": "one client's data (all its rows)",
        "exposed": "the most exposed client",
        "members": "clients",
        "n": "clients",
    },
}


def describe(
    epsilon: float, delta: float, n_records: int | None = None, *, subject: str = "record"
) -> list[str]:
    """Plain-language sentences explaining an (epsilon, delta) guarantee.

    Every sentence is a true statement about the guarantee, each resting on one function of
    this module (``tests/unit/test_translator.py`` checks each number against its formula):

    1. the balanced attacker's accuracy, :func:`max_balanced_accuracy`;
    2. the share of members a test with 1 % false alarms can catch, :func:`tpr_bound`;
    3. the definition itself: any outcome's probability changes by at most a factor ``e^eps``
       plus delta;
    4. the qualitative band, :func:`protection_level`;
    5. what epsilon and delta do and do not promise (delta is an additive slack, not the chance
       that the guarantee fails: the privacy loss may exceed epsilon with a probability many
       times delta);
    6. with ``n_records`` and delta > 0, delta against 1/n.

    Parameters
    ----------
    epsilon, delta : float
        The guarantee; ``epsilon = inf`` means no differential privacy.
    n_records : int, optional
        Number of protected records (or clients), to put delta in proportion.
    subject : {"record", "client"}
        What one protected unit is: a person's record, or all of one client's data.

    Returns
    -------
    list of str
    """
    _check(epsilon, delta)
    words = _SUBJECTS[subject]
    if math.isinf(epsilon):
        return [
            "No formal protection: this model was trained without differential privacy, so "
            "nothing limits what it can reveal about any one person in the data.",
            "A membership attack could, in the worst case, tell with certainty whether a given "
            "person was in the training data.",
            "Other measures (access control, aggregation, a membership-inference audit) may "
            "reduce the risk in practice, but they come with no mathematical guarantee.",
        ]
    accuracy = max_balanced_accuracy(epsilon, delta)
    tpr = float(tpr_bound(0.01, epsilon, delta))
    sentences = [
        f"An attacker who must guess whether {words['member']} was used, with even odds "
        f"beforehand, is right {_at_most(accuracy)} of the time (50% is a coin toss), even "
        "knowing everything else about the data.",
        f"Any test that tries to spot {words['members']} in the training data, and wrongly "
        f"flags only 1% of outsiders, can catch {_at_most(tpr)} of the real members.",
        f"Adding or removing {words['one']} changes the probability of any outcome of the "
        f"training by at most a factor of {_factor(epsilon)} (e to the power epsilon)"
        + (", plus delta." if delta > 0 else "."),
        _BAND_SENTENCES[protection_level(epsilon)].format(
            who="person" if subject == "record" else "client"
        ),
    ]
    caveat = (
        f"Epsilon ({epsilon:.3g}) bounds the worst case, for {words['exposed']} and an attacker "
        "who knows everyone else's data; real attacks usually achieve much less."
    )
    if delta > 0:
        caveat += (
            f" Delta ({delta:.2g}, {_one_in(delta)}) is a small additive slack in these bounds, "
            "already included in the figures above; it is not the probability that the "
            "guarantee fails: the privacy loss can exceed epsilon with a probability many "
            "times delta."
        )
    sentences.append(caveat)
    if n_records is not None and n_records >= 1 and delta > 0:
        limit = 1.0 / n_records
        if delta < limit:
            sentences.append(
                f"With {n_records:,} {words['n']}, delta is {delta * n_records:.2g} times 1/n, "
                "below the 1/n at which a mechanism that publishes one whole random "
                f"{'record' if subject == 'record' else 'client'} would qualify."
            )
        else:
            sentences.append(
                f"Warning: with {n_records:,} {words['n']}, delta must be well below 1/n = "
                f"{limit:.2g}; at this delta a mechanism that publishes a whole random "
                f"{'record' if subject == 'record' else 'client'} would still qualify, so the "
                "guarantee is empty."
            )
    return sentences


def describe_guarantee(
    epsilon: float,
    delta: float,
    n_protected: int | None = None,
    *,
    per_client: bool = False,
    seeded_noise: bool = False,
) -> list[str]:
    """:func:`describe` for a run's guarantee: record-level, or client-level with ``per_client``.

    Client-level DP (DP-FedAvg) protects all of one client's rows together, so the sentences
    speak of clients and ``n_protected`` counts clients; one more sentence gives the guarantee
    for a single record inside a client by :func:`group_privacy` (two add-or-remove steps),
    not the client epsilon. With ``seeded_noise`` (deterministic noise, replayable from the
    published seed) the run has no protection, and the first sentence says so.
    """
    sentences = describe(
        epsilon, delta, n_protected, subject="client" if per_client else "record"
    )
    if per_client:
        sentences.insert(0, "The guarantee is per client (all of a client's rows together).")
        if not math.isinf(epsilon):
            eps2, delta2 = group_privacy(epsilon, delta, 2)
            sentences.append(
                "One record inside a client is protected by group privacy, not by the client "
                "epsilon: changing it changes that client's data, two add-or-remove steps, so "
                f"for a record epsilon is {eps2:.3g} (2 x epsilon) and delta "
                f"{delta2:.2g} ((1 + e^epsilon) x delta): an attacker guessing at even odds "
                f"whether a given record was used is right "
                f"{_at_most(max_balanced_accuracy(eps2, delta2))} of the time."
            )
    if seeded_noise:
        sentences.insert(
            0,
            "NOT PRIVATE: this run drew its noise from the experiment seed, which is published "
            "with the results, so anyone can replay it and remove the noise. The sentences "
            "below describe what the same settings give with secret noise, not this run.",
        )
    return sentences
