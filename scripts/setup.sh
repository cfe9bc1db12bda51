#!/usr/bin/env bash
# Prepare a fresh machine for PPML Lab: the system libraries Qt needs, a virtualenv in .venv,
# and the package itself (editable). `scripts/setup.sh test` also installs the test tools.
# Safe to re-run: every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"

PYTHON="${PYTHON:-python3}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "setup: python3 (3.11 or newer) is required but was not found." >&2
  exit 1
fi
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "setup: PPML Lab needs Python 3.11 or newer; found $("$PYTHON" --version 2>&1)." >&2
  exit 1
}

# Libraries Qt 6 loads at run time (xcb platform plugin, EGL/OpenGL, fonts) and Xvfb for a
# virtual screen. Installed when we can (root + apt), otherwise checked and reported.
DEB_PACKAGES="libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libxkbcommon0 \
libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libx11-xcb1 fonts-dejavu-core \
xvfb xauth poppler-utils"
if command -v dpkg-query >/dev/null 2>&1; then
  missing=""
  for p in $DEB_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null || missing="$missing python3-venv"
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
      echo "setup: installing system packages:$missing"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null
      # shellcheck disable=SC2086
      apt-get install -y -qq --no-install-recommends $missing >/dev/null
    else
      echo "setup: these system packages are missing; install them first:" >&2
      echo "  sudo apt-get install$missing" >&2
      exit 1
    fi
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.ppml-installed-${extra:-app}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  if [ "$extra" = "test" ]; then
    .venv/bin/python -m pip install -q -e ".[test]"
  else
    .venv/bin/python -m pip install -q -e .
  fi
  touch "$stamp"
fi
