#!/usr/bin/env bash
# Regenerates every figure in docs/ with the project's own CLI (and the playground's screenshot in chromium):
#   docs/{loss,samples,trajectories,field,density}.png   the main job (scripts/main.sh: moons, 20 000 steps)
#   docs/solvers.png                                      `rill solvers` on that model (chapter 4)
#   docs/solvers-silu.png                                 the same recipe with SiLU (a smooth field: RK4 keeps order 4)
#   docs/guidance-grid.png                                `rill eval --guidance 0,1,2,4` on overlap (docs/6-guidance.md)
#   docs/straightness.png                                 examples/straightness.ts: OT-CFM vs I-CFM paths (chapter 3)
#   docs/sde.png                                          examples/sde.ts: W2 against the diffusion g and steps (docs/7-score-and-sde.md)
#   docs/exact-field{,-error}.png                        examples/exact-field.ts: formula (∗) beside a learned field (chapter 3)
#   docs/autodiff-{graph,scalar}.png                      examples/scalar.ts: a graph's values and gradients, tangents (chapter 2)
#   docs/mnist-{guidance,samples,denoising}.png           scripts/mnist-recipe.sh: the MNIST U-Net (docs/8-images.md)
#   docs/compare/*.png                                    scripts/compare-flows.sh: normalizing flow vs CFM
#   docs/playground.png                                   scripts/playground-screenshot.mjs
# Usage: npx pnpm@12.4.2 figures   (about 36 minutes on 2 cores, 23 of them the MNIST recipe; `--quick` skips the flow
#        comparison, the screenshot and MNIST)
#        bash scripts/figures.sh --check DIR   every figure, from a few hundred steps, into DIR instead of docs/ (after
#        a build; the docs test runs it and compares DIR with docs/, so a figure no longer produced fails a test)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
QUICK=$([ "${1:-}" = "--quick" ] && echo 1 || echo 0)
DEST=docs
if [ "${1:-}" = "--check" ]; then
  DEST="${2:?--check needs a folder}"
  export RILL_STEPS=300 RILL_N=300 RILL_OUT="$DEST/out" RILL_SKIP_SETUP=1 STEPS=200 N=200 CFM_STEPS=300 FLOW_STEPS=100 PLAYGROUND_STEPS=300
  export MNIST_STEPS=3 MNIST_CHANNELS=4 MNIST_N=20 MNIST_SOLVER_STEPS=2 PLAYGROUND_MODEL=0
fi
bash scripts/main.sh # installs and builds what the CLI needs (not with --check), trains, and writes $OUT/*.png
OUT="${RILL_OUT:-out}"
mkdir -p "$DEST"
node_modules/.bin/tsc -b examples # main.sh builds only the CLI's packages; the straightness example runs below
cp "$OUT/loss.png" "$OUT/samples.png" "$OUT/trajectories.png" "$OUT/field.png" "$OUT/density.png" "$DEST/"
RILL="node packages/cli/bin/rill.js"
$RILL solvers --model "$OUT/moons.rill" --n "${RILL_N:-1000}" --png "$DEST/solvers.png" | tee "$OUT/solvers.txt"
$RILL train --data moons --steps "${RILL_STEPS:-20000}" --act silu --ema 0.999 --out "$OUT/moons-silu.rill" --force --log-every 100000 > /dev/null
$RILL solvers --model "$OUT/moons-silu.rill" --n "${RILL_N:-1000}" --png "$DEST/solvers-silu.png" | tee "$OUT/solvers-silu.txt"
$RILL train --data overlap --cond class --steps "${RILL_STEPS:-20000}" --ema 0.999 --out "$OUT/overlap.rill" --force --log-every 100000 > /dev/null
$RILL eval --model "$OUT/overlap.rill" --n "${RILL_N:-1000}" --guidance 0,1,2,4 --png "$DEST/guidance-grid.png" | tee "$OUT/guidance.txt"
node examples/dist/straightness.js && cp out/examples/straightness.png "$DEST/"
node examples/dist/sde.js | tee "$OUT/sde.txt" && cp out/examples/sde.png "$DEST/"
node examples/dist/exact-field.js && cp out/examples/exact-field.png out/examples/exact-field-error.png "$DEST/"
node examples/dist/scalar.js && cp out/examples/scalar.png "$DEST/autodiff-scalar.png" && cp out/examples/scalar-graph.png "$DEST/autodiff-graph.png"
if [ "$QUICK" = 0 ]; then
  OUT="$OUT/mnist" bash scripts/mnist-recipe.sh | tee "$OUT/mnist.txt"
  cp "$OUT/mnist/guidance-sweep.png" "$DEST/mnist-guidance.png"
  cp "$OUT/mnist/samples.png" "$DEST/mnist-samples.png"
  cp "$OUT/mnist/denoising.png" "$DEST/mnist-denoising.png"
  FIGURES_DIR="$DEST" bash scripts/compare-flows.sh
  node scripts/playground-screenshot.mjs "$DEST/playground.png"
fi
echo "figures regenerated in $DEST/ (the tables in docs/*.md quote the numbers printed above)"
