"""CKKS parameter presets, their security level and their depth budget (pure Python, no TenSEAL).

Security levels
---------------
The HomomorphicEncryption.org security standard (Albrecht et al., "Homomorphic Encryption
Security Standard", 2018, Table 1, classical security, uniform ternary secret) gives, for each
ring size N, the largest total coefficient-modulus size log2(q) that still gives 128, 192 and
256 bits of security. Microsoft SEAL enforces the same numbers
(``seal::CoeffModulus::MaxBitCount(N, sec_level)``); :data:`MAX_MODULUS_BITS` is that table,
and a unit test checks it against SEAL's, through TenSEAL's binding.

A parameter set's security level is the highest of 128/192/256 whose limit its total modulus
(all primes, the special prime included: it is part of the key-switching keys) does not
exceed. Above the 128-bit limit the standard gives no figure: the lab says "below 128 bits"
and refuses to run unless the user explicitly allowed it (the run is then marked NOT PRIVATE).

Depth budget
------------
A CKKS modulus chain ``[q0, q1, ..., qL, P]`` holds the first prime ``q0`` (the last one left
when a result is decrypted), ``L`` rescaling primes (each rescale after a multiplication drops
one: the *multiplicative depth budget* is ``L``) and the special prime ``P`` used only for key
switching (relinearisation and rotations). SEAL drops the primes from the end of the data
chain (``qL`` first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "MAX_MODULUS_BITS",
    "MODE_DEPTH",
    "PRESETS",
    "CKKSSettings",
    "Preset",
    "parse_bit_sizes",
    "security_bits",
]

#: N -> largest total log2(q) for 128-, 192- and 256-bit classical security (HE standard,
#: ternary secret; the same as SEAL's CoeffModulus::MaxBitCount).
MAX_MODULUS_BITS: dict[int, tuple[int, int, int]] = {
    1024: (27, 19, 14),
    2048: (54, 37, 29),
    4096: (109, 75, 58),
    8192: (218, 152, 118),
    16384: (438, 305, 237),
    32768: (881, 611, 476),
}

#: SEAL's limits on one prime of the coefficient modulus.
MIN_PRIME_BITS, MAX_PRIME_BITS = 20, 60

#: Levels (rescales) one step of each mode consumes: scoring and aggregation need none (a sum of
#: ciphertexts, or of ciphertexts times the model's numbers without a rescale); one iteration of
#: encrypted training needs 4 (see :mod:`.training`).
MODE_DEPTH = {"scoring": 0, "training": 4, "aggregation": 0}

#: Bits the first prime must keep above the scale, so that decrypted values up to about
#: +-2^(bits-1) fit (logits, weights, summed updates).
HEADROOM_BITS = 10

#: Scoring at depth 0 encodes the weights at 2^(first prime - scale - head room): at least this
#: many bits (a resolution of 2^-16 or finer).
SCORING_WEIGHT_BITS = 16


def security_bits(poly_modulus_degree: int, total_bits: int) -> int:
    """128, 192 or 256 from the standard's table; 0 when below 128 bits (or N unknown)."""
    limits = MAX_MODULUS_BITS.get(int(poly_modulus_degree))
    if limits is None:
        return 0
    level = 0
    for bits, limit in zip((128, 192, 256), limits):
        if total_bits <= limit:
            level = bits
    return level


def parse_bit_sizes(text: str | None) -> tuple[int, ...] | None:
    """``"60, 40, 60"`` (or ``"[60, 40, 60]"``) as a tuple of ints; None for empty text."""
    if text is None or not str(text).strip():
        return None
    parts = [p for p in re.split(r"[\s,;\[\]()]+", str(text)) if p]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(
            f"coeff_mod_bit_sizes: {text!r} is not a list of whole numbers such as '60, 40, 60'"
        ) from None


