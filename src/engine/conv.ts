/**
 * 2-D convolution and pooling for NCHW activations and OIHW (PyTorch-layout) weights, written so
 * that jax-js 0.1.25's wasm backend runs them as fast matmuls — inside `jit` and under
 * `grad`/`valueAndGrad`. NOTES.md, section "Convolution", has the measurements behind every
 * choice made here; in short:
 *
 * - `lax.conv` lowers to ONE reduction kernel that reads the input through a pooled (and, under
 *   jit, padded) view. The wasm code generator can neither vectorise those loads (the window's
 *   period is W, not a multiple of 4) nor advance them by a constant stride along the reduction,
 *   so it evaluates div/mod index arithmetic for every multiply-add: 0.4–3 GFLOP/s.
 * - The same backend's matmul — a `dot` whose two operands are contiguous buffers — runs at
 *   15–20 GFLOP/s per core. So conv2d hands it contiguous operands: per kernel tap (i, j), a
 *   channels-last copy of the shifted input times that tap's [O, C] weight matrix, summed over
 *   the taps. The copies are cheap (contiguous runs of C floats); autodiff turns every piece into
 *   contiguous matmuls again, plus one fused sum of the shifted tap gradients.
 * - With few input channels (a first layer on 1- or 3-channel images) a per-tap matmul would
 *   reduce over K = C, so im2col patches [C·kh·kw, N·Ho·Wo] are materialised once instead.
 *
 * Materialisation is forced with `neg(neg(v))`: jax-js's jit fuses view ops (pad, slice,
 * transpose, reshape) into their consumer, and a matmul that reads a fused *view* runs ~10×
 * slower than one that reads a contiguous buffer. The scheduler materialises the nearest non-view
 * op that feeds a matmul, so a cheap elementwise op there pins the layout we want.
 *
 * Ownership: every function consumes its array arguments (the jax-js convention).
 */
import { lax, numpy as np } from "./jax.js";

type Arr = np.Array;

export type Conv2dPadding = "SAME" | "VALID" | number;

export type Conv2dOptions = {
  /** Same stride along H and W. Default 1. */
  stride?: number;
  /**
   * "VALID" (no padding, the default), "SAME" (output ⌈H/stride⌉ — the padding of `lax.conv`'s
   * "SAME", which for stride 1 and odd kernels is PyTorch's padding=(k−1)/2), or a number p of
   * zeros on every side (PyTorch's `padding=p`).
   */
  padding?: Conv2dPadding;
};

/** How `conv2d` computes; "auto" picks per layer. Exposed for benchmarks and tests. */
export type Conv2dStrategy = "auto" | "shifted" | "im2col" | "lax";

/** Below this many input channels `auto` uses im2col (one matmul with K = C·kh·kw). */
export const IM2COL_MAX_CHANNELS = 8;

/** Forces `v` to be computed into its own buffer in its current (logical, row-major) layout. */
function materialize(v: Arr): Arr {
  return np.negative(np.negative(v));
}

/**
 * acc + t, arranged so that jit fuses the add into the kernel that computes t (a matmul) and the
 * running sum is stored after every tap. Without the reshape round trip, jax-js's scheduler lets
 * the FIRST matmul claim the whole chain of adds as its epilogue: every other tap's product is
 * then stored separately and that kernel re-reads all of them — the same work, but kh·kw
 * [O, N·Ho·Wo] buffers live at once instead of two. A reshape is not elementwise, so it ends the
 * epilogue chain.
 */
function accumulate(acc: Arr, t: Arr): Arr {
  const shape = acc.shape;
  return acc.reshape([-1]).reshape(shape).add(t);
}

const roundUp4 = (n: number) => Math.ceil(n / 4) * 4;

type Geometry = {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
  kh: number;
  kw: number;
  stride: number;
  /** [top, bottom], [left, right] zero padding. */
  padH: [number, number];
  padW: [number, number];
  ho: number;
  wo: number;
};

