#!/usr/bin/env bash
# The main job on a fresh machine: install only what the `rill` command needs, build it, train a flow-matching model
# on moons, sample from it, evaluate it, and draw the figures (PNG) into out/. Prints the time it took.
# RILL_STEPS (default 20000) sets the training steps, RILL_N (default 2000) the samples; RILL_OUT (default out) the output folder; RILL_SKIP_SETUP=1 skips
# the install and build (scripts/figures.sh --check runs it that way, after the test build).
set -euo pipefail
SECONDS=0
if [ "${RILL_SKIP_SETUP:-0}" != 1 ]; then
  RILL_SETUP=main source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
  # The WebAssembly kernels, then one `tsc -b` through @rill/tensor, @rill/autograd, @rill/flowmatch and @rill/cli.
  "${PNPM[@]}" --silent run build:cli
else
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
fi
RILL=(node packages/cli/bin/rill.js)
OUT="${RILL_OUT:-out}"
mkdir -p "$OUT"
STEPS="${RILL_STEPS:-20000}"
"${RILL[@]}" train --data moons --steps "$STEPS" --ema 0.999 --out "$OUT/moons.rill" --png "$OUT/loss.png" --force
"${RILL[@]}" sample --model "$OUT/moons.rill" --n "${RILL_N:-2000}" --solver dopri5 --out "$OUT/samples.csv" \
  --png "$OUT/samples.png" --trajectories "$OUT/trajectories.png" --field "$OUT/field.png"
"${RILL[@]}" eval --model "$OUT/moons.rill" --data moons --n "${RILL_N:-2000}"
printf 'x0,x1\n0,0\n-2.5,1.5\n2,-1\n' > "$OUT/points.csv"
"${RILL[@]}" logprob --model "$OUT/moons.rill" --points "$OUT/points.csv" --png "$OUT/density.png"
echo "figures: $OUT/loss.png $OUT/samples.png $OUT/trajectories.png $OUT/field.png $OUT/density.png"
echo "main job: ${SECONDS} s in all (install, build, training, sampling, evaluation, figures)"
