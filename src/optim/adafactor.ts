/**
 * AdaFactor (Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost"),
 * Algorithms 4–5 with the options of the reference implementations (t ≥ 1 counts updates):
 *   β̂2ₜ = 1 − t^c (c = −0.8);  G² = g² + ε1
 *   params with ≥ 2 dims (factored over the last two):  R ← β̂2ₜ·R + (1−β̂2ₜ)·mean_cols(G²);
 *     C ← β̂2ₜ·C + (1−β̂2ₜ)·mean_rows(G²);  V̂ = (R / mean(R)) ⊗ C
 *   vectors:  V̂ ← β̂2ₜ·V̂ + (1−β̂2ₜ)·G²
 *   U = g / √V̂;  U ← U / max(1, RMS(U)/d)                        (update clipping, d = 1)
 *   αₜ = relative step ? min(10⁻², 1/√t) (warm-up init: min(10⁻⁶·t, 1/√t)) : lr
 *   parameter scaling: αₜ ← αₜ·max(ε2, RMS(w))
 *   momentum β1 (optional): m ← β1·m + (1−β1)·αₜU, else m = αₜU
 *   w ← w − αₜ·λ·w − m
 * Memory: a factored m×n matrix keeps m + n numbers instead of m·n.
 * Defaults ε1 1e-30, ε2 1e-3, d 1, c −0.8, no momentum, λ 0, external lr 1e-3 without relative
 * step or parameter scaling (the paper's own setting: `relativeStep` and `scaleParameter` true).
 */
import { numpy as np } from "../engine/jax.js";
import { fromNamedLeaves, namedLeaves, type Params } from "../engine/tree.js";
import { UsageError } from "../errors.js";
import {
  addc,
  checkHyper,
  ema,
  mulc,
  rms,
  scalar,
  treeDtype,
  zeroCount,
  type GradientTransformation,
  type LearningRate,
} from "./transform.js";

export type AdafactorOptions = {
  /** External learning rate; ignored with `relativeStep`. */
  lr?: LearningRate;
  eps1?: number;
  eps2?: number;
  clipThreshold?: number;
  decayRate?: number;
  /** First-moment coefficient; undefined or 0 keeps no momentum (the memory-saving default). */
  b1?: number;
  weightDecay?: number;
  relativeStep?: boolean;
  scaleParameter?: boolean;
  warmupInit?: boolean;
};

const factored = (p: np.Array) => p.ndim >= 2;

export function adafactor(opts: AdafactorOptions): GradientTransformation {
  const {
    lr,
    eps1 = 1e-30,
    eps2 = 1e-3,
    clipThreshold = 1,
    decayRate = -0.8,
    b1 = 0,
    weightDecay = 0,
    relativeStep = false,
    scaleParameter = false,
    warmupInit = false,
  } = opts;
  if (!relativeStep && lr === undefined) throw new UsageError("adafactor needs lr unless relativeStep is on");
  if (typeof lr === "number") checkHyper("lr", lr, { min: 0 });
  checkHyper("eps1", eps1, { min: 0 });
  checkHyper("eps2", eps2, { min: 0 });
  checkHyper("clip threshold", clipThreshold, { minExclusive: 0 });
  checkHyper("decay rate", decayRate, { max: 0 });
  checkHyper("b1", b1, { min: 0, maxExclusive: 1 });
  checkHyper("weight decay", weightDecay, { min: 0 });

  return {
    init(params) {
      const slots = namedLeaves(params).flatMap(([name, p]): [string, np.Array][] => {
        const own: [string, np.Array][] = factored(p)
          ? [
              [`${name}.row`, np.zeros(p.shape.slice(0, -1), { dtype: p.dtype })],
              [`${name}.col`, np.zeros([...p.shape.slice(0, -2), p.shape[p.ndim - 1]], { dtype: p.dtype })],
            ]
          : [[`${name}.v`, np.zeros(p.shape, { dtype: p.dtype })]];
        if (b1 > 0) own.push([`${name}.m`, np.zerosLike(p.ref)]);
        return own;
      });
      return { count: zeroCount(), slots: fromNamedLeaves(slots) };
    },
    update(updates, state, params) {
      const count = (state.count as np.Array).add(1);
      const dtype = treeDtype(updates);
      const t = count.ref.astype(dtype);
      const beta2 = addc(np.exp(mulc(np.log(t.ref), decayRate)).neg(), 1); // 1 − t^c
      let alpha: np.Array;
      if (relativeStep) {
        const cap = warmupInit ? mulc(t.ref, 1e-6) : scalar(1e-2, dtype);
        alpha = np.minimum(cap, np.reciprocal(np.sqrt(t.ref)));
      } else alpha = typeof lr === "function" ? lr(count.ref.sub(1), dtype) : scalar(lr!, dtype);
      t.dispose();
      const slots = new Map(namedLeaves(state.slots as Params));
      const take = (name: string) => slots.get(name)!;
      const p = new Map(namedLeaves(params));
      const nextSlots: [string, np.Array][] = [];
      const out: [string, np.Array][] = [];
      for (const [name, g] of namedLeaves(updates)) {
        const w = p.get(name)!;
        const g2 = addc(np.square(g.ref), eps1);
        let u: np.Array;
        if (factored(g)) {
          const row = take(`${name}.row`)
            .mul(beta2.ref)
            .add(g2.ref.mean(-1).mul(np.negative(beta2.ref).add(1)));
          const col = take(`${name}.col`)
            .mul(beta2.ref)
            .add(g2.mean(-2).mul(np.negative(beta2.ref).add(1)));
          const rowFactor = np
            .reciprocal(np.sqrt(row.ref.div(row.ref.mean(-1, { keepdims: true }))))
            .reshape([...row.shape, 1]);
          const colFactor = np
            .reciprocal(np.sqrt(col.ref))
            .reshape([...col.shape.slice(0, -1), 1, col.shape.at(-1)!]);
          u = g.mul(rowFactor).mul(colFactor);
          nextSlots.push([`${name}.row`, row], [`${name}.col`, col]);
        } else {
          const v = take(`${name}.v`)
            .mul(beta2.ref)
            .add(g2.mul(np.negative(beta2.ref).add(1)));
          u = g.div(np.sqrt(v.ref));
          nextSlots.push([`${name}.v`, v]);
        }
        u = u.ref.div(np.maximum(rms(u).div(clipThreshold), 1));
        const stepSize = scaleParameter
          ? alpha.ref.mul(np.maximum(rms(w.ref), scalar(eps2, dtype)))
          : alpha.ref;
        u = u.mul(stepSize.ref);
        if (b1 > 0) {
          const m = ema(take(`${name}.m`), u, b1);
          nextSlots.push([`${name}.m`, m.ref]);
          u = m;
        }
        if (weightDecay > 0) u = u.add(w.ref.mul(mulc(stepSize.ref, weightDecay)));
        stepSize.dispose();
        out.push([name, u.neg()]);
      }
      beta2.dispose();
      alpha.dispose();
      return { updates: fromNamedLeaves(out), state: { count, slots: fromNamedLeaves(nextSlots) } };
    },
  };
}
