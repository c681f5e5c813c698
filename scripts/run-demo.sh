#!/usr/bin/env bash
# Quick start: install, build, and run Switchyard with a live demo site.
# With a display: the console. Without one (or with --headless): the daemon on 127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh
[ -d build ] || meson setup build
ninja -C build

if [ "${1:-}" != "--headless" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  exec ./build/app/switchyard --demo
fi

echo "No display (or --headless): starting the daemon with the demo site."
echo "Create a client in another terminal: ./build/app/switchyardd --create-client me --scopes admin"
exec ./build/app/switchyardd --demo --listen "${SWITCHYARD_LISTEN:-127.0.0.1:8080}"
