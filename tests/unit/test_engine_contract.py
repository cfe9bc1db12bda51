"""The engine contract: patterns live in their packages; nothing outside ``engines/`` names them."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ppml_lab.engines import registry
from ppml_lab.engines.contract import EngineBase, FormHints, Guarantee, RunPlan
from ppml_lab.models import ModelParams

ROOT = Path(__file__).resolve().parents[2] / "ppml_lab"
#: Field names every pattern may share: the contract's vocabulary (and the privacy section of the
#: results document: ``privacy.noise_multiplier``, ``privacy.accountant``), not one pattern's.
SHARED_FIELDS = {
    "epsilon", "delta", "audit", "deterministic_noise", "noise_multiplier", "accountant",
    "parties",  # also the contract's RunPlan.parties and the rows_per_party chart's key
}
#: Choice values that are ordinary words ("rows" of a table), not a pattern's vocabulary.
ORDINARY_WORDS = {"column", "rows", "columns"}


def _outside_engines() -> dict[Path, str]:
    files = [*(ROOT / "ui").rglob("*.py"), *(ROOT / "experiments").rglob("*.py"),
             *(ROOT / "reports").rglob("*.py"), ROOT / "cli.py"]
    return {path: path.read_text(encoding="utf-8") for path in files}


def _pattern_words() -> set[str]:
    """Names of the patterns (but the reference) and their own fields and choice values."""
    words: set[str] = set()
    for engine in registry.all_engines():
        if engine.name == registry.REFERENCE:
            continue
        words.add(engine.name)
        for f in dataclasses.fields(engine.Params):
            if f.name in SHARED_FIELDS:
                continue
            words.add(f.name)
            meta = f.metadata.get("ppml") or {}
            choices = getattr(meta, "choices", None) or (
                meta.get("choices") if isinstance(meta, dict) else None
            )
            # Choice values, but for words that are ordinary English ("column").
            words.update(str(c) for c in choices or () if str(c) not in ORDINARY_WORDS)
    return words


def test_no_pattern_is_named_outside_the_engines() -> None:
    """No quoted pattern name, field or choice, and no ``params.<field>`` of one pattern in ui/,
    experiments/, reports/ or cli.py: they ask the engine's contract instead."""
    words = _pattern_words()
    assert {"dp", "federated", "mechanism", "secure_aggregation", "dp-sgd"} <= words
    offenders = []
    for path, text in _outside_engines().items():
        for number, line in enumerate(text.splitlines(), 1):
            code = line.split("#", 1)[0]
            for word in words:
                quoted = re.search(rf"""["']{re.escape(word)}["']""", code)
                attribute = re.search(rf"params\.{re.escape(word)}\b", code)
                if quoted or attribute:
                    offenders.append(f"{path.relative_to(ROOT.parent)}:{number}: {word}")
    assert offenders == []


def test_the_reference_pattern_is_named_through_the_registry() -> None:
    """Comparisons with, calls with and defaults of the pattern name "baseline" use
    ``registry.REFERENCE`` (the results document's ``baseline`` section is another thing)."""
    import ast

    offenders = []
    for path, text in _outside_engines().items():
        tree = ast.parse(text)
        for node in ast.walk(tree):
            values: list[ast.AST] = []
            if isinstance(node, ast.Compare):
                values = [node.left, *node.comparators]
            elif isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            ):  # get_engine("baseline"), with_pattern("baseline"); not doc.get("baseline")
                values = list(node.args)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                values = [node.value]
            offenders += [
                f"{path.name}:{v.lineno}" for v in values
                if isinstance(v, ast.Constant) and v.value == "baseline"
            ]
    assert offenders == []


def test_listing_the_patterns_imports_none_of_them() -> None:
    code = (
        "import sys; from ppml_lab.engines import registry; names = registry.engine_names(); "
        "print(names, [m for m in registry.ENGINE_MODULES if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"{registry.engine_names()} []"


def test_get_engine_imports_only_the_pattern_asked_for() -> None:
    code = (
        "import sys; from ppml_lab.engines.registry import get_engine; get_engine('baseline'); "
        "print('ppml_lab.engines.federated' in sys.modules, 'ppml_lab.engines.dp' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_unknown_pattern_is_a_value_error_listing_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown pattern 'quantum'.*baseline, dp, federated"):
        registry.get_engine("quantum")


@pytest.mark.parametrize("name", registry.engine_names())
def test_every_engine_fulfils_the_contract(name) -> None:
    engine = registry.get_engine(name)
    assert isinstance(engine, EngineBase)
    assert engine.available() is None
    params = engine.Params()
    model = ModelParams(epochs=7)
    plan = engine.plan(model, params)
    assert isinstance(plan, RunPlan) and plan.step_name and plan.reference is not None
    assert isinstance(engine.form_rules({}), FormHints)
    assert isinstance(engine.model_rules({}, {}), FormHints)
    g = engine.guarantee(params, None, n_train=100)
    assert isinstance(g, Guarantee) and g.protects
    assert engine.label_for("seconds").text == "engine time"
    assert engine.label_for("some_new_kind").text == "some new kind"


def test_plans_say_steps_reference_and_target() -> None:
    model = ModelParams(epochs=7)
    dp = registry.get_engine("dp")
    assert dp.plan(model, dp.Params(epsilon=2.0)).target_epsilon == 2.0
    assert dp.plan(model, dp.Params(noise_multiplier=1.0)).target_epsilon is None
    one_shot = dp.plan(model, dp.Params(mechanism="objective"))
    assert one_shot.steps is None and one_shot.step_name.startswith("fit")
    fed = registry.get_engine("federated")
    plan = fed.plan(model, fed.Params(rounds=6, local_epochs=3, clients=9))
    assert (plan.steps, plan.step_name, plan.reference.epochs, plan.parties) == (6, "round", 18, 9)