@dataclass(frozen=True, kw_only=True)
class Preset:
    """A named CKKS parameter set and what it allows."""

    name: str
    poly_modulus_degree: int
    coeff_mod_bit_sizes: tuple[int, ...]
    scale_bits: int
    allows: str

    @property
    def depth_budget(self) -> int:
        return max(0, len(self.coeff_mod_bit_sizes) - 2)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name="fast scoring", poly_modulus_degree=8192, coeff_mod_bit_sizes=(60, 60),
            scale_bits=30,
            allows="scoring and aggregation (depth 0: the model's numbers multiply the "
            "ciphertexts without a rescale)",
        ),
        Preset(
            name="scoring, depth 1", poly_modulus_degree=8192, coeff_mod_bit_sizes=(60, 40, 60),
            scale_bits=40,
            allows="scoring with one rescale (TenSEAL's tutorial parameters) and aggregation",
        ),
        Preset(
            name="training, depth 4", poly_modulus_degree=8192,
            coeff_mod_bit_sizes=(40, 30, 30, 30, 30, 58), scale_bits=30,
            allows="training with the key holder refreshing the weights after every iteration; "
            "scoring and aggregation",
        ),
        Preset(
            name="training, depth 8", poly_modulus_degree=16384,
            coeff_mod_bit_sizes=(50, 40, 40, 40, 40, 40, 40, 40, 40, 60), scale_bits=40,
            allows="training with a refresh every 2 iterations: half the key holder's round "
            "trips, but twice the ring size (each iteration about 6 times slower here, public "
            "keys of about 130 MB); scoring and aggregation",
        ),
        Preset(
            name="aggregation", poly_modulus_degree=4096, coeff_mod_bit_sizes=(60, 49),
            scale_bits=30,
            allows="aggregation and scoring (depth 0), the smallest ciphertexts",
        ),
    )
}

#: "auto": the preset each mode uses unless the user chose one.
AUTO_PRESET = {"scoring": "fast scoring", "training": "training, depth 4",
               "aggregation": "aggregation"}


