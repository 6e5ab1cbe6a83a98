/**
 * LoRA (Hu et al. 2021) for any param tree: each targeted weight W, seen as [m, n] (m outputs, n the
 * fan-in: a conv's [out, in, kh, kw] is [out, in·kh·kw]), becomes
 *   W′ = W + (α / r) · B A,   A [r, n] ~ U(−1/√n, 1/√n) (PEFT's kaiming-uniform with a = √5), B [m, r] = 0,
 * with B A reshaped back to W's shape, so training starts from the base model exactly. r(m + n)
 * trainable numbers per weight. Model-agnostic: targets are dotted param names; `loraParams` is
 * pure (jit/grad safe). The LM's adapters and the vision models' transfer baseline both use it.
 */
import { numpy as np } from "../../engine/jax.js";
import { splitKey, type Key } from "../../engine/prng.js";
import { fromNamedLeaves, getPath, leafAt, withLeaves, type Params } from "../../engine/tree.js";
import { UsageError } from "../../errors.js";
import type { Adapter } from "../adapter.js";
import { torchDefaultUniform } from "../../nn/init.js";

export type LoraOptions = { rank: number; alpha: number };

/** {<target>: {A, B}} nested by dotted name. Borrows base. */
export function loraInit(key: Key, base: Params, targets: string[], opts: LoraOptions): Params {
  if (!Number.isInteger(opts.rank) || opts.rank < 1)
    throw new UsageError(`LoRA rank must be a positive integer`);
  const keys = splitKey(key, targets.length);
  const entries: [string, np.Array][] = [];
  targets.forEach((name, i) => {
    const w = leafAt(base, name);
    if (w.ndim < 2) throw new UsageError(`LoRA target "${name}" is not a matrix or a conv kernel`);
    const [m, n] = asMatrix(w.shape);
    if (opts.rank > Math.min(m, n))
      throw new UsageError(`LoRA rank ${opts.rank} exceeds min(${m}, ${n}) for "${name}"`);
    entries.push([`${name}.A`, torchDefaultUniform(keys[i], [opts.rank, n], n)]);
    entries.push([`${name}.B`, np.zeros([m, opts.rank])]);
  });
  return fromNamedLeaves(entries);
}

/** A weight's [outputs, fan-in]. */
function asMatrix(shape: number[]): [number, number] {
  return [shape[0], shape.slice(1).reduce((a, b) => a * b, 1)];
}

/** Base params with W + (α/r)·B·A in place of each target. Consumes base and lora. */
export function loraParams(base: Params, lora: Params, targets: string[], opts: LoraOptions): Params {
  const scale = opts.alpha / opts.rank;
  const replaced: Record<string, np.Array> = {};
  for (const name of targets) {
    const node = getPath(lora, name) as { A: np.Array; B: np.Array };
    const w = leafAt(base, name);
    replaced[name] = w.add(np.matmul(node.B, node.A).mul(scale).reshape(w.shape));
  }
  return withLeaves(base, replaced);
}

export function loraParamCount(base: Params, targets: string[], rank: number): number {
  return targets.reduce((n, t) => {
    const [m, k] = asMatrix(leafAt(base, t).shape);
    return n + rank * (m + k);
  }, 0);
}

/** LoRA as an Adapter (takes ownership of base). */
export function loraAdapter(key: Key, base: Params, targets: string[], opts: LoraOptions): Adapter {
  return {
    kind: "lora",
    trainable: loraInit(key, base, targets, opts),
    frozen: { base },
    build: (lora, frozen) => loraParams(frozen.base as Params, lora, targets, opts),
    describe: { targets: targets.join(","), rank: opts.rank, alpha: opts.alpha },
  };
}
