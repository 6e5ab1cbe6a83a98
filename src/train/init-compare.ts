/**
 * Comparing initialisers: the same model, data order, seed and optimiser, trained once per
 * initialiser; a table of what each start leads to (the book's columns) plus the spectra behind it.
 *
 *   runs/<id>/config.json, status.json          the comparison (command "init-compare")
 *   runs/<id>/methods/<init>/                   one ordinary training run per initialiser
 *   runs/<id>/table.csv, table.json             the table (JSON: numbers, null for nan/inf)
 *   runs/<id>/spectra.json, curves.json         σ of every weight matrix at init and after; step losses
 *   runs/<id>/figures/{loss,spectra}.svg, report.html
 *
 * Columns: Error Rate % = 100·(1 − test accuracy) after the last epoch; Convergence Speed = epochs
 * until the smoothed training loss covers 90% of its drop (src/train/convergence.ts); Average
 * Condition Number, Spectral Norm, Effective Rank Ratio = means over the weight matrices at init
 * (src/init/diagnostics.ts); Execution Time s = wall time of the training. A run whose loss turns
 * NaN/Inf is marked diverged and shows nan for its training-side columns; the comparison goes on.
 */
import { join } from "node:path";
import type { Dataset } from "../data/dataset.js";
import { startEngine } from "../engine/device.js";
import { keyFromSeed } from "../engine/prng.js";
import { treeDispose } from "../engine/tree.js";
import { UsageError } from "../errors.js";
import { modelDiagnostics, type ModelDiagnostics } from "../init/diagnostics.js";
import { lossCurvesChart, spectraChart, type SpectrumPoint } from "../init/figures.js";
import { canonicalInitName } from "../init/registry.js";
import { createModel } from "../nn/models/index.js";
import { reportHtml, renderSvg } from "../report/index.js";
import { defaultRunsRoot, newRunId, Run } from "../runs/store.js";
import type { TrainConfig } from "./config.js";
import { convergenceEpochs, convergenceWindow, smoothedLosses } from "./convergence.js";
import { train, type TrainCallbacks, type TrainResult } from "./loop.js";
import { loadDataFor, resolveTrainConfig, trainingOf, type TrainRequest } from "./session.js";
import type { InitCompareFields } from "../requests/init-compare.js";
import type { OptimizerConfig } from "../optim/index.js";
import { makeDirs } from "../runs/files.js";

/** A training request (its modelOptions shared by every method) and the initialisers to compare. */
export type InitCompareRequest = TrainRequest & { inits: string[] };

/** The library's request for a validated `init compare` request (`requests/init-compare.ts`). */
export function initCompareRequestOf(r: InitCompareFields): InitCompareRequest {
  const initOptions = { mode: r.initMode, gain: r.initGain, scale: r.initScale, alpha: r.initAlpha };
  return {
    model: r.model,
    modelOptions: {
      hidden: r.hidden,
      channels: r.channels,
      dense: r.dense,
      activation: r.activation,
      biasInit: r.biasInit,
      zeroInitLast: r.zeroInitLast,
      initOptions: Object.fromEntries(Object.entries(initOptions).filter(([, v]) => v !== undefined)),
    },
    inits: r.inits,
    optimizer: {
      name: r.optimizer,
      lr: r.lr,
      ...(r.optimizer === "sgd" ? { momentum: r.momentum ?? 0.9 } : {}),
      ...(r.momentum !== undefined && r.optimizer !== "sgd" ? { momentum: r.momentum } : {}),
    } as OptimizerConfig,
    ...trainingOf(r),
  };
}

export const TABLE_COLUMNS = [
  "Method",
  "Error Rate %",
  "Convergence Speed",
  "Average Condition Number",
  "Spectral Norm",
  "Effective Rank Ratio",
  "Execution Time s",
] as const;

export type InitCompareRow = {
  method: string;
  status: TrainResult["status"];
  errorRate: number;
  convergenceSpeed: number;
  conditionNumber: number;
  spectralNorm: number;
  effectiveRankRatio: number;
  executionTime: number;
  /** The step whose loss was not finite. */
  divergedAtStep: number | null;
  reason: string | null;
};

export type InitCompareCallbacks = {
  onMethodStart?(info: { method: string; index: number; count: number }): void;
  onMethodEnd?(row: InitCompareRow): void;
  /** Forwarded to each method's training loop. */
  train?: TrainCallbacks;
};

type MethodRecord = {
  row: InitCompareRow;
  config: TrainConfig;
  losses: number[];
  stepsPerEpoch: number;
  atInit: ModelDiagnostics;
  trained: ModelDiagnostics;
};

const methodName = (config: TrainConfig) => config.model.init ?? "torch_default";