function geometry(xShape: number[], wShape: number[], opts: Conv2dOptions): Geometry {
  if (xShape.length !== 4) throw new Error(`conv2d: x must be [N, C, H, W], got shape [${xShape}]`);
  if (wShape.length !== 4) throw new Error(`conv2d: w must be [O, C, kh, kw], got shape [${wShape}]`);
  const [n, c, h, w] = xShape;
  const [o, cw, kh, kw] = wShape;
  if (c !== cw) throw new Error(`conv2d: x has ${c} channels but w expects ${cw} (x [${xShape}], w [${wShape}])`);
  const stride = opts.stride ?? 1;
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`conv2d: stride must be a positive integer, got ${stride}`);
  const padding = opts.padding ?? "VALID";
  const pads = (size: number, k: number): [number, number] => {
    if (padding === "VALID") return [0, 0];
    if (padding === "SAME") {
      const total = Math.max(0, (Math.ceil(size / stride) - 1) * stride + k - size);
      return [total >> 1, total - (total >> 1)];
    }
    if (typeof padding === "number" && Number.isInteger(padding) && padding >= 0) return [padding, padding];
    throw new Error(`conv2d: padding must be "SAME", "VALID" or a non-negative integer, got ${String(padding)}`);
  };
  const padH = pads(h, kh);
  const padW = pads(w, kw);
  const ho = Math.floor((h + padH[0] + padH[1] - kh) / stride) + 1;
  const wo = Math.floor((w + padW[0] + padW[1] - kw) / stride) + 1;
  if (ho < 1 || wo < 1)
    throw new Error(`conv2d: a ${kh}×${kw} kernel does not fit a ${h}×${w} input with padding ${String(padding)}`);
  return { n, c, h, w, o, kh, kw, stride, padH, padW, ho, wo };
}

/**
 * Rows start, start+s, …, start+(count−1)·s of axis `axis` (a view). Requires
 * start + count·s ≤ size of the axis (callers pad the end so it is).
 */
function stridedSlice(x: Arr, axis: number, start: number, count: number, s: number): Arr {
  const index: ([] | [number, number] | number)[] = x.shape.map(() => [] as []);
  if (s === 1) {
    index[axis] = [start, start + count];
    return x.slice(...index);
  }
  index[axis] = [start, start + count * s];
  const cut = x.slice(...index);
  const shape = [...cut.shape.slice(0, axis), count, s, ...cut.shape.slice(axis + 1)];
  const pick: ([] | number)[] = shape.map(() => [] as []);
  pick[axis + 1] = 0;
  return cut.reshape(shape).slice(...pick);
}

/**
 * Zero-pads x (NCHW) and moves channels last: [N, Hp, Wp, Cp], with Cp = C rounded up to a
 * multiple of 4 and extra rows/columns at the end so every strided tap slice of length Ho·s fits.
 */
function padChannelsLast(x: Arr, g: Geometry, cp: number): Arr {
  const { kh, kw, stride: s, padH, padW, ho, wo } = g;
  const extraH = Math.max(0, kh - 1 + ho * s - (g.h + padH[0] + padH[1]));
  const extraW = Math.max(0, kw - 1 + wo * s - (g.w + padW[0] + padW[1]));
  return np.pad(x.transpose([0, 2, 3, 1]), [
    [0, 0],
    [padH[0], padH[1] + extraH],
    [padW[0], padW[1] + extraW],
    [0, cp - g.c],
  ]);
}

/**
 * One matmul per kernel tap: yᵀ [O, N·Ho·Wo] = Σ_ij W_ij [O, C] · T_ijᵀ, where the tap
 * T_ij = x_padded[:, i + s·ho, j + s·wo, :] is materialised as a contiguous channels-last
 * [N·Ho·Wo, C] copy (cheap: runs of C floats). The result is returned as the NCHW view of
 * [O, N, Ho, Wo], whose rows of Ho·Wo stay contiguous for the consumer.
 *
 * What each matmul becomes on the wasm backend (and why these layouts): the forward product
 * reduces over C, contiguous in both operands (SIMD along K); the weight gradient dW_ij =
 * dyᵀ · T_ij reduces over N·Ho·Wo with lanes over C (SIMD tiles); the tap gradient
 * dT_ij = dy · W_ij has lanes over C (SIMD tiles); the input gradient is one fused sum of the
 * nine zero-padded tap gradients. C is padded to a multiple of 4 because the SIMD plans need it.
 */
