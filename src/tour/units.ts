/**
 * The tour's work units: each calls the library the CLI commands call (compareInits,
 * runComparison, the landscape analyses, CT pretrain/compare, LM pretraining, SVF training and
 * evaluation) into its own run directory under `<runs>/tour/`, and returns its outcome: the key
 * numbers, each with the file it was read from, and the figures it made. The outcome is what
 * `tour.json` stores and what the report is built from.
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { loadFashionMnist } from "../data/fashion-mnist.js";
import { firstExamples, loadTask } from "../data/subsets.js";
import { HELD_OUT_TASKS } from "../data/tasks/index.js";
import { createModel } from "../nn/models/index.js";
import {
  runFit,
  runHessian,
  runInterpolation,
  runPaths,
  runSurface,
  type Progress as AnalysisProgress,
} from "../landscape/analyses.js";
import { writeFigure } from "../landscape/store.js";
import { compareAdapters, compareTable as svfTable, type CompareResult } from "../steer/compare.js";
import { resumeAdapterTraining, startAdapterTraining, type AdaptCallbacks } from "../steer/adapt-session.js";
import { FINETUNE_DEFAULTS } from "../steer/finetune.js";
import {
  pretrain as pretrainLm,
  pretrainRunConfig,
  PRETRAIN_DEFAULTS,
  type PretrainConfig,
} from "../lm/pretrain.js";
import { renderSvg, type VegaLiteSpec } from "../report/vega.js";
import { readJson, Run, type EpochEvent } from "../runs/store.js";
import { SVF_DEFAULTS } from "../steer/svf/compose.js";
import { CEM_DEFAULTS } from "../steer/svf/adapt/cem.js";
import { FEWSHOT_DEFAULTS } from "../steer/svf/adapt/fewshot.js";
import { selfAdapt, selfAdaptTables, type SelfAdaptRequest } from "../steer/svf/adapt/session.js";
import { pretrain as pretrainSource } from "../steer/ct/pretrain.js";
import { compareTable as ctTable, runCompare } from "../steer/ct/session.js";
import { compareInits, tableCells, TABLE_COLUMNS } from "../train/init-compare.js";
import { compareMembers, runComparison, type SummaryRow } from "../train/compare.js";
import { createDynamicsRecorder, mergeCallbacks, readDynamics } from "../train/dynamics.js";
import { dynamicsFigures } from "../train/dynamics-figures.js";
import type { TrainCallbacks, TrainResult } from "../train/loop.js";
import { loadDataFor, resolveTrainConfig, resumeTraining } from "../train/session.js";
import type { TrainConfig } from "../train/config.js";
import { SVF_TASKS, type TourSettings, type UnitName } from "./plan.js";

/** Progress as the CLI shows it (a bar per phase, lines in between); the library only calls it. */
export type TourProgress = {
  start(total: number, label: string): void;
  update(done: number, fields: Record<string, string>): void;
  stop(summary?: string): void;
  log(line: string): void;
};

export class TourInterrupted extends Error {
  override name = "TourInterrupted";
}

/** A table as the report shows it, with the file its numbers come from. */
export type OutcomeTable = { columns: string[]; rows: (string | number | null)[][]; source: string };
export type OutcomeFigure = { file: string; caption: string; gallery?: string };

/** What a finished unit stores in tour.json (paths relative to the tour folder). */
export type UnitOutcome = {
  unit: UnitName;
  key: string;
  id: string;
  config: Record<string, unknown>;
  finishedAt: string;
  seconds: number;
  /** One-line results for the terminal and the report. */
  lines: string[];
  tables: OutcomeTable[];
  figures: OutcomeFigure[];
  /** Numbers later units or the report need, by name. */
  values: Record<string, unknown>;
};

export type UnitContext = {
  /** The tour folder (a runs root). */
  root: string;
  id: string;
  key: string;
  resume: boolean;
  settings: TourSettings;
  config: Record<string, unknown>;
  dataDir?: string;
  signal?: AbortSignal;
  progress: TourProgress;
  /** Outcomes of the units this one reads. */
  deps: Partial<Record<UnitName, UnitOutcome>>;
};

export type UnitBody = Omit<UnitOutcome, "unit" | "key" | "id" | "config" | "finishedAt" | "seconds">;

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? "–" : `${(100 * x).toFixed(2)}%`;
const fixed = (x: number | null | undefined, d = 4) =>
  x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(d);

