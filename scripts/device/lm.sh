#!/usr/bin/env bash
# Pretrains the built-in LM on the GPU machine (run through scripts/device/run.sh after
# `ENTRIES="src/cli/main.ts" scripts/pack-device.sh`): the same `tiller lm pretrain` twice at
# once, on WebGPU and on the machine's CPU cores (wasm), each stopped after LM_SECONDS and
# resumable from its checkpoints with `tiller lm pretrain --resume` on any machine. Runs go to
# $OUT/<name> (LM_RUNS below); LM_ARGS replaces the default model and budget; LM_RESUME=1
# continues runs carried in under runs-in/ instead.
out=${OUT:-/tmp/tiller-out}
mkdir -p "$out"
nvidia-smi -L 2>&1 | head -1
args=${LM_ARGS:---size small --steps 4000 --batch-size 64 --eval-every 500 --checkpoint-every 100 --eval-examples 64}
secs=${LM_SECONDS:-420}
# LM_RUNS: one run per line, "<name> <device> <threads> [pretrain options]" (options default to
# $args); by default the same run on WebGPU and on the CPU cores.
runs=${LM_RUNS:-"lm-webgpu webgpu 2
lm-wasm wasm ${LM_CPU_THREADS:-14}"}
run() { # name, device, threads, options...
  local name=$1 dev=$2 threads=$3
  shift 3
  local opts=${*:-$args}
  if [ "${LM_RESUME:-0}" = 1 ] && [ -d "runs-in/$name" ]; then
    cp -r "runs-in/$name" "$out/$name"
    TILLER_THREADS=$threads timeout -s INT "$secs" node build/src/cli/main.js --device "$dev" lm pretrain --resume "$out/$name" -q
  else
    # shellcheck disable=SC2086
    TILLER_THREADS=$threads timeout -s INT "$secs" node build/src/cli/main.js --device "$dev" lm pretrain $opts --runs "$out" --name "$name" -q
  fi
  echo "$name ($dev): exit $?, $(grep -c '"type":"step"' "$out/$name/metrics.jsonl") step lines, last: $(grep '"type":"step"' "$out/$name/metrics.jsonl" | tail -1)"
  [ -s "$out/$name/results.json" ] && echo "$name results: $(tr -d ' \n' <"$out/$name/results.json" | head -c 400)"
}
names=()
while read -r name dev threads opts; do
  [ -n "$name" ] || continue
  names+=("$name")
  # shellcheck disable=SC2086
  run "$name" "$dev" "$threads" $opts >"$out/$name.log" 2>&1 &
done <<<"$runs"
wait
# At most 8 files come back from a device call: keep each run's newest checkpoint (and, with
# LM_KEEP_EVERY=N, every N-th step's, to pick an earlier base from) and pack the run into one tar
# ($OUT/<name>.tar), to unpack under runs/ and resume.
for name in "${names[@]}"; do
  [ -d "$out/$name/checkpoints" ] || continue
  node scripts/device/prune-checkpoints.mjs "$out/$name" --steps --keep-every "${LM_KEEP_EVERY:-0}"
  tar -C "$out" -cf "$out/$name.tar" "$name" && rm -rf "${out:?}/$name"
done
ls -la "$out"
tail -n 4 "$out"/*.log
