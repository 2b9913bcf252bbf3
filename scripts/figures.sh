#!/usr/bin/env bash
# Regenerates every figure in docs/ with the project's own CLI (and the playground's screenshot in chromium):
#   docs/{loss,samples,trajectories,field,density}.png   the main job (scripts/main.sh: moons, 20 000 steps)
#   docs/solvers.png                                      `rill solvers` on that model (chapter 4)
#   docs/solvers-silu.png                                 the same recipe with SiLU (a smooth field: RK4 keeps order 4)
#   docs/straightness.png                                 examples/straightness.ts: OT-CFM vs I-CFM paths (chapter 3)
#   docs/compare/*.png                                    scripts/compare-flows.sh: normalizing flow vs CFM
#   docs/playground.png                                   scripts/playground-screenshot.mjs
# Usage: npx pnpm@12.4.2 figures   (about 10 minutes on 2 cores; `--quick` skips the flow comparison and the screenshot)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
QUICK=$([ "${1:-}" = "--quick" ] && echo 1 || echo 0)
bash scripts/main.sh
node_modules/.bin/tsc -b examples # main.sh builds only the CLI's packages; the straightness example runs below
cp out/loss.png out/samples.png out/trajectories.png out/field.png out/density.png docs/
RILL="node packages/cli/bin/rill.js"
$RILL solvers --model out/moons.rill --n 1000 --png docs/solvers.png | tee out/solvers.txt
$RILL train --data moons --steps "${RILL_STEPS:-20000}" --act silu --ema 0.999 --out out/moons-silu.rill --force --log-every 100000 > /dev/null
$RILL solvers --model out/moons-silu.rill --n 1000 --png docs/solvers-silu.png | tee out/solvers-silu.txt
node examples/dist/straightness.js && cp out/examples/straightness.png docs/
if [ "$QUICK" = 0 ]; then
  bash scripts/compare-flows.sh
  node scripts/playground-screenshot.mjs
fi
echo "figures regenerated in docs/ (the tables in docs/*.md quote the numbers printed above)"
