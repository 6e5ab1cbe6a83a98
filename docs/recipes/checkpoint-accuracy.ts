/**
 * Validation and test accuracy of a pretraining run's step checkpoints, to see where a task's
 * accuracy climbs and to pick a base with headroom for adaptation (the learning rate is constant,
 * so `tiller lm pretrain --steps N` with the same options and seed retraces step N on one device).
 *
 *   node --import tsx docs/recipes/checkpoint-accuracy.ts runs/<pretrain-run> 2000 3000 4000
 */
import { startEngine } from "../../src/engine/device.js";
import { evalSplits } from "../../src/data/tasks/index.js";
import { fromHost, treeDispose } from "../../src/engine/tree.js";
import { unpackTree } from "../../src/lm/checkpoint.js";
import { taskAccuracy } from "../../src/lm/evaluate.js";
import { createGenerator } from "../../src/lm/generate.js";
import { loadLm } from "../../src/lm/store.js";
import { Run } from "../../src/runs/store.js";

async function main(dir: string, steps: string[], tasks: string[]) {
  await startEngine();
  const lm = loadLm(dir);
  const run = Run.open(dir);
  const gen = createGenerator(lm.cfg);
  for (const s of steps) {
    const params = fromHost(unpackTree(run.loadCheckpoint(`step-${s}`).tensors, "params"));
    const row: string[] = [];
    for (const task of tasks) {
      const splits = evalSplits(task);
      for (const split of ["validation", "test"] as const) {
        const r = await taskAccuracy(gen, params, lm.tokenizer, splits[split]);
        row.push(`${task} ${split} ${(100 * r.accuracy).toFixed(1)}%`);
      }
    }
    treeDispose(params);
    console.log(`step ${s}: ${row.join(", ")}`);
  }
  gen.dispose();
}

const [dir, ...steps] = process.argv.slice(2);
const tasks = (process.env.TASKS ?? "math,code,reasoning").split(",");
if (dir && steps.length) await main(dir, steps, tasks);
else
  console.error(
    "usage: [TASKS=a,b] node --import tsx docs/recipes/checkpoint-accuracy.ts runs/<run> <step>...",
  );
