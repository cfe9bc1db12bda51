#!/usr/bin/env bash
# Add PPML Lab to the application menu of the current user (no root needed), from the bundle
# folder this script is in: the .desktop file (pointing at this folder's ppml-lab), the icons
# and the AppStream metainfo go under ~/.local/share. Run it again after moving the folder.
#
#   ./install-desktop-entry.sh            # install
#   ./install-desktop-entry.sh --remove   # undo
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
desktop="$data/applications/ppml-lab.desktop"

if [ "${1:-}" = "--remove" ]; then
  rm -f "$desktop" "$data/metainfo/org.ppml_lab.PPMLLab.metainfo.xml"
  find "$data/icons/hicolor" -name 'ppml-lab.png' -o -name 'ppml-lab.svg' 2>/dev/null | xargs -r rm -f
  echo "PPML Lab removed from the application menu"
  exit 0
fi
if [ ! -x "$here/ppml-lab" ] || [ ! -d "$here/share" ]; then
  echo "install-desktop-entry.sh: run the copy inside the bundle folder (next to ppml-lab)" >&2
  exit 1
fi
mkdir -p "$data/applications" "$data/metainfo"
cp -r "$here/share/icons" "$data/"
cp "$here/share/metainfo/org.ppml_lab.PPMLLab.metainfo.xml" "$data/metainfo/"
# The bundle is not on PATH: point Exec and TryExec at its executable (quoted: spaces).
sed -e "s|^Exec=ppml-lab|Exec=\"$here/ppml-lab\"|" -e "s|^TryExec=ppml-lab|TryExec=$here/ppml-lab|" \
  "$here/share/applications/ppml-lab.desktop" > "$desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
echo "PPML Lab added to the application menu ($desktop)"
