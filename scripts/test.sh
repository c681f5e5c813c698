#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite (UI tests under Xvfb).
# SY_BUILDDIR and SY_MESON_ARGS select another build (CI uses them for -Dwerror, sanitizers).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

builddir="${SY_BUILDDIR:-build}"
# shellcheck disable=SC2086
[ -d "$builddir" ] || meson setup "$builddir" ${SY_MESON_ARGS:-}
ninja -C "$builddir"

exec xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
  meson test -C "$builddir" --print-errorlogs --no-suite bench "$@"