@dataclass(frozen=True, kw_only=True)
class CKKSSettings:
    """The encryption parameters a run uses (a preset, possibly with raw values edited)."""

    preset: str
    poly_modulus_degree: int
    coeff_mod_bit_sizes: tuple[int, ...]
    scale_bits: int
    edited: bool = False

    @classmethod
    def resolve(
        cls, *, mode: str, preset: str, poly_modulus_degree: int | None = None,
        coeff_mod_bit_sizes: str | None = None, scale_bits: int | None = None,
    ) -> CKKSSettings:
        """The preset (``"auto"``: the mode's) with any raw value the user set."""
        name = AUTO_PRESET[mode] if preset == "auto" else preset
        if name not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
        base = PRESETS[name]
        bits = parse_bit_sizes(coeff_mod_bit_sizes)
        edited = any(v is not None for v in (poly_modulus_degree, bits, scale_bits))
        return cls(
            preset=name,
            poly_modulus_degree=int(poly_modulus_degree or base.poly_modulus_degree),
            coeff_mod_bit_sizes=bits or base.coeff_mod_bit_sizes,
            scale_bits=int(scale_bits or base.scale_bits),
            edited=edited,
        )

    @property
    def label(self) -> str:
        return self.preset + (" (edited)" if self.edited else "")

    @property
    def slots(self) -> int:
        """Numbers one ciphertext holds (N/2 complex slots)."""
        return self.poly_modulus_degree // 2

    @property
    def total_bits(self) -> int:
        return int(sum(self.coeff_mod_bit_sizes))

    @property
    def depth_budget(self) -> int:
        """Rescales the chain allows: every prime but the first and the special one."""
        return max(0, len(self.coeff_mod_bit_sizes) - 2)

    @property
    def security_bits(self) -> int:
        return security_bits(self.poly_modulus_degree, self.total_bits)

    def security_text(self) -> str:
        bits = self.security_bits
        limit = MAX_MODULUS_BITS.get(self.poly_modulus_degree, (0, 0, 0))[0]
        if bits:
            return (f"{bits}-bit security (N = {self.poly_modulus_degree}, log q = "
                    f"{self.total_bits} bits; the HE standard allows up to {limit} bits for 128)")
        return (f"below 128-bit security: N = {self.poly_modulus_degree} with log q = "
                f"{self.total_bits} bits is beyond the HE standard's {limit}-bit limit for 128 bits")

    def describe(self, *, security: bool = True) -> str:
        """One line: (the security level,) N, the primes, the scale and the depth."""
        bits = " + ".join(str(b) for b in self.coeff_mod_bit_sizes)
        sec = f"{self.security_bits}-bit" if self.security_bits else "below 128-bit"
        return ((f"{sec} security; " if security else "")
                + f"ring size N = {self.poly_modulus_degree}, primes of {bits} bits, scale "
                f"2^{self.scale_bits}, multiplicative depth {self.depth_budget}")

    def problems(self, mode: str, *, allow_weak: bool = False) -> list[str]:
        """What is wrong with these settings for ``mode`` (empty: fine), in plain words."""
        out: list[str] = []
        n = self.poly_modulus_degree
        bits = self.coeff_mod_bit_sizes
        if n not in MAX_MODULUS_BITS:
            out.append(f"poly_modulus_degree must be one of {', '.join(map(str, MAX_MODULUS_BITS))}"
                       f" (got {n})")
            return out
        if len(bits) < 2:
            out.append("coeff_mod_bit_sizes needs at least two primes: the first (which holds "
                       "the results) and the special prime for key switching, e.g. '60, 60'")
            return out
        bad = [b for b in bits if not MIN_PRIME_BITS <= b <= MAX_PRIME_BITS]
        if bad:
            out.append(f"each prime must have {MIN_PRIME_BITS} to {MAX_PRIME_BITS} bits (SEAL's "
                       f"limits); got {', '.join(map(str, bad))}")
        if not 10 <= self.scale_bits <= 60:
            out.append(f"scale_bits must be between 10 and 60 (got {self.scale_bits})")
        if bits[0] - self.scale_bits < HEADROOM_BITS:
            out.append(
                f"the first prime ({bits[0]} bits) must exceed the scale (2^{self.scale_bits}) by "
                f"at least {HEADROOM_BITS} bits, or decrypted values beyond about "
                f"+-{2 ** max(0, bits[0] - self.scale_bits - 1)} wrap around: use a first prime of "
                f"{self.scale_bits + HEADROOM_BITS} bits or more, or a smaller scale"
            )
        weight_bits = bits[0] - self.scale_bits - HEADROOM_BITS
        extra = SCORING_WEIGHT_BITS + HEADROOM_BITS
        if mode == "scoring" and self.depth_budget == 0 and weight_bits < SCORING_WEIGHT_BITS:
            out.append(
                f"scoring without a rescaling prime encodes the model's weights in the first prime "
                f"next to the data: it needs at least {self.scale_bits + extra} bits (scale "
                f"{self.scale_bits} + {SCORING_WEIGHT_BITS} for the weights + {HEADROOM_BITS} "
                f"head room), it has {bits[0]}: lower the scale or add a rescaling prime"
            )
        middle = bits[1:-1]
        if middle and any(abs(b - self.scale_bits) > 5 for b in middle):
            out.append(
                f"the rescaling primes ({', '.join(map(str, middle))} bits) should be close to the "
                f"scale (2^{self.scale_bits}): each rescale divides by one of them"
            )
        if MODE_DEPTH.get(mode, 0) and bits[-1] < max(bits[:-1]):
            # Only key switching (relinearisation, rotations: training) uses the special prime.
            out.append(
                f"the special prime (the last, {bits[-1]} bits) must be at least as large as the "
                f"largest other prime ({max(bits[:-1])} bits), or key switching adds too much noise"
            )
        need = MODE_DEPTH.get(mode, 0)
        if need > self.depth_budget:
            out.append(
                f"{mode} needs a multiplicative depth of {need} per iteration (the scores, the "
                f"cubic sigmoid, the gradient), but these parameters allow {self.depth_budget} "
                f"(each prime but the first and the last allows one): choose the preset "
                f"'training, depth 4' or add rescaling primes of about {self.scale_bits} bits"
            )
        if not self.security_bits and not allow_weak:
            out.append(
                f"{self.security_text()}. Lower the total modulus, raise N, or tick 'Allow "
                "weak parameters' to run anyway (the run is then marked NOT PRIVATE)"
            )
        return out