/** The per-method training configs, validated (names, model, optimiser) before any data is read. */
export function resolveCompareConfigs(req: InitCompareRequest): TrainConfig[] {
  if (req.inits.length === 0) throw new UsageError("give at least one initialiser to compare");
  const names = req.inits.map(canonicalInitName);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new UsageError(`initialiser "${twice}" is listed twice`);
  return names.map((init) =>
    resolveTrainConfig(
      {
        ...req,
        modelOptions: { ...req.modelOptions, init },
        name: init,
        runsRoot: undefined,
      },
      init,
    ),
  );
}

export type InitCompareOptions = {
  callbacks?: InitCompareCallbacks;
  signal?: AbortSignal;
  dataset?: Dataset;
  /** The comparison to continue (`resumeInitComparison`): methods with a run resume, the others start. */
  resume?: Run;
};

export async function compareInits(
  req: InitCompareRequest,
  opts: InitCompareOptions = {},
): Promise<{ run: Run; rows: InitCompareRow[]; status: "done" | "interrupted" }> {
  await startEngine();
  const configs = resolveCompareConfigs(req);
  const dataset = opts.dataset ?? loadDataFor(configs[0]);
  const id = req.name ?? newRunId(["init-compare", req.model]);
  const run =
    opts.resume ??
    Run.create(req.runsRoot ?? defaultRunsRoot(), id, {
      id,
      createdAt: new Date().toISOString(),
      command: "init-compare",
      request: req,
      methods: configs.map((c) => c.model),
    });
  const methodsRoot = run.path("methods");
  makeDirs(methodsRoot);
  const cb = opts.callbacks ?? {};
  const records: MethodRecord[] = [];
  try {
    for (const [index, config] of configs.entries()) {
      const method = methodName(config);
      cb.onMethodStart?.({ method, index, count: configs.length });
      const resume = run.has(join("methods", config.id, "config.json"));
      const methodRun = resume
        ? Run.openForWriting(join(methodsRoot, config.id))
        : Run.create(methodsRoot, config.id, config);
      const record = await trainMethod(config, dataset, methodRun, cb, { signal: opts.signal, resume });
      records.push(record);
      cb.onMethodEnd?.(record.row);
      writeTables(run, records);
      if (record.row.status === "interrupted") break;
    }
    await writeFigures(run, records, req);
  } catch (e) {
    run.recordFailure(e, records.length);
    throw e;
  }
  const interrupted = records.some((r) => r.row.status === "interrupted");
  run.setStatus(
    interrupted ? "interrupted" : "done",
    records.length,
    interrupted ? "stopped by the user" : undefined,
  );
  return { run, rows: records.map((r) => r.row), status: interrupted ? "interrupted" : "done" };
}

/**
 * Continues an interrupted comparison from its config.json's request: finished methods stay as they
 * are, the interrupted one resumes from its checkpoint, the rest start.
 */
export async function resumeInitComparison(
  dirOrId: string,
  opts: Omit<InitCompareOptions, "resume"> & { runsRoot?: string } = {},
): Promise<{ run: Run; rows: InitCompareRow[]; status: "done" | "interrupted" }> {
  const run = Run.openForWriting(dirOrId, opts.runsRoot);
  const config = run.config<{ command?: string; request?: InitCompareRequest }>();
  if (config.command !== "init-compare" || !config.request)
    throw new UsageError(`run ${run.dir} is not an initialiser comparison`);
  run.setStatus("running", 0);
  return compareInits(config.request, { ...opts, resume: run });
}

/**
 * What a method's table row needs beyond its run's files, saved at each epoch's end (before the
 * checkpoint, with the dynamics): every step's loss and the training's wall time so far. A resume
 * keeps the part up to its checkpoint.
 */
const PROGRESS_FILE = "init-compare-progress.json";
/** Every step's loss, and the wall time at each epoch's end. */
type MethodProgress = { losses: number[]; seconds: number[] };

/** The progress up to the end of epoch `epochs` (the checkpoint a resume restarts from). */
function savedProgress(methodRun: Run, epochs: number, stepsPerEpoch: number): MethodProgress {
  if (epochs === 0 || !methodRun.has(PROGRESS_FILE)) return { losses: [], seconds: [] };
  const saved = methodRun.readJson(PROGRESS_FILE) as MethodProgress;
  return { losses: saved.losses.slice(0, epochs * stepsPerEpoch), seconds: saved.seconds.slice(0, epochs) };
}