function conv2dShifted(x: Arr, w: Arr, g: Geometry): Arr {
  const { n, c, o, kh, kw, stride: s, ho, wo } = g;
  const cp = roundUp4(c);
  const xp = padChannelsLast(x, g, cp);
  let wt = w.transpose([2, 3, 0, 1]); // [kh, kw, O, C]: tap (i, j) is the contiguous [O, C] wt[i, j]
  if (cp !== c) wt = np.pad(wt, [[0, 0], [0, 0], [0, 0], [0, cp - c]]);
  wt = materialize(wt);
  const m = n * ho * wo;
  let y: Arr | null = null;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const tap = stridedSlice(stridedSlice(xp.ref, 1, i, ho, s), 2, j, wo, s);
      const t = np.matmul(wt.ref.slice(i, j), materialize(tap).reshape([m, cp]).transpose()); // [O, M]
      y = y === null ? t : accumulate(y, t);
    }
  }
  xp.dispose();
  wt.dispose();
  return y!.reshape([o, n, ho, wo]).transpose([1, 0, 2, 3]);
}

/**
 * im2col for few input channels, where per-tap matmuls would reduce over a tiny K:
 * yᵀ [O, M] = W [O, K] · P [K, M], with the patches P materialised once (rows (c, i, j) in
 * OIHW order, K zero-padded to a multiple of 4 so both gradients vectorise). Returns NCHW.
 * Its input gradient goes through `pool_transpose`, which is slow on wasm; for a first layer
 * (the input image needs no gradient) that never runs.
 */
function conv2dIm2col(x: Arr, w: Arr, g: Geometry): Arr {
  const { n, c, o, kh, kw, stride: s, padH, padW, ho, wo } = g;
  const k = c * kh * kw;
  const kp = roundUp4(k);
  const xp = np.pad(x, [[0, 0], [0, 0], padH, padW]);
  // reduceWindow with the identity is jax-js's `pool` view: [N, C, Ho, Wo, kh, kw].
  const windows = lax.reduceWindow(xp, (v: Arr) => v, [kh, kw], [s, s]);
  let patches = windows.transpose([1, 4, 5, 0, 2, 3]).reshape([k, n * ho * wo]);
  let wm = w.reshape([o, k]);
  if (kp !== k) {
    patches = np.pad(patches, [[0, kp - k], [0, 0]]);
    wm = np.pad(wm, [[0, 0], [0, kp - k]]);
  }
  const y = np.matmul(materialize(wm), materialize(patches)); // [O, M]
  return y.reshape([o, n, ho, wo]).transpose([1, 0, 2, 3]);
}

function conv2dLax(x: Arr, w: Arr, g: Geometry): Arr {
  return lax.convGeneralDilated(x, w, [g.stride, g.stride], [g.padH, g.padW]);
}

/**
 * 2-D cross-correlation (PyTorch's `conv2d`, no bias): x [N, C, H, W] · w [O, C, kh, kw] →
 * [N, O, H', W']. Differentiable w.r.t. both arguments and usable inside `jit`; consumes x and w.
 */
export function conv2d(x: Arr, w: Arr, opts: Conv2dOptions = {}): Arr {
  return conv2dWith("auto", x, w, opts);
}

/** `conv2d` with an explicit strategy (benchmarks, tests, and comparing against `lax.conv`). */
export function conv2dWith(strategy: Conv2dStrategy, x: Arr, w: Arr, opts: Conv2dOptions = {}): Arr {
  const g = geometry(x.shape, w.shape, opts);
  const chosen = strategy === "auto" ? (g.c < IM2COL_MAX_CHANNELS ? "im2col" : "shifted") : strategy;
  switch (chosen) {
    case "shifted":
      return conv2dShifted(x, w, g);
    case "im2col":
      return conv2dIm2col(x, w, g);
    case "lax":
      return conv2dLax(x, w, g);
    default:
      throw new Error(`conv2d: unknown strategy "${String(chosen)}"`);
  }
}

