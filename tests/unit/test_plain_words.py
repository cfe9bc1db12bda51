"""The results document explains a run's (epsilon, delta) in plain words."""

from __future__ import annotations

import math

from ppml_lab.experiments.runner import plain_words
from ppml_lab.privacy import translator


def test_record_level_sentences_match_the_translator():
    words = plain_words({"epsilon": 1.0, "delta": 1e-5, "guarantee": "record-level"}, 24_000)
    assert words == translator.describe(1.0, 1e-5, 24_000)
    # The first sentence carries the posterior bound e^eps / (1 + e^eps) + delta, rounded up.
    bound = math.exp(1) / (1 + math.exp(1)) + 1e-5
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
