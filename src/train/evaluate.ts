import { jit, numpy as np, nn } from "../engine/jax.js";
import { logSoftmax } from "../nn/activations.js";
import { treeRef, type Params } from "../engine/tree.js";
import type { ImageSplit } from "../data/dataset.js";
import type { Model } from "../nn/models/index.js";

/** Summed cross-entropy and number of correct predictions over one batch (sums, so batches add up). */
export function batchLossAndCorrect(model: Model) {
  return (params: Params, x: np.Array, y: np.Array): [np.Array, np.Array] => {
    const logits = model.apply(params, x);
    const classes = logits.shape[1];
    const correct = np.argmax(logits.ref, -1).equal(y.ref).astype(np.float32).sum();
    const loss = logSoftmax(logits, -1).mul(nn.oneHot(y, classes)).sum().neg();
    return [loss, correct];
  };
}

export type Evaluation = { loss: number; accuracy: number };

/** Mean loss and accuracy of `params` (borrowed) over a whole split, in batches. */
export async function evaluate(
  model: Model,
  params: Params,
  split: ImageSplit,
  batchSize = 1000,
  step?: (params: Params, x: np.Array, y: np.Array) => [np.Array, np.Array],
): Promise<Evaluation> {
  const own = step ? null : jit(batchLossAndCorrect(model));
  const f = step ?? own!;
  const dim = split.shape[0] * split.shape[1] * split.shape[2];
  let loss = 0;
  let correct = 0;
  for (let start = 0; start < split.n; start += batchSize) {
    const n = Math.min(batchSize, split.n - start);
    const x = np.array(split.images.subarray(start * dim, (start + n) * dim)).reshape([n, ...split.shape]);
    const y = np.array(split.labels.subarray(start, start + n), { dtype: np.int32 });
    const [l, c] = f(treeRef(params), x, y);
    loss += (await l.data())[0];
    correct += (await c.data())[0];
  }
  own?.dispose();
  return { loss: loss / split.n, accuracy: correct / split.n };
}
