"""Name-keyed registry of engines, discovered through one list and imported lazily.

A pattern is a package under ``ppml_lab/engines/`` whose module registers one engine object
(:func:`register`), plus one line in :data:`ENGINE_MODULES`. Nothing outside ``engines/`` names a
pattern: the window, the CLI and the results document ask the registry and the engine's contract
(:mod:`ppml_lab.engines.contract`).

An engine module must import quickly and must not import an optional heavy dependency at module
level (import it inside ``run``; say in ``available()`` when it is missing), so that listing the
patterns never fails and never waits.
"""

from __future__ import annotations

import importlib

from ppml_lab.engines.base import Engine

#: The discovery list: pattern name -> the module that registers its engine, one line each.
DISCOVERY: dict[str, str] = {
    "baseline": "ppml_lab.engines.baseline",
    "dp": "ppml_lab.engines.dp",
    "federated": "ppml_lab.engines.federated",
    "smpc": "ppml_lab.engines.smpc.pattern",
    "he": "ppml_lab.engines.he.pattern",
}

#: The modules of :data:`DISCOVERY` (e.g. for a worker process to preload them).
ENGINE_MODULES: tuple[str, ...] = tuple(DISCOVERY.values())

#: The pattern every run is compared with (the plaintext reference); also the default pattern.
REFERENCE = "baseline"

_ENGINES: dict[str, Engine] = {}


def register(engine: Engine) -> Engine:
    """Add an engine instance under its ``name``; return it."""
    if engine.name in _ENGINES and type(_ENGINES[engine.name]) is not type(engine):
        raise ValueError(f"an engine named {engine.name!r} is already registered")
    _ENGINES[engine.name] = engine
    return engine


def get_engine(name: str) -> Engine:
    """Return the engine called ``name``, importing its module on first use.

    Raises
    ------
    ValueError
        If no engine has that name; the message lists the known names.
    """
    engine = _ENGINES.get(name)
    if engine is None and name in DISCOVERY:
        importlib.import_module(DISCOVERY[name])
        engine = _ENGINES.get(name)
    if engine is None:
        raise ValueError(
            f"unknown pattern {name!r}; known patterns: {', '.join(engine_names())}"
        )
    return engine


def engine_names() -> list[str]:
    """Names of all patterns (discovered and registered), the reference first."""
    names = set(DISCOVERY) | set(_ENGINES)
    return sorted(names, key=lambda n: (n != REFERENCE, n))


def engine_modules() -> tuple[str, ...]:
    """The modules of the discovered patterns (e.g. for a worker process to preload)."""
    return tuple(DISCOVERY.values())


def all_engines() -> list[Engine]:
    """Every engine, imported, in :func:`engine_names` order."""
    return [get_engine(name) for name in engine_names()]
