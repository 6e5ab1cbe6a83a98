"""PyTorch CPU timings that Tiller's own benchmarks are compared against.

Why this exists: to say how fast Tiller is, we need the same workloads timed on the same
machine with a mainstream framework. Each number is the median over repeated timings after
warm-up; a timing sample runs the operation `inner` times back to back (inner is chosen so
one sample takes at least ~20 ms) and divides. Random inputs; float32 throughout.

Workloads:
  mlp_train_step_ms   784-512-64-10 ReLU MLP, batch 256, mean cross-entropy, SGD lr 0.01:
                      forward + backward + update.
  mlp_forward_ms      the same MLP, batch 256, under no_grad (mlp_forward_images_per_s = 256 / t).
  matmul_1024_gflops  1024x1024 @ 1024x1024, 2 * 1024^3 flops.
  cnn_train_step_ms   the twin's CNN (twin.py), batch 256, Adam lr 1e-3, one full step.
  conv_layer_ms       3x3 conv 32 -> 64 channels, 28x28, padding 1, batch 256, forward only;
                      conv_layer_gflops counts 2 * N * Cout * H * W * Cin * 9 flops (no bias).

The BLAS gets its best kernel first (blas_kernel.py: OPENBLAS_CORETYPE, this process only); the
"blas" entry says which library and kernel ran, its error against float64 and its 1024^3 GFLOP/s.
Timings are only as good as the machine is quiet: the JSON carries the 1-minute load
average before and after, so a noisy run can be spotted. Prints ONE JSON line. Options: --repeats N (timing samples per workload), --quick.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=15, help="timing samples per workload")
    p.add_argument("--quick", action="store_true", help="few samples, short warm-up")
    p.add_argument("--threads", type=int, default=2)
    return p.parse_args(argv)


ARGS = parse_args()
# OpenBLAS (torch's BLAS on this machine) sizes its own thread pool at load time.
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))
os.environ.setdefault("OMP_NUM_THREADS", str(ARGS.threads))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from blas_kernel import blas_report, ensure_best_kernel  # noqa: E402

ensure_best_kernel()  # OPENBLAS_CORETYPE in this process only (may re-execute it once)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from twin import build_model  # noqa: E402


def openblas_threads():
    try:
        import ctypes
        return ctypes.CDLL("libopenblas.so.0").openblas_get_num_threads()
    except (OSError, AttributeError):
        return None


def time_ms(fn, repeats, warmup):
    """Median milliseconds per call of fn."""
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    fn()
    one = time.perf_counter() - t0
    inner = max(1, math.ceil(0.02 / max(one, 1e-9)))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return statistics.median(samples) * 1000.0


def main():
    load_before = os.getloadavg()[0]
    torch.set_num_threads(ARGS.threads)
    torch.manual_seed(0)
    repeats = 3 if ARGS.quick else ARGS.repeats
    warmup = 1 if ARGS.quick else 3
    # The CNN step is ~100x the MLP step; fewer samples keep the run short.
    slow_repeats = max(3, repeats // 3)
    B = 256

    # MLP
    mlp = build_model("mlp", [512, 64])
    x = torch.randn(B, 784)
    y = torch.randint(0, 10, (B,))
    sgd = torch.optim.SGD(mlp.parameters(), lr=0.01)

    def mlp_step():
        loss = F.cross_entropy(mlp(x), y)
        sgd.zero_grad(set_to_none=True)
        loss.backward()
        sgd.step()

    def mlp_forward():
        with torch.no_grad():
            mlp(x)

    mlp_step_ms = time_ms(mlp_step, repeats, warmup)
    mlp_forward_ms = time_ms(mlp_forward, repeats, warmup)

    # matmul
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    matmul_ms = time_ms(lambda: torch.mm(a, b), repeats, warmup)

    # CNN train step
    cnn = build_model("cnn", [])
    xi = torch.randn(B, 1, 28, 28)
    adam = torch.optim.Adam(cnn.parameters(), lr=1e-3)

    def cnn_step():
        loss = F.cross_entropy(cnn(xi), y)
        adam.zero_grad(set_to_none=True)
        loss.backward()
        adam.step()

    cnn_step_ms = time_ms(cnn_step, slow_repeats, warmup)

    # single conv layer, forward only
    conv = nn.Conv2d(32, 64, 3, padding=1)
    xc = torch.randn(B, 32, 28, 28)

    def conv_forward():
        with torch.no_grad():
            conv(xc)

    conv_ms = time_ms(conv_forward, slow_repeats, warmup)
    conv_flops = 2 * B * 64 * 28 * 28 * 32 * 9

    blas = blas_report(torch, torch.get_num_threads())

    print(json.dumps({
        "torch_version": torch.__version__,
        # Which BLAS, which kernel (and whether this script chose it), its float64 check, 1024^3 GFLOP/s.
        "blas": blas,
        "threads": torch.get_num_threads(),
        "openblas_threads": openblas_threads(),
        "repeats": repeats,
        "mlp_train_step_ms": mlp_step_ms,
        "mlp_forward_ms": mlp_forward_ms,
        "mlp_forward_images_per_s": B / (mlp_forward_ms / 1000.0),
        "matmul_1024_gflops": 2 * 1024 ** 3 / (matmul_ms / 1000.0) / 1e9,
        "cnn_train_step_ms": cnn_step_ms,
        "conv_layer_ms": conv_ms,
        "conv_layer_gflops": conv_flops / (conv_ms / 1000.0) / 1e9,
        # 1-minute load averages before/after: other processes on a 2-core machine skew timings.
        "load_avg_before": load_before,
        "load_avg_after": os.getloadavg()[0],
    }))


if __name__ == "__main__":
    main()
