#!/usr/bin/env bash
# The main job on a fresh machine: install only what the `rill` command needs, build it, train a flow-matching model
# on moons, sample from it, evaluate it, and draw the figures (PNG) into out/. Prints the time it took.
set -euo pipefail
SECONDS=0
RILL_SETUP=main source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# The WebAssembly kernels, then one `tsc -b` through @rill/tensor, @rill/autograd, @rill/flowmatch and @rill/cli.
"${PNPM[@]}" --silent run build:cli
RILL=(node packages/cli/bin/rill.js)
mkdir -p out
STEPS="${RILL_STEPS:-20000}"
"${RILL[@]}" train --data moons --steps "$STEPS" --ema 0.999 --out out/moons.rill --png out/loss.png --force
"${RILL[@]}" sample --model out/moons.rill --n 2000 --solver dopri5 --out out/samples.csv \
  --png out/samples.png --trajectories out/trajectories.png --field out/field.png
"${RILL[@]}" eval --model out/moons.rill --data moons --n 2000
printf 'x0,x1\n0,0\n-2.5,1.5\n2,-1\n' > out/points.csv
"${RILL[@]}" logprob --model out/moons.rill --points out/points.csv --png out/density.png
echo "figures: out/loss.png out/samples.png out/trajectories.png out/field.png out/density.png"
echo "main job: ${SECONDS} s in all (install, build, training, sampling, evaluation, figures)"
