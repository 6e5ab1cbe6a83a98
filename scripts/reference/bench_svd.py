"""PyTorch (LAPACK) timings of the thin SVD, the reference for bench/svd.ts.

Why this exists: Tiller's host SVD (src/engine/svd.ts) is compared with torch.linalg.svd on the
same machine: float32 n×n Gaussian matrices, full_matrices=False, the median of --repeats calls
after one warm-up. Also times torch.linalg.svdvals (values only). Prints ONE JSON line.
"""

import argparse
import json
import os
import sys
import statistics
import time

p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
p.add_argument("--sizes", default="256,512,1024")
p.add_argument("--repeats", type=int, default=5)
p.add_argument("--threads", type=int, default=2)
ARGS = p.parse_args()
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))
os.environ.setdefault("OMP_NUM_THREADS", str(ARGS.threads))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blas_kernel import ensure_best_kernel, loaded_blas  # noqa: E402

ensure_best_kernel()  # OPENBLAS_CORETYPE in this process only (may re-execute it once)

import torch  # noqa: E402


def median_ms(fn):
    fn()
    samples = []
    for _ in range(ARGS.repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(samples)


def main():
    torch.set_num_threads(ARGS.threads)
    torch.manual_seed(0)
    out = {"torch_version": torch.__version__, "threads": torch.get_num_threads(), "blas": loaded_blas(torch), "svd_ms": {}, "svdvals_ms": {}}
    for n in (int(s) for s in ARGS.sizes.split(",")):
        a = torch.randn(n, n)
        out["svd_ms"][str(n)] = median_ms(lambda: torch.linalg.svd(a, full_matrices=False))
        out["svdvals_ms"][str(n)] = median_ms(lambda: torch.linalg.svdvals(a))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
