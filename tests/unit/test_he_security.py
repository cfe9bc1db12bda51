"""HE parameters: the security table against SEAL's, the presets, and refusals before any key."""

from __future__ import annotations

import pytest

from ppml_lab.engines.he.params import HEParams
from ppml_lab.engines.he.plaintext import SIGMOID
from ppml_lab.engines.he.security import (
    MAX_MODULUS_BITS,
    PRESETS,
    CKKSSettings,
    parse_bit_sizes,
    security_bits,
)
from ppml_lab.experiments.config import ConfigError, experiment_from_dict


def test_the_security_table_is_seals() -> None:
    seal = pytest.importorskip("tenseal.sealapi")
    levels = (seal.SEC_LEVEL_TYPE.TC128, seal.SEC_LEVEL_TYPE.TC192, seal.SEC_LEVEL_TYPE.TC256)
    for n, limits in MAX_MODULUS_BITS.items():
        assert tuple(seal.CoeffModulus.MaxBitCount(n, level) for level in levels) == limits


def test_security_levels_follow_the_table() -> None:
    assert security_bits(8192, 218) == 128
    assert security_bits(8192, 219) == 0
    assert security_bits(8192, 152) == 192
    assert security_bits(8192, 118) == 256
    assert security_bits(4096, 109) == 128
    assert security_bits(3000, 50) == 0


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_at_least_128_bit_and_runs_what_it_says(name) -> None:
    preset = PRESETS[name]
    settings = CKKSSettings.resolve(mode="scoring", preset=name)
    assert settings.security_bits >= 128
    assert settings.problems("scoring") == [] and settings.problems("aggregation") == []
    trains = settings.problems("training") == []
    assert trains == name.startswith("training")
    assert settings.depth_budget == preset.depth_budget


def test_raw_values_override_the_preset() -> None:
    s = CKKSSettings.resolve(mode="scoring", preset="auto", coeff_mod_bit_sizes="[60, 40, 60]",
                             scale_bits=40)
    assert s.coeff_mod_bit_sizes == (60, 40, 60) and s.scale_bits == 40
    assert s.preset == "fast scoring" and s.edited and s.label == "fast scoring (edited)"
    assert parse_bit_sizes("  ") is None
    with pytest.raises(ValueError, match="whole numbers"):
        parse_bit_sizes("60, forty")


def test_training_outside_the_depth_budget_is_refused_with_what_to_change() -> None:
    with pytest.raises(ValueError, match="depth of 4 per iteration.*allow 0.*'training, depth 4'"):
        HEParams(mode="training", preset="fast scoring")
    # From an experiment file: a plain configuration error, before anything is encrypted.
    with pytest.raises(ConfigError, match="depth"):
        experiment_from_dict({"pattern": {"name": "he", "mode": "training",
                                          "coeff_mod_bit_sizes": "40, 30, 30, 58"}})


def test_below_128_bits_is_refused_unless_allowed() -> None:
    with pytest.raises(ValueError, match="below 128-bit security.*Allow weak"):
        HEParams(poly_modulus_degree=2048)
    weak = HEParams(poly_modulus_degree=2048, allow_weak=True)
    assert weak.settings.security_bits == 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"coeff_mod_bit_sizes": "60"}, "at least two primes"),
        ({"coeff_mod_bit_sizes": "61, 60"}, "20 to 60 bits"),
        ({"coeff_mod_bit_sizes": "35, 60", "scale_bits": 30}, "exceed the scale"),
        ({"coeff_mod_bit_sizes": "50, 60", "scale_bits": 30}, "weights"),
        ({"mode": "training", "coeff_mod_bit_sizes": "40, 30, 30, 30, 30, 30"}, "special prime"),
        ({"mode": "training", "coeff_mod_bit_sizes": "40, 50, 30, 30, 30, 58"}, "close to the"),
    ],
)
def test_bad_raw_values_are_plain_messages(raw, message) -> None:
    with pytest.raises(ValueError, match=message):
        HEParams(**raw)


def test_the_sigmoid_polynomial_has_the_stated_error() -> None:
    import numpy as np

    from ppml_lab.engines.smpc.sigmoid import sigmoid

    z = np.linspace(SIGMOID.lo, SIGMOID.hi, 20001)
    error = float(np.max(np.abs(SIGMOID(z) - sigmoid(z))))
    assert error <= SIGMOID.max_error < error + 1e-4