function poolGeometry(what: string, x: Arr, size: number, stride: number) {
  if (x.ndim !== 4) throw new Error(`${what}: x must be [N, C, H, W], got shape [${x.shape}]`);
  if (!Number.isInteger(size) || size < 1) throw new Error(`${what}: size must be a positive integer, got ${size}`);
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`${what}: stride must be a positive integer, got ${stride}`);
  const [, , h, w] = x.shape;
  if (size > h || size > w) throw new Error(`${what}: window ${size} is larger than the ${h}×${w} input`);
  const ho = Math.floor((h - size) / stride) + 1;
  const wo = Math.floor((w - size) / stride) + 1;
  return { h, w, ho, wo };
}

/**
 * The size² strided views x[:, :, a + stride·i, b + stride·j] (window offsets (a, b) in row-major
 * order), each [N, C, Ho, Wo]. Consumes x.
 */
function windowViews(x: Arr, size: number, stride: number, ho: number, wo: number): Arr[] {
  const [n, c, h, w] = x.shape;
  if (size <= stride) {
    // Non-overlapping windows: crop (or zero-extend) to Ho·s × Wo·s, reshape to
    // [N, C, Ho, s, Wo, s] and pick (a, b). Views and their gradients (a pad of one element on a
    // size-s axis) stay simple; the shifted-slice form below costs ~4× more in the backward pass.
    const th = ho * stride;
    const tw = wo * stride;
    let xc = x;
    if (th > h || tw > w) xc = np.pad(xc, [[0, 0], [0, 0], [0, Math.max(0, th - h)], [0, Math.max(0, tw - w)]]);
    if (th < h || tw < w) xc = xc.slice([], [], [0, th], [0, tw]);
    const r = xc.reshape([n, c, ho, stride, wo, stride]);
    const views: Arr[] = [];
    for (let a = 0; a < size; a++) for (let b = 0; b < size; b++) views.push(r.ref.slice([], [], [], a, [], b));
    r.dispose();
    return views;
  }
  const needH = size - 1 + ho * stride;
  const needW = size - 1 + wo * stride;
  let xp = x;
  if (needH > h || needW > w) xp = np.pad(x, [[0, 0], [0, 0], [0, Math.max(0, needH - h)], [0, Math.max(0, needW - w)]]);
  else if (needH < h || needW < w) xp = x.slice([], [], [0, needH], [0, needW]);
  const views: Arr[] = [];
  for (let a = 0; a < size; a++)
    for (let b = 0; b < size; b++) views.push(stridedSlice(stridedSlice(xp.ref, 2, a, ho, stride), 3, b, wo, stride));
  xp.dispose();
  return views;
}

/**
 * Max pooling on NCHW without padding (PyTorch's `max_pool2d(x, size, stride)`, floor mode).
 * Differentiable; the gradient goes to the first maximal element of each window (row-major),
 * as in PyTorch. Consumes x.
 */
export function maxPool2d(x: Arr, size = 2, stride = size): Arr {
  const { ho, wo } = poolGeometry("maxPool2d", x, size, stride);
  // Elementwise maxima of strided views rather than reshape + max-reduce: jax-js runs small
  // reductions scalar, and max's gradient through `reduce` needs two more reductions (it splits
  // ties evenly). np.maximum(a, b) sends the gradient to a on ties, so earlier views win.
  let views = windowViews(x, size, stride, ho, wo);
  while (views.length > 1) {
    const next: Arr[] = [];
    for (let i = 0; i + 1 < views.length; i += 2) next.push(np.maximum(views[i], views[i + 1]));
    if (views.length % 2 === 1) next.push(views[views.length - 1]);
    views = next;
  }
  return views[0];
}

/** Average pooling on NCHW without padding (PyTorch's `avg_pool2d(x, size, stride)`). Consumes x. */
export function avgPool2d(x: Arr, size = 2, stride = size): Arr {
  const { ho, wo } = poolGeometry("avgPool2d", x, size, stride);
  const views = windowViews(x, size, stride, ho, wo);
  return views.reduce((acc, v) => acc.add(v)).mul(1 / (size * size));
}
