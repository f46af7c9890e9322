#!/bin/sh
# Install Lanban from this unpacked tarball, for you alone or (as root) for everyone:
#   ./install.sh                  into ~/.local (run it as: lanban, or from the app menu)
#   sudo ./install.sh /usr/local  for all users
#   ./install.sh --uninstall [PREFIX]
# Boards are not touched: they stay in ~/.local/share/lanban.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
uninstall=false
if [ "${1:-}" = "--uninstall" ]; then
    uninstall=true
    shift
fi
prefix=${1:-$HOME/.local}
case $prefix in
    /*) ;;
    *) echo "install.sh: PREFIX must be an absolute path, not '$prefix'" >&2; exit 2 ;;
esac
[ "$prefix" != / ] || { echo "install.sh: refusing to install into /" >&2; exit 2; }

id=io.github.lanban.Lanban
app=$prefix/lib/lanban
share=$prefix/share

rm -rf "$app"
rm -f "$prefix/bin/lanban" "$share/applications/lanban.desktop" "$share/metainfo/$id.metainfo.xml"
if [ -d "$share/icons/hicolor" ]; then
    find "$share/icons/hicolor" -name "$id.*" -exec rm -f {} +
fi
if $uninstall; then
    echo "Removed Lanban from $prefix (your boards are still in ~/.local/share/lanban)"
    exit 0
fi

mkdir -p "$prefix/lib" "$prefix/bin" "$share/applications" "$share/metainfo" "$share/icons"
cp -R "$here/lanban" "$app"
ln -s "$app/lanban" "$prefix/bin/lanban"
# An absolute Exec: the desktop session's PATH often lacks ~/.local/bin.
sed "s|^Exec=lanban\$|Exec=\"$app/lanban\"|" "$here/lanban.desktop" >"$share/applications/lanban.desktop"
cp "$here/$id.metainfo.xml" "$share/metainfo/"
cp -R "$here/icons/hicolor" "$share/icons/"
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$share/applications" || true
fi
# Only refresh an icon cache that exists: a new one would go stale as other apps add icons.
if [ -f "$share/icons/hicolor/icon-theme.cache" ] && command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q "$share/icons/hicolor" 2>/dev/null || true
fi
echo "Installed Lanban in $app"
case ":$PATH:" in
    *":$prefix/bin:"*) echo "Start it from the app menu, or run: lanban" ;;
    *) echo "Start it from the app menu, or run: $prefix/bin/lanban ($prefix/bin is not on your PATH)" ;;
esac
