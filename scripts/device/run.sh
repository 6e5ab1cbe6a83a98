#!/usr/bin/env bash
# On the GPU machine, in the repository root, after scripts/pack-device.sh here and a device call
# that carries .gpu and .gl: unpacks node, Dawn, the Vulkan loader and the compiled app, then runs
# "$@" with them on PATH (e.g. `bash scripts/device/run.sh node build/bench/gpu.js`).
set -euo pipefail
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
mkdir -p /tmp/tiller-bin
xz -dc .gpu/node.xz > /tmp/tiller-bin/node && chmod +x /tmp/tiller-bin/node
export PATH=/tmp/tiller-bin:$PATH
xz -dc .gpu/webgpu.tar.xz | tar -xf -
xz -dc .gpu/app.tar.xz | tar -xf -
TILLER_PYTHON="$(command -v python3)"
export TILLER_PYTHON
"$@"
