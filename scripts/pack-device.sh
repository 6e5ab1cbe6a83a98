#!/usr/bin/env bash
# Packs what a Tiller run on the GPU machine needs into .gpu/ and .gl/ (both git-ignored), so that
# a device call can carry them (`carry: [".gpu", ".gl"]`) within its 64 MiB:
#   .gpu/node.xz          this machine's node binary (the GPU machine has no Node.js)
#   .gpu/webgpu.tar.xz    the npm package `webgpu` (Dawn) with only its linux-x64 dawn.node,
#                         taken from the registry tarball by `npm pack` (no install script runs)
#   .gpu/app.tar.xz       the compiled TypeScript (src, bench, scripts → build/), the Python
#                         references and device scripts (build/scripts/), and only the
#                         node_modules packages that the benchmarks import (scripts/device/deps.mjs)
#   .gpu/patched/         jax-js dist files with the candidate patches of bench/patches/ applied
#   .gl/*.deb             the Vulkan loader and GL dispatch libraries Dawn needs (Debian, amd64)
# scripts/device/run.sh unpacks them there. Recipe: ../shared/DEVICE.md. Usage:
#   scripts/pack-device.sh            (re-packs the app; node, webgpu and .gl only when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
WEBGPU_VERSION=0.6.2
mkdir -p .gpu .gl

if [ ! -s .gpu/node.xz ]; then
  echo "node binary → .gpu/node.xz"
  xz -T2 -6 -c "$(command -v node)" > .gpu/node.xz
fi

if [ ! -s .gpu/webgpu.tar.xz ]; then
  echo "webgpu@$WEBGPU_VERSION → .gpu/webgpu.tar.xz"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "webgpu@$WEBGPU_VERSION" >/dev/null && tar xzf webgpu-*.tgz)
  mkdir -p "$tmp/node_modules/webgpu/dist/linux-x64"
  cp "$tmp"/package/{index.js,package.json,LICENSE.md} "$tmp/node_modules/webgpu/"
  cp "$tmp/package/dist/linux-x64/dawn.node" "$tmp/node_modules/webgpu/dist/linux-x64/"
  tar -C "$tmp" -cf - node_modules/webgpu | xz -T2 -6 > .gpu/webgpu.tar.xz
  rm -rf "$tmp"
fi

if ! ls .gl/*.deb >/dev/null 2>&1; then
  echo "Vulkan/GL loader packages → .gl/"
  mkdir -p /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # shellcheck disable=SC2086
  apt-get $o update -qq
  # shellcheck disable=SC2086
  (cd .gl && apt-get $o download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi

# Candidate jax-js patches (bench/patches/), applied to a copy: the session's *-patched parts swap
# these dist files in for an A/B in one device call.
rm -rf .gpu/patched
if ls bench/patches/*.patch >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  mkdir -p "$tmp/node_modules/@jax-js" .gpu/patched
  cp -r node_modules/@jax-js/jax "$tmp/node_modules/@jax-js/"
  for p in bench/patches/*.patch; do patch -p1 -s -d "$tmp" -i "$PWD/$p"; done
  cp "$tmp"/node_modules/@jax-js/jax/dist/webgpu-*.js .gpu/patched/
  rm -rf "$tmp"
fi

echo "TypeScript → .gpu/app.tar.xz"
ENTRIES=${ENTRIES:-bench/gpu.ts bench/main.ts bench/svd.ts bench/profile.ts}
rm -rf .gpu/stage
npx tsc -p tsconfig.json --outDir .gpu/stage/build --declaration false --sourceMap false
# The device call sends the lead's checkout: this branch's Python references and device scripts
# travel inside the app (bench/python.ts finds build/scripts/reference/ first).
mkdir -p .gpu/stage/build/scripts/reference .gpu/stage/build/scripts/device
cp scripts/reference/*.py .gpu/stage/build/scripts/reference/
cp scripts/device/*.sh .gpu/stage/build/scripts/device/
# shellcheck disable=SC2086
for pkg in $(node scripts/device/deps.mjs $ENTRIES); do
  mkdir -p ".gpu/stage/node_modules/$(dirname "$pkg")"
  cp -r "node_modules/$pkg" ".gpu/stage/node_modules/$pkg"
done
tar -C .gpu/stage -cf - build node_modules | xz -T2 -6 > .gpu/app.tar.xz
rm -rf .gpu/stage
du -ch .gpu/*.xz .gl/*.deb | tail -1
