#!/usr/bin/env bash
# Build the desktop bundle and check it the way a person with only the bundle folder uses it.
#
#   bash packaging/check_bundle.sh              # build (packaging/build.sh), then check
#   bash packaging/check_bundle.sh --no-build   # check the bundle already in dist/ppml-lab
#   bash packaging/check_bundle.sh --bundle DIR # check the bundle folder DIR
#
# The bundle is copied into a fresh temporary folder, away from the source checkout, and every
# command runs there with a clean environment: an empty PATH (no python, no venv), a new HOME,
# no PYTHONPATH. Checks: --version and --help; the built-in data sets; a tiny SMPC run (three
# MPyC party processes started from the frozen executable) and a two-worker sweep (multiprocessing
# fork server from the frozen executable), each leaving no process behind; `demo --pdf` (or,
# while the demo command does not exist, `run --json`); the window under a private Xvfb, up to the
# default data set shown; and the bundle's contents (gmpy2 and TenSEAL with their libraries, the
# xcb and offscreen Qt platform plug-ins, no unused Qt modules). Ends with "N passed, N failed"
# and exits non-zero on any failure.
#
# Not part of .ci/run: a first build takes several minutes (see packaging/README.md).
set -uo pipefail
cd "$(dirname "$0")/.."
REPO="$(pwd)"
BUILD=1
SOURCE_BUNDLE="$REPO/dist/ppml-lab"
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0 ;;
    --bundle) SOURCE_BUNDLE="$(cd "$2" && pwd)"; BUILD=0; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "check_bundle.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "  ok    $*"; }
bad() { failed=$((failed + 1)); echo "  FAIL  $*"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

if [ "$BUILD" = 1 ]; then
  t0=$(now)
  bash packaging/build.sh || { echo "check_bundle.sh: the build failed" >&2; exit 1; }
  echo "check_bundle.sh: build took $(secs "$t0" "$(now)") s"
fi
[ -x "$SOURCE_BUNDLE/ppml-lab" ] || { echo "check_bundle.sh: no bundle at $SOURCE_BUNDLE" >&2; exit 1; }
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)

# Resolve the tools this script needs before PATH is emptied for the bundle.
XVFB=$(command -v Xvfb || true)
XWININFO=$(command -v xwininfo || true)

