#!/usr/bin/env bash
# Install everything the test suite needs from this repository's own files, then run it all:
# lint, import contracts, and pytest (unit, GUI offscreen, end-to-end). Exit code 5 from pytest
# (no tests collected) counts as a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
export QT_QPA_PLATFORM=offscreen
export PYTHONDONTWRITEBYTECODE=1
.venv/bin/ruff check ppml_lab tests
.venv/bin/lint-imports
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "test.sh: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit "$rc"
