/**
 * The training step every benchmark times: a model on a random 28×28 batch (the timing does not
 * depend on the data), its jitted step (forward, backward, update) and the arrays it owns.
 * TILLER_FLAT_PARAMS=1 times the flat-params step (src/train/flat-step.ts) where the optimiser allows.
 */
import { random } from "../src/engine/jax.js";
import { keyFromSeed, splitKey } from "../src/engine/prng.js";
import { createModel, modelConfig } from "../src/nn/models/index.js";
import { createOptimizer, type OptimizerConfig } from "../src/optim/index.js";
import { canFlatten, flatLayoutOf, flattenParams } from "../src/optim/flat.js";
import { makeTrainStep } from "../src/train/loop.js";
import { initFlatState, makeFlatTrainStep } from "../src/train/flat-step.js";

export type BenchModel = "mlp" | "cnn" | "vit";

/** A random Fashion-MNIST-shaped batch: images N(0, 1), labels uniform over the 10 classes. */
export function randomBatch(key: ReturnType<typeof keyFromSeed>, n: number) {
  const [kx, ky] = splitKey(key, 2);
  const x = random.normal(kx, [n, 1, 28, 28]);
  const y = random.randint(ky, { minval: 0, maxval: 10, shape: [n] });
  return { x, y };
}

/**
 * `run(sync)` takes one step; with `sync` it waits for the loss (the training loop's behaviour),
 * without it the loss is dropped and the step stays queued. It resolves to the host milliseconds
 * until the jitted step returned (its kernels dispatched). `dispose` releases the step and batch.
 */
export function syntheticTrainStep(name: BenchModel, optimizer: OptimizerConfig, batchSize: number) {
  if (process.env.TILLER_FLAT_PARAMS === "1" && canFlatten(optimizer))
    return flatTrainStep(name, optimizer, batchSize);
  const model = createModel(modelConfig(name, { inputShape: [1, 28, 28], classes: 10 }));
  const opt = createOptimizer(optimizer);
  let params = model.init(keyFromSeed(0));
  let state = opt.init(params);
  const step = makeTrainStep(model, opt);
  const { x, y } = randomBatch(keyFromSeed(1), batchSize);
  return {
    async run(sync = true): Promise<number> {
      const t0 = performance.now();
      const [p, s, loss, correct, gradNorm] = step(params, state, x.ref, y.ref);
      const hostMs = performance.now() - t0;
      params = p;
      state = s;
      correct.dispose();
      gradNorm.dispose();
      if (sync) await loss.data();
      else loss.dispose();
      return hostMs;
    },
    dispose(): void {
      step.dispose();
      x.dispose();
      y.dispose();
    },
  };
}

/** The same with params and optimiser state as flat buffers (src/train/flat-step.ts). */
function flatTrainStep(name: BenchModel, optimizer: OptimizerConfig, batchSize: number) {
  const model = createModel(modelConfig(name, { inputShape: [1, 28, 28], classes: 10 }));
  const opt = createOptimizer(optimizer);
  const tree = model.init(keyFromSeed(0));
  const layout = flatLayoutOf(tree);
  let flat = flattenParams(tree);
  let state = initFlatState(opt, flat);
  const step = makeFlatTrainStep(model, opt, layout);
  const { x, y } = randomBatch(keyFromSeed(1), batchSize);
  return {
    async run(sync = true): Promise<number> {
      const t0 = performance.now();
      const [f, s, loss, correct, gradNorm] = step(flat, state, x.ref, y.ref);
      const hostMs = performance.now() - t0;
      flat = f;
      state = s;
      correct.dispose();
      gradNorm.dispose();
      if (sync) await loss.data();
      else loss.dispose();
      return hostMs;
    },
    dispose(): void {
      step.dispose();
      x.dispose();
      y.dispose();
    },
  };
}