async function trainMethod(
  config: TrainConfig,
  dataset: Dataset,
  methodRun: Run,
  cb: InitCompareCallbacks,
  opts: { signal?: AbortSignal; resume?: boolean },
): Promise<MethodRecord> {
  const initParams = createModel(config.model).init(keyFromSeed(config.seed));
  const atInit = await modelDiagnostics(initParams);
  treeDispose(initParams);

  let progress: MethodProgress = { losses: [], seconds: [] };
  let stepsPerEpoch = 1;
  let before = 0; // seconds of the epochs a resume keeps
  const t0 = performance.now();
  const seconds = () => before + (performance.now() - t0) / 1000;
  const callbacks: TrainCallbacks = {
    ...cb.train,
    onStart: (info) => {
      stepsPerEpoch = info.stepsPerEpoch;
      progress = savedProgress(methodRun, info.startEpoch - 1, stepsPerEpoch);
      before = progress.seconds.at(-1) ?? 0;
      cb.train?.onStart?.(info);
    },
    onStep: (e) => {
      progress.losses.push(e.loss);
      cb.train?.onStep?.(e);
    },
    async onEpoch(e, params) {
      progress.seconds[e.epoch - 1] = seconds();
      methodRun.writeJson(PROGRESS_FILE, progress);
      await cb.train?.onEpoch?.(e, params);
    },
  };
  const result = await train(config, dataset, methodRun, { callbacks, ...opts });
  const executionTime = seconds();
  const trained = await modelDiagnostics(result.params);
  treeDispose(result.params);

  const done = result.status === "done";
  const last = result.epochs.at(-1);
  const row: InitCompareRow = {
    method: methodName(config),
    status: result.status,
    errorRate: done && last ? 100 * (1 - last.test_accuracy) : NaN,
    convergenceSpeed: done ? convergenceEpochs(progress.losses, stepsPerEpoch) : NaN,
    conditionNumber: atInit.average.conditionNumber,
    spectralNorm: atInit.average.spectralNorm,
    effectiveRankRatio: atInit.average.effectiveRankRatio,
    executionTime,
    divergedAtStep: result.status === "diverged" ? progress.losses.length + 1 : null,
    reason: result.reason ?? null,
  };
  return { row, config, losses: progress.losses, stepsPerEpoch, atInit, trained };
}

/** "nan" and "inf" as the book prints them; fixed decimals otherwise, exponent for huge values. */
export function formatNumber(x: number, digits: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  return Math.abs(x) >= 1e5 ? x.toExponential(2) : x.toFixed(digits);
}

export function tableCells(row: InitCompareRow): string[] {
  return [
    row.method,
    formatNumber(row.errorRate, 2),
    formatNumber(row.convergenceSpeed, 2),
    formatNumber(row.conditionNumber, 2),
    formatNumber(row.spectralNorm, 3),
    formatNumber(row.effectiveRankRatio, 3),
    formatNumber(row.executionTime, 1),
  ];
}

/** The table as aligned text for the terminal. */
export function formatTable(rows: InitCompareRow[]): string {
  const cells = [[...TABLE_COLUMNS], ...rows.map(tableCells)];
  const widths = TABLE_COLUMNS.map((_, j) => Math.max(...cells.map((r) => r[j].length)));
  const line = (r: string[]) =>
    r.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join("  ");
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join(
    "\n",
  );
}

export function tableCsv(rows: InitCompareRow[]): string {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return [[...TABLE_COLUMNS, "Status"], ...rows.map((r) => [...tableCells(r), r.status])]
    .map((r) => r.map(quote).join(","))
    .join("\n")
    .concat("\n");
}

/** JSON cannot hold NaN or ±Infinity: those become null (the table's nan / inf). */
function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function jsonRow(r: InitCompareRow) {
  return {
    ...r,
    errorRate: finiteOrNull(r.errorRate),
    convergenceSpeed: finiteOrNull(r.convergenceSpeed),
    conditionNumber: finiteOrNull(r.conditionNumber),
    spectralNorm: finiteOrNull(r.spectralNorm),
    effectiveRankRatio: finiteOrNull(r.effectiveRankRatio),
  };
}

function layerSummary(d: ModelDiagnostics) {
  return d.layers.map((l) => ({
    name: l.name,
    shape: l.shape,
    spectralNorm: finiteOrNull(l.spectralNorm),
    conditionNumber: finiteOrNull(l.conditionNumber),
    effectiveRank: finiteOrNull(l.effectiveRank),
    effectiveRankRatio: finiteOrNull(l.effectiveRankRatio),
    mean: finiteOrNull(l.mean),
    std: finiteOrNull(l.std),
  }));
}

