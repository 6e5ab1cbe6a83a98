"""Gives the PyTorch reference of a CPU benchmark its best BLAS kernel, and says which it got.

Why this exists: a benchmark that compares Tiller with PyTorch is only fair if PyTorch's matrix
products run the fastest kernel the CPU has. Debian's OpenBLAS 0.3.21 does not recognise some
newer CPUs (Intel Xeons with AVX-512 among them) and falls back to a generic kernel (`Prescott`)
that is ~5x slower than its `SkylakeX` kernel on the same cores. Debian's python3-torch may also be
linked against the reference BLAS (netlib, no OpenBLAS installed), which no setting can speed up.

Use, in a benchmark child process only (never in tests or CI), right after `import torch`:

    from blas_kernel import ensure_best_kernel, blas_report
    ensure_best_kernel()            # may re-execute this process once with OPENBLAS_CORETYPE set
    ...
    report = blas_report(torch, threads)   # dict for the results JSON

`ensure_best_kernel` reads `openblas_get_corename()` from the OpenBLAS that torch loaded; when that
kernel is below the best the CPU supports (AVX-512 -> SkylakeX, AVX2 + FMA -> Haswell), it sets
OPENBLAS_CORETYPE in this process's environment and re-executes the script (OpenBLAS picks its
kernel when it is loaded). A value the user set is kept. `blas_report` checks a 1024^3 product
against float64 and times it.
"""

import ctypes
import os
import re
import sys
import time

_REEXEC_MARK = "TILLER_BLAS_KERNEL_CHOSEN"

# OpenBLAS core names by the widest vector unit their sgemm kernel uses.
_LEVEL = {
    "skylakex": 3,
    "cooperlake": 3,
    "sapphirerapids": 3,
    "haswell": 2,
    "zen": 2,
    "excavator": 2,
    "sandybridge": 1,
    "bulldozer": 1,
    "piledriver": 1,
    "steamroller": 1,
}
_AVX512 = {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"}


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def best_coretype(flags):
    """The OpenBLAS kernel to ask for on a CPU with these flags, or None."""
    if _AVX512 <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Haswell"
    return None


def kernel_level(core):
    return _LEVEL.get((core or "").lower(), 0)


def _loaded_libraries():
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/" in line}
    except OSError:
        return []
    return sorted(p for p in paths if re.search(r"blas|mkl|lapack", os.path.basename(p)))


def loaded_blas(torch):
    """Which BLAS this process's torch uses: library name, path and (OpenBLAS) core name."""
    libs = _loaded_libraries()
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        if hasattr(lib, "openblas_get_corename"):
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            return {
                "library": "OpenBLAS",
                "path": path,
                "corename": lib.openblas_get_corename().decode(),
                "config": lib.openblas_get_config().decode(),
            }
    if torch.backends.mkl.is_available() or any("mkl" in p for p in libs):
        return {"library": "MKL", "path": next((p for p in libs if "mkl" in p), "linked into torch")}
    blas = [p for p in libs if "blas" in os.path.basename(p)]
    if any("/blas/libblas" in p for p in blas):
        return {"library": "reference BLAS (netlib)", "path": blas[0]}
    return {"library": "unknown", "path": blas[0] if blas else None}


def ensure_best_kernel():
    """Re-executes this script once with OPENBLAS_CORETYPE set if OpenBLAS picked a lesser kernel."""
    import torch

    info = loaded_blas(torch)
    if info["library"] != "OpenBLAS" or os.environ.get("OPENBLAS_CORETYPE") or os.environ.get(_REEXEC_MARK):
        return
    best = best_coretype(cpu_flags())
    if best and kernel_level(info["corename"]) < kernel_level(best):
        env = dict(os.environ, OPENBLAS_CORETYPE=best, **{_REEXEC_MARK: info["corename"]})
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def blas_report(torch, threads, n=1024, repeats=5):
    """The BLAS in use, the kernel chosen (and by whom), a float64 check and GFLOP/s at n^3."""
    info = loaded_blas(torch)
    default_core = os.environ.get(_REEXEC_MARK)
    info["cpu_best_coretype"] = best_coretype(cpu_flags())
    info["coretype_env"] = os.environ.get("OPENBLAS_CORETYPE")
    info["set_by_bench"] = bool(default_core)
    if default_core:
        info["default_corename"] = default_core
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=g)
    b = torch.randn(n, n, generator=g)
    c = torch.mm(a, b)
    ref = torch.mm(a.double(), b.double())
    info["rel_error_vs_float64"] = float((c.double() - ref).norm() / ref.norm())
    if not info["rel_error_vs_float64"] < 1e-5:
        raise SystemExit(f"BLAS kernel {info.get('corename')} gives wrong products: {info['rel_error_vs_float64']:.2e}")
    for _ in range(2):
        torch.mm(a, b)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - t0)
    info["matmul_gflops"] = 2 * n**3 / sorted(times)[len(times) // 2] / 1e9
    info["matmul_n"] = n
    info["threads"] = threads
    info["fair"] = info["library"] in ("OpenBLAS", "MKL") and (
        info["library"] == "MKL" or kernel_level(info["corename"]) >= kernel_level(info["cpu_best_coretype"])
    )
    return info
