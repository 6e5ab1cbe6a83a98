#!/usr/bin/env bash
# Pretrains the built-in LM on the GPU machine (run through scripts/device/run.sh after
# `ENTRIES="src/cli/main.ts" scripts/pack-device.sh`): the same `tiller lm pretrain` twice at
# once, on WebGPU and on the machine's CPU cores (wasm), each stopped after LM_SECONDS and
# resumable from its checkpoints with `tiller lm pretrain --resume` on any machine. Runs go to
# $OUT/lm-webgpu and $OUT/lm-wasm; LM_ARGS replaces the default model and budget; LM_RESUME=1
# continues runs carried in under runs-in/ instead.
out=${OUT:-/tmp/tiller-out}
mkdir -p "$out"
nvidia-smi -L 2>&1 | head -1
args=${LM_ARGS:---size small --steps 4000 --batch-size 64 --eval-every 500 --checkpoint-every 100 --eval-examples 64}
secs=${LM_SECONDS:-420}
run() { # device, threads
  local name=lm-$1
  if [ "${LM_RESUME:-0}" = 1 ] && [ -d "runs-in/$name" ]; then
    cp -r "runs-in/$name" "$out/$name"
    # shellcheck disable=SC2086
    TILLER_THREADS=$2 timeout -s INT "$secs" node build/src/cli/main.js --device "$1" lm pretrain --resume "$out/$name" -q
  else
    # shellcheck disable=SC2086
    TILLER_THREADS=$2 timeout -s INT "$secs" node build/src/cli/main.js --device "$1" lm pretrain $args --out "$out" --name "$name" -q
  fi
  echo "$1: exit $?, $(grep -c '"type":"step"' "$out/$name/metrics.jsonl") step lines, last: $(grep '"type":"step"' "$out/$name/metrics.jsonl" | tail -1)"
}
run webgpu 2 >"$out/webgpu.log" 2>&1 &
run wasm "${LM_CPU_THREADS:-14}" >"$out/wasm.log" 2>&1 &
wait
# At most 8 files come back from a device call: keep each run's newest checkpoint only and pack
# the run into one tar ($OUT/lm-<device>.tar), to unpack under runs/ and resume.
for name in lm-webgpu lm-wasm; do
  [ -d "$out/$name/checkpoints" ] || continue
  node -e '
    const fs = require("node:fs"), dir = process.argv[1] + "/checkpoints";
    const index = JSON.parse(fs.readFileSync(dir + "/index.json", "utf8"));
    const steps = Object.keys(index).map((f) => /^step-(\d+)\.safetensors$/.exec(f)?.[1]).filter(Boolean).map(Number);
    const keep = "step-" + Math.max(...steps) + ".safetensors";
    for (const f of Object.keys(index)) if (/^step-/.test(f) && f !== keep) { fs.rmSync(dir + "/" + f, { force: true }); delete index[f]; }
    fs.writeFileSync(dir + "/index.json", JSON.stringify(index, null, 2));
  ' "$out/$name"
  tar -C "$out" -cf "$out/$name.tar" "$name" && rm -rf "${out:?}/$name"
done
ls -la "$out"
tail -n 4 "$out"/*.log