function trainProgress(p: TourProgress, label: string): TrainCallbacks {
  let total = 0;
  return {
    onStart: (i) => (total = i.stepsPerEpoch),
    onStep: (e) => {
      if (e.stepInEpoch === 1) p.start(total, `${label} epoch ${e.epoch}`);
      p.update(e.stepInEpoch, { loss: e.loss.toFixed(4) });
    },
    onEpoch: (e) =>
      p.stop(
        `  ${label} epoch ${e.epoch}: train loss ${e.train_loss.toFixed(4)} · test acc ${pct(e.test_accuracy)} · ${e.elapsed_s.toFixed(1)} s`,
      ),
  };
}

function phaseProgress(p: TourProgress): AnalysisProgress & { done(): void } {
  let label = "";
  const update = (done: number, total: number, l: string, detail?: string) => {
    if (l !== label) {
      if (label) p.stop();
      p.start(total, l);
      label = l;
    }
    p.update(done, { loss: (detail ?? "").replace(/^loss /, "") });
  };
  return Object.assign(update, {
    done: () => {
      if (label) p.stop();
      label = "";
    },
  });
}

/** A unit whose training stopped early is not finished; one that finished is kept even if Ctrl-C came late. */
function checkInterrupted(status: string) {
  if (status === "interrupted") throw new TourInterrupted("interrupted");
}

async function svgFigure(run: Run, file: string, spec: VegaLiteSpec): Promise<string> {
  return writeFigure(run, file, await renderSvg(spec));
}

// ── 1. initialisers ───────────────────────────────────────────────────────────────────────────

async function initsUnit(ctx: UnitContext): Promise<UnitBody> {
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
        caption: "Training loss per step of each initialiser (trailing mean over 5% of an epoch).",
        gallery: "tour-inits-loss",
      },
    ],
    values: { best: best?.method ?? null, bestErrorRate: best?.errorRate ?? null },
  };
}

// ── 2. optimisers ─────────────────────────────────────────────────────────────────────────────

