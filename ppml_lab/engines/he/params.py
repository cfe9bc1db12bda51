"""Parameters of the homomorphic-encryption pattern."""

from __future__ import annotations

from dataclasses import dataclass

from ppml_lab.engines.he.security import MAX_MODULUS_BITS, PRESETS, CKKSSettings
from ppml_lab.params import param

MODES = ("scoring", "training", "aggregation")


@dataclass(frozen=True, kw_only=True)
class HEParams:
    """The ``[pattern]`` keys of ``name = "he"``."""

    mode: str = param(
        "scoring", label="Mode", choices=MODES,
        choice_labels={
            "scoring": "Encrypted scoring (predictions)",
            "training": "Encrypted training",
            "aggregation": "Encrypted sum of client updates",
        },
        choice_help={
            "scoring": "The data owner encrypts the test records; the server scores the "
            "ciphertexts with its own model; only the owner decrypts the scores.",
            "training": "The owner encrypts its rows and labels; the server trains a logistic "
            "model without reading them; only the key holder sees the model.",
            "aggregation": "Federated learning where clients encrypt their updates and the server "
            "adds ciphertexts; only the key holder decrypts the sum.",
        },
        help="scoring: the data owner encrypts the test records, the server applies its own "
        "(plaintext) model to the ciphertexts, and only the owner decrypts the scores. "
        "training: the owner encrypts its training rows and labels, the server trains a "
        "logistic model on them without reading them, and only the owner (the key holder) sees "
        "the model. aggregation: federated learning where clients encrypt their updates, the "
        "server adds ciphertexts, and only the key holder decrypts the sum.",
    )
    preset: str = param(
        "auto", label="Encryption parameters", choices=("auto", *PRESETS),
        choice_labels={
            "auto": "Automatic (made for the mode)",
            **{name: name[:1].upper() + name[1:] for name in PRESETS},
        },
        choice_help={
            "auto": "The preset made for the mode: fast scoring, training depth 4, aggregation.",
            **{name: f"Allows {p.allows}." for name, p in PRESETS.items()},
        },
        help="A named set of CKKS parameters (ring size N, the primes of the modulus, the "
        "scale), named by what it allows. 'depth' is how many multiplications in a row it "
        "supports before the key holder must refresh. auto: the one made for the mode (fast "
        "scoring, training depth 4, aggregation). All presets give at least 128-bit security by "
        "the HomomorphicEncryption.org standard's table.",
    )
    iterations: int = param(
        10, label="Iterations", minimum=1, maximum=1000,
        help="Gradient-descent iterations of the encrypted training (full batch: one iteration "
        "is one pass over the data).",
    )
    step_size: float = param(
        0.1, label="Step size", minimum=0.0, min_inclusive=False, maximum=100.0, log_scale=True,
        help="Learning rate of the encrypted gradient descent on the mean loss. Keep it small: the "
        "cubic that replaces the sigmoid turns back beyond scores of about +-5.6, so a large step "
        "makes the training diverge (in plaintext too).",
    )
    clients: int = param(
        5, label="Clients", minimum=1, maximum=1000,
        help="Aggregation: how many data owners hold a part of the training rows (split at "
        "random, evenly).",
    )
    rounds: int = param(
        10, label="Rounds", minimum=1, maximum=10_000,
        help="Aggregation: communication rounds. Each client trains locally, encrypts its update, "
        "and the server adds the ciphertexts.",
    )
    local_epochs: int = param(
        1, label="Local epochs", minimum=1, maximum=100,
        help="Aggregation: passes each client makes over its own rows per round.", advanced=True,
    )
    poly_modulus_degree: int | None = param(
        None, label="Ring size N", choices=tuple(MAX_MODULUS_BITS),
        choice_labels={n: f"{n:,} (holds {n // 2:,} numbers)" for n in MAX_MODULUS_BITS},
        help="CKKS's polynomial modulus degree: a ciphertext holds N/2 numbers (N with two per "
        "complex slot). Larger N allows a larger modulus at the same security, and costs more. "
        "Empty: the preset's.",
        advanced=True,
    )
    coeff_mod_bit_sizes: str | None = param(
        None, label="Prime sizes (bits)",
        help="The coefficient modulus as bit sizes of its primes, e.g. '60, 40, 60': the first "
        "holds decrypted results, each middle one allows one rescale (the depth), the last is "
        "the special prime for key switching. Their sum sets the security level. Empty: the "
        "preset's.",
        advanced=True,
    )
    scale_bits: int | None = param(
        None, label="Scale (bits)", minimum=10, maximum=60,
        help="Numbers are encoded times 2^scale: more bits, more precision, and more modulus used. "
        "Empty: the preset's.",
        advanced=True,
    )
    allow_weak: bool = param(
        False, label="Allow weak parameters (NOT PRIVATE)",
        help="Run even when the parameters give less than 128-bit security by the HE standard's "
        "table (for teaching: how small parameters speed things up). Such a run is marked NOT "
        "PRIVATE: its encryption may be breakable.",
        advanced=True,
    )

    @property
    def settings(self) -> CKKSSettings:
        """The encryption parameters this run uses."""
        return CKKSSettings.resolve(
            mode=self.mode, preset=self.preset, poly_modulus_degree=self.poly_modulus_degree,
            coeff_mod_bit_sizes=self.coeff_mod_bit_sizes, scale_bits=self.scale_bits,
        )

    def __post_init__(self) -> None:
        # Refuse here (when the experiment is read), before any key is made or anything encrypted.
        problems = self.settings.problems(self.mode, allow_weak=self.allow_weak)
        if problems:
            raise ValueError("; ".join(problems))
