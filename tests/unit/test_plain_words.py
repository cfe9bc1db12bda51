"""The results document explains a run's guarantee in plain words, from the engine's guarantee."""

from __future__ import annotations

import math

from ppml_lab.engines.base import EngineResult
from ppml_lab.engines.registry import get_engine
from ppml_lab.privacy import translator


def words(pattern: str, params, privacy: dict, n_train: int = 24_000, extra: dict | None = None):
    engine = get_engine(pattern)
    result = EngineResult(privacy=privacy, extra=extra or {})
    return engine.guarantee(params, result, n_train=n_train).sentences()


def test_record_level_sentences_match_the_translator():
    dp = get_engine("dp")
    got = words("dp", dp.Params(), {"epsilon": 1.0, "delta": 1e-5, "noise_source": "os"})
    assert got == translator.describe(1.0, 1e-5, 24_000)
    # The first sentence carries the balanced attacker's accuracy (e^eps + delta) / (1 + e^eps),
    # rounded up.
    bound = (math.exp(1) + 1e-5) / (1 + math.exp(1))
    assert f"{math.ceil(bound * 1000) / 10:.1f}%" in got[0]


def test_client_level_speaks_of_clients_and_uses_the_client_count():
    fed = get_engine("federated")
    got = words("federated", fed.Params(clients=100, epsilon=2.0),
                {"epsilon": 2.0, "delta": 1e-3, "clients": 100, "noise_source": "os"})
    assert got[0].startswith("The guarantee is per client")
    assert "a given client" in got[1] and "a given person" not in " ".join(got)
    assert any("With 100 clients" in w for w in got)


def test_client_level_adds_the_record_level_group_privacy_sentence():
    fed = get_engine("federated")
    got = words("federated", fed.Params(clients=50, epsilon=1.0),
                {"epsilon": 1.0, "delta": 1e-4, "clients": 50, "noise_source": "os"})
    record = [w for w in got if w.startswith("One record inside a client")]
    assert len(record) == 1 and "epsilon is 2 (2 x epsilon)" in record[0]
    assert f"delta {(1 + math.e) * 1e-4:.2g}" in record[0]


def test_no_sentences_without_a_finite_positive_epsilon():
    dp, base = get_engine("dp"), get_engine("baseline")
    assert base.guarantee(base.Params(), EngineResult(), n_train=10).sentences() == []
    assert words("dp", dp.Params(), {}, 10) == []
    assert words("dp", dp.Params(), {"epsilon": 0.0, "delta": 0.0}, 10) == []
    assert words("dp", dp.Params(), {"epsilon": float("inf"), "delta": 1e-5}, 10) == []
    assert words("dp", dp.Params(), {"epsilon": "n/a", "delta": 1e-5}, 10) == []


def test_seeded_noise_is_said_to_be_not_private():
    dp = get_engine("dp")
    seeded = words("dp", dp.Params(deterministic_noise=True),
                   {"epsilon": 1.0, "delta": 1e-5, "noise_source": "seeded"})
    assert seeded[0].startswith("NOT PRIVATE")
    g = dp.guarantee(dp.Params(deterministic_noise=True),
                     EngineResult(privacy={"epsilon": 1.0, "delta": 1e-5, "noise_source": "seeded"}))
    assert g.level == "NOT PRIVATE (deterministic noise)"
    plain = words("dp", dp.Params(), {"epsilon": 1.0, "delta": 1e-5, "noise_source": "os"})
    assert plain[0].startswith("An attacker")
