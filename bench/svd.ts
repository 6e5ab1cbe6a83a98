/**
 * Bench case: thin SVD of n×n float32 Gaussian matrices (n = 256, 512, 1024) with Tiller's host
 * SVD (src/engine/svd.ts), jax-js's `linalg.svd` (float32, wasm; n ≤ --jax-max, default 512:
 * it takes ~107 s at 1024) and PyTorch's torch.linalg.svd (LAPACK, scripts/reference/bench_svd.py);
 * plus the singular values of a 784×512 matrix as the init diagnostics compute them, before
 * (naive Gram + src/landscape/symmetric-eigen.ts) and after (`singularValuesOf`). Checks the
 * accuracy of each Tiller decomposition: ‖A − UΣVᵀ‖/‖A‖, ‖UᵀU − I‖ and ‖VᵀV − I‖ (max entry).
 *
 * `node --import tsx bench/svd.ts [--sizes 256,512,1024] [--threads 2] [--no-torch] [--jax-max N]
 * [--out FILE]`; `npm run bench` runs it as one of its cases.
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import { pathToFileURL } from "node:url";
import { jit, numpy as np } from "../src/engine/jax.js";
import { startEngine } from "../src/engine/device.js";
import { singularValuesOf, svd, type Svd } from "../src/engine/svd.js";
import { symmetricEigenvalues } from "../src/landscape/symmetric-eigen.js";
import { runPythonJson } from "./python.js";

type Row = [string, number, number | undefined, "ms" | "GFLOP/s"];

function gaussian(len: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 2 ** 32;
  };
  return Float32Array.from(
    { length: len },
    () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()),
  );
}

function accuracy(a: Float32Array, r: Svd) {
  const { rows: m, cols: n, k } = r;
  let err = 0;
  let norm = 0;
  const row = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    for (let q = 0; q < k; q++) row[q] = r.u[i * k + q] * r.s[q];
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += row[q] * r.v[j * k + q];
      err += (s - a[i * n + j]) ** 2;
      norm += a[i * n + j] ** 2;
    }
  }
  const orth = (x: Float64Array, len: number) => {
    const cols = Array.from({ length: k }, (_, q) =>
      Float64Array.from({ length: len }, (_, i) => x[i * k + q]),
    );
    let e = 0;
    for (let p = 0; p < k; p++)
      for (let q = p; q < k; q++) {
        let s = 0;
        const cp = cols[p];
        const cq = cols[q];
        for (let i = 0; i < len; i++) s += cp[i] * cq[i];
        e = Math.max(e, Math.abs(s - (p === q ? 1 : 0)));
      }
    return e;
  };
  return {
    reconstruction: Math.sqrt(err / norm),
    u_orthogonality: orth(r.u, m),
    v_orthogonality: orth(r.v, n),
  };
}

/** The init diagnostics' singular values before this change: naive Gram + symmetricEigenvalues. */
function oldSingularValues(data: Float32Array, rows: number, cols: number): number[] {
  const k = Math.min(rows, cols);
  const vectors = Array.from({ length: k }, (_, i) =>
    Float64Array.from({ length: rows }, (_, r) => data[r * cols + i]),
  );
  const g = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0; t < rows; t++) s += vectors[i][t] * vectors[j][t];
      g[i * k + j] = s;
      g[j * k + i] = s;
    }
  return symmetricEigenvalues(g, k).map((l) => Math.sqrt(Math.max(l, 0)));
}

function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const out = fn();
  return [out, performance.now() - t0];
}

