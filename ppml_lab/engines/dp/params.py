"""Parameters of the differential-privacy pattern."""

from __future__ import annotations

from dataclasses import dataclass

from ppml_lab.engines.audit import AUDIT_HELP
from ppml_lab.params import param


@dataclass(frozen=True, kw_only=True)
class DPParams:
    """The ``[pattern]`` keys of ``name = "dp"``.

    Set either a target ``epsilon`` (the engine calibrates the noise so the run spends at most
    that) or a ``noise_multiplier`` (the engine reports the epsilon it spent). When
    ``noise_multiplier`` is given, ``epsilon`` is ignored.
    """

    mechanism: str = param(
        "dp-sgd",
        label="Mechanism",
        choices=("dp-sgd", "objective", "local"),
        choice_labels={
            "dp-sgd": "DP-SGD (noisy training)",
            "objective": "Objective perturbation (one noisy fit)",
            "local": "Local DP (each record randomised)",
        },
        choice_help={
            "dp-sgd": "Central DP: gradient descent where each example's gradient is clipped and "
            "Gaussian noise is added to every step.",
            "objective": "Central DP: diffprivlib's logistic regression with noise added to the "
            "objective it minimises; fitted in one go.",
            "local": "Local DP: every record is randomised by its owner before it is shared, so "
            "nobody, not even the trainer, sees the true values. Costs much more accuracy.",
        },
        help="dp-sgd: noisy, clipped gradient descent (central DP). objective: diffprivlib's "
        "objective-perturbation logistic regression (central DP). local: every record is "
        "randomised by its owner before it is shared (local DP).",
    )
    epsilon: float | None = param(
        1.0,
        label="Target epsilon",
        minimum=0.0,
        min_inclusive=False,
        maximum=100.0,
        log_scale=True,
        help="Privacy budget: smaller is more private. The noise is calibrated so the run "
        "spends at most this much. Typical values: 0.1 (strong) to 10 (weak).",
    )
    delta: float | None = param(
        None,
        label="Delta",
        minimum=0.0,
        min_inclusive=False,
        maximum=0.1,
        log_scale=True,
        help="Small probability that the epsilon guarantee fails. Empty = 1/(10 x rows). "
        "Must be below 1/rows.",
    )
    noise_multiplier: float | None = param(
        None,
        label="Noise multiplier",
        minimum=0.0,
        min_inclusive=False,
        maximum=1000.0,
        log_scale=True,
        help="Set the Gaussian noise directly (standard deviation = multiplier x clip norm) "
        "instead of a target epsilon; the epsilon spent is then reported. DP-SGD only.",
        advanced=True,
    )
    clip_norm: float = param(
        1.0,
        label="Clip norm C",
        minimum=0.0,
        min_inclusive=False,
        maximum=1000.0,
        log_scale=True,
        help="Each example's gradient is scaled down to at most this L2 norm, which bounds how "
        "much one person can change the model (DP-SGD). For 'objective' it bounds each row's norm.",
    )
    accountant: str = param(
        "pld",
        label="Accountant",
        choices=("pld", "rdp"),
        choice_labels={
            "pld": "Tight (PLD)",
            "rdp": "Slightly looser (RDP)",
        },
        choice_help={
            "pld": "Privacy loss distributions: the tightest epsilon, a little slower to compute.",
            "rdp": "Rényi differential privacy: a slightly larger (looser) epsilon, fast.",
        },
        help="How epsilon is computed (Google's dp-accounting): PLD is tight; RDP is a slightly "
        "looser upper bound.",
        advanced=True,
    )

    deterministic_noise: bool = param(
        False,
        label="Deterministic noise (NOT private)",
        help="Draw the noise and the sampling from the experiment seed so the run can be "
        "replayed exactly: for teaching and debugging only. The seed is written into the "
        "results, so such a run is NOT private and is marked as such. Off: the noise comes from "
        "the operating system's randomness and nobody can replay it.",
        advanced=True,
    )
    audit: bool = param(
        False,
        label="Membership audit",
        help=AUDIT_HELP + " The result is compared with the accountant's epsilon.",
        advanced=True,
    )

    def __post_init__(self) -> None:
        if self.epsilon is None and self.noise_multiplier is None:
            raise ValueError("set either epsilon (a target budget) or noise_multiplier")
        if self.noise_multiplier is not None and self.mechanism != "dp-sgd":
            raise ValueError("noise_multiplier applies to mechanism 'dp-sgd' only; set epsilon instead")
        if self.noise_multiplier is not None and self.epsilon is not None:
            object.__setattr__(self, "epsilon", None)
