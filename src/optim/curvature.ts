/**
 * Diagonal-Hessian estimates for optimisers that ask for one (Sophia). Each is a pure function of
 * the params and an explicit random probe, so a test can feed the same probe to a reference.
 *
 *   hutchinson:             ĥ = u ⊙ (H u), u Rademacher; E[ĥ] = diag(H). H u = jvp(grad(loss), u).
 *   gaussNewtonBartlett:    ĥ = B·ĝ ⊙ ĝ, ĝ = ∇ mean CE(logits, ŷ), ŷ ~ softmax(logits) (Bartlett's
 *                           identity makes E[B·ĝ⊙ĝ] the Gauss–Newton diagonal of the mean loss).
 */
import { grad, jvp, numpy as np, random } from "../engine/jax.js";
import { splitKey, type Key } from "../engine/prng.js";
import { namedLeaves, fromNamedLeaves, treeDispose, treeMap, treeRef, type Params } from "../engine/tree.js";
import { logSoftmax } from "../nn/activations.js";

/** u ⊙ (H u) for the Hessian H of `loss` at `params`. Consumes params and u. */
export function hutchinson(loss: (params: Params) => np.Array, params: Params, u: Params): Params {
  const [gradient, hu] = jvp(grad(loss), [params], [treeRef(u)]) as [Params, Params];
  treeDispose(gradient); // jvp also returns the gradient itself; only the tangent part is wanted
  return treeMap((ui, hui) => ui.mul(hui), u, hu);
}

/** B·ĝ⊙ĝ with ĝ the gradient of the mean cross-entropy of `logits(params)` against `labels`. Consumes both. */
export function gaussNewtonBartlett(
  logits: (params: Params) => np.Array,
  params: Params,
  labels: np.Array,
): Params {
  const b = labels.shape[0];
  const ce = (p: Params) => {
    const z = logits(p);
    const oneHot = labelsOneHot(labels.ref, z.shape[z.ndim - 1], z.dtype);
    return logSoftmax(z, -1).mul(oneHot).sum().div(-b);
  };
  const g = grad(ce)(params) as Params;
  labels.dispose();
  return treeMap((x) => np.square(x).mul(b), g);
}

function labelsOneHot(labels: np.Array, classes: number, dtype: np.DType): np.Array {
  return labels
    .reshape([-1, 1])
    .equal(np.arange(classes).reshape([1, classes]))
    .astype(dtype);
}

/** A tree of independent ±1 entries shaped like `params` (borrowed), in the params' dtypes. Consumes `key`. */
export function rademacherLike(key: Key, params: Params): Params {
  const leaves = namedLeaves(params);
  const keys = splitKey(key, Math.max(1, leaves.length));
  return fromNamedLeaves(
    leaves.map(([name, p], i) => [name, random.rademacher(keys[i], { shape: p.shape }).astype(p.dtype)]),
  );
}

/** One label per row of `logits` (consumed), drawn from softmax(logits). Consumes `key`. */
export function sampleLabels(key: Key, logits: np.Array): np.Array {
  return random.categorical(key, logits, { axis: -1 });
}
