/** Loads PyTorch reference cases (test/fixtures/reference/*.json) and checks a function against them. */
import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { grad, numpy as np } from "../src/engine/jax.js";

export type Tensor = { shape: number[]; data: number[] };
export type RefCase = {
  doc: string;
  config?: Record<string, unknown>;
  inputs: Record<string, Tensor>;
  params: Record<string, Tensor>;
  consts: Record<string, Tensor>;
  output: Tensor;
  cotangent: Tensor;
  grads: Record<string, Tensor>;
  state_out?: Record<string, Tensor>;
};

export function loadReference(file: string): Record<string, Record<string, RefCase>> {
  return JSON.parse(readFileSync(new URL(`./fixtures/reference/${file}`, import.meta.url), "utf8"));
}

export const f64 = (t: Tensor) => np.array(t.data, { dtype: np.float64 }).reshape(t.shape);

export async function expectClose(actual: np.Array, expected: Tensor, tol: number, what: string) {
  expect(actual.shape, `${what} shape`).toEqual(expected.shape);
  const got = await actual.data();
  let worst = 0;
  expected.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i] - v) / Math.max(1, Math.abs(v)))));
  expect(worst, `${what}: max relative error`).toBeLessThan(tol);
}

/**
 * Checks f's output and the gradients of sum(f · cotangent) w.r.t. every differentiable tensor
 * against the case. `f` receives the differentiable tensors (inputs and params) by name, and the consts.
 */
export async function checkCase(
  c: RefCase,
  f: (vars: Record<string, np.Array>, consts: Record<string, np.Array>) => np.Array,
  tol = 1e-9,
) {
  const names = [...Object.keys(c.inputs), ...Object.keys(c.params)];
  const vars = () => Object.fromEntries(names.map((n) => [n, f64(c.inputs[n] ?? c.params[n])]));
  const consts = () => Object.fromEntries(Object.entries(c.consts).map(([n, t]) => [n, f64(t)]));
  await expectClose(f(vars(), consts()), c.output, tol, "output");
  const cot = f64(c.cotangent);
  const g = grad((v: Record<string, np.Array>) => f(v, consts()).mul(cot.ref).sum())(vars());
  cot.dispose();
  for (const n of names) await expectClose(g[n], c.grads[n], tol, `d/d${n}`);
}
