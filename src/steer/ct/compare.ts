/**
 * The transfer comparison of the paper's main table, on one downstream task: the same frozen
 * source model steered five ways, each scored on the task's test split after choosing its epoch
 * (or β) on a validation split held out of the task's training data.
 *
 *   linear probe          new head on frozen features
 *   linear probe + CT     the same, with β searched (β = 1 included, so never worse on validation)
 *   trainable CT          per-channel β, c and the head trained, weights frozen
 *   LoRA                  rank-r adapters on every linear/conv weight and the head trained
 *   full fine-tuning      everything trained
 */
import { namedLeaves, treeDispose, type Params } from "../../engine/tree.js";
import type { ImageSplit } from "../../data/dataset.js";
import type { ModelConfig } from "../../nn/models/index.js";
import { featureDim, type HeadOptions } from "./probe.js";
import { searchBeta, type BetaScore, type SearchResult } from "./search.js";
import {
  fineTune,
  fullFineTune,
  lora,
  trainableCt,
  type FineTuneOptions,
  type Parametrisation,
} from "./finetune.js";

import { METHODS, type MethodName } from "../../requests/ct.js";

export { METHODS, type MethodName };

export type CompareRow = {
  method: string;
  trainableParams: number;
  valAccuracy: number;
  testAccuracy: number;
  note: string;
};

export type CompareOptions = {
  betas: number[];
  c?: number;
  head?: HeadOptions;
  finetune?: FineTuneOptions;
  loraRank?: number;
  seed?: number;
  methods?: MethodName[];
  onBeta?(score: BetaScore, index: number, total: number): void;
  onMethod?(name: string): void;
  /** After each method: the rows so far (a crash loses only the method that was running). */
  onRows?(rows: CompareRow[], search: SearchResult | null): void | Promise<void>;
};

/** Runs the chosen methods (default all five). Borrows `params`. */
export async function compareMethods(
  config: ModelConfig,
  params: Params,
  task: { train: ImageSplit; val: ImageSplit; test: ImageSplit; classes: number },
  opts: CompareOptions,
): Promise<{ rows: CompareRow[]; search: SearchResult | null }> {
  const methods = opts.methods ?? [...METHODS];
  const seed = opts.seed ?? 0;
  const rows: CompareRow[] = [];
  const push = async (row: CompareRow) => {
    rows.push(row);
    await opts.onRows?.([...rows], search);
  };
  const headParams = featureDim(config, params) * task.classes + task.classes;
  let search: SearchResult | null = null;
  if (methods.includes("linear-probe") || methods.includes("linear-probe-ct")) {
    opts.onMethod?.("linear probe (+ CT β search)");
    const betas = methods.includes("linear-probe-ct") ? opts.betas : [1];
    search = await searchBeta(config, params, task, {
      betas,
      c: opts.c,
      head: { seed, ...opts.head },
      onBeta: opts.onBeta,
    });
    if (methods.includes("linear-probe"))
      await push({
        method: "linear probe",
        trainableParams: headParams,
        ...accs(search.base),
        note: "backbone frozen",
      });
    if (methods.includes("linear-probe-ct"))
      await push({
        method: "linear probe + CT",
        trainableParams: headParams,
        ...accs(search.best),
        note: `β = ${search.best.beta} (c = ${search.c}) chosen on validation; weights frozen`,
      });
  }
  const tuned: [MethodName, () => Parametrisation, (r: Params) => Promise<string> | string][] = [
    ["trainable-ct", () => trainableCt(config, params, { classes: task.classes, seed }), ctSummary],
    [
      "lora",
      () => lora(config, params, { classes: task.classes, seed, rank: opts.loraRank ?? 1 }),
      () => `rank ${opts.loraRank ?? 1} on every linear/conv weight`,
    ],
    [
      "full",
      () => fullFineTune(config, params, { classes: task.classes, seed }),
      () => "all weights trained",
    ],
  ];
  for (const [name, make, summary] of tuned) {
    if (!methods.includes(name)) continue;
    const p = make();
    opts.onMethod?.(p.kind);
    const r = await fineTune(p, task, { seed, ...opts.finetune });
    const note = `${await summary(r.trainable)}; best epoch ${r.bestEpoch}`;
    treeDispose(r.trainable);
    await push({
      method: r.method,
      trainableParams: r.trainableParams,
      valAccuracy: r.valAccuracy,
      testAccuracy: r.testAccuracy,
      note,
    });
  }
  return { rows, search };
}

function accs(s: BetaScore) {
  return { valAccuracy: s.valAccuracy, testAccuracy: s.testAccuracy };
}

/** Mean trained β and c (through the sigmoid), as the paper reports them. Borrows `trainable`. */
async function ctSummary(trainable: Params): Promise<string> {
  const sums = { beta: [0, 0], c: [0, 0] };
  for (const [name, x] of namedLeaves(trainable.ct as Params)) {
    const key = name.endsWith(".beta") ? "beta" : "c";
    for (const v of await x.ref.data()) {
      sums[key][0] += 1 / (1 + Math.exp(-v));
      sums[key][1] += 1;
    }
  }
  const mean = (k: "beta" | "c") => (sums[k][0] / sums[k][1]).toFixed(3);
  return `per-channel β, c; mean β ${mean("beta")}, mean c ${mean("c")}`;
}
