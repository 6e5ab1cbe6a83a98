/**
 * The candidate jax-js patch bench/patches/jax-webgpu-one-submit.patch (docs/engine-patches.md):
 * the kernels of one jitted call go to the GPU in one command buffer instead of one submit per
 * kernel. The patch is applied to a temporary copy of jax-js (node_modules is left alone), and both
 * copies run on a fake WebGPU that counts calls (test/engine/fake-webgpu.ts), so no GPU is needed.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import type * as Jax from "@jax-js/jax";
import { installFakeWebGpu, type GpuLog } from "./fake-webgpu.js";

const PATCH = resolve("bench/patches/jax-webgpu-one-submit.patch");

/** A copy of the installed jax-js under a temporary root, patched if asked. */
function jaxCopy(patched: boolean): string {
  const installed = dirname(dirname(createRequire(import.meta.url).resolve("@jax-js/jax")));
  const root = mkdtempSync(join(tmpdir(), "tiller-jax-"));
  const copy = join(root, "node_modules", "@jax-js", "jax");
  cpSync(installed, copy, { recursive: true });
  if (patched) execFileSync("patch", ["-p1", "-s", "-d", root, "-i", PATCH]);
  return join(copy, "dist", "index.js");
}

/** Submits and dispatches of the second call (the first compiles) of a jitted 3-kernel function. */
async function countCall(log: GpuLog, entry: string): Promise<GpuLog> {
  const jax = (await import(pathToFileURL(entry).href)) as typeof Jax;
  const np = jax.numpy;
  expect(await jax.init()).toContain("webgpu");
  jax.defaultDevice("webgpu");
  const f = jax.jit((a: Jax.numpy.Array) => a.ref.mul(2).sum().add(a.ref.max()).add(np.exp(a).min()));
  const x = np.ones([1000]);
  await f(x.ref).data();
  Object.assign(log, { submits: 0, dispatches: 0, writes: 0 });
  await f(x).data();
  f.dispose();
  return { ...log };
}

describe("jax-js on WebGPU, one command buffer per jitted call (candidate patch)", () => {
  const log = installFakeWebGpu();

  it("unpatched, jax-js 0.1.25 submits every kernel on its own, then the read-back", async () => {
    expect(await countCall(log, jaxCopy(false))).toMatchObject({ dispatches: 3, submits: 4 });
  });

  it("patched, the three kernels go in one submit, then the read-back", async () => {
    expect(await countCall(log, jaxCopy(true))).toMatchObject({ dispatches: 3, submits: 2 });
  });
});
