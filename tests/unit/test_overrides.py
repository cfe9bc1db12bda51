"""One --set helper for run and sweep: top-level keys, sections, nested tables, clear errors."""

from __future__ import annotations

import pytest

from ppml_lab.experiments.overrides import apply_overrides, load_with_overrides
from ppml_lab.jsonable import jsonable, number_or_none

DOC = {"name": "x", "seed": 0, "model": {"epochs": 10}, "pattern": {"name": "dp"},
       "dataset": {"source": "builtin:wine"}}


def test_values_are_json_or_text_at_any_depth():
    out = apply_overrides(DOC, ["seed=3", "model.epochs=5", "pattern.epsilon=0.5",
                                "dataset.bounds.age=[17, 90]", "name=My run", "pattern.audit=true"])
    assert out["seed"] == 3 and out["model"]["epochs"] == 5 and out["pattern"]["epsilon"] == 0.5
    assert out["dataset"]["bounds"] == {"age": [17, 90]} and out["name"] == "My run"
    assert out["pattern"]["audit"] is True
    assert DOC["seed"] == 0 and "bounds" not in DOC["dataset"]  # the input is not changed


@pytest.mark.parametrize(("item", "message"), [
    ("model.epochs", "KEY=VALUE"),
    ("=3", "KEY=VALUE"),
    ("model..epochs=3", "KEY=VALUE"),
    ("name.x=1", "'name' is a single value"),
    ("seed.x.y=1", "'seed' is a single value"),
])
def test_bad_items_say_what_to_write(item, message):
    with pytest.raises(ValueError, match=message):
        apply_overrides(DOC, [item])


def test_run_and_sweep_use_the_same_helper(tmp_path):
    from ppml_lab import cli
    from ppml_lab.experiments import sweep_cli

    path = tmp_path / "e.toml"
    path.write_text('seed = 1\n[model]\nepochs = 4\n[pattern]\nname = "dp"\n')
    for load in (cli._load, sweep_cli._load_experiment, load_with_overrides):
        exp = load(str(path), ["seed=7", "model.epochs=2"])
        assert (exp.seed, exp.model.epochs) == (7, 2)


def test_one_json_convention_for_non_finite_numbers():
    import json

    import numpy as np

    doc = jsonable({"a": float("nan"), "b": float("inf"), "c": -np.inf, "d": np.float32(1.5),
                    "e": np.array([1.0, np.nan]), "f": (1, 2), 3: True})
    assert doc == {"a": None, "b": None, "c": None, "d": 1.5, "e": [1.0, None], "f": [1, 2],
                   "3": True}
    json.dumps(doc, allow_nan=False)


def test_a_figure_read_from_a_document_is_a_finite_number_or_none():
    import numpy as np

    assert [number_or_none(v) for v in (3, 2.5, np.float32(1.5), np.int64(7))] == [3.0, 2.5, 1.5, 7.0]
    # what a hand-edited or older document may hold instead of a number
    for value in (None, True, "0.9", float("nan"), float("inf"), [1.0], {"v": 1}):
        assert number_or_none(value) is None, value


def test_the_name_says_what_the_command_line_changed(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "exp.toml"
    path.write_text('name = "Ten clients"\n[dataset]\nsource = "builtin:breast_cancer"\n'
                    '[pattern]\nname = "federated"\nclients = 10\n', encoding="utf-8")
    changed = load_with_overrides(path, ["pattern.clients=3"])
    assert changed.name == "Ten clients (changed: pattern.clients=3)"
    assert load_with_overrides(path, []).name == "Ten clients"
    # A name given on the command line is the name.
    assert load_with_overrides(path, ["pattern.clients=3", "name=Three"]).name == "Three"
