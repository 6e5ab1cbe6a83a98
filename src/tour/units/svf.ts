/**
 * Chapter 5 of the tour: Transformer² on the task suite — a small LM, one SVF expert per task,
 * base against experts, and few-shot adaptation to a held-out task.
 */
import { join, relative } from "node:path";
import { HELD_OUT_TASKS } from "../../data/tasks/index.js";
import { compareAdapters, compareTable as svfTable, type CompareResult } from "../../steer/compare.js";
import {
  resumeAdapterTraining,
  startAdapterTraining,
  type AdaptCallbacks,
} from "../../steer/adapt-session.js";
import { FINETUNE_DEFAULTS } from "../../steer/finetune.js";
import {
  pretrain as pretrainLm,
  pretrainRunConfig,
  PRETRAIN_DEFAULTS,
  type PretrainConfig,
} from "../../lm/pretrain.js";
import type { VegaLiteSpec } from "../../report/vega.js";
import { Run } from "../../runs/store.js";
import { SVF_DEFAULTS } from "../../steer/svf/compose.js";
import { CEM_DEFAULTS } from "../../steer/svf/adapt/cem.js";
import { FEWSHOT_DEFAULTS } from "../../steer/svf/adapt/fewshot.js";
import { selfAdapt, selfAdaptTables, type SelfAdaptRequest } from "../../steer/svf/adapt/session.js";
import { SVF_TASKS, type TourScale } from "../plan.js";
import {
  checkInterrupted,
  noiseOf,
  pct,
  points,
  svgFigure,
  type Chapter,
  type TourProgress,
  type UnitBody,
  type UnitContext,
  type UnitOutcome,
} from "./outcome.js";

/** Where the full-size measurements of this chapter are written up, with the commands that made them. */
export const T2_RESULTS = "docs/results/transformer2.md";

export const SVF_CHAPTER: Chapter = {
  number: 5,
  title: "5. Transformer² on the task suite",
  intro:
    "A small character-level decoder LM is pretrained on the task mixture (math, code, reasoning); an SVF expert (one vector scaling the singular values of each MLP matrix) is trained per task by REINFORCE. Test accuracy by exact match with greedy decoding, on the training tasks and on the held-out ones (scored with the base model). Then Transformer² adapts to a held-out task it has no expert for: the few-shot strategy searches, by the cross-entropy method on a handful of labelled examples, the mixture α of the three experts' z-vectors, and answers the test questions with the mixed weights.",
  atThisScale: svfAtThisScale,
};

const CAPTIONS = {
  svfTitle: "Base LM vs its SVF expert, per task (exact match, greedy)",
  svf: (n: number) =>
    `Test accuracy of the pretrained LM and of the SVF expert trained on each task (${n} test questions per task).`,
};

const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

type EvalRow = { task: string; heldOut: boolean; base: number; svf: number | null; n: number };

