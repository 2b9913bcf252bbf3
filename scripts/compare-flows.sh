#!/usr/bin/env bash
# NF vs CFM on moons and checkerboard, with the rill CLI: equal parameter counts (8 868 vs 8 706) and about equal
# training time on this machine (CFM: 20 000 steps; the flow runs 4–5× fewer steps per second: 5 000 steps), then
# `rill eval` (W2, NLL, sampling cost) and the figures in docs/compare/. Prints a Markdown table. CFM keeps an EMA of
# its weights (0.999, as the main job) and is evaluated with it and with its raw final weights.
# Usage: bash scripts/compare-flows.sh   (after a build; about 5 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RILL="node packages/cli/bin/rill.js"
OUT="${RILL_OUT:-out}/compare"
FIG="${FIGURES_DIR:-docs}/compare"  # CFM_STEPS and FLOW_STEPS (default 20000, 5000) set the training budgets
mkdir -p "$OUT" "$FIG"
rows=()
for data in moons checkerboard; do
  for kind in cfm flow; do
    steps=$([ "$kind" = cfm ] && echo "${CFM_STEPS:-20000}" || echo "${FLOW_STEPS:-5000}")
    model="$OUT/$data-$kind.rill"
    start=$(date +%s%3N)
    ema=$([ "$kind" = cfm ] && echo "--ema 0.999" || echo "")
    $RILL train --kind "$kind" --data "$data" --steps "$steps" $ema --out "$model" --force --log-every 100000 > /dev/null 2>&1
    ms=$(( $(date +%s%3N) - start ))
    $RILL sample --model "$model" --n "${RILL_N:-2000}" --out "$OUT/$data-$kind.csv" --png "$FIG/$data-$kind-samples.png" > /dev/null
    $RILL logprob --model "$model" --points "$OUT/$data-$kind.csv" --out "$OUT/$data-$kind-logp.csv" --png "$FIG/$data-$kind-density.png" --grid 64 2> /dev/null
    for weights in default raw; do
      [ "$kind" = flow ] && [ "$weights" = raw ] && continue
      flag=$([ "$weights" = raw ] && echo "--raw" || echo "")
      json=$($RILL eval --model "$model" --n "${RILL_N:-2000}" --json $flag)
      label=$([ "$kind" = flow ] && echo "flow (RealNVP)" || ([ "$weights" = raw ] && echo "CFM, raw weights" || echo "CFM, EMA weights"))
      rows+=("$(node -e '
        const r = JSON.parse(process.argv[1]);
        const f = (x, d = 3) => x.toFixed(d);
        console.log(`| ${r.data} | ${process.argv[4]} | ${process.argv[2]} (${process.argv[3]} s) | ${f(r.metrics.w2)} (floor ${f(r.floor.w2)}) | ${f(r.nll.natsPerDim)} | ${r.sampling.nfe} (${f(r.sampling.seconds, 2)} s) |`);
      ' "$json" "$steps" "$(( ms / 1000 ))" "$label")")
    done
  done
done
echo "| data | model | training steps (time) | W2 to fresh data | NLL, nats/dim | sampling 2000 points: NFE (time) |"
echo "| --- | --- | --- | --- | --- | --- |"
printf '%s\n' "${rows[@]}"