async function optimizersUnit(ctx: UnitContext): Promise<UnitBody> {
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
          caption:
            "SGD (lr 0.01, momentum 0.9), Adam (1e-3) and Lion (1e-4) from the same initial weights and data order: training loss, test accuracy, gradient norm, optimiser state.",
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

// ── 3. landscape ──────────────────────────────────────────────────────────────────────────────

async function landscapeUnit(ctx: UnitContext): Promise<UnitBody> {
  const s = ctx.settings.landscape;
  const p = ctx.progress;
  const subjectRel = String(ctx.deps.optimizers?.values.adamRun);
  const subject = join(ctx.root, subjectRel);
  const own = Run.create(ctx.root, ctx.id, {
    id: ctx.id,
    createdAt: new Date().toISOString(),
    command: "tour-landscape",
    subject: subjectRel,
    settings: ctx.config,
  });
  const evaluation = { split: "test" as const, count: s.examples, offset: 0, dataDir: ctx.dataDir };
  const phases = phaseProgress(p);
  const common = { run: subject, evaluation, onProgress: phases };
  const rel = (f: string) => relative(ctx.root, f);
  try {
    p.log("  interpolation between the first and the last checkpoint…");
    const interp = await runInterpolation({
      ...common,
      steps: s.interpolationSteps,
      name: "tour-interpolation",
    });
    phases.done();
    // The loss at the grid point nearest to α (the ends of the segment are grid points at most scales).
    const at = (alpha: number) => {
      const d = interp.slice.alpha.map((a) => Math.abs(a - alpha));
      return interp.slice.loss[d.indexOf(Math.min(...d))];
    };
    p.log(`  Hessian: top ${s.topK} eigenvalues (Lanczos), trace (Hutchinson), spectral density (SLQ)…`);
    const hess = await runHessian({
      ...common,
      topK: s.topK,
      method: "lanczos",
      maxIter: s.maxIter,
      traceSamples: s.traceSamples,
      density: true,
      densityIterations: s.maxIter,
      name: "tour-hessian",
    });
    phases.done();
    p.log(`  ${s.surfaceSteps}×${s.surfaceSteps} loss surface along the top two Hessian eigenvectors…`);
    const surface = await runSurface({
      ...common,
      directions: "hessian",
      count: 2,
      steps: s.surfaceSteps,
      range: s.surfaceRange,
      method: "lanczos",
      maxIter: s.maxIter,
      name: "tour-surface",
    });
    phases.done();
    const fit = await runFit({ surface: surface.files[0], offset: "max", name: "tour-surface-fit" });
    const paths = await runPaths({
      fit: fit.files[0],
      optimizers: "sgd,momentum,adam",
      steps: s.pathSteps,
      name: "tour-surface-paths",
    });
    const subjectRun = new Run(subject);
    const dyn = readDynamics(subjectRun);
    const dfig = dynamicsFigures(subjectRel, dyn);
    const dynFiles = [
      await svgFigure(subjectRun, "dynamics.svg", dfig.epochs),
      ...(dfig.steps ? [await svgFigure(subjectRun, "dynamics-steps.svg", dfig.steps)] : []),
    ];
    const eig = hess.eigen.eigenvalues;
    const values = {
      subject: subjectRel,
      interpolation: {
        from: interp.from,
        to: interp.to,
        lossAt0: at(0) ?? null,
        lossAt1: at(1) ?? null,
        maxBetween: Math.max(
          ...interp.slice.loss.filter((_, i) => interp.slice.alpha[i] >= 0 && interp.slice.alpha[i] <= 1),
        ),
        source: rel(interp.files[0]),
      },
      hessian: {
        eigenvalues: eig,
        converged: hess.eigen.converged,
        trace: hess.trace?.trace ?? null,
        traceStderr: hess.trace?.stderr ?? null,
        loss: hess.loss,
        source: rel(hess.files[0]),
      },
      surface: {
        center: surface.record.center,
        steps: s.surfaceSteps,
        range: s.surfaceRange,
        pointsPerSecond: surface.record.pointsPerSecond,
        source: rel(surface.files[0]),
      },
      fit: { printed: fit.printed, r2: fit.fit.r2, rmse: fit.fit.rmse, source: rel(fit.files[0]) },
      paths: paths.paths.map((q) => ({
        optimizer: q.optimizer,
        final: q.values.at(-1) ?? null,
        end: q.points.at(-1) ?? null,
      })),
      pathsSource: rel(paths.files[0]),
      dynamicsSource: join(subjectRel, "dynamics.jsonl"),
    };
    own.writeJson("results.json", values);
    own.setStatus("done", 0);
    const e = (x: number) => x.toPrecision(4);
    return {
      lines: [
        `interpolation ${interp.from} → ${interp.to}: loss ${fixed(values.interpolation.lossAt0)} → ${fixed(values.interpolation.lossAt1)}`,
        `Hessian top eigenvalues ${eig.map(e).join(", ")}; trace ≈ ${hess.trace ? e(hess.trace.trace) : "–"}`,
        `surface centre loss ${fixed(surface.record.center.loss)}; Gaussian fit R² ${fixed(fit.fit.r2, 3)}`,
        `paths on the fitted Gaussian: ${values.paths.map((q) => `${q.optimizer} f = ${fixed(q.final)}`).join(", ")}`,
      ],
      tables: [
        {
          columns: ["quantity", "value"],
          rows: [
            ["evaluation set", `first ${s.examples} test images`],
            ["loss at the trained weights", fixed(hess.loss)],
            ...eig.map((v, i): [string, string] => [`Hessian eigenvalue λ${i + 1}`, e(v)]),
            [
              "Hessian trace (Hutchinson)",
              hess.trace ? `${e(hess.trace.trace)} ± ${e(hess.trace.stderr)}` : "–",
            ],
            [
              "interpolation: loss at α = 0 / 1",
              `${fixed(values.interpolation.lossAt0)} / ${fixed(values.interpolation.lossAt1)}`,
            ],
            [
              "Gaussian fit: offset − A·exp(−(x−x₀)²/2σx² − (y−y₀)²/2σy²)",
              `A = ${e(fit.fit.params.A)}, (x₀, y₀) = (${e(fit.fit.params.x0)}, ${e(fit.fit.params.y0)}), (σx, σy) = (${e(fit.fit.params.sigmaX)}, ${e(fit.fit.params.sigmaY)}), offset ${e(fit.fit.params.offset)}`,
            ],
            ["Gaussian fit R² / RMSE", `${fixed(fit.fit.r2, 3)} / ${fixed(fit.fit.rmse)}`],
            ...values.paths.map((q): [string, string] => [`path ${q.optimizer}: final f`, fixed(q.final)]),
          ],
          source: `${values.hessian.source}, ${values.interpolation.source}, ${values.fit.source}, ${values.pathsSource}`,
        },
      ],
      figures: [
        {
          file: rel(interp.files[1]),
          caption: `Loss and accuracy along (1−α)·w₁ + α·w₂ from ${interp.from} to ${interp.to}.`,
          gallery: "tour-interpolation",
        },
        ...(hess.files[1]
          ? [
              {
                file: rel(hess.files[1]),
                caption:
                  "Hessian eigenvalue density (stochastic Lanczos quadrature) with the top eigenvalues marked.",
                gallery: "tour-hessian-density",
              },
            ]
          : []),
        {
          file: rel(surface.files[1]),
          caption: `Loss surface along the top two Hessian eigenvectors, ${s.surfaceSteps}×${s.surfaceSteps} points in [${s.surfaceRange.join(", ")}]².`,
          gallery: "tour-surface",
        },
        {
          file: rel(fit.files[1]),
          caption: "Gaussian fit of the surface: data, fit and residual.",
          gallery: "tour-surface-fit",
        },
        {
          file: rel(paths.files[1]),
          caption: "SGD, momentum and Adam paths on the fitted Gaussian.",
          gallery: "tour-surface-paths",
        },
        {
          file: rel(dynFiles[0]),
          caption:
            "Training dynamics of the Adam run per epoch: loss, gradient norm, parameter change, weight norm, loss improvement.",
        },
        ...(dynFiles[1]
          ? [
              {
                file: rel(dynFiles[1]),
                caption: "The same dynamics step by step (recorded while training).",
                gallery: "tour-dynamics",
              },
            ]
          : []),
      ],
      values,
    };
  } catch (err) {
    own.recordFailure(err, 0);
    throw err;
  }
}

// ── 4. Curvature Tuning ───────────────────────────────────────────────────────────────────────

async function ctSourceUnit(ctx: UnitContext): Promise<UnitBody> {
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

async function ctCompareUnit(ctx: UnitContext): Promise<UnitBody> {
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
  let label = "";
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
      onStep: (s) => {
        if (s.step === 1) p.start(s.steps, `${label} epoch ${s.epoch}`);
        p.update(s.step, { loss: s.loss.toFixed(4) });
      },
      onEpoch: (e) => p.stop(`  ${label} epoch ${e.epoch}: val ${pct(e.valAccuracy)}`),
    },
    loraRank: c.loraRank,
    name: ctx.id,
    onMethod: (m) => {
      label = m;
      p.log(`  ${m}…`);
      if (m.startsWith("linear probe")) p.start(c.betas.length, "β search");
    },
    onBeta: (s, i) => p.update(i + 1, { beta: String(s.beta), val: pct(s.valAccuracy) }),
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
            caption: `Linear probe + CT on ${c.task}: validation and test accuracy for each β (the source MLP's backbone frozen, a new head per β). ${splits.validation}.`,
            gallery: "tour-ct-beta",
          },
        ]
      : [],
    values: {
      validation: splits.validation,
      bestBeta: search?.best.beta ?? null,
      table: ctTable(rows),
    },
  };
}

