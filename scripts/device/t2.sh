#!/usr/bin/env bash
# Transformer² part 1 on the GPU machine (through scripts/device/run.sh, after
# `ENTRIES="src/cli/main.ts" scripts/pack-device.sh`): finishes the base LM carried in under
# .carry/<base> (a `tiller lm pretrain` run, resumed), then trains every expert at once on
# WebGPU — per task SVF by REINFORCE at two learning rates, SVF by next-token loss, and the LoRA
# baseline — each with the same prompts and step budget. Runs are written under $T2_ROOT (default
# /work/main/runs/gpu, the same absolute path as on the dev box, because expert runs record their
# base by path) and come back as two tars in $OUT: the base, and the experts.
set -u
out=${OUT:-/tmp/tiller-out}
root=${T2_ROOT:-/work/main/runs/gpu}
base=${T2_BASE:-lm-webgpu}
tasks=${T2_TASKS:-math code reasoning}
steps=${T2_STEPS:-300}
secs=${T2_SECONDS:-270}
dev=${T2_DEVICE:-webgpu}
tiller="node build/src/cli/main.js --device $dev"
mkdir -p "$out" "$root"
[ -d "$root/$base" ] || cp -r ".carry/$base" "$root/$base"
if [ ! -s "$root/$base/results.json" ]; then
  timeout -s INT "${T2_BASE_SECONDS:-170}" $tiller lm pretrain --resume "$root/$base" -q >"$out/base.log" 2>&1
  echo "base: exit $?"
fi
echo "base: $(tr -d ' \n' <"$root/$base/results.json" 2>/dev/null | head -c 300)"
# One expert run per task and line of the variants file: "<name> svf|lora <options>".
variants=${T2_VARIANTS:-docs/recipes/t2-variants.txt}
common="$root/$base --steps $steps --eval-every 25 --eval-examples 128 --runs $root -q"
for task in $tasks; do
  while read -r name kind opts; do
    case $name in '' | '#'*) continue ;; esac
    # shellcheck disable=SC2086
    timeout -s INT "$secs" $tiller "$kind" train $common --task "$task" $opts --name "$kind-$task-$name" \
      >>"$out/experts.log" 2>&1 &
  done <"$variants"
done
wait
for d in "$root"/svf-* "$root"/lora-*; do
  echo "$(basename "$d"): $(tr -d '\n ' <"$d/status.json" | head -c 80) $(grep '"type":"eval"' "$d/metrics.jsonl" | tail -1 | head -c 160)"
done
# At most 8 files of 16 MiB come back. Drop what is recomputed or only needed to resume: the base's
# step checkpoints (experts use its model file) and each SVF run's SVD cache (recomputed in
# milliseconds at this size); files and their index entries go together.
prune() { node scripts/device/prune-checkpoints.mjs "$1" --drop "$2"; } # run dir, regexp of files
[ -s "$root/$base/checkpoints/model.safetensors" ] && prune "$root/$base" '^step-'
for d in "$root"/svf-*; do prune "$d" '^svd[.]'; done
tar -C "$root" -cf "$out/base.tar" "$base"
for task in $tasks; do
  # shellcheck disable=SC2046
  tar -C "$root" -cf "$out/experts-$task.tar" $(cd "$root" && ls -d svf-"$task"-* lora-"$task"* 2>/dev/null)
done
ls -la "$out"