const DEFINITIONS = {
  "Error Rate %": "100·(1 − test accuracy) after the last epoch; nan if the run diverged",
  "Convergence Speed":
    "epochs until the training loss, averaged over a trailing window of 5% of an epoch, first covers 90% of its drop from the first step's loss to its final value; smaller is faster; nan if diverged or no drop",
  "Average Condition Number": "mean over the weight matrices of σmax/σmin at init",
  "Spectral Norm": "mean over the weight matrices of σmax at init",
  "Effective Rank Ratio": "mean over the weight matrices of exp(H(σ/Σσ)) / min(rows, cols) at init",
  "Execution Time s": "wall time of the method's training (all epochs, evaluation and checkpoints)",
};

function writeTables(run: Run, records: MethodRecord[]): void {
  const rows = records.map((r) => r.row);
  run.writeFile("table.csv", tableCsv(rows));
  run.writeJson("table.json", {
    columns: TABLE_COLUMNS,
    definitions: DEFINITIONS,
    rows: rows.map(jsonRow),
    printed: rows.map(tableCells),
    layers: Object.fromEntries(
      records.map((r) => [
        r.row.method,
        { atInit: layerSummary(r.atInit), trained: layerSummary(r.trained) },
      ]),
    ),
    runs: Object.fromEntries(records.map((r) => [r.row.method, join("methods", r.config.id)])),
  });
  run.writeJson(
    "spectra.json",
    Object.fromEntries(
      records.map((r) => [
        r.row.method,
        Object.fromEntries(
          r.atInit.layers.map((l, i) => [
            l.name,
            {
              atInit: l.singularValues.map(finiteOrNull),
              trained: r.trained.layers[i].singularValues.map(finiteOrNull),
            },
          ]),
        ),
      ]),
    ),
  );
  run.writeJson(
    "curves.json",
    Object.fromEntries(
      records.map((r) => [r.row.method, { stepsPerEpoch: r.stepsPerEpoch, loss: r.losses }]),
    ),
  );
}

async function writeFigures(run: Run, records: MethodRecord[], req: InitCompareRequest): Promise<void> {
  const methods = records.map((r) => r.row.method);
  const curves = records.flatMap((r) => {
    const smooth = smoothedLosses(r.losses, convergenceWindow(r.stepsPerEpoch));
    return smooth.map((loss, t) => ({ method: r.row.method, epoch: (t + 1) / r.stepsPerEpoch, loss }));
  });
  const layers = records[0]?.atInit.layers.map((l) => l.name) ?? [];
  const points: SpectrumPoint[] = records.flatMap((r) =>
    (["at init", "after training"] as const).flatMap((phase) =>
      (phase === "at init" ? r.atInit : r.trained).layers.flatMap((l) =>
        l.singularValues.map((sigma, i) => ({
          method: r.row.method,
          layer: `${l.name} [${l.rows}×${l.cols}]`,
          phase,
          index: (i + 1) / l.singularValues.length,
          sigma,
        })),
      ),
    ),
  );
  const layerLabels = records[0]?.atInit.layers.map((l) => `${l.name} [${l.rows}×${l.cols}]`) ?? layers;
  const divergedMethods = records.filter((r) => r.row.status === "diverged").map((r) => r.row.method);
  const lossSvg = await renderSvg(lossCurvesChart(curves, methods, divergedMethods));
  const spectraSvg = await renderSvg(spectraChart(points, methods, layerLabels));
  run.writeFile("figures/loss.svg", lossSvg);
  run.writeFile("figures/spectra.svg", spectraSvg);
  const rows = records.map((r) => r.row);
  const diverged = rows.filter((r) => r.status === "diverged");
  const html = reportHtml({
    title: "Initialiser comparison",
    subtitle: `${req.model} · ${String(req.modelOptions?.activation ?? "default activation")} · ${req.optimizer.name} lr ${req.optimizer.lr} · ${req.epochs} epoch(s) · seed ${req.seed}`,
    sections: [
      {
        heading: "Table",
        table: { columns: [...TABLE_COLUMNS, "Status"], rows: rows.map((r) => [...tableCells(r), r.status]) },
        text: [
          ...Object.entries(DEFINITIONS).map(([k, v]) => `${k}: ${v}.`),
          ...diverged.map((r) => `${r.method} diverged at step ${r.divergedAtStep}: ${r.reason}.`),
        ].join("\n\n"),
      },
      {
        heading: "Figures",
        figures: [
          {
            svg: lossSvg,
            caption: "Training loss per step (trailing mean over 5% of an epoch), every method.",
          },
          {
            svg: spectraSvg,
            caption:
              "Singular values σᵢ of each weight matrix against i/k, at init and after training (a diverged run has no finite spectrum after training).",
          },
        ],
      },
      { heading: "Request", code: JSON.stringify(req, null, 2) },
    ],
  });
  run.writeFile("report.html", html);
}
