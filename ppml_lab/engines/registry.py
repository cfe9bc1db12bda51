"""Name-keyed registry of engines."""

from __future__ import annotations

from ppml_lab.engines.base import Engine

_ENGINES: dict[str, Engine] = {}


def register(engine: Engine) -> Engine:
    """Add an engine instance under its ``name``; return it (usable as a decorator on instances)."""
    if engine.name in _ENGINES and type(_ENGINES[engine.name]) is not type(engine):
        raise ValueError(f"an engine named {engine.name!r} is already registered")
    _ENGINES[engine.name] = engine
    return engine


#: The discovery list: the module of every built-in pattern, one line each. A new pattern is a
#: package under ``ppml_lab/engines/`` that registers its engine, plus one line here.
ENGINE_MODULES: tuple[str, ...] = (
    "ppml_lab.engines.baseline",
    "ppml_lab.engines.dp",
    "ppml_lab.engines.federated",
)


def _load_builtin() -> None:
    # Import for the side effect of registration; each module registers its engine.
    import importlib

    for module in ENGINE_MODULES:
        importlib.import_module(module)


def get_engine(name: str) -> Engine:
    """Return the engine called ``name``.

    Raises
    ------
    ValueError
        If no engine has that name; the message lists the known names.
    """
    _load_builtin()
    try:
        return _ENGINES[name]
    except KeyError:
        raise ValueError(
            f"unknown pattern {name!r}; known patterns: {', '.join(sorted(_ENGINES))}"
        ) from None


def engine_names() -> list[str]:
    """Names of all registered engines, baseline first."""
    _load_builtin()
    return sorted(_ENGINES, key=lambda n: (n != "baseline", n))
