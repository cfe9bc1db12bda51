"""The command line of a child program: the same in a source checkout, an installed package and a
frozen bundle.

An engine whose children are separate programs (MPyC parties) must not start them with a path into
the source checkout: in the packaged app ``sys.executable`` is the bundle itself, which has no
``-m``. Every such program is a module with ``main(argv) -> int``, started through the lab's own
``child`` command: ``python -m ppml_lab child MODULE ARGS...`` from Python, ``<bundle> child MODULE
ARGS...`` from a bundle. :func:`child_argv` builds that command; :func:`run_child` is what the
``child`` command runs.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

__all__ = ["CHILD_COMMAND", "child_argv", "run_child"]

#: The sub-command of ``ppml-lab`` that runs a child module's ``main``.
CHILD_COMMAND = "child"

#: Modules a child command may run: only the lab's own (an experiment file cannot make the lab
#: run arbitrary code through it).
_ALLOWED_PREFIX = "ppml_lab."


def child_argv(module: str, args: Sequence[str] = ()) -> list[str]:
    """The command that runs ``module.main(args)`` in a new process."""
    if getattr(sys, "frozen", False):  # a PyInstaller bundle: the executable is the app
        return [sys.executable, CHILD_COMMAND, module, *map(str, args)]
    return [sys.executable, "-m", "ppml_lab", CHILD_COMMAND, module, *map(str, args)]


def run_child(argv: Sequence[str]) -> int:
    """Run ``argv[0].main(argv[1:])`` (the ``child`` command); 2 with a message on bad use."""
    if not argv:
        print("ppml-lab child: which module? (ppml-lab child MODULE ARGS...)", file=sys.stderr)
        return 2
    module = argv[0]
    if not module.startswith(_ALLOWED_PREFIX):
        print(f"ppml-lab child: {module!r} is not a module of the lab", file=sys.stderr)
        return 2
    try:
        target = importlib.import_module(module)
    except ImportError as exc:
        print(f"ppml-lab child: cannot import {module!r}: {exc}", file=sys.stderr)
        return 2
    entry = getattr(target, "main", None)
    if not callable(entry):
        print(f"ppml-lab child: {module!r} has no main(argv)", file=sys.stderr)
        return 2
    return int(entry(list(argv[1:])) or 0)
