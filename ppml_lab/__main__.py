"""Allow ``python -m ppml_lab``."""

from __future__ import annotations

import sys

from ppml_lab.cli import main

if __name__ == "__main__":
    sys.exit(main())