/** What chapter 5's numbers can show at this scale, in plain words, from its outcomes. */
function svfAtThisScale(scale: TourScale, outcomes: UnitOutcome[]): string[] {
  const unit = (name: string) => outcomes.find((o) => o.unit === name);
  const lm = unit("lm");
  const rows = unit("svf-eval")?.values.rows as EvalRow[] | undefined;
  const full = `Measured at full size, with the commands that made each number: ${T2_RESULTS}. There, LMs pretrained 2,400–4,000 steps answer 18–40 % of the math questions, and SVF experts with 384–3,072 parameters gain 10–52 points on math over their base; on reasoning no SVF expert beats its base by more than noise.`;
  if (!lm || !rows?.length) return [full];
  const n = rows[0].n;
  const noise = noiseOf(n);
  const steps = Number(lm.config.steps);
  const out = [
    `What these numbers mean at the "${scale}" scale: the LM is pretrained for ${plural(steps, "step")} and each expert for ${plural(Number(unit("svf-math")?.config.steps), "step")}; each accuracy is the exact match of ${n} generated answers, so differences smaller than about ${points(noise)} points are noise.`,
  ];
  const reasoning = rows.find((r) => r.task === "reasoning");
  if (reasoning && reasoning.base < 1 / 3)
    out.push(
      `The base answers ${pct(reasoning.base)} of the reasoning questions, below the 33 % that guessing one of the three options would score: it has not yet learnt to write an option as the answer.`,
    );
  const moved = rows.filter((r) => r.svf !== null && Math.abs(r.svf - r.base) >= noise);
  const atStart = SVF_TASKS.filter((t) => unit(`svf-${t}`)?.values.bestStep === 0);
  out.push(
    moved.length === 0
      ? `No SVF expert differs from the base by more than that noise: at this scale there is no effect to see.`
      : `SVF experts differ from the base beyond that noise on ${moved.map((r) => r.task).join(", ")}.`,
  );
  if (atStart.length > 0)
    out.push(
      `The experts for ${atStart.join(", ")} were best on validation at step 0, so the weights kept are their starting point, which is the base itself.`,
    );
  const adapt = unit("svf-adapt")?.values as
    { base?: { accuracy: number }; fewshot?: { accuracy: number } } | undefined;
  if (
    moved.length === 0 &&
    adapt?.base &&
    adapt.fewshot &&
    Math.abs(adapt.fewshot.accuracy - adapt.base.accuracy) < noise
  )
    out.push(
      `Few-shot adaptation to the held-out task gives ${pct(adapt.base.accuracy)} → ${pct(adapt.fewshot.accuracy)}: a mixture of experts that do not improve on the base cannot improve on it either.`,
    );
  return [...out, full];
}

export async function lmUnit(ctx: UnitContext): Promise<UnitBody> {
  const s = ctx.settings.svf;
  const p = ctx.progress;
  const config: PretrainConfig = {
    ...PRETRAIN_DEFAULTS,
    tasks: [...SVF_TASKS],
    size: "tiny",
    steps: s.pretrainSteps,
    evalEvery: Math.max(1, Math.ceil(s.pretrainSteps / 2)),
    evalExamples: s.evalExamples,
    checkpointEvery: Math.max(1, Math.min(PRETRAIN_DEFAULTS.checkpointEvery, Math.ceil(s.pretrainSteps / 4))),
    ...(s.testExamples ? { testExamples: s.testExamples } : {}),
  };
  const run = ctx.resume
    ? Run.open(join(ctx.root, ctx.id))
    : Run.create(ctx.root, ctx.id, pretrainRunConfig(config));
  const result = await pretrainLm(run, config, {
    resume: ctx.resume,
    signal: ctx.signal,
    callbacks: {
      onStart: ({ startStep, steps, paramCount }) => {
        p.log(`  tiny LM, ${paramCount.toLocaleString("en")} parameters; from step ${startStep}`);
        p.start(steps, "pretrain");
      },
      onStep: ({ step, loss }) => p.update(step, { loss: loss.toFixed(4) }),
      onEval: ({ step, accuracy }) =>
        p.log(
          `  step ${step}: validation ${Object.entries(accuracy)
            .map(([t, a]) => `${t} ${pct(a)}`)
            .join(", ")}`,
        ),
    },
  });
  p.stop();
  checkInterrupted(result.status);
  if (result.status !== "done") throw new Error(`LM pretraining ${result.status}: ${result.reason ?? ""}`);
  return {
    lines: [
      `pretrained LM test accuracy: ${Object.entries(result.test ?? {})
        .map(([t, a]) => `${t} ${pct(a)}`)
        .join(", ")}`,
    ],
    tables: [],
    figures: [],
    values: { test: result.test ?? {}, source: join(run.id, "results.json") },
  };
}

function svfCallbacks(p: TourProgress): AdaptCallbacks {
  return {
    onSvd: (done, total, name, seconds, cached) => {
      if (cached || done === total) p.log(`  SVD of ${total} matrices ${cached ? "(cached)" : "done"}`);
    },
    onStart: ({ steps }) => p.start(steps, "SVF (REINFORCE)"),
    onStep: (s) =>
      p.update(s.step, {
        loss: s.loss.toFixed(4),
        ...(s.accuracy !== undefined ? { "batch acc": `${(100 * s.accuracy).toFixed(0)}%` } : {}),
      }),
    onEval: (e) =>
      p.log(`  step ${e.step}: validation ${pct(e.accuracy)} (best ${pct(e.best)} at step ${e.bestStep})`),
  };
}

