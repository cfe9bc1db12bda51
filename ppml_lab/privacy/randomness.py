"""Where privacy randomness comes from: the operating system, never the experiment seed.

Two kinds of randomness run through an experiment. The train/test split, the client
partition, the initialisation and plain SGD shuffling come from generators seeded from the
experiment's ``seed``, so runs are comparable and reproducible. The randomness a privacy
guarantee rests on (DP noise, the Poisson sampling the accountant assumes, randomised
response, masks and keys) must be unpredictable to whoever holds the results: the seed is
written into every results document, so noise derived from it could be regenerated, the
training replayed bit for bit and every noise draw subtracted again.

:func:`privacy_rng` therefore seeds its generator with 128 bits from :mod:`secrets` (the
operating system's entropy) unless the user explicitly opted into *deterministic noise*, a
labelled teaching/debugging mode whose runs are reported as not private.
"""

from __future__ import annotations

import secrets
from typing import Final, Literal

import numpy as np

__all__ = [
    "NOISE_OS",
    "NOISE_SEEDED",
    "SEEDED_NOISE_WARNING",
    "noise_source",
    "os_seed",
    "privacy_random_state",
    "privacy_rng",
]

NoiseSource = Literal["os", "seeded"]

#: ``privacy.noise_source`` of a run whose noise came from the operating system.
NOISE_OS: Final = "os"
#: ``privacy.noise_source`` of a run with ``deterministic_noise = true``.
NOISE_SEEDED: Final = "seeded"

SEEDED_NOISE_WARNING: Final = (
    "NOT PRIVATE: this run used deterministic noise (deterministic_noise = true). Its noise and "
    "sampling were drawn from the experiment seed, which is written in the results, so anyone "
    "holding the results and the other records can replay the training draw for draw and "
    "remove the noise. The epsilon shown is what the same settings give with secret noise; "
    "this run itself has no privacy guarantee. Use it for teaching and debugging only."
)


def noise_source(deterministic: bool) -> NoiseSource:
    """``"seeded"`` when the user asked for deterministic noise, else ``"os"``."""
    return NOISE_SEEDED if deterministic else NOISE_OS


def os_seed() -> int:
    """128 bits of operating-system entropy, for seeding a privacy generator."""
    return secrets.randbits(128)


def privacy_rng(*, deterministic: bool, seed: int, stream: int) -> np.random.Generator:
    """A generator for privacy randomness.

    Parameters
    ----------
    deterministic : bool
        The run's ``deterministic_noise`` setting. False (the default everywhere): the
        generator is seeded from the operating system's entropy and cannot be replayed. True:
        it is derived from ``(seed, stream)``, so the run is reproducible and *not private*.
    seed : int
        The experiment seed (used only when ``deterministic``).
    stream : int
        A number naming the source of randomness (noise, sampling, ...), so that seeded
        sources are independent of each other and of the seeded non-private streams.

    Returns
    -------
    numpy.random.Generator
    """
    if deterministic:
        return np.random.default_rng([int(seed), int(stream)])
    return np.random.default_rng(os_seed())


def privacy_random_state(*, deterministic: bool, seed: int, stream: int) -> np.random.RandomState:
    """A legacy ``RandomState`` with the same rules as :func:`privacy_rng`.

    For libraries that take ``random_state`` (diffprivlib). Passing ``None`` there would fall
    back to numpy's global generator, which any code in the process can seed; an explicit
    OS-seeded state cannot be replayed.
    """
    entropy = [int(seed), int(stream)] if deterministic else os_seed()
    return np.random.RandomState(np.random.MT19937(np.random.SeedSequence(entropy)))
