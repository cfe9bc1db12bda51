"""Parameters of the secure multi-party computation pattern."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ppml_lab.params import param

_HOST = re.compile(r"^\[?[A-Za-z0-9_.:-]+\]?:\d{1,5}$")


def parse_hosts(text: str | None) -> list[str]:
    """The ``host:port`` entries of a comma-separated list (empty: none given)."""
    if not text:
        return []
    return [h.strip() for h in str(text).split(",") if h.strip()]


@dataclass(frozen=True, kw_only=True)
class SMPCParams:
    """The ``[pattern]`` keys of ``name = "smpc"``."""

    parties: int = param(
        3, label="Parties", minimum=2, maximum=7,
        help="How many organisations compute together, each a separate process. MPyC keeps "
        "every value secret from any (parties - 1) // 2 of them: 3 parties tolerate 1 curious "
        "party, 5 tolerate 2. With 2 parties that is 0: nothing is secret from either party.",
    )
    split: str = param(
        "rows", label="Data split", choices=("rows", "columns"),
        choice_labels={
            "rows": "By people (rows)",
            "columns": "By attributes (columns)",
        },
        help="rows: each party holds some of the people (like hospitals); columns: each party "
        "holds some attributes of the same people (like a bank and an insurer), and party 1 "
        "also holds the labels.",
    )
    protocol: str = param(
        "training", label="Protocol", choices=("training", "aggregation", "scoring"),
        choice_labels={
            "training": "Secure training",
            "aggregation": "Secure sum of local updates",
            "scoring": "Secure scoring (predictions)",
        },
        choice_help={
            "training": "Gradient descent on the secret-shared data; only the final model is "
            "revealed.",
            "aggregation": "Each party trains on its own rows; only the sum of the updates is "
            "computed securely, and the model is revealed after every round.",
            "scoring": "A secret model scores secret records; only each record's owner sees its "
            "scores.",
        },
        help="training: gradient descent on the secret-shared data, only the final model is "
        "revealed. aggregation: each party trains on its own rows and only the sum of the updates "
        "is computed securely; the model is revealed after every round. scoring: a secret model "
        "scores secret records; only each record's owner sees its scores.",
    )
    iterations: int = param(
        20, label="Iterations", minimum=1, maximum=1000,
        help="Gradient-descent iterations (training) or rounds (aggregation).",
    )
    step_size: float = param(
        0.1, label="Step size", minimum=0.0, min_inclusive=False, maximum=100.0, log_scale=True,
        help="Learning rate of the secure gradient descent on the mean loss (full batch). Keep "
        "it small: the polynomial sigmoid turns back beyond its range, and a large step can make "
        "the training diverge (the run then warns). The model section's learning rate is for "
        "the plaintext reference and the aggregation protocol's local training.",
    )
    sigmoid: str = param(
        "poly3", label="Sigmoid approximation", choices=("poly3", "poly3_narrow", "piecewise"),
        choice_labels={
            "poly3": "Cubic, wide range (fast)",
            "poly3_narrow": "Cubic, narrow range (more exact)",
            "piecewise": "Three straight pieces (slow)",
        },
        choice_help={
            "poly3": "1/2 + 0.15012 z - 0.0015930 z^3: largest error 0.114 on [-8, 8].",
            "poly3_narrow": "A cubic fitted on [-4, 4]: largest error 0.023 there.",
            "piecewise": "0, 1/2 + z/4, 1: largest error 0.119 everywhere; needs secure "
            "comparisons, about 45 times slower.",
        },
        help="How the secure training replaces the sigmoid, which cannot be computed exactly on "
        "secret numbers. poly3: 1/2 + 0.15012 z - 0.0015930 z^3, largest error 0.114 on "
        "[-8, 8] (fast). poly3_narrow: a cubic fitted on [-4, 4], largest error 0.023 there. "
        "piecewise: 0, 1/2 + z/4, 1, largest error 0.119 everywhere; needs secure comparisons, "
        "about 45 times slower.",
        advanced=True,
    )
    fixed_point_bits: int = param(
        16, label="Fractional bits", minimum=8, maximum=32,
        help="Precision of MPyC's secure fixed-point numbers: values are multiples of 2^-bits. "
        "More bits: closer to plaintext, slower.",
        advanced=True,
    )
    hosts: str | None = param(
        None, label="Party addresses",
        help="host:port of every party, comma-separated, to run the parties on several machines "
        "(the same order on every machine). Empty: all parties on this computer, on free ports.",
        advanced=True,
    )
    timeout: float = param(
        600.0, label="Time limit", unit="s", minimum=1.0, maximum=86_400.0, log_scale=True,
        help="The run stops, and every party process with it, after this long.",
        advanced=True,
    )

    def __post_init__(self) -> None:
        hosts = parse_hosts(self.hosts)
        if hosts and len(hosts) != self.parties:
            raise ValueError(
                f"hosts lists {len(hosts)} addresses for {self.parties} parties; give one "
                "host:port per party, or leave it empty to run every party on this computer"
            )
        bad = [h for h in hosts if not _HOST.match(h)]
        if bad:
            raise ValueError(f"hosts: {bad[0]!r} is not host:port (e.g. 10.0.0.5:11365)")
        if self.protocol == "aggregation" and self.split == "columns":
            raise ValueError(
                "the aggregation protocol needs the rows split: with columns no party can train "
                "a model on its own"
            )
