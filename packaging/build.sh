#!/usr/bin/env bash
# Build the PPML Lab desktop bundle (PyInstaller, one folder) for this platform.
#
#   bash packaging/build.sh                 # own build venv in build/bundle-venv, bundle in dist/
#   bash packaging/build.sh --use-dot-venv  # build with the project's .venv (adds pyinstaller to it)
#   bash packaging/build.sh --dist DIR      # put the bundle in DIR/ppml-lab instead of dist/ppml-lab
#
# The build venv gets PyInstaller and the project with its dependencies from the package
# registry (a first build downloads about 300 MB; later builds reuse the venv). Nothing is
# written outside build/ and dist/ (both ignored by git) unless --dist or --work say so.
# Extra packages to bundle: PPML_BUNDLE_EXTRAS (default "openpyxl", for Excel files; add
# "pyarrow" for Parquet files, about 100 MB more, or "flwr" for the Flower back end).
# See packaging/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"

VENV="build/bundle-venv"
DIST="dist"
WORK="build/pyinstaller"
while [ $# -gt 0 ]; do
  case "$1" in
    --use-dot-venv) VENV=".venv" ;;
    --venv) VENV="$2"; shift ;;
    --dist) DIST="$2"; shift ;;
    --work) WORK="$2"; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
EXTRAS="${PPML_BUNDLE_EXTRAS-openpyxl}"
PYTHON="${PYTHON:-python3}"
start=$(date +%s)

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
    echo "build.sh: needs Python 3.11 or newer as \$PYTHON (found $("$PYTHON" --version 2>&1))" >&2
    exit 1
  }
  # PyInstaller needs a Python built with its shared library (pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared).
  "$PYTHON" -c 'import sys, sysconfig; sys.exit(0 if sysconfig.get_config_var("Py_ENABLE_SHARED") or sys.platform != "linux" else 1)' || {
    echo "build.sh: $PYTHON has no shared libpython, which PyInstaller needs; use a Python built with --enable-shared" >&2
    exit 1
  }
  echo "build.sh: creating the build venv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.ppml-bundle-deps"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$(cat "$stamp")" != "$EXTRAS" ]; then
  echo "build.sh: installing PyInstaller, the project and its dependencies into $VENV"
  # shellcheck disable=SC2086
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "pyinstaller>=6.10,<7" . $EXTRAS
  printf '%s' "$EXTRAS" > "$stamp"
else
  # The code comes from the checkout (the spec's pathex); refresh the installed metadata only.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall .
fi

echo "build.sh: running PyInstaller (a few minutes)"
"$VENV/bin/pyinstaller" --noconfirm --log-level WARN --distpath "$DIST" --workpath "$WORK" \
  packaging/ppml-lab.spec
BUNDLE="$DIST/ppml-lab"

# Desktop integration next to the executable (Linux): share/ as an installer would lay it out,
# and a script that registers the bundle for the current user.
if [ "$(uname -s)" = "Linux" ]; then
  mkdir -p "$BUNDLE/share/applications" "$BUNDLE/share/metainfo"
  cp packaging/linux/ppml-lab.desktop "$BUNDLE/share/applications/"
  cp packaging/linux/org.ppml_lab.PPMLLab.metainfo.xml "$BUNDLE/share/metainfo/"
  for png in ppml_lab/resources/icons/ppml-lab-*.png; do
    size="${png##*-}"; size="${size%.png}"
    mkdir -p "$BUNDLE/share/icons/hicolor/${size}x${size}/apps"
    cp "$png" "$BUNDLE/share/icons/hicolor/${size}x${size}/apps/ppml-lab.png"
  done
  mkdir -p "$BUNDLE/share/icons/hicolor/scalable/apps"
  cp ppml_lab/resources/icons/ppml-lab.svg "$BUNDLE/share/icons/hicolor/scalable/apps/"
  cp packaging/linux/install-desktop-entry.sh "$BUNDLE/"
fi

elapsed=$(( $(date +%s) - start ))
size=$(du -sh "$BUNDLE" | cut -f1)
echo "build.sh: built $REPO/$BUNDLE ($size) in ${elapsed} s"
echo "build.sh: run it with $BUNDLE/ppml-lab; check it with bash packaging/check_bundle.sh --no-build"
