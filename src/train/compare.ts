/**
 * Optimisers side by side: the same model, the same initial weights (one seed) and the same data
 * order (the seeded epoch permutation), one ordinary training run per optimiser, nested in one
 * comparison run:
 *
 *   runs/<id>/config.json, status.json
 *   runs/<id>/members/<label>/          a complete training run per optimiser (resumable, reportable)
 *   runs/<id>/summary.json, summary.csv the table
 *   runs/<id>/figures/compare.svg       loss, accuracy, gradient norm, memory
 */
import { readFileSync } from "node:fs";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "../data/dataset.js";
import { startEngine } from "../engine/device.js";
import { treeDispose } from "../engine/tree.js";
import { DEFAULT_LR, isOptimizerName, optimizerConfig, type OptimizerConfig } from "../optim/index.js";
import { renderSvg } from "../report/vega.js";
import { lineChart } from "../report/charts.js";
import { colorScale } from "../report/palette.js";
import type { VegaLiteSpec } from "../report/vega.js";
import {
  defaultRunsRoot,
  newRunId,
  Run,
  type EpochEvent,
  type MetricEvent,
  type StepEvent,
} from "../runs/store.js";
import { UsageError } from "../errors.js";
import type { OptimCompareRequest } from "../requests/optim-compare.js";
import type { MemoryFields, TrainCallbacks, TrainResult } from "./loop.js";
import {
  loadDataFor,
  resolveTrainConfig,
  resumeTraining,
  runTraining,
  trainingOf,
  type TrainRequest,
} from "./session.js";

/** The book's defaults for a comparison: SGD lr 0.01 with momentum 0.9, Adam 1e-3, Lion 1e-4. */
export const COMPARE_DEFAULTS: Record<string, Partial<OptimizerConfig>> = {
  sgd: { lr: 0.01, momentum: 0.9 },
  adam: { lr: 1e-3 },
  lion: { lr: 1e-4 },
};

export type CompareMember = { label: string; optimizer: OptimizerConfig };

export type CompareRequest = Omit<TrainRequest, "optimizer" | "name" | "runsRoot"> & {
  members: CompareMember[];
  runsRoot?: string;
  name?: string;
};

export type SummaryRow = {
  optimizer: string;
  status: TrainResult["status"];
  epochs: number;
  final_train_loss: number | null;
  final_test_loss: number | null;
  final_test_accuracy: number | null;
  best_test_accuracy: number | null;
  /** Mean global gradient norm over the last epoch's logged steps. */
  grad_norm_last_epoch: number | null;
  opt_state_bytes: number | null;
  peak_rss_bytes: number | null;
  seconds: number | null;
  run: string;
};

export type CompareResult = { run: Run; rows: SummaryRow[]; figure: string };

/**
 * Members from a list of labels and an optional config file's entries (label → {name?, ...}).
 * A label that is an optimiser name and not in the file gets the book's defaults.
 */
export function compareMembers(
  labels: string[],
  file: Record<string, Record<string, unknown>> = {},
): CompareMember[] {
  if (labels.length === 0) throw new UsageError("no optimisers to compare");
  const seen = new Set<string>();
  return labels.map((label) => {
    if (seen.has(label)) throw new UsageError(`optimiser "${label}" is listed twice`);
    seen.add(label);
    const entry = file[label];
    const { name = label, ...params } = (entry ?? {}) as { name?: string } & Record<string, unknown>;
    if (!entry && !isOptimizerName(label))
      throw new UsageError(`"${label}" is neither an optimiser nor an entry of the config file`);
    const defaults = entry
      ? {}
      : (COMPARE_DEFAULTS[label] ?? { lr: DEFAULT_LR[label as OptimizerConfig["name"]] });
    const optimizer = optimizerConfig(String(name), { ...defaults, ...params } as Record<
      string,
      number | boolean
    >);
    return { label, optimizer };
  });
}