// ── 5. Transformer² (SVF) ─────────────────────────────────────────────────────────────────────

async function lmUnit(ctx: UnitContext): Promise<UnitBody> {
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

async function svfUnit(ctx: UnitContext): Promise<UnitBody> {
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

async function svfEvalUnit(ctx: UnitContext): Promise<UnitBody> {
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
    title: "Base LM vs its SVF expert, per task (exact match, greedy)",
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
        caption: `Test accuracy of the pretrained LM and of the SVF expert trained on each task (${n} test questions per task).`,
        gallery: "tour-svf",
      },
    ],
    values: { baseParams: result.baseParams, source: relative(ctx.root, figure) },
  };
}

async function svfAdaptUnit(ctx: UnitContext): Promise<UnitBody> {
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

export const UNIT_RUNNERS: Record<UnitName, (ctx: UnitContext) => Promise<UnitBody>> = {
  inits: initsUnit,
  optimizers: optimizersUnit,
  landscape: landscapeUnit,
  "ct-source": ctSourceUnit,
  "ct-compare": ctCompareUnit,
  lm: lmUnit,
  "svf-math": svfUnit,
  "svf-code": svfUnit,
  "svf-reasoning": svfUnit,
  "svf-eval": svfEvalUnit,
  "svf-adapt": svfAdaptUnit,
};

export const OUTCOME_FILE = "tour.json";

export function readOutcome(dir: string): UnitOutcome | null {
  const file = join(dir, OUTCOME_FILE);
  return existsSync(file) ? (readJson(file) as UnitOutcome) : null;
}

/** Loads the fashion-mnist reader once so a missing dataset fails before any work. */
export function checkData(dataDir?: string): void {
  loadFashionMnist({ dataDir, limit: 1, testLimit: 1 });
}
