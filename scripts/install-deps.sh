#!/usr/bin/env bash
# Installs what Switchyard needs to build, run and test on Debian 12.
set -euo pipefail

packages=(
  meson ninja-build pkg-config gcc gettext
  libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libsqlite3-dev libmosquitto-dev mosquitto
  libgtk-4-dev libadwaita-1-dev libepoxy-dev
  desktop-file-utils appstream gtk-update-icon-cache sqlite3 curl openssl
  xvfb xauth dbus dbus-x11 libgl1-mesa-dri
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

echo "Installing: ${missing[*]}"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
