"""The results document explains a run's (epsilon, delta) in plain words."""

from __future__ import annotations

import math

from ppml_lab.experiments.runner import plain_words
from ppml_lab.privacy import translator


def test_record_level_sentences_match_the_translator():
    words = plain_words({"epsilon": 1.0, "delta": 1e-5, "guarantee": "record-level"}, 24_000)
    assert words == translator.describe(1.0, 1e-5, 24_000)
    # The first sentence carries the balanced attacker's accuracy (e^eps + delta) / (1 + e^eps),
    # rounded up.
    bound = (math.exp(1) + 1e-5) / (1 + math.exp(1))
    assert f"{math.ceil(bound * 1000) / 10:.1f}%" in words[0]


def test_client_level_speaks_of_clients_and_uses_the_client_count():
    words = plain_words(
        {"epsilon": 2.0, "delta": 1e-3, "guarantee": "client-level (epsilon, delta)-DP", "clients": 100},
        24_000,
    )
    assert words[0].startswith("The guarantee is per client")
    assert "a given client" in words[1] and "a given person" not in " ".join(words)
    assert any("With 100 clients" in w for w in words)


def test_no_sentences_without_a_finite_positive_epsilon():
    assert plain_words({}, 10) == []
    assert plain_words({"epsilon": 0.0, "delta": 0.0}, 10) == []
    assert plain_words({"epsilon": float("inf"), "delta": 1e-5}, 10) == []
    assert plain_words({"epsilon": "n/a", "delta": 1e-5}, 10) == []


def test_client_level_adds_the_record_level_group_privacy_sentence():
    words = plain_words(
        {"epsilon": 1.0, "delta": 1e-4, "guarantee": "client-level (epsilon, delta)-DP", "clients": 50},
        24_000,
    )
    record = [w for w in words if w.startswith("One record inside a client")]
    assert len(record) == 1 and "epsilon is 2 (2 x epsilon)" in record[0]
    assert f"delta {(1 + math.e) * 1e-4:.2g}" in record[0]


def test_seeded_noise_is_said_to_be_not_private():
    words = plain_words({"epsilon": 1.0, "delta": 1e-5, "noise_source": "seeded"}, 24_000)
    assert words[0].startswith("NOT PRIVATE")
    assert plain_words({"epsilon": 1.0, "delta": 1e-5, "noise_source": "os"}, 24_000)[0].startswith(
        "An attacker"
    )
