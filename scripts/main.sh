#!/usr/bin/env bash
# The main job on a fresh machine: install, build, and run the demo (tensor results and a matmul GFLOP/s figure).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
"${PNPM[@]}" run demo
