#!/usr/bin/env bash
# The whole test suite on a fresh machine: install (system packages, pnpm, dependencies with the native gl build),
# type-check and build every project, then run vitest over test/ under Xvfb with RILL_REQUIRE_GPU=1, so the GPU
# backend's tests run on Mesa's llvmpipe and fail (never skip) when GL is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
export RILL_REQUIRE_GPU=1
xvfb-run -a -s "-screen 0 1280x1024x24 +extension GLX" "${PNPM[@]}" test
