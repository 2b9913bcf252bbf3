#!/usr/bin/env bash
# The whole test suite on a fresh machine: install, type-check and build every project, run vitest over test/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
"${PNPM[@]}" test
