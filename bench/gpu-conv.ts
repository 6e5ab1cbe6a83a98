/**
 * Which convolution formulation is fastest on the current device: the CNN's 3×3 32→64 layer on
 * 28×28 at batch B, forward and backward (the gradient of sum(conv(x, w)²) with respect to x and
 * w, one `jit`), for each strategy of src/engine/conv.ts (`shifted` taps, `im2col`, jax-js's
 * `lax.conv`). Median of 5 synced calls after 2 warm-ups; one JSON line.
 *
 * `TILLER_DEVICE=webgpu node build/bench/gpu-conv.js [--batch 256]` on the GPU machine; also runs
 * on wasm for a local check (use a small --batch there).
 */
import { grad, jit, numpy as np, random } from "../src/engine/jax.js";
import { startEngine } from "../src/engine/device.js";
import { conv2dWith, type Conv2dStrategy } from "../src/engine/conv.js";
import { keyFromSeed, splitKey } from "../src/engine/prng.js";

const i = process.argv.indexOf("--batch");
const B = i >= 0 ? Number(process.argv[i + 1]) : 256;
const device = await startEngine();
const [kx, kw] = splitKey(keyFromSeed(0), 2);
const x = random.normal(kx, [B, 32, 28, 28]);
const w = random.normal(kw, [64, 32, 3, 3]).mul(0.05);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out: Record<string, unknown> = { device, batch: B };
for (const strategy of ["shifted", "im2col", "lax"] as Conv2dStrategy[]) {
  const loss = (a: np.Array, b: np.Array) => {
    const y = conv2dWith(strategy, a, b, { padding: "SAME" });
    return y.ref.mul(y).sum();
  };
  const forward = jit(loss);
  const backward = jit(grad(loss, { argnums: [0, 1] }));
  const time = async (f: () => Promise<unknown>) => {
    const t: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t0 = performance.now();
      await f();
      t.push(performance.now() - t0);
    }
    return median(t.slice(2));
  };
  try {
    const fwd = await time(() => forward(x.ref, w.ref).data());
    const both = await time(async () => {
      const [gx, gw] = backward(x.ref, w.ref) as [np.Array, np.Array];
      gx.dispose();
      await gw.data();
    });
    out[strategy] = { forward_ms: fwd, gradients_ms: both };
  } catch (e) {
    out[strategy] = { error: String(e).slice(0, 200) };
  }
  forward.dispose();
  backward.dispose();
}
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(0);
