"""Choices in words: every choice a form offers has a name a newcomer reads, the key stays the value."""

from __future__ import annotations

import dataclasses

import pytest

from ppml_lab.engines import registry
from ppml_lab.experiments.config import DatasetConfig
from ppml_lab.models import ModelParams
from ppml_lab.params import describe, param, values_in_words


def _choice_specs() -> list[tuple[str, object]]:
    owners = [(e.name, e.Params) for e in registry.all_engines()]
    owners += [("model", ModelParams), ("dataset", DatasetConfig)]
    out = []
    for owner, cls in owners:
        out += [(f"{owner}.{s.name}", s) for s in describe(cls) if s.choices is not None]
    return out


CHOICE_SPECS = _choice_specs()


def test_there_are_choice_parameters_to_check() -> None:
    names = {name for name, _ in CHOICE_SPECS}
    assert {"dp.mechanism", "federated.partition", "federated.strategy", "model.kind",
            "dataset.scaling"} <= names


@pytest.mark.parametrize(("name", "spec"), CHOICE_SPECS, ids=[n for n, _ in CHOICE_SPECS])
def test_every_choice_has_words(name: str, spec) -> None:  # noqa: ANN001
    words = {value: spec.choice_text(value) for value in spec.choices}
    declared = dict(spec.choice_labels)
    assert set(declared) == set(spec.choices), f"{name}: choices without words"
    for value, text in words.items():
        assert text and text != str(value), f"{name}: {value!r} is shown as its key"
        assert text[0].isupper() or text[0].isdigit(), f"{name}: {text!r}"
    assert len(set(words.values())) == len(words), f"{name}: two choices read the same"


def test_examples_from_the_issue_read_as_words() -> None:
    specs = {name: spec for name, spec in CHOICE_SPECS}
    assert specs["dp.mechanism"].choice_text("dp-sgd") == "DP-SGD (noisy training)"
    assert specs["federated.partition"].choice_text("dirichlet") == "Label skew (Dirichlet)"
    assert specs["federated.strategy"].choice_text("fedavg") == "Average (FedAvg)"
    # A value without words (e.g. from an older file) is shown as it is.
    assert specs["federated.strategy"].choice_text("unknown") == "unknown"


def test_words_for_a_value_that_is_not_a_choice_are_refused() -> None:
    with pytest.raises(ValueError, match="'typo'"):
        param("a", label="X", choices=("a", "b"), choice_labels={"a": "A", "typo": "T"})


def test_values_in_words_for_tables_and_tooltips() -> None:
    engine = registry.get_engine("dp")
    values = dataclasses.asdict(engine.Params(mechanism="dp-sgd", epsilon=2.0))
    words = dict(values_in_words(engine.Params, values))
    assert words["Mechanism"] == "DP-SGD (noisy training)"
    assert words["Target epsilon"] == "2"
    assert "Delta" not in words  # unset values are left out
    assert words["Membership audit"] == "no"
    assert dict(values_in_words(ModelParams, {"kind": "mlp", "batch_size": 32})) == {
        "Model": "Neural network (MLP)", "Batch size": "32 rows",
    }
