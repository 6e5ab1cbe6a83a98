/**
 * Weight initialisers as factories: `initializers.kaimingNormal({ mode, nonlinearity })(key, shape)`.
 * Shapes use PyTorch's layout ([out, in] or [out, in, kh, kw]); fans as in `fans.ts`. Every
 * initialiser consumes its key and carries its formula and the std it promises for a shape, so
 * tests (and the PyTorch cross-check) can hold it to its word.
 */
import { numpy as np, random } from "../engine/jax.js";
import type { Key } from "../engine/prng.js";
import { calculateGain, computeFans, type Nonlinearity } from "./fans.js";
import { orthogonalMatrix } from "./orthogonal.js";

export type Initializer = {
  (key: Key, shape: number[]): np.Array;
  /** One-line formula, for help texts and reports. */
  readonly formula: string;
  /** The standard deviation of one entry for this shape (√E[w²] when the mean is 0). */
  std(shape: number[]): number;
};

type Draw = (key: Key, shape: number[]) => np.Array;

function make(formula: string, std: (shape: number[]) => number, draw: Draw): Initializer {
  return Object.assign((key: Key, shape: number[]) => draw(key, shape), { formula, std });
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function uniformDraw(bound: (shape: number[]) => number) {
  return (key: Key, shape: number[]) => {
    const b = bound(shape);
    return random.uniform(key, shape, { minval: -b, maxval: b });
  };
}

function normalDraw(std: (shape: number[]) => number) {
  return (key: Key, shape: number[]) => random.normal(key, shape).mul(std(shape));
}

export type FanMode = "fan_in" | "fan_out";
const fan = (shape: number[], mode: FanMode) => {
  const f = computeFans(shape);
  return mode === "fan_in" ? f.fanIn : f.fanOut;
};

/** w = 0. */
export function zeros(): Initializer {
  return make(
    "w = 0",
    () => 0,
    (key, shape) => (key.dispose(), np.zeros(shape)),
  );
}

/** w = c. */
export function constant(value: number): Initializer {
  return make(
    `w = ${value}`,
    () => 0,
    (key, shape) => (key.dispose(), np.full(shape, value)),
  );
}

/** PyTorch's Linear/Conv2d default: w ~ U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5). */
export function torchDefault(): Initializer {
  const bound = (s: number[]) => 1 / Math.sqrt(computeFans(s).fanIn);
  return make("w ~ U(±1/√fan_in)", (s) => bound(s) / Math.sqrt(3), uniformDraw(bound));
}

/** LeCun normal: w ~ N(0, 1/fan_in). */
export function lecunNormal(): Initializer {
  const std = (s: number[]) => 1 / Math.sqrt(computeFans(s).fanIn);
  return make("w ~ N(0, 1/fan_in)", std, normalDraw(std));
}

/** Xavier/Glorot normal: w ~ N(0, gain²·2/(fan_in + fan_out)). */
export function xavierNormal(opts: { gain?: number } = {}): Initializer {
  const gain = opts.gain ?? 1;
  const std = (s: number[]) => {
    const f = computeFans(s);
    return gain * Math.sqrt(2 / (f.fanIn + f.fanOut));
  };
  return make(`w ~ N(0, ${gain === 1 ? "" : `${fmt(gain)}²·`}2/(fan_in+fan_out))`, std, normalDraw(std));
}

/** Xavier/Glorot uniform: w ~ U(±gain·√(6/(fan_in + fan_out))). */
export function xavierUniform(opts: { gain?: number } = {}): Initializer {
  const gain = opts.gain ?? 1;
  const bound = (s: number[]) => {
    const f = computeFans(s);
    return gain * Math.sqrt(6 / (f.fanIn + f.fanOut));
  };
  return make(
    `w ~ U(±${gainOf(gain)}√(6/(fan_in+fan_out)))`,
    (s) => bound(s) / Math.sqrt(3),
    uniformDraw(bound),
  );
}

export type KaimingOptions = {
  /** fan_in preserves the forward variance, fan_out the backward one. Default fan_in. */
  mode?: FanMode;
  /** Default leaky_relu with a = 0, i.e. ReLU's gain √2 (PyTorch's defaults). */
  nonlinearity?: Nonlinearity;
  /** leaky_relu's negative slope. */
  a?: number;
};

function kaimingGain(o: KaimingOptions): number {
  return calculateGain(o.nonlinearity ?? "leaky_relu", o.a ?? 0);
}

/** Kaiming/He normal: w ~ N(0, gain²/fan), fan = fan_in or fan_out. */
export function kaimingNormal(opts: KaimingOptions = {}): Initializer {
  const gain = kaimingGain(opts);
  const mode = opts.mode ?? "fan_in";
  const std = (s: number[]) => gain / Math.sqrt(fan(s, mode));
  return make(`w ~ N(0, ${fmt(gain)}²/${mode})`, std, normalDraw(std));
}

/** Kaiming/He uniform: w ~ U(±gain·√(3/fan)). */
export function kaimingUniform(opts: KaimingOptions = {}): Initializer {
  const gain = kaimingGain(opts);
  const mode = opts.mode ?? "fan_in";
  const bound = (s: number[]) => gain * Math.sqrt(3 / fan(s, mode));
  return make(`w ~ U(±${gainOf(gain)}√(3/${mode}))`, (s) => bound(s) / Math.sqrt(3), uniformDraw(bound));
}

/**
 * Orthogonal: the [out, in·kh·kw] view of w is gain·Q, Q Haar-distributed with orthonormal rows
 * or columns (whichever are fewer), so E[w²] = gain²/max(out, in·kh·kw).
 */
export function orthogonal(opts: { gain?: number } = {}): Initializer {
  const gain = opts.gain ?? 1;
  return make(
    `w = ${gainOf(gain)}Q, QᵀQ = I`,
    (s) => gain / Math.sqrt(Math.max(s[0], size(s) / s[0])),
    (key, shape) => {
      computeFans(shape); // same shape check as the others
      return orthogonalMatrix(key, shape[0], size(shape) / shape[0], gain).reshape(shape);
    },
  );
}

/** Scaled orthogonal: w = scale·Q (Q as `orthogonal`), scale √(2/fan_in) by default. */
export function scaledOrthogonal(opts: { scale?: number } = {}): Initializer {
  const scale = (s: number[]) => opts.scale ?? Math.sqrt(2 / computeFans(s).fanIn);
  const base = orthogonal();
  return make(
    `w = ${opts.scale === undefined ? "√(2/fan_in)" : fmt(opts.scale)}·Q, QᵀQ = I`,
    (s) => scale(s) * base.std(s),
    (key, shape) => base(key, shape).mul(scale(shape)),
  );
}

/**
 * L-Momentum: w ~ U(±√(6/fan_in)), then rescaled so that mean(w²) = α exactly; α is the optimiser's
 * momentum squared (0.81 for momentum 0.9).
 */
export function lMomentum(opts: { alpha?: number } = {}): Initializer {
  const alpha = opts.alpha ?? 0.81;
  if (!(alpha > 0)) throw new RangeError(`l_momentum needs alpha > 0, got ${alpha}`);
  const bound = (s: number[]) => Math.sqrt(6 / computeFans(s).fanIn);
  return make(
    `w ~ U(±√(6/fan_in)), rescaled to mean(w²) = ${fmt(alpha)}`,
    () => Math.sqrt(alpha),
    (key, shape) => {
      const w = uniformDraw(bound)(key, shape);
      return w.ref.mul(np.sqrt(np.reciprocal(np.square(w).mean()).mul(alpha)));
    },
  );
}

/** "g·" for a gain g ≠ 1, nothing for 1. */
function gainOf(g: number): string {
  return g === 1 ? "" : `${fmt(g)}·`;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(4)));
}

/** The library's door: `initializers.kaimingNormal({ mode: "fan_out" })(key, [64, 32, 3, 3])`. */
export const initializers = {
  zeros,
  constant,
  torchDefault,
  lecunNormal,
  xavierNormal,
  xavierUniform,
  kaimingNormal,
  kaimingUniform,
  orthogonal,
  scaledOrthogonal,
  lMomentum,
};
