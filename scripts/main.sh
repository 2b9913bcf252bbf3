#!/usr/bin/env bash
# The main job on a fresh machine: install, build, train a flow-matching model on moons, sample from it, evaluate it,
# and draw the figures (PNG) into out/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
"${PNPM[@]}" run build
mkdir -p out
STEPS="${RILL_STEPS:-20000}"
"${PNPM[@]}" --silent rill train --data moons --steps "$STEPS" --ema 0.999 --out out/moons.rill --png out/loss.png
"${PNPM[@]}" --silent rill sample --model out/moons.rill --n 2000 --solver dopri5 --out out/samples.csv \
  --png out/samples.png --trajectories out/trajectories.png --field out/field.png
"${PNPM[@]}" --silent rill eval --model out/moons.rill --data moons --n 2000
printf 'x0,x1\n0,0\n-2.5,1.5\n2,-1\n' > out/points.csv
"${PNPM[@]}" --silent rill logprob --model out/moons.rill --points out/points.csv --png out/density.png
echo "figures: out/loss.png out/samples.png out/trajectories.png out/field.png out/density.png"
