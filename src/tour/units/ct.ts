/** Chapter 4 of the tour: Curvature Tuning steers a source MLP to new classes. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadTask } from "../../data/subsets.js";
import { Run, type EpochEvent } from "../../runs/store.js";
import { pretrain as pretrainSource } from "../../steer/ct/pretrain.js";
import { compareTable as ctTable, runCompare } from "../../steer/ct/session.js";
import { compareProgress } from "../../steer/ct/progress.js";
import type { TrainResult } from "../../train/loop.js";
import type { TrainConfig } from "../../train/config.js";
import { resumeTraining } from "../../train/session.js";
import type { TourScale } from "../plan.js";
import {
  checkInterrupted,
  noiseOf,
  pct,
  points,
  trainProgress,
  type Chapter,
  type UnitBody,
  type UnitContext,
  type UnitOutcome,
} from "./outcome.js";

/** Where the full-size measurement of this chapter is written up, with the commands that made it. */
export const CT_RESULTS = "docs/results/curvature-tuning.md";

export const CT_CHAPTER: Chapter = {
  number: 4,
  title: "4. Curvature Tuning on a transfer task",
  intro:
    "A source MLP trained on Fashion-MNIST classes 0–4 is steered to classes 5–9. Linear probe + CT replaces every ReLU by CTU(β, c = 0.5) and fits a new head per β, β chosen on validation; the other methods train more parameters.",
  atThisScale: ctAtThisScale,
};

const CAPTIONS = {
  beta: (task: string, validation: string) =>
    `Linear probe + CT on ${task}: validation and test accuracy for each β (the source MLP's backbone frozen, a new head per β). ${validation}.`,
};

/** What chapter 4's numbers can show at this scale, in plain words, from its outcomes. */
function ctAtThisScale(scale: TourScale, outcomes: UnitOutcome[]): string[] {
  const compare = outcomes.find((o) => o.unit === "ct-compare");
  const acc = compare?.values.testAccuracy as Record<string, number> | undefined;
  const n = compare?.values.testCount as number | undefined;
  const full = `The full-size measurement (the source trained 5 epochs on all of classes 0–4, every method 5 epochs on classes 5–9) and the commands that made it: ${CT_RESULTS}. There, training-free CT gains nothing on test, and trainable CT gains 2 points over the linear probe.`;
  if (!acc || !n) return [full];
  const noise = noiseOf(n);
  const probe = acc["linear probe"];
  const ct = acc["linear probe + CT"];
  const trainable = acc["trainable CT"];
  const epochs = Number(compare?.config.epochs);
  const out = [
    `What these numbers mean at the "${scale}" scale: each accuracy is measured on ${n.toLocaleString("en-US")} test images, so differences smaller than about ${points(noise)} points are noise.`,
  ];
  if (probe !== undefined && ct !== undefined)
    out.push(
      Math.abs(ct - probe) < noise
        ? `Training-free CT moves the linear probe's test accuracy from ${pct(probe)} to ${pct(ct)}, within that noise: no effect can be told at this scale.`
        : `Training-free CT moves the linear probe's test accuracy from ${pct(probe)} to ${pct(ct)}.`,
    );
  if (probe !== undefined && trainable !== undefined && trainable < probe - noise)
    out.push(
      `Trainable CT (${pct(trainable)}) trails the linear probe (${pct(probe)}): with ${epochs} epoch${epochs === 1 ? "" : "s"} of training here its per-channel β and c have not converged, so this is not a measurement of the method.`,
    );
  return [...out, full];
}

