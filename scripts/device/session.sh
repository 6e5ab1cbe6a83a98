#!/usr/bin/env bash
# One device call's worth of benchmarks (run through scripts/device/run.sh): the GPU table, the
# MLP-step profile on the CPU with 2 threads (jax-js workers and torch threads), and the SVD case.
# Logs and JSON go to $OUT; a short summary is printed last. Each part runs even if another fails.
out=${OUT:-/tmp/tiller-out}
mkdir -p "$out"
nvidia-smi -L 2>&1 | head -2
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0))'
parts=${PARTS:-gpu profile svd}
for part in $parts; do
  case $part in
    gpu)
      # shellcheck disable=SC2086
      timeout 420 node build/bench/gpu.js ${GPU_ARGS:-} --out "$out/gpu.json" 2>"$out/gpu.log" | tee "$out/gpu.txt" ;;
    profile)
      TILLER_THREADS=0 timeout 120 node build/bench/profile.js >"$out/profile-1t.json" 2>>"$out/cpu.log"
      TILLER_THREADS=2 timeout 120 node build/bench/profile.js >"$out/profile-2t.json" 2>>"$out/cpu.log"
      timeout 120 python3 scripts/reference/bench_torch.py --threads 2 --quick >"$out/torch-cpu-2t.json" 2>>"$out/cpu.log" ;;
    svd)
      TILLER_THREADS=2 timeout 300 node build/bench/svd.js --threads 2 --jax-max 512 --out "$out/svd.json" 2>>"$out/svd.log" | tee "$out/svd.txt" ;;
  esac
done
echo "== summary"
for f in "$out"/profile-*.json "$out"/torch-cpu-2t.json; do [ -s "$f" ] && echo "$(basename "$f"): $(head -c 600 "$f")"; done
tail -n 3 "$out"/*.log 2>/dev/null | tail -n 20