/** Reads a comparison config file: an object label → {name?, ...hyper-parameters} or an array of {label?, name, ...}. */
export function parseCompareConfig(text: string, where: string): Record<string, Record<string, unknown>> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${where}: not valid JSON (${(e as Error).message})`);
  }
  const entries: [string, unknown][] = Array.isArray(raw)
    ? raw.map((e, i) => [
        String((e as { label?: string; name?: string })?.label ?? (e as { name?: string })?.name ?? i),
        e,
      ])
    : typeof raw === "object" && raw !== null
      ? Object.entries(raw)
      : [];
  if (entries.length === 0)
    throw new UsageError(
      `${where}: expected {"label": {"name": "adam", "lr": 0.001}, ...} or a list of such objects`,
    );
  return Object.fromEntries(
    entries.map(([label, e]) => {
      if (typeof e !== "object" || e === null || Array.isArray(e))
        throw new UsageError(`${where}: entry "${label}" is not an object`);
      const { label: _label, ...rest } = e as Record<string, unknown>;
      return [label, rest];
    }),
  );
}

/** The library's request for a validated `optim compare` request; reads its `config` file. */
export function compareRequestOf(r: OptimCompareRequest): CompareRequest {
  const file = r.config ? parseCompareConfig(readConfigFile(r.config), r.config) : {};
  const labels = r.optimizers ?? (r.config ? Object.keys(file) : ["sgd", "adam", "lion"]);
  return {
    model: r.model,
    modelOptions: { hidden: r.hidden, channels: r.channels, activation: r.activation },
    members: compareMembers(labels, file),
    ...trainingOf(r),
    onDivergence: r.onDivergence,
    maxSkips: r.maxSkips,
  };
}

function readConfigFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export async function runComparison(
  req: CompareRequest,
  opts: {
    callbacks?: (label: string) => TrainCallbacks;
    signal?: AbortSignal;
    dataset?: Dataset;
    /** The comparison run to continue (`resumeComparison`): members with a run resume, the others start. */
    resume?: Run;
  } = {},
): Promise<CompareResult> {
  await startEngine();
  const { members, runsRoot, name, ...common } = req;
  for (const m of members) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(m.label))
      throw new UsageError(`optimiser label "${m.label}" may use letters, digits, ".", "_", "-" only`);
  }
  // Validate every member before any data is loaded or anything is written.
  const configs = members.map((m) => resolveTrainConfig({ ...common, optimizer: m.optimizer }, m.label));
  const id = name ?? newRunId([common.model, "compare", ...members.map((m) => m.label)].slice(0, 6));
  const run =
    opts.resume ??
    Run.create(runsRoot ?? defaultRunsRoot(), id, {
      id,
      request: req,
      createdAt: new Date().toISOString(),
      command: "compare",
      model: configs[0].model,
      members: members.map((m) => ({ label: m.label, optimizer: m.optimizer })),
      data: configs[0].data,
      epochs: common.epochs,
      batchSize: common.batchSize,
      seed: common.seed,
      paramCount: configs[0].paramCount,
    });
  const membersRoot = run.path("members");
  const results: { label: string; dir: string; result: TrainResult }[] = [];
  try {
    const dataset = opts.dataset ?? loadDataFor(configs[0]);
    for (const m of members) {
      if (opts.signal?.aborted) break;
      const memberOpts = { dataset, signal: opts.signal, callbacks: opts.callbacks?.(m.label) };
      const { run: member, result } = run.has(join("members", m.label, "config.json"))
        ? await resumeTraining(join(membersRoot, m.label), memberOpts)
        : await runTraining(
            { ...common, optimizer: m.optimizer, runsRoot: membersRoot, name: m.label },
            memberOpts,
          );
      // Only the member's files are used from here on: its final params go back to the engine.
      treeDispose(result.params);
      results.push({ label: m.label, dir: member.dir, result });
    }
  } catch (e) {
    run.recordFailure(e, results.length);
    throw e;
  }
  const rows = members.map((m) => summarize(m.label, join(membersRoot, m.label)));
  run.writeJson("summary.json", rows);
  run.writeFile("summary.csv", toCsv(rows));
  const figure = run.writeFile(
    "figures/compare.svg",
    await renderSvg(compareFigure(members.map((m) => ({ label: m.label, run: join(membersRoot, m.label) })))),
  );
  const interrupted =
    results.length < members.length || results.some((r) => r.result.status === "interrupted");
  // Interrupted: the epochs every member finished (0 when one never finished any).
  run.setStatus(
    interrupted ? "interrupted" : "done",
    interrupted ? Math.min(...rows.map((r) => r.epochs)) : common.epochs,
    interrupted ? "stopped by the user" : undefined,
  );
  return { run, rows, figure };
}

/**
 * Continues an interrupted comparison from its config.json's request: finished members stay as they
 * are (a resume of a done run trains nothing), the interrupted one resumes from its checkpoint, and
 * the rest start.
 */
export async function resumeComparison(
  dirOrId: string,
  opts: Omit<Parameters<typeof runComparison>[1], "resume"> & { runsRoot?: string } = {},
): Promise<CompareResult> {
  const run = Run.openForWriting(dirOrId, opts.runsRoot);
  const config = run.config<{ command?: string; request?: CompareRequest }>();
  if (config.command !== "compare" || !config.request)
    throw new UsageError(
      `run ${run.dir} is not an optimiser comparison that can be resumed (no request in config.json)`,
    );
  run.setStatus("running", 0);
  return runComparison(config.request, { ...opts, resume: run });
}

function memberMetrics(dir: string): MetricEvent[] {
  return existsSync(join(dir, "metrics.jsonl")) ? new Run(dir).metrics() : [];
}

type StepWithMemory = StepEvent & Partial<MemoryFields>;

/** One row of the table from a member run's metrics. */
export function summarize(label: string, dir: string): SummaryRow {
  const events = memberMetrics(dir);
  const epochs = events.filter((e): e is EpochEvent => e.type === "epoch");
  const steps = events.filter((e) => e.type === "step") as StepWithMemory[];
  const last = epochs.at(-1);
  const lastSteps = steps.filter((s) => s.epoch === last?.epoch && typeof s.grad_norm === "number");
  const status = existsSync(join(dir, "status.json")) ? new Run(dir).status().status : "interrupted";
  const rss = steps.map((s) => s.rss_bytes).filter((v): v is number => typeof v === "number");
  return {
    optimizer: label,
    status: status === "running" || status === "failed" ? "interrupted" : status,
    epochs: epochs.length,
    final_train_loss: last?.train_loss ?? null,
    final_test_loss: last?.test_loss ?? null,
    final_test_accuracy: last?.test_accuracy ?? null,
    best_test_accuracy: epochs.length ? Math.max(...epochs.map((e) => e.test_accuracy)) : null,
    grad_norm_last_epoch: lastSteps.length
      ? lastSteps.reduce((a, s) => a + (s.grad_norm as number), 0) / lastSteps.length
      : null,
    opt_state_bytes: steps.find((s) => typeof s.opt_state_bytes === "number")?.opt_state_bytes ?? null,
    peak_rss_bytes: rss.length ? Math.max(...rss) : null,
    seconds: last?.elapsed_s ?? null,
    run: dir,
  };
}

const COLUMNS: (keyof SummaryRow)[] = [
  "optimizer",
  "status",
  "epochs",
  "final_train_loss",
  "final_test_loss",
  "final_test_accuracy",
  "best_test_accuracy",
  "grad_norm_last_epoch",
  "opt_state_bytes",
  "peak_rss_bytes",
  "seconds",
  "run",
];

export function toCsv(rows: SummaryRow[]): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [COLUMNS.join(","), ...rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(","))].join("\n") + "\n";
}

/** The table as aligned text for a terminal. */
export function formatTable(rows: SummaryRow[]): string {
  const mb = (b: number | null) => (b === null ? "–" : `${(b / 2 ** 20).toFixed(2)} MB`);
  const num = (v: number | null, digits = 4) => (v === null ? "–" : v.toFixed(digits));
  const pct = (v: number | null) => (v === null ? "–" : `${(100 * v).toFixed(2)}%`);
  const header = [
    "optimizer",
    "status",
    "epochs",
    "train loss",
    "test loss",
    "test acc",
    "best acc",
    "‖g‖ (last ep.)",
    "opt state",
    "peak RSS",
    "time",
  ];
  const body = rows.map((r) => [
    r.optimizer,
    r.status,
    String(r.epochs),
    num(r.final_train_loss),
    num(r.final_test_loss),
    pct(r.final_test_accuracy),
    pct(r.best_test_accuracy),
    num(r.grad_norm_last_epoch, 3),
    mb(r.opt_state_bytes),
    r.peak_rss_bytes === null ? "–" : `${(r.peak_rss_bytes / 2 ** 20).toFixed(0)} MB`,
    r.seconds === null ? "–" : `${r.seconds.toFixed(0)} s`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), line(widths.map((w) => "─".repeat(w))), ...body.map(line)].join("\n");
}

/**
 * The four panels: training loss per logged step, test accuracy per epoch, global gradient norm per
 * logged step (both log scale), and the optimiser state's exact size.
 */
export function compareFigure(members: { label: string; run: string }[]): VegaLiteSpec {
  const labels = members.map((m) => m.label);
  // One colour per optimiser, the same in the lab and on every figure.
  const color = { field: "optimizer", title: "Optimiser", ...colorScale(labels) };
  const steps: object[] = [];
  const epochs: object[] = [];
  const memory: object[] = [];
  for (const m of members) {
    const events = memberMetrics(m.run);
    let bytes: number | undefined;
    for (const e of events) {
      if (e.type === "step") {
        const s = e as StepWithMemory;
        steps.push({ optimizer: m.label, step: s.step, loss: s.loss, grad_norm: s.grad_norm ?? null });
        bytes ??= s.opt_state_bytes;
      } else if (e.type === "epoch")
        epochs.push({
          optimizer: m.label,
          epoch: e.epoch,
          test_accuracy: e.test_accuracy,
          test_loss: e.test_loss,
        });
    }
    memory.push({ optimizer: m.label, mb: (bytes ?? 0) / 2 ** 20 });
  }
  const size = { width: 360, height: 220 };
  const strip = (spec: VegaLiteSpec) => {
    const { $schema: _schema, ...rest } = spec as VegaLiteSpec & { $schema?: string };
    return rest;
  };
  const loss = lineChart({
    title: "Training loss",
    x: { field: "step", title: "Step" },
    y: { field: "loss", title: "Loss (log)", scale: "log" },
    color,
    data: steps,
    points: false,
    ...size,
  });
  const accuracy = lineChart({
    title: "Test accuracy",
    x: { field: "epoch", title: "Epoch", integer: true },
    y: { field: "test_accuracy", title: "Accuracy", format: ".1%" },
    color,
    data: epochs,
    ...size,
  });
  const gradNorm = lineChart({
    title: "Gradient norm",
    x: { field: "step", title: "Step" },
    y: { field: "grad_norm", title: "‖g‖₂ (log)", scale: "log" },
    color,
    data: steps,
    points: false,
    ...size,
  });
  const mem = {
    title: "Optimiser state memory",
    ...size,
    data: { values: memory },
    mark: { type: "bar" },
    encoding: {
      x: { field: "optimizer", type: "nominal", title: "Optimiser", sort: labels, axis: { labelAngle: 0 } },
      y: { field: "mb", type: "quantitative", title: "MB (exact bytes of state)" },
      color: {
        field: "optimizer",
        type: "nominal",
        title: "Optimiser",
        scale: { domain: color.domain, range: color.range },
      },
    },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    vconcat: [{ hconcat: [strip(loss), strip(accuracy)] }, { hconcat: [strip(gradNorm), mem] }],
  } as VegaLiteSpec;
}
