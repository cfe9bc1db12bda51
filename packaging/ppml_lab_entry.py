"""Entry point of the frozen app (PyInstaller, see ``ppml-lab.spec``): the ``ppml-lab`` command.

The bundle's executable is the whole lab: the window (no arguments), every sub-command (``run``,
``sweep``, ``demo``, ...), and the engines' child programs (``ppml-lab child MODULE ...``, e.g.
an MPyC party: :func:`ppml_lab.engines.runtime.command.child_argv` builds that command from
``sys.executable``, which is this executable in a bundle).
"""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    # First of all: when multiprocessing starts its fork server, its resource tracker or a spawned
    # worker (sweeps, audits) from the frozen app, the command is this executable with
    # multiprocessing's own arguments; PyInstaller's freeze_support runs that helper here and
    # exits, so only the lab itself goes on to the command line.
    multiprocessing.freeze_support()
    from ppml_lab.cli import main

    sys.exit(main())