export async function ctSourceUnit(ctx: UnitContext): Promise<UnitBody> {
  const c = ctx.config as {
    task: string;
    limit: number | null;
    epochs: number;
    lr: number;
    batchSize: number;
  };
  const callbacks = trainProgress(ctx.progress, "source");
  let result: TrainResult;
  let run: Run;
  if (ctx.resume) {
    const dir = join(ctx.root, ctx.id);
    const config = new Run(dir).config<TrainConfig>();
    const dataset = loadTask(c.task, {
      dataDir: ctx.dataDir,
      normalize: config.data.normalize,
      limit: c.limit,
    });
    ({ run, result } = await resumeTraining(dir, { dataset, signal: ctx.signal, callbacks }));
  } else
    ({ run, result } = await pretrainSource(
      {
        task: c.task,
        model: "mlp",
        modelOptions: { hidden: [512, 64], activation: "relu" },
        optimizer: { name: "adam", lr: c.lr },
        epochs: c.epochs,
        batchSize: c.batchSize,
        seed: 0,
        limit: c.limit,
        dataDir: ctx.dataDir,
        runsRoot: ctx.root,
        name: ctx.id,
      },
      { signal: ctx.signal, callbacks },
    ));
  checkInterrupted(result.status);
  if (result.status !== "done")
    throw new Error(`the CT source model ${result.status}: ${result.reason ?? ""}`);
  const last = run
    .metrics()
    .filter((m): m is EpochEvent => m.type === "epoch")
    .at(-1);
  return {
    lines: [`source MLP on ${c.task}: test accuracy ${pct(last?.test_accuracy)}`],
    tables: [],
    figures: [],
    values: {
      task: c.task,
      testAccuracy: last?.test_accuracy ?? null,
      source: join(run.id, "metrics.jsonl"),
    },
  };
}

export async function ctCompareUnit(ctx: UnitContext): Promise<UnitBody> {
  const c = ctx.config as {
    task: string;
    limit: number | null;
    testLimit: number | null;
    betas: number[];
    headSteps: number;
    epochs: number;
    batchSize: number;
    c: number;
    loraRank: number;
  };
  const p = ctx.progress;
  const source = join(ctx.root, String(ctx.deps["ct-source"]?.id));
  const shown = compareProgress(p, c.betas.length, "  ");
  const { run, rows, search, splits } = await runCompare({
    run: source,
    dataset: c.task,
    runsRoot: ctx.root,
    dataDir: ctx.dataDir,
    limit: c.limit,
    testLimit: c.testLimit,
    seed: 0,
    betas: c.betas,
    c: c.c,
    head: { steps: c.headSteps },
    finetune: {
      epochs: c.epochs,
      batchSize: c.batchSize,
      ...shown.finetune,
    },
    loraRank: c.loraRank,
    name: ctx.id,
    onMethod: shown.onMethod,
    onBeta: shown.onBeta,
  });
  p.stop();
  const figure = run.path("figures", "accuracy-vs-beta.svg");
  return {
    lines: [
      ...(search
        ? [
            `linear probe + CT: β = ${search.best.beta} chosen on validation; test ${pct(search.base.testAccuracy)} (β = 1) → ${pct(search.best.testAccuracy)}`,
          ]
        : []),
      ...rows.map(
        (r) =>
          `${r.method.padEnd(18)} test ${pct(r.testAccuracy)} · ${r.trainableParams.toLocaleString("en-US")} trainable`,
      ),
    ],
    tables: [
      {
        columns: ["method", "trainable params", "val accuracy", "test accuracy", "note"],
        rows: rows.map((r) => [
          r.method,
          r.trainableParams.toLocaleString("en-US"),
          pct(r.valAccuracy),
          pct(r.testAccuracy),
          r.note,
        ]),
        source: join(run.id, "results.json"),
      },
    ],
    figures: existsSync(figure)
      ? [
          {
            file: join(run.id, "figures", "accuracy-vs-beta.svg"),
            caption: CAPTIONS.beta(c.task, splits.validation),
            gallery: "tour-ct-beta",
          },
        ]
      : [],
    values: {
      validation: splits.validation,
      bestBeta: search?.best.beta ?? null,
      table: ctTable(rows),
      testAccuracy: Object.fromEntries(rows.map((r) => [r.method, r.testAccuracy])),
      testCount: splits.test.n,
    },
  };
}
