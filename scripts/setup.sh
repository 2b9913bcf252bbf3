#!/usr/bin/env bash
# Sourced by main.sh and test.sh: checks Node, finds the pinned pnpm (via npx if it is not installed) and installs
# dependencies. `RILL_SETUP=main` (main.sh) installs only what the `rill` command needs — @rill/cli and the packages
# under it, no system package, no browser, no native build. Otherwise (test.sh) it installs everything the full
# suite needs: the Debian packages for building `gl` from source and running it under Xvfb + Mesa (gpu.js's headless
# WebGL, see ../shared/REFERENCE.md) and chromium for the browser tests, then every project's dependencies.
# Sets PNPM to the command to run pnpm with.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PNPM_VERSION=12.4.2
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "Rill needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then
  PNPM=(pnpm)
else
  PNPM=(env npm_config_update_notifier=false npx --yes "pnpm@$PNPM_VERSION")
fi

if [ "${RILL_SETUP:-full}" = main ]; then
  # Only the CLI's projects (and their devDependencies: typescript, the wabt assembler): no gpu.js, no gl, no peers.
  "${PNPM[@]}" install --frozen-lockfile --filter "@rill/cli..."
  return 0 2>/dev/null || exit 0
fi

# chromium drives the playground's and the WebGPU backend's tests (playwright-core; no browser download); NumPy is
# the independent reference for the .npy and safetensors tests (unless a python3 on the PATH already has it).
GL_PACKAGES="build-essential python3 pkg-config libx11-dev libxi-dev libxext-dev libgl1-mesa-dev libglu1-mesa-dev mesa-common-dev xvfb xauth chromium"
missing=""
for p in $GL_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if ! python3 -c 'import numpy' >/dev/null 2>&1 && ! dpkg -s python3-numpy >/dev/null 2>&1; then missing="$missing python3-numpy"; fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "warning: missing system packages for the GPU backend and the browser tests:$missing (install them with apt-get as root); the CPU path works without them" >&2
  fi
fi
"${PNPM[@]}" install --frozen-lockfile