export async function svfUnit(ctx: UnitContext): Promise<UnitBody> {
  const c = ctx.config as {
    task: string;
    steps: number;
    evalEvery: number;
    evalExamples: number;
    trainExamples: number;
    testExamples: number | null;
    seed: number;
  };
  const base = join(ctx.root, String(ctx.deps.lm?.id));
  const callbacks = svfCallbacks(ctx.progress);
  const { run, result } = ctx.resume
    ? await resumeAdapterTraining(join(ctx.root, ctx.id), { signal: ctx.signal, callbacks })
    : await startAdapterTraining(
        {
          base,
          targets: "mlp",
          adapter: { kind: "svf", svf: SVF_DEFAULTS },
          finetune: {
            ...FINETUNE_DEFAULTS,
            task: c.task,
            objective: "rl",
            steps: c.steps,
            evalEvery: c.evalEvery,
            evalExamples: c.evalExamples,
            trainExamples: c.trainExamples,
            seed: c.seed,
            ...(c.testExamples ? { testExamples: c.testExamples } : {}),
          },
          runsRoot: ctx.root,
          name: ctx.id,
        },
        { signal: ctx.signal, callbacks },
      );
  ctx.progress.stop();
  checkInterrupted(result.status);
  return {
    lines: [
      `SVF expert for ${c.task}: best validation ${pct(result.validation)} at step ${result.bestStep}; test ${pct(result.test)}`,
    ],
    tables: [],
    figures: [],
    values: {
      validation: result.validation,
      test: result.test ?? null,
      bestStep: result.bestStep,
      source: join(run.id, "results.json"),
    },
  };
}

export async function svfEvalUnit(ctx: UnitContext): Promise<UnitBody> {
  const c = ctx.config as { testExamples: number | null };
  const base = join(ctx.root, String(ctx.deps.lm?.id));
  const svf = Object.fromEntries(SVF_TASKS.map((t) => [t, join(ctx.root, String(ctx.deps[`svf-${t}`]?.id))]));
  const request = {
    base,
    tasks: [...SVF_TASKS, ...HELD_OUT_TASKS],
    svf,
    lora: {},
    runsRoot: ctx.root,
    ...(c.testExamples ? { testExamples: c.testExamples } : {}),
  };
  const run = Run.create(ctx.root, ctx.id, {
    kind: "svf-eval",
    createdAt: new Date().toISOString(),
    ...request,
  });
  const result: CompareResult = await compareAdapters(request, (what) =>
    ctx.progress.log(`  scoring ${what}…`),
  );
  run.writeJson("results.json", result);
  run.writeFile("table.md", svfTable(result));
  const bars = result.rows.flatMap((r) => [
    { task: r.task + (r.heldOut ? " (held out)" : ""), model: "base", accuracy: r.base.accuracy },
    ...(r.svf ? [{ task: r.task, model: "SVF expert", accuracy: r.svf.accuracy }] : []),
  ]);
  const figure = await svgFigure(run, "svf.svg", {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: CAPTIONS.svfTitle,
    width: 420,
    height: 220,
    data: { values: bars },
    mark: { type: "bar" },
    encoding: {
      x: {
        field: "task",
        type: "nominal",
        title: "Task",
        sort: bars.map((b) => b.task),
        axis: { labelAngle: -25 },
      },
      xOffset: { field: "model", type: "nominal", sort: ["base", "SVF expert"] },
      y: { field: "accuracy", type: "quantitative", title: "Test accuracy", axis: { format: ".0%" } },
      color: {
        field: "model",
        type: "nominal",
        title: "",
        scale: { domain: ["base", "SVF expert"], range: ["#94a3b8", "#2563eb"] },
      },
    },
  } as unknown as VegaLiteSpec);
  run.setStatus("done", 0);
  const n = result.rows[0]?.base.n ?? 0;
  return {
    lines: result.rows.map(
      (r) =>
        `${(r.task + (r.heldOut ? " (held out)" : "")).padEnd(22)} base ${pct(r.base.accuracy)}${r.svf ? ` · SVF ${pct(r.svf.accuracy)} (${r.svf.trainableParams.toLocaleString("en")} params)` : ""}`,
    ),
    tables: [
      {
        columns: ["task", "base", "SVF expert", "SVF trainable params", "test questions"],
        rows: result.rows.map((r) => [
          r.task + (r.heldOut ? " (held out)" : ""),
          pct(r.base.accuracy),
          r.svf ? pct(r.svf.accuracy) : "—",
          r.svf ? r.svf.trainableParams.toLocaleString("en") : "—",
          r.base.n,
        ]),
        source: join(run.id, "results.json"),
      },
    ],
    figures: [
      {
        file: join(run.id, "figures", "svf.svg"),
        caption: CAPTIONS.svf(n),
        gallery: "tour-svf",
      },
    ],
    values: {
      baseParams: result.baseParams,
      source: relative(ctx.root, figure),
      rows: result.rows.map((r) => ({
        task: r.task,
        heldOut: r.heldOut,
        base: r.base.accuracy,
        svf: r.svf?.accuracy ?? null,
        n: r.base.n,
      })),
    },
  };
}

