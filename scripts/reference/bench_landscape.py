"""PyTorch timing of a 2-D loss surface, the reference for bench/landscape.ts.

Why this exists: `npm run bench` compares Tiller's surface evaluation with the same work in
PyTorch. The work is the book's `xy_perturb_loss`: for each (a, b) on a steps x steps grid over
[-0.2, 0.2]^2, set every parameter to w + a*d1 + b*d2 (in place, as the book does with .data),
run the 784-512-64-10 ReLU MLP on 256 images under no_grad, and read the mean cross-entropy with
.item(). Random weights, directions, images and labels (the timing does not depend on them).
Two threads (the machine's cores), float32; --device cuda runs it on the GPU
(.item() per point synchronises). Prints ONE JSON line: surface_ms for the whole grid.
"""

import argparse
import json
import os
import sys
import time

p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
p.add_argument("--steps", type=int, default=40)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--device", default="cpu", help="cpu, or cuda on the GPU machine")
ARGS = p.parse_args()
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))
os.environ.setdefault("OMP_NUM_THREADS", str(ARGS.threads))

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blas_kernel import ensure_best_kernel, loaded_blas  # noqa: E402

ensure_best_kernel()  # OPENBLAS_CORETYPE in this process only (may re-execute it once)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def main():
    torch.set_num_threads(ARGS.threads)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 64), nn.ReLU(), nn.Linear(64, 10))
    dev = torch.device(ARGS.device)
    model.eval().to(dev)
    x = torch.randn(256, 1, 28, 28, device=dev)
    y = torch.randint(0, 10, (256,), device=dev)
    base = [p.detach().clone() for p in model.parameters()]
    d1 = [torch.randn_like(p) for p in base]
    d2 = [torch.randn_like(p) for p in base]
    grid = np.linspace(-0.2, 0.2, ARGS.steps).astype(np.float32)

    def point(a, b):
        with torch.no_grad():
            for p, w, u, v in zip(model.parameters(), base, d1, d2):
                p.data = w + a * u + b * v
            return F.cross_entropy(model(x), y).item()

    point(0.1, 0.1)  # warm-up
    t0 = time.perf_counter()
    losses = [point(a, b) for b in grid for a in grid]
    ms = (time.perf_counter() - t0) * 1000
    assert all(np.isfinite(losses))
    print(json.dumps({"surface_ms": ms, "steps": ARGS.steps, "torch_version": torch.__version__, "threads": ARGS.threads, "device": str(dev), "blas": loaded_blas(torch)}))


if __name__ == "__main__":
    main()