export async function svdBench(o: {
  sizes: number[];
  skipTorch: boolean;
  threads: number;
  jaxMax: number;
  results: { tiller: Record<string, unknown>; torch: Record<string, unknown> | null };
}): Promise<Row[]> {
  await startEngine();
  const tiller: Record<string, unknown> = {};
  const rows: Row[] = [];
  let torch: { svd_ms: Record<string, number>; svdvals_ms: Record<string, number> } | null = null;
  if (!o.skipTorch) {
    process.stderr.write("svd: PyTorch …\n");
    torch = await runPythonJson("bench_svd.py", [
      "--sizes",
      o.sizes.join(","),
      "--threads",
      String(o.threads),
    ]);
    if (o.results.torch) o.results.torch.svd = torch;
  }
  svd(gaussian(96 * 80, 1), 96, 80); // let V8 compile the loops before timing
  for (const n of o.sizes) {
    const a = gaussian(n * n, n);
    process.stderr.write(`svd: Tiller ${n}² …\n`);
    const repeats = n >= 1024 ? 1 : 3;
    const times: number[] = [];
    let last: Svd | null = null;
    for (let i = 0; i < repeats; i++) {
      const [r, ms] = timed(() => svd(a, n, n));
      times.push(ms);
      last = r;
    }
    times.sort((x, y) => x - y);
    const ms = times[Math.floor(times.length / 2)];
    const [, valuesMs] = timed(() => singularValuesOf(a, n, n));
    const acc = accuracy(a, last as Svd);
    let jaxMs: number | undefined;
    if (n <= o.jaxMax) {
      process.stderr.write(`svd: jax-js linalg.svd ${n}² …\n`);
      const f = jit((x: np.Array) => np.linalg.svd(x, { fullMatrices: false }));
      const x = np.array(a, { shape: [n, n] });
      const t0 = performance.now();
      const [u, s, vh] = f(x);
      await Promise.all([u.data(), s.data(), vh.data()]);
      jaxMs = performance.now() - t0;
      f.dispose();
    }
    tiller[`svd_${n}`] = { ms, values_only_ms: valuesMs, jax_linalg_svd_ms: jaxMs, ...acc };
    const t = torch?.svd_ms[String(n)];
    rows.push([`SVD ${n}² (U, S, V; float64 on the host)`, ms, t, "ms"]);
    if (jaxMs !== undefined) rows.push([`  jax-js linalg.svd ${n}² (before)`, jaxMs, t, "ms"]);
    rows.push([`  singular values only ${n}²`, valuesMs, torch?.svdvals_ms[String(n)], "ms"]);
  }
  const d = gaussian(784 * 512, 7);
  const [before, beforeMs] = timed(() => oldSingularValues(d, 784, 512));
  const [after, afterMs] = timed(() => singularValuesOf(d, 784, 512));
  const maxDiff = Math.max(...before.map((s, i) => Math.abs(s - after[i]) / before[0]));
  tiller.diagnostics_784x512 = { before_ms: beforeMs, after_ms: afterMs, max_rel_difference: maxDiff };
  rows.push(["init diagnostics σ of 784×512 (after; before in JSON)", afterMs, undefined, "ms"]);
  o.results.tiller.svd = tiller;
  return rows;
}

// `node --import tsx bench/svd.ts …`: this case alone.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
  };
  const results = { tiller: {} as Record<string, unknown>, torch: {} as Record<string, unknown> };
  const rows = await svdBench({
    sizes: arg("sizes", "256,512,1024").split(",").map(Number),
    skipTorch: process.argv.includes("--no-torch"),
    threads: Number(arg("threads", "2")),
    jaxMax: Number(arg("jax-max", "512")),
    results,
  });
  const lines = ["| case | Tiller | PyTorch | Tiller / PyTorch |", "| --- | --- | --- | --- |"];
  for (const [name, t, p] of rows)
    lines.push(
      `| ${name} | ${t.toFixed(0)} ms | ${p === undefined ? "–" : p.toFixed(1) + " ms"} | ${p === undefined ? "–" : (t / p).toFixed(1) + "×"} |`,
    );
  const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg() };
  const out = arg("out", "");
  if (out)
    writeFileSync(
      out,
      JSON.stringify({ date: new Date().toISOString(), machine, ...results }, null, 2) + "\n",
    );
  process.stdout.write(
    `${lines.join("\n")}\n${JSON.stringify(results.tiller.svd)}\nload average ${machine.loadavg.map((l) => l.toFixed(1)).join(" ")}\n`,
  );
  process.exit(0);
}
