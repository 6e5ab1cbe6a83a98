/**
 * The PyTorch bench's BLAS-kernel choice (scripts/reference/blas_kernel.py): which OpenBLAS kernel
 * it asks for on which CPU, and that it only asks when OpenBLAS picked a lesser one. Pure
 * functions, called through python3; nothing here sets OPENBLAS_CORETYPE.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const python = (code: string): string =>
  execFileSync("python3", ["-c", `import sys; sys.path.insert(0, "scripts/reference")\n${code}`], {
    encoding: "utf8",
  }).trim();

describe("the bench's OpenBLAS kernel choice", () => {
  it("asks for SkylakeX on AVX-512, Haswell on AVX2 with FMA, and nothing on older CPUs", () => {
    const out = python(`from blas_kernel import best_coretype as b
avx512 = {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx2", "fma"}
print(b(avx512), b({"avx2", "fma", "avx"}), b({"sse2", "avx"}))`);
    expect(out).toBe("SkylakeX Haswell None");
  });

  it("ranks a generic kernel below the CPU's best and an AVX-512 kernel as good as SkylakeX", () => {
    const out = python(`from blas_kernel import kernel_level as k
print(k("Prescott") < k("SkylakeX"), k("Cooperlake") >= k("SkylakeX"), k("Zen") >= k("Haswell"), k(None))`);
    expect(out).toBe("True True True 0");
  });
});