export async function svfAdaptUnit(ctx: UnitContext): Promise<UnitBody> {
  const c = ctx.config as {
    task: string;
    shots: number;
    iterations: number;
    population: number;
    seed: number;
    testExamples: number | null;
  };
  const p = ctx.progress;
  const experts = Object.fromEntries(
    SVF_TASKS.map((t) => [t, join(ctx.root, String(ctx.deps[`svf-${t}`]?.id))]),
  );
  const request: SelfAdaptRequest = {
    experts,
    strategies: ["fewshot"],
    tasks: [c.task],
    fewshot: {
      ...CEM_DEFAULTS,
      ...FEWSHOT_DEFAULTS,
      shots: c.shots,
      iterations: c.iterations,
      population: c.population,
      seed: c.seed,
    },
    ...(c.testExamples ? { testExamples: c.testExamples } : {}),
    batchSize: 256,
    runsRoot: ctx.root,
  };
  const run = Run.create(ctx.root, ctx.id, {
    kind: "svf-adapt",
    createdAt: new Date().toISOString(),
    ...request,
  });
  const result = await selfAdapt(request, {
    onPhase: (what) => p.log(`  ${what}…`),
    onGeneration: (_task, g, iterations) =>
      p.log(`  CEM generation ${g.iteration}/${iterations}: best few-shot accuracy ${pct(g.best)}`),
  });
  run.writeJson("results.json", result);
  run.writeFile("table.md", selfAdaptTables(result));
  run.setStatus("done", 0);
  const row = result.rows[0];
  const cemRecord = result.cem[c.task];
  const alpha = cemRecord?.alpha.map((a, i) => `${result.categories[i]} ${a.toFixed(2)}`).join(", ") ?? "–";
  return {
    lines: [
      `${c.task} (held out): base ${pct(row?.base?.accuracy)} → few-shot expert mixture ${pct(row?.fewshot?.accuracy)} (α: ${alpha}; ${cemRecord?.evaluations ?? 0} evaluations on ${c.shots} shots)`,
    ],
    tables: [
      {
        columns: [
          "held-out task",
          "base",
          "T² few-shot (CEM mixture)",
          "α per expert",
          "few-shot fitness",
          "test questions",
        ],
        rows: result.rows.map((r) => [
          r.task,
          pct(r.base?.accuracy),
          pct(r.fewshot?.accuracy),
          alpha,
          cemRecord ? pct(cemRecord.fitness.score) : "–",
          r.base?.n ?? 0,
        ]),
        source: join(run.id, "results.json"),
      },
    ],
    figures: [],
    values: { alpha: cemRecord?.alpha ?? null, base: row?.base ?? null, fewshot: row?.fewshot ?? null },
  };
}
