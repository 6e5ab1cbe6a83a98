/** Chapter 1 of the tour: the MLP trained from each initialiser. */
import { join } from "node:path";
import { compareInits, tableCells, TABLE_COLUMNS } from "../../train/init-compare.js";
import type { TrainCallbacks } from "../../train/loop.js";
import {
  checkInterrupted,
  fixed,
  trainProgress,
  type Chapter,
  type UnitBody,
  type UnitContext,
} from "./outcome.js";

export const INITS_CHAPTER: Chapter = {
  number: 1,
  title: "1. Initialisers",
  intro:
    "The Fashion-MNIST MLP 784-512-64-10 (ReLU) trained with Adam from each initialiser: the same seed, data order and optimiser. Error rate after training; the spectral columns describe the weight matrices at init.",
};

const CAPTIONS = {
  loss: "Training loss per step of each initialiser (trailing mean over 5% of an epoch).",
};

export async function initsUnit(ctx: UnitContext): Promise<UnitBody> {
  const s = ctx.settings.inits;
  const p = ctx.progress;
  let training: TrainCallbacks = {};
  const { run, rows, status } = await compareInits(
    {
      model: "mlp",
      modelOptions: { hidden: [512, 64], activation: "relu" },
      optimizer: { name: "adam", lr: s.lr },
      epochs: s.epochs,
      batchSize: 256,
      seed: 0,
      limit: s.limit,
      dataDir: ctx.dataDir,
      runsRoot: ctx.root,
      name: ctx.id,
      inits: s.inits,
    },
    {
      signal: ctx.signal,
      callbacks: {
        onMethodStart: ({ method }) => {
          training = trainProgress(p, method);
        },
        onMethodEnd: (r) =>
          p.log(`  ${r.method}: error ${fixed(r.errorRate, 2)}% · ${fixed(r.executionTime, 1)} s`),
        train: {
          onStart: (i) => training.onStart?.(i),
          onStep: (e) => training.onStep?.(e),
          onEpoch: (e, params) => training.onEpoch?.(e, params),
        },
      },
    },
  );
  checkInterrupted(status);
  const best = rows.filter((r) => Number.isFinite(r.errorRate)).sort((a, b) => a.errorRate - b.errorRate)[0];
  return {
    lines: rows.map(
      (r) =>
        `${r.method.padEnd(16)} error ${fixed(r.errorRate, 2)}% · condition number ${fixed(r.conditionNumber, 1)} · effective rank ratio ${fixed(r.effectiveRankRatio, 3)}`,
    ),
    tables: [
      {
        columns: [...TABLE_COLUMNS],
        rows: rows.map(tableCells),
        source: join(run.id, "table.json"),
      },
    ],
    figures: [
      {
        file: join(run.id, "figures", "loss.svg"),
        caption: CAPTIONS.loss,
        gallery: "tour-inits-loss",
      },
    ],
    values: { best: best?.method ?? null, bestErrorRate: best?.errorRate ?? null },
  };
}
