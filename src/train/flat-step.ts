/**
 * The training step of `makeTrainStep` (src/train/loop.ts) over flat parameters: the params and
 * the optimiser state are each one float32 buffer between steps (src/optim/flat.ts), the model
 * sees slices of it, and the update, the state and the gradient norm are a few kernels instead of
 * a few per leaf. Same arithmetic per element, so the same losses and weights as the tree step for
 * every optimiser in FLAT_OPTIMIZERS (test/train/flat-step.test.ts).
 *
 * Ownership as in `makeTrainStep`: the step consumes `flat`, `state` and the batch.
 */
import { jit, numpy as np, valueAndGrad } from "../engine/jax.js";
import type { Params } from "../engine/tree.js";
import type { Model } from "../nn/models/index.js";
import { unflattenParams, type FlatLayout } from "../optim/flat.js";
import type { GradientTransformation, OptState } from "../optim/index.js";
import { batchLossAndCorrect } from "./evaluate.js";

/** [flat params, state, mean loss, correct count, gradient norm]. */
export type FlatStepOutput = [
  flat: np.Array,
  state: OptState,
  loss: np.Array,
  correct: np.Array,
  gradNorm: np.Array,
];

export type FlatTrainStep = {
  (flat: np.Array, state: OptState, x: np.Array, y: np.Array): FlatStepOutput;
  dispose(): void;
};

/** The optimiser's state for flat params: its `init` on a one-leaf tree. Borrows `flat`. */
export function initFlatState(optimizer: GradientTransformation, flat: np.Array): OptState {
  return optimizer.init({ all: flat });
}

export function makeFlatTrainStep(
  model: Model,
  optimizer: GradientTransformation,
  layout: FlatLayout,
): FlatTrainStep {
  if (optimizer.curvature) throw new Error("flat params: optimisers that take curvature are not supported");
  const objective = batchLossAndCorrect(model);
  const meanLoss = (flat: np.Array, x: np.Array, y: np.Array): [np.Array, np.Array] => {
    const n = x.shape[0];
    const [loss, correct] = objective(unflattenParams(flat, layout), x, y);
    return [loss.div(n), correct];
  };
  const step = jit((flat: np.Array, state: OptState, x: np.Array, y: np.Array): FlatStepOutput => {
    const [[loss, correct], grad] = valueAndGrad(meanLoss, { hasAux: true })(flat.ref, x, y);
    const gradNorm = np.sqrt(np.square(grad.ref).sum());
    const params: Params = { all: flat };
    const { updates, state: next } = optimizer.update({ all: grad }, state, params);
    return [flat.add(updates.all as np.Array), next, loss, correct, gradNorm];
  });
  return Object.assign((f: np.Array, s: OptState, x: np.Array, y: np.Array) => step(f, s, x, y), {
    dispose: () => step.dispose(),
  });
}
