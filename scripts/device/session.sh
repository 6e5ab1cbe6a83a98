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
    gpuprofile|gpuprofile-patched|gpuprofile-patched-flat)
      # Kernels, submits and host vs GPU time per step (bench/gpu-profile.ts): as packed, with the
      # candidate jax-js dist files of .gpu/patched/ swapped in (restored after), and with flat params.
      dist=node_modules/@jax-js/jax/dist
      mkdir -p /tmp/jax-orig && cp $dist/*.js /tmp/jax-orig/
      case $part in *patched*) cp .gpu/patched/*.js $dist/ ;; esac
      case $part in *flat) export TILLER_FLAT_PARAMS=1 ;; esac
      echo "== $part" | tee -a "$out/gpu-profile.txt"
      timeout 150 node build/bench/gpu-profile.js ${PROFILE_ARGS:-} --out "$out/$part.json" 2>>"$out/all.log" | tee -a "$out/gpu-profile.txt"
      unset TILLER_FLAT_PARAMS
      cp /tmp/jax-orig/*.js $dist/ ;;
    pool)
      # CNN and ViT at B = 1024 (and the CNN at 4096) with the patched backend, its buffer pool capped
      # at 64 MiB (as shipped) and at 4 GiB. Needs a build of the patched file whose cap reads
      # JAXP_POOL_MB (an experiment, not a patch); with the candidate patch alone both runs are equal.
      dist=node_modules/@jax-js/jax/dist
      mkdir -p /tmp/jax-orig && cp $dist/*.js /tmp/jax-orig/ && cp .gpu/patched/*.js $dist/
      echo "== pool 64 MiB" | tee -a "$out/gpu-profile.txt"
      JAXP_POOL_MB=64 timeout 120 node build/bench/gpu-profile.js --cases cnn:1024,vit:1024 --steps 10 --out /tmp/pool-64.json 2>>"$out/all.log" | tee -a "$out/gpu-profile.txt"
      echo "== pool 4096 MiB" | tee -a "$out/gpu-profile.txt"
      JAXP_POOL_MB=4096 timeout 150 node build/bench/gpu-profile.js --cases cnn:1024,vit:1024,cnn:4096 --steps 10 --out "$out/pool.json" 2>>"$out/all.log" | tee -a "$out/gpu-profile.txt"
      cp /tmp/jax-orig/*.js $dist/ ;;
    conv)
      echo "== conv" | tee -a "$out/gpu-profile.txt"
      TILLER_DEVICE=webgpu timeout 60 node build/bench/gpu-conv.js --batch 256 2>>"$out/all.log" | tee -a "$out/gpu-profile.txt" ;;
    torchgpu)
      # PyTorch CUDA on the profile's cases and the large batches (bench/gpu.ts's reference alone).
      timeout 120 python3 build/scripts/reference/bench_torch_gpu.py --cases ${TORCH_CASES:-mlp:256,mlp:4096,cnn:256,cnn:1024,cnn:4096,vit:256,vit:1024} >"$out/torch-gpu.json" 2>>"$out/all.log"; cat "$out/torch-gpu.json" ;;
    surface)
      # The 40×40 surface on WebGPU, one point per call vs a row per call, and PyTorch CUDA.
      for pts in 1 40; do
        TILLER_DEVICE=webgpu TILLER_SURFACE_POINTS=$pts timeout 90 node build/bench/landscape.js --torch-device cuda $([ $pts = 1 ] || echo --no-torch) 2>>"$out/all.log" | tee -a "$out/gpu-profile.txt"
      done
      dist=node_modules/@jax-js/jax/dist
      mkdir -p /tmp/jax-orig && cp $dist/*.js /tmp/jax-orig/ && cp .gpu/patched/*.js $dist/
      echo "(patched jax-js)" | tee -a "$out/gpu-profile.txt"
      TILLER_DEVICE=webgpu timeout 90 node build/bench/landscape.js --no-torch 2>>"$out/all.log" | tee -a "$out/gpu-profile.txt"
      cp /tmp/jax-orig/*.js $dist/ ;;
    cpubench)
      # npm run bench on this machine's CPU: Tiller's pool and PyTorch both on 2 threads.
      TILLER_THREADS=2 timeout ${CPU_TIMEOUT:-400} node build/bench/main.js ${CPU_ARGS:-} 2>>"$out/all.log" | tee -a "$out/gpu-profile.txt"
      cp "$(ls -t bench/results/2*.json | head -1)" "$out/cpubench.json" ;;
    svd)
      TILLER_THREADS=2 timeout 300 node build/bench/svd.js --threads 2 --jax-max 512 --out "$out/svd.json" 2>>"$out/svd.log" | tee "$out/svd.txt" ;;
  esac
done
echo "== summary"
for f in "$out"/profile-*.json "$out"/torch-cpu-2t.json; do [ -s "$f" ] && echo "$(basename "$f"): $(head -c 600 "$f")"; done
tail -n 3 "$out"/*.log 2>/dev/null | tail -n 20
