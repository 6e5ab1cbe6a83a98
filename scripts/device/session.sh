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
    gpuprofile)
      # Kernels, submits and host vs GPU time per step (bench/gpu-profile.ts), as packed.
      timeout 300 node build/bench/gpu-profile.js --out "$out/gpu-profile.json" 2>>"$out/gpu-profile.log" | tee -a "$out/gpu-profile.txt" ;;
    gpuprofile-patched)
      # The same with .gpu/patched/*.js (candidate jax-js dist files) swapped in, then restored.
      dist=node_modules/@jax-js/jax/dist
      mkdir -p /tmp/jax-orig && cp $dist/*.js /tmp/jax-orig/ && cp .gpu/patched/*.js $dist/
      timeout 300 node build/bench/gpu-profile.js --out "$out/gpu-profile-patched.json" 2>>"$out/gpu-profile.log" | tee -a "$out/gpu-profile.txt"
      cp /tmp/jax-orig/*.js $dist/ ;;
    surface)
      # The 40×40 surface on WebGPU, one point per call vs a row per call, and PyTorch CUDA.
      for pts in 1 40; do
        TILLER_DEVICE=webgpu TILLER_SURFACE_POINTS=$pts timeout 120 node build/bench/landscape.js --torch-device cuda $([ $pts = 1 ] || echo --no-torch) 2>>"$out/surface.log" | tee -a "$out/surface.txt"
      done ;;
    cpubench)
      # npm run bench on this machine's CPU: Tiller's pool and PyTorch both on 2 threads.
      TILLER_THREADS=2 timeout 400 node build/bench/main.js ${CPU_ARGS:-} 2>>"$out/cpubench.log" | tee "$out/cpubench.txt"
      cp "$(ls -t bench/results/2*.json | head -1)" "$out/cpubench.json" ;;
    svd)
      TILLER_THREADS=2 timeout 300 node build/bench/svd.js --threads 2 --jax-max 512 --out "$out/svd.json" 2>>"$out/svd.log" | tee "$out/svd.txt" ;;
  esac
done
echo "== summary"
for f in "$out"/profile-*.json "$out"/torch-cpu-2t.json; do [ -s "$f" ] && echo "$(basename "$f"): $(head -c 600 "$f")"; done
tail -n 3 "$out"/*.log 2>/dev/null | tail -n 20