T=$(mktemp -d "${TMPDIR:-/tmp}/ppml-bundle-check.XXXXXX")
XVFB_PID=""
GUI_PID=""
cleanup() {
  [ -n "$GUI_PID" ] && kill "$GUI_PID" 2>/dev/null
  [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
cp -a "$SOURCE_BUNDLE" "$T/ppml-lab"
EXE="$T/ppml-lab/ppml-lab"
mkdir -p "$T/home" "$T/work" "$T/empty-bin"
cd "$T/work"
echo "check_bundle.sh: checking a copy of $SOURCE_BUNDLE in $T (size $(du -sh "$T/ppml-lab" | cut -f1))"

# Run the bundle with nothing of this machine's Python around it.
bundle() { env -i HOME="$T/home" PATH="$T/empty-bin" LANG=C.UTF-8 "$@"; }
leftovers() {  # processes still running the bundle's executable (parties, fork server, workers)
  local p pids=""
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = "$EXE" ] && pids="$pids ${p#/proc/}"
  done
  echo "$pids"
}
no_leftovers() {
  local left
  sleep 0.5
  left=$(leftovers)
  if [ -z "$left" ]; then ok "$1: no process left behind"; else bad "$1: processes left:$left"; fi
}

# 1. --version and --help
t0=$(now); out=$(bundle "$EXE" --version 2>&1); rc=$?; t1=$(now)
if [ $rc -eq 0 ] && [ "$out" = "ppml-lab $VERSION" ]; then ok "--version: '$out' in $(secs "$t0" "$t1") s"
else bad "--version: rc $rc, '$out'"; fi
t0=$(now); out=$(bundle "$EXE" --help 2>&1); rc=$?; t1=$(now)
if [ $rc -eq 0 ] && grep -q "usage: ppml-lab" <<<"$out" && grep -q " run " <<<"$out"; then
  ok "--help in $(secs "$t0" "$t1") s"
else bad "--help: rc $rc"; fi
HAS_DEMO=0
grep -qE '^\s+demo\b|[{,]demo[,}]' <<<"$out" && HAS_DEMO=1

# 2. the built-in data sets (scikit-learn's bundled files)
out=$(bundle "$EXE" datasets 2>&1)
if grep -q "builtin:breast_cancer" <<<"$out"; then ok "datasets"; else bad "datasets: $out"; fi

# 3. a tiny SMPC run: three party processes from the frozen executable
cat > smpc_tiny.toml <<'EOF'
name = "Breast cancer, SMPC (bundle check)"
seed = 0

[dataset]
source = "builtin:breast_cancer"
target = "diagnosis"

[model]
kind = "logistic"
epochs = 3

[pattern]
name = "smpc"
parties = 3
iterations = 3
EOF
t0=$(now); out=$(bundle "$EXE" run smpc_tiny.toml --json smpc.json 2>&1); rc=$?; t1=$(now)
if [ $rc -eq 0 ] && grep -q '"status": "completed"' smpc.json 2>/dev/null \
  && grep -q '"bytes_sent"' smpc.json; then
  ok "SMPC run with 3 parties in $(secs "$t0" "$t1") s: $(grep -m1 "test accuracy" <<<"$out")"
else bad "SMPC run: rc $rc: $out"; fi
no_leftovers "SMPC run"

# 4. a sweep on two worker processes (multiprocessing fork server of the frozen executable)
cp "$T/ppml-lab/_internal/ppml_lab/resources/experiments/breast_cancer_dp.toml" dp.toml 2>/dev/null
t0=$(now)
out=$(bundle "$EXE" sweep dp.toml --epsilons 1,3 --seeds 1 --workers 2 --set model.epochs=2 \
  --json sweep.json 2>&1); rc=$?; t1=$(now)
if [ $rc -eq 0 ] && [ -s sweep.json ]; then ok "sweep on 2 worker processes in $(secs "$t0" "$t1") s"
else bad "sweep: rc $rc: $(tail -3 <<<"$out")"; fi
no_leftovers "sweep"

# 5. the demo report (or a run with --json while there is no demo command)
if [ "$HAS_DEMO" = 1 ]; then
  t0=$(now); out=$(bundle "$EXE" demo --pdf out.pdf 2>&1); rc=$?; t1=$(now)
  if [ $rc -eq 0 ] && [ "$(head -c 4 out.pdf 2>/dev/null)" = "%PDF" ] \
    && [ "$(wc -c < out.pdf)" -gt 10000 ]; then
    ok "demo --pdf: $(wc -c < out.pdf) bytes in $(secs "$t0" "$t1") s"
  else bad "demo --pdf: rc $rc: $(tail -3 <<<"$out")"; fi
  no_leftovers "demo"
else
  cp "$T/ppml-lab/_internal/ppml_lab/resources/experiments/breast_cancer_baseline.toml" base.toml
  out=$(bundle "$EXE" run base.toml --json base.json 2>&1); rc=$?
  if [ $rc -eq 0 ] && [ -s base.json ]; then ok "run --json (no demo command in this build)"
  else bad "run --json: rc $rc: $out"; fi
fi

# 6. the window, under a private X server, until the default data set is shown
if [ -n "$XVFB" ] && [ -n "$XWININFO" ]; then
  # -displayfd: Xvfb picks a free display itself and writes its number (no clash with other X
  # servers started at the same moment).
  "$XVFB" -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$T/display" >/dev/null 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 150); do [ -s "$T/display" ] && break; sleep 0.1; done
  display=":$(head -1 "$T/display")"
  t0=$(now)
  env -i HOME="$T/home" PATH="$T/empty-bin" LANG=C.UTF-8 DISPLAY="$display" \
    PPML_LAB_STARTUP_TRACE=1 "$EXE" > gui.log 2>&1 &
  GUI_PID=$!
  shown=""
  for _ in $(seq 600); do
    if [ -z "$shown" ] && DISPLAY="$display" "$XWININFO" -root -tree 2>/dev/null \
      | grep -q '"PPML Lab[^"]*": ("ppml-lab"'; then shown=$(secs "$t0" "$(now)"); fi
    grep -q "dataset-shown" gui.log && break
    kill -0 "$GUI_PID" 2>/dev/null || break
    sleep 0.1
  done
  data=$(secs "$t0" "$(now)")
  if [ -n "$shown" ] && grep -q "dataset-shown" gui.log; then
    ok "window mapped after $shown s, default data set shown after $data s"
  else bad "window: mapped '${shown:-no}', log: $(tail -5 gui.log)"; fi
  kill -TERM "$GUI_PID" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$GUI_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$GUI_PID" 2>/dev/null; then bad "window: still running 10 s after SIGTERM"; kill -KILL "$GUI_PID"; fi
  GUI_PID=""
  no_leftovers "window"
  kill "$XVFB_PID" 2>/dev/null; XVFB_PID=""
else
  echo "  skip  the window (no Xvfb or xwininfo on this machine)"
fi

# 7. what is in the bundle
internal="$T/ppml-lab/_internal"
for plugin in libqxcb.so libqoffscreen.so; do
  if [ -f "$internal/PySide6/Qt/plugins/platforms/$plugin" ]; then ok "Qt platform plug-in $plugin"
  else bad "Qt platform plug-in $plugin missing"; fi
done
unused=$(ls "$internal/PySide6" "$internal/PySide6/Qt/lib" 2>/dev/null \
  | grep -E 'Qt(Qml|Quick|WebEngine|3D|Multimedia|Network|Sql|Pdf|Designer)' || true)
if [ -z "$unused" ]; then ok "no unused Qt modules"; else bad "unused Qt modules: $unused"; fi
for ext in "gmpy2/gmpy2" "_tenseal_cpp" "_sealapi_cpp"; do
  so=$(ls "$internal"/$ext*.so 2>/dev/null | head -1)
  if [ -z "$so" ]; then bad "$ext: no extension module"; continue; fi
  missing=$(LD_LIBRARY_PATH="$internal" ldd "$so" 2>&1 | grep "not found" || true)
  if [ -z "$missing" ]; then ok "$(basename "$so"): every library found"
  else bad "$(basename "$so"): $missing"; fi
done

# Every shared library finds what it links to, in the bundle or in the base system (the Wayland
# plug-ins use the desktop's own libwayland-*, absent on a machine without Wayland).
missing=$(cd "$internal" && find . -name '*.so*' -type f | while read -r so; do
  LD_LIBRARY_PATH="$internal:$internal/PySide6/Qt/lib" ldd "$so" 2>/dev/null \
    | grep "not found" | grep -v "libwayland-" | sed "s|^|$so: |"
done | sort -u)
if [ -z "$missing" ]; then ok "every shared library of the bundle finds its dependencies"
else bad "missing libraries: $(head -5 <<<"$missing")"; fi

echo "check_bundle.sh: bundle size $(du -sh "$SOURCE_BUNDLE" | cut -f1)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
