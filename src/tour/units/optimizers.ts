/** Chapter 2 of the tour: SGD, Adam and Lion on the same MLP, weights and batches. */
import { join, relative } from "node:path";
import { firstExamples } from "../../data/subsets.js";
import { createModel } from "../../nn/models/index.js";
import { Run } from "../../runs/store.js";
import { compareMembers, runComparison, type SummaryRow } from "../../train/compare.js";
import { createDynamicsRecorder, mergeCallbacks } from "../../train/dynamics.js";
import { loadDataFor, resolveTrainConfig } from "../../train/session.js";
import {
  checkInterrupted,
  fixed,
  pct,
  trainProgress,
  type Chapter,
  type OutcomeTable,
  type UnitBody,
  type UnitContext,
} from "./outcome.js";

export const OPTIMIZERS_CHAPTER: Chapter = {
  number: 2,
  title: "2. Optimisers",
  intro:
    "SGD with momentum, Adam and Lion train the same MLP from the same initial weights on the same batches (the book's learning rates).",
};

const CAPTIONS = {
  compare:
    "SGD (lr 0.01, momentum 0.9), Adam (1e-3) and Lion (1e-4) from the same initial weights and data order: training loss, test accuracy, gradient norm, optimiser state.",
};

export async function optimizersUnit(ctx: UnitContext): Promise<UnitBody> {
  const s = ctx.settings.optimizers;
  const p = ctx.progress;
  const members = compareMembers(["sgd", "adam", "lion"]);
  const common = {
    model: "mlp" as const,
    modelOptions: { hidden: [512, 64], activation: "relu" },
    epochs: s.epochs,
    batchSize: 256,
    seed: 0,
    limit: s.limit,
    dataDir: ctx.dataDir,
    logEvery: s.logEvery,
  };
  const adam = members.find((m) => m.label === "adam")!;
  const config = resolveTrainConfig({ ...common, optimizer: adam.optimizer }, "adam");
  const dataset = loadDataFor(config);
  const adamDir = join(ctx.root, ctx.id, "members", "adam");
  // The Adam run is the landscape chapter's subject: record its dynamics step by step as it trains.
  const recorder = createDynamicsRecorder({
    run: new Run(adamDir),
    model: createModel(config.model),
    every: "step",
    probe: firstExamples(dataset.train, 256),
  });
  try {
    const { run, rows } = await runComparison(
      { ...common, members, runsRoot: ctx.root, name: ctx.id },
      {
        dataset,
        signal: ctx.signal,
        callbacks: (label) =>
          label === "adam" ? mergeCallbacks(trainProgress(p, label), recorder) : trainProgress(p, label),
      },
    );
    checkInterrupted(rows.some((r) => r.status === "interrupted") ? "interrupted" : "done");
    const table = summaryTable(rows, run.id);
    return {
      lines: rows.map(
        (r) =>
          `${r.optimizer.padEnd(5)} test accuracy ${pct(r.final_test_accuracy)} · test loss ${fixed(r.final_test_loss)} · optimiser state ${((r.opt_state_bytes ?? 0) / 2 ** 20).toFixed(2)} MB · ${fixed(r.seconds, 0)} s`,
      ),
      tables: [table],
      figures: [
        {
          file: join(run.id, "figures", "compare.svg"),
          caption: CAPTIONS.compare,
          gallery: "tour-optimizers",
        },
      ],
      values: {
        adamRun: relative(ctx.root, adamDir),
        accuracy: Object.fromEntries(rows.map((r) => [r.optimizer, r.final_test_accuracy])),
      },
    };
  } finally {
    recorder.dispose();
  }
}

function summaryTable(rows: SummaryRow[], runId: string): OutcomeTable {
  return {
    columns: [
      "optimiser",
      "status",
      "epochs",
      "train loss",
      "test loss",
      "test accuracy",
      "‖g‖ last epoch",
      "state MB",
      "time s",
    ],
    rows: rows.map((r) => [
      r.optimizer,
      r.status,
      r.epochs,
      fixed(r.final_train_loss),
      fixed(r.final_test_loss),
      pct(r.final_test_accuracy),
      fixed(r.grad_norm_last_epoch, 3),
      ((r.opt_state_bytes ?? 0) / 2 ** 20).toFixed(2),
      fixed(r.seconds, 1),
    ]),
    source: join(runId, "summary.json"),
  };
}
