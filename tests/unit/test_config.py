"""Experiment files: round trips, unknown keys, bad values, relative paths, malformed files."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from ppml_lab.engines.baseline import BaselineParams
from ppml_lab.experiments.config import (
    ConfigError,
    DatasetConfig,
    Experiment,
    dumps_toml,
    experiment_from_dict,
    load_experiment,
    save_experiment,
)
from ppml_lab.models import ModelParams
from ppml_lab.params import ParamError, describe, from_mapping

REPO = Path(__file__).resolve().parents[2]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def rich_experiment(source: str) -> Experiment:
    return Experiment(
        name='Größe "quoted" \\ backslash 😀',
        seed=123,
        description="line one\nline two\ttabbed",
        dataset=DatasetConfig(
            source=source,
            target="outcome",
            exclude=("patient id", "notes"),
            include=("ward",),
            test_fraction=0.3,
            scaling="bounds",
            bounds={"age": (0.0, 120.0), "größe (cm)": (50.0, 250.0), "mean radius": (0.0, 1e-05)},
            categories={"ward": ("A", "B", "Ü"), "sex": ("f", "m")},
        ),
        model=ModelParams(kind="mlp", epochs=7, batch_size=32, learning_rate=0.05, hidden=16, l2=1e-4),
    )


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_save_load_round_trip(tmp_path, suffix):
    original = rich_experiment(str(tmp_path / "data.csv"))
    path = tmp_path / f"exp{suffix}"
    save_experiment(original, path)
    assert not (tmp_path / f"exp{suffix}.tmp").exists()
    loaded = load_experiment(path)
    assert loaded == original
    assert loaded.to_dict() == original.to_dict()


def test_round_trip_of_the_shipped_experiments(tmp_path):
    for name in ("breast_cancer_baseline.toml", "adult_baseline.toml"):
        exp = load_experiment(REPO / "ppml_lab/resources/experiments" / name)
        save_experiment(exp, tmp_path / name)
        assert load_experiment(tmp_path / name) == exp


def test_defaults_are_written_and_read_back(tmp_path):
    save_experiment(Experiment(), tmp_path / "default.toml")
    doc = tomllib.loads((tmp_path / "default.toml").read_text(encoding="utf-8"))
    assert doc["dataset"] == {"source": "builtin:breast_cancer"}
    assert doc["model"]["epochs"] == 10 and doc["pattern"] == {"name": "baseline", "audit": False}
    assert load_experiment(tmp_path / "default.toml") == Experiment()


def test_toml_writer_quotes_non_ascii_keys():
    # Regression: "größe" passed str.isalnum() and was written as a bare key, which TOML forbids.
    text = dumps_toml({"t": {"größe": 1, "plain_key-2": 2, "with space": 3}})
    assert tomllib.loads(text) == {"t": {"größe": 1, "plain_key-2": 2, "with space": 3}}
    assert '"größe" = 1' in text and "plain_key-2 = 2" in text


def test_toml_writer_handles_emoji_and_control_characters():
    # Regression: json.dumps wrote surrogate pairs (\ud83d\ude00), which TOML rejects.
    value = "😀 tab\t nl\n del\x7f quote\" bs\\"
    assert tomllib.loads(dumps_toml({"name": value}))["name"] == value


# --- unknown keys at every level --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("colour = 1\n", "'colour'"),
        ("[dataset]\nsauce = 'x.csv'\n", "'sauce'"),
        ("[model]\nepochz = 3\n", "'epochz'"),
        ("[pattern]\nname = 'baseline'\nnoise = 1.0\n", "'noise'"),
        ("[model.optimizer]\nkind = 'adam'\n", "'optimizer'"),
    ],
)
def test_unknown_keys_name_file_and_key(tmp_path, text, key):
    path = write(tmp_path / "my-exp.toml", text)
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    message = str(info.value)
    assert message.startswith("my-exp.toml")
    assert f"unknown key {key}" in message or f"unknown key [dataset] {key}" in message
    assert "allowed" in message


def test_unknown_pattern_key_lists_what_is_allowed(tmp_path):
    # Regression: for the baseline, which has no parameters, the message ended "allowed keys: ".
    path = write(tmp_path / "e.toml", "[pattern]\nname = 'baseline'\nnoise = 1.0\n")
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert not str(info.value).rstrip().endswith(":")
    assert "name" in str(info.value).split("allowed")[1]


def test_unknown_key_in_json(tmp_path):
    path = write(tmp_path / "e.json", json.dumps({"model": {"epochs": 2, "lr": 0.1}}))
    with pytest.raises(ConfigError, match=r"^e\.json: \[model\] unknown key 'lr'"):
        load_experiment(path)


# --- bad values report the allowed range ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[model]\nepochs = 0\n", "epochs = 0 is out of range: must be between 1 and 1000"),
        ("[model]\nepochs = 2.5\n", "epochs: expected a whole number"),
        ("[model]\nlearning_rate = -1\n", "learning_rate = -1 is out of range: must be greater than 0"),
        ("[model]\nlearning_rate = 0\n", "must be greater than 0 and at most 100"),
        ("[model]\nkind = 'svm'\n", "kind = 'svm' is not allowed: must be one of 'logistic', 'mlp'"),
        ("[model]\nbatch_size = 'big'\n", "batch_size: expected a number (between 1 and 100000)"),
        ("[model]\nepochs = true\n", "epochs: expected a number"),
        ("seed = -1\n", "seed must be a whole number between 0 and 4294967295"),
        ("[dataset]\ntest_fraction = 0.9\n", "test_fraction must be between 0.05 and 0.5"),
        ("[dataset]\nscaling = 'minmax'\n", "scaling must be one of 'standard', 'bounds', 'none'"),
        ("[dataset.bounds]\nage = [10, 1]\n", "[dataset.bounds] age must be [low, high] with low < high"),
        ("[dataset]\nexclude = [1, 2]\n", "exclude must be a list of column names"),
        ("[pattern]\nname = 'quantum'\n", "unknown pattern 'quantum'; known patterns: baseline"),
    ],
)
def test_bad_values_report_the_allowed_range(tmp_path, text, expected):
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert str(info.value).startswith("bad.toml")
    assert expected in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model = 5\n", "[model] must be a table"),
        ("pattern = 'baseline'\n", "[pattern] must be a table"),
        ("dataset = [1, 2]\n", "[dataset] must be a table"),
        ("[dataset]\nbounds = 5\n", "[dataset.bounds] must be a table"),
        ("[dataset]\ncategories = 'x'\n", "[dataset.categories] must be a table"),
        ("[dataset.categories]\nsex = 3\n", "categories.sex must be a list of"),
    ],
)
def test_wrong_kind_of_section_is_a_config_error(tmp_path, text, expected):
    # Regression: `model = 5` or `bounds = 5` crashed with TypeError ('int' object is not iterable).
    path = write(tmp_path / "shape.toml", text)
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert str(info.value).startswith("shape.toml")
    assert expected in str(info.value)


def test_not_a_table_at_top_level(tmp_path):
    with pytest.raises(ConfigError, match="list.json: the experiment must be a table"):
        load_experiment(write(tmp_path / "list.json", "[1, 2]"))


# --- paths and malformed files ----------------------------------------------------------------


def test_relative_dataset_path_is_resolved_against_the_experiment_folder(tmp_path, monkeypatch):
    folder = tmp_path / "studies" / "2024"
    folder.mkdir(parents=True)
    path = write(folder / "e.toml", "[dataset]\nsource = '../data/clinic.csv'\n")
    monkeypatch.chdir(tmp_path)  # the working directory must not matter
    exp = load_experiment(path)
    assert Path(exp.dataset.source) == (tmp_path / "studies" / "data" / "clinic.csv").resolve()
    assert Path(exp.dataset.source).is_absolute()


def test_builtin_and_absolute_sources_are_kept(tmp_path):
    exp = load_experiment(write(tmp_path / "b.toml", "[dataset]\nsource = 'builtin:wine'\n"))
    assert exp.dataset.source == "builtin:wine"
    absolute = str(tmp_path / "x.csv")
    exp = load_experiment(write(tmp_path / "a.toml", f"[dataset]\nsource = {json.dumps(absolute)}\n"))
    assert exp.dataset.source == absolute


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("broken.toml", "name = 'unclosed\n", "TOML"),
        ("broken.toml", "[model\nepochs = 1\n", "TOML"),
        ("dup.toml", "seed = 1\nseed = 2\n", "TOML"),
        ("broken.json", '{"model": ', "JSON"),
    ],
)
def test_invalid_file_gives_config_error(tmp_path, name, text, kind):
    with pytest.raises(ConfigError) as info:
        load_experiment(write(tmp_path / name, text))
    assert str(info.value).startswith(name)
    assert f"not a valid {kind} file" in str(info.value)
    assert "line" in str(info.value) or "end of document" in str(info.value)  # where it broke


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="no such experiment file"):
        load_experiment(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_experiment(tmp_path)
    (tmp_path / "latin.toml").write_bytes("name = 'Z\xfcrich'\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="cannot be read"):
        load_experiment(tmp_path / "latin.toml")


def test_config_error_is_a_value_error():
    # The CLI and the GUI catch ValueError for "bad input"; ConfigError must be one.
    assert issubclass(ConfigError, ValueError) and issubclass(ParamError, ValueError)


# --- the parameter metadata behind it ---------------------------------------------------------


def test_param_specs_of_model_params():
    specs = {s.name: s for s in describe(ModelParams)}
    assert list(specs) == ["kind", "epochs", "batch_size", "learning_rate", "hidden", "l2"]
    assert specs["epochs"].type is int and specs["learning_rate"].type is float
    assert specs["learning_rate"].bounds_text() == "greater than 0 and at most 100"
    assert specs["kind"].choices == ("logistic", "mlp")
    # The baseline's only own setting: the (advanced) membership audit, off by default.
    (audit,) = describe(BaselineParams)
    assert (audit.name, audit.type, audit.default, audit.advanced) == ("audit", bool, False, True)


def test_from_mapping_coerces_and_validates():
    params = from_mapping(ModelParams, {"epochs": "3", "learning_rate": 1, "kind": "mlp"})
    assert params == ModelParams(epochs=3, learning_rate=1.0, kind="mlp")
    assert isinstance(params.learning_rate, float)
    with pytest.raises(ParamError) as info:
        from_mapping(ModelParams, {"hidden": 0}, where="x: ")
    assert info.value.key == "hidden" and str(info.value).startswith("x: hidden = 0")
    with pytest.raises(ParamError, match="finite"):
        from_mapping(ModelParams, {"learning_rate": float("nan")})


def test_experiment_from_dict_defaults():
    exp = experiment_from_dict({})
    assert exp == Experiment()
    assert exp.params == BaselineParams()


def test_dataset_settings_carry_parameter_metadata_the_loader_agrees_with():
    """test_fraction and scaling are declared like pattern parameters (the window's Data tab
    builds its form from them); the experiment-file loader accepts exactly what they allow."""
    specs = {s.name: s for s in describe(DatasetConfig)}
    assert set(specs) == {"test_fraction", "scaling"}
    assert all(s.label and s.help for s in specs.values())
    fraction, scaling = specs["test_fraction"], specs["scaling"]
    for value in (fraction.minimum, fraction.maximum):
        assert experiment_from_dict({"dataset": {"test_fraction": value}}).dataset.test_fraction == value
    for value in (fraction.minimum - 0.01, fraction.maximum + 0.01):
        with pytest.raises(ConfigError, match="test_fraction"):
            experiment_from_dict({"dataset": {"test_fraction": value}})
    for choice in scaling.choices:
        assert experiment_from_dict({"dataset": {"scaling": choice}}).dataset.scaling == choice
    assert from_mapping(DatasetConfig, {"test_fraction": 0.3, "scaling": "bounds"}) == DatasetConfig(
        test_fraction=0.3, scaling="bounds"
    )
    with pytest.raises(ParamError, match="scaling"):
        from_mapping(DatasetConfig, {"scaling": "minmax"})
