/**
 * Curvature Tuning sessions as the CLI starts them: load the base run and the task, split off a
 * validation set, run the science, and leave everything in a run directory
 * (config.json, results.json, table.md, figures/*.svg) written atomically.
 */
import { dirname } from "node:path";
import { startEngine } from "../../engine/device.js";
import { treeDispose } from "../../engine/tree.js";
import type { ImageSplit } from "../../data/dataset.js";
import { firstExamples, holdOut, loadTask } from "../../data/subsets.js";
import { defaultRunsRoot, newRunId, Run } from "../../runs/store.js";
import { writeFileAtomic } from "../../runs/atomic.js";
import { lineChart, renderSvg, svgToPng } from "../../report/index.js";
import { loadBaseModel, type BaseModel } from "./base.js";
import { pickBest, searchBeta, type BetaScore, type SearchResult } from "./search.js";
import { defaultThreats, robustnessSweep, type ThreatResult } from "./robustness.js";
import { ctuFigureSvg } from "./figure.js";
import { UsageError } from "../../errors.js";
import { compareMethods, type CompareOptions, type CompareRow } from "./compare.js";
import type { HeadOptions } from "./probe.js";
import type { CtCompareRequest, CtRobustnessRequest, CtSearchRequest } from "../../requests/ct.js";
import { makeDirs } from "../../runs/files.js";

export type TaskSplits = {
  mode: "direct" | "probe";
  train?: ImageSplit;
  val: ImageSplit;
  test: ImageSplit;
  classes: string[];
  /** How the validation split was made, for the output. */
  validation: string;
};

export type TaskRequest = {
  run: string;
  dataset?: string;
  runsRoot?: string;
  dataDir?: string;
  limit?: number | null;
  testLimit?: number | null;
  val?: number;
  seed?: number;
};

/**
 * The task's splits for a base model. Same classes as the model: "direct" (validation held out of
 * the task's test split, since the model has seen the training split). Other classes: "probe"
 * (validation held out of the task's training split; the rest trains the new head).
 */
export function taskSplits(base: BaseModel, req: TaskRequest): TaskSplits {
  const name = req.dataset ?? base.task;
  const seed = req.seed ?? 0;
  const data = loadTask(name, {
    dataDir: req.dataDir,
    normalize: base.normalize,
    limit: req.limit,
    testLimit: req.testLimit,
    seed,
  });
  const own = loadTask(base.task, { dataDir: req.dataDir, limit: 1, testLimit: 1 }).classes;
  const direct = own.join("|") === data.classes.join("|");
  if (direct) {
    const val = req.val ?? Math.min(2000, Math.floor(data.test.n / 2));
    const { val: v, train: rest } = holdOut(data.test, val, seed);
    return {
      mode: "direct",
      val: v,
      test: rest,
      classes: data.classes,
      validation: `${val} random test images held out for choosing β; accuracy reported on the other ${rest.n}`,
    };
  }
  const val = req.val ?? Math.min(5000, Math.floor(data.train.n / 6));
  const { val: v, train } = holdOut(data.train, val, seed);
  return {
    mode: "probe",
    train,
    val: v,
    test: data.test,
    classes: data.classes,
    validation: `${val} random training images held out for choosing β and epochs; ${train.n} train the head; ${data.test.n} test images`,
  };
}

export function createCtRun(
  runsRoot: string | undefined,
  name: string | undefined,
  kind: string,
  config: object,
): Run {
  const id = name ?? newRunId(["ct", kind]);
  return Run.create(runsRoot ?? defaultRunsRoot(), id, {
    id,
    createdAt: new Date().toISOString(),
    ...config,
  });
}

export async function accuracyVsBetaSvg(scores: BetaScore[], title: string): Promise<string> {
  const data = scores.flatMap((s) => [
    { beta: s.beta, split: "validation", accuracy: s.valAccuracy },
    { beta: s.beta, split: "test", accuracy: s.testAccuracy },
  ]);
  return renderSvg(
    lineChart({
      title,
      x: { field: "beta", title: "β (1 = ReLU)" },
      y: { field: "accuracy", title: "Accuracy", format: ".1%" },
      color: {
        field: "split",
        title: "Split",
        domain: ["validation", "test"],
        range: ["#2563eb", "#ea580c"],
      },
      data,
    }),
  );
}

export type SearchRequest = TaskRequest & {
  betas: number[];
  c?: number;
  head?: HeadOptions;
  name?: string;
  onBeta?(score: BetaScore, index: number, total: number): void;
};

export async function runSearch(
  req: SearchRequest,
): Promise<{ run: Run; result: SearchResult; splits: TaskSplits }> {
  await startEngine();
  const base = loadBaseModel(req.run, { runsRoot: req.runsRoot });
  const splits = taskSplits(base, req);
  const dataset = req.dataset ?? base.task;
  const run = createCtRun(req.runsRoot, req.name, "search", {
    command: "ct-search",
    base: { run: base.run.dir, epoch: base.epoch, task: base.task, model: base.config },
    dataset,
    betas: req.betas,
    c: req.c ?? 0.5,
    mode: splits.mode,
    validation: splits.validation,
    head: req.head ?? {},
    seed: req.seed ?? 0,
  });
  return inRun(
    run,
    async () => {
      const result = await searchBeta(
        base.config,
        base.params,
        { train: splits.train, val: splits.val, test: splits.test, classes: splits.classes.length },
        { betas: req.betas, c: req.c, head: { seed: req.seed, ...req.head }, onBeta: req.onBeta },
      );
      run.writeJson("results.json", { ...result, validation: splits.validation });
      run.writeFile(
        "figures/accuracy-vs-beta.svg",
        await accuracyVsBetaSvg(result.scores, `CT on ${dataset}: accuracy vs β (c = ${result.c})`),
      );
      run.setStatus("done", 0);
      return { run, result, splits };
    },
    () => treeDispose(base.params),
  );
}

export type CompareRequest = TaskRequest & Omit<CompareOptions, "seed"> & { name?: string };

export function compareTable(rows: CompareRow[]): string {
  const lines = [
    "| method | trainable params | val acc | test acc | note |",
    "| --- | ---: | ---: | ---: | --- |",
    ...rows.map(
      (r) =>
        `| ${r.method} | ${r.trainableParams.toLocaleString("en-US")} | ${(100 * r.valAccuracy).toFixed(2)}% | ${(100 * r.testAccuracy).toFixed(2)}% | ${r.note} |`,
    ),
  ];
  return lines.join("\n") + "\n";
}

export async function runCompare(
  req: CompareRequest,
): Promise<{ run: Run; rows: CompareRow[]; search: SearchResult | null; splits: TaskSplits }> {
  await startEngine();
  const base = loadBaseModel(req.run, { runsRoot: req.runsRoot });
  const splits = taskSplits(base, req);
  if (splits.mode !== "probe" || !splits.train)
    throw new Error(
      `"${req.dataset ?? base.task}" has the base model's own classes; the transfer comparison needs a task with other classes (e.g. fashion-mnist:5-9)`,
    );
  const train = splits.train;
  const dataset = req.dataset ?? base.task;
  const { onBeta, onMethod, ...options } = req;
  const run = createCtRun(req.runsRoot, req.name, "compare", {
    command: "ct-compare",
    base: { run: base.run.dir, epoch: base.epoch, task: base.task, model: base.config },
    dataset,
    validation: splits.validation,
    options: { ...options, run: undefined, runsRoot: undefined },
  });
  return inRun(
    run,
    async () => {
      const { rows, search } = await compareMethods(
        base.config,
        base.params,
        { train, val: splits.val, test: splits.test, classes: splits.classes.length },
        {
          ...options,
          seed: req.seed,
          onBeta,
          onMethod,
          // Rows as they come, so a crash or an interrupt keeps the finished methods; the rest can
          // be run on their own with --methods.
          onRows: (partial, s) => {
            run.writeFile("table.md", compareTable(partial));
            run.writeJson("results.json", {
              rows: partial,
              search: s,
              validation: splits.validation,
              partial: true,
            });
          },
        },
      );
      run.writeJson("results.json", { rows, search, validation: splits.validation });
      run.writeFile("table.md", compareTable(rows));
      if (search && search.scores.length > 1)
        run.writeFile(
          "figures/accuracy-vs-beta.svg",
          await accuracyVsBetaSvg(search.scores, `Linear probe + CT on ${dataset}: accuracy vs β`),
        );
      run.setStatus("done", 0);
      return { run, rows, search, splits };
    },
    () => treeDispose(base.params),
  );
}

export type RobustnessRequest = {
  run: string;
  runsRoot?: string;
  dataDir?: string;
  betas: number[];
  c?: number;
  /** Examples in the validation split and in the (disjoint) test split, both from the test set. */
  n?: number;
  attacks?: boolean;
  corruptions?: boolean;
  pgdSteps?: number;
  /** PGD ℓ∞ budgets (pixel units); default 4/255 and 8/255. */
  eps?: number[];
  /** Images per attack batch; default by model (attackBatchFor). */
  batch?: number;
  seed?: number;
  name?: string;
  onBeta?(beta: number, index: number, total: number): void;
};

export type RobustnessRow = {
  threat: string;
  baseTest: number;
  beta: number;
  ctVal: number;
  ctTest: number;
};

/** Threat results → table rows, plus the mean over corruptions (β chosen on the mean validation accuracy). */
export function robustnessRows(results: ThreatResult[]): RobustnessRow[] {
  const rows: RobustnessRow[] = results.map((r) => ({
    threat: r.threat,
    baseTest: r.base.testAccuracy,
    beta: r.best.beta,
    ctVal: r.best.valAccuracy,
    ctTest: r.best.testAccuracy,
  }));
  const corr = results.filter((r) => r.threat.includes("@"));
  if (corr.length > 1) {
    const mean = corr[0].scores.map((s, i) => ({
      beta: s.beta,
      valAccuracy: corr.reduce((a, r) => a + r.scores[i].valAccuracy, 0) / corr.length,
      testAccuracy: corr.reduce((a, r) => a + r.scores[i].testAccuracy, 0) / corr.length,
    }));
    const best = pickBest(mean);
    const base = mean.find((s) => s.beta === 1)!;
    rows.push({
      threat: `corruptions (mean of ${corr.length})`,
      baseTest: base.testAccuracy,
      beta: best.beta,
      ctVal: best.valAccuracy,
      ctTest: best.testAccuracy,
    });
  }
  return rows;
}

export function robustnessTable(rows: RobustnessRow[]): string {
  const pctS = (x: number) => `${(100 * x).toFixed(2)}%`;
  return (
    [
      "| threat | base (ReLU) test | CT β (val) | CT test | Δ |",
      "| --- | ---: | ---: | ---: | ---: |",
      ...rows.map(
        (r) =>
          `| ${r.threat} | ${pctS(r.baseTest)} | ${r.beta} | ${pctS(r.ctTest)} | ${r.ctTest >= r.baseTest ? "+" : ""}${(100 * (r.ctTest - r.baseTest)).toFixed(2)} |`,
      ),
    ].join("\n") + "\n"
  );
}

/**
 * Images per attack batch. An attack step is a gradient with respect to the input through the whole
 * network; on a conv net that keeps every tap's copy alive for the backward pass (the small ResNet:
 * ~2 MiB an image with jax-js patch 2, ~11 MiB where the worker pool holds buffers until its
 * kernels finish, so 250 images overflowed the wasm backend's 4 GiB).
 */
export function attackBatchFor(config: { name: string }): number {
  return config.name === "mlp" ? 250 : 64;
}

export async function runRobustness(
  req: RobustnessRequest,
): Promise<{ run: Run; results: ThreatResult[]; rows: RobustnessRow[]; validation: string }> {
  await startEngine();
  const base = loadBaseModel(req.run, { runsRoot: req.runsRoot });
  const seed = req.seed ?? 0;
  const pixels = loadTask(base.task, { dataDir: req.dataDir, normalize: "scale", limit: 1 }).test;
  const n = req.n ?? 1000;
  if (2 * n > pixels.n) throw new UsageError(`--n ${n} needs ${2 * n} test images, the task has ${pixels.n}`);
  const { val, train: rest } = holdOut(pixels, n, seed);
  const test = firstExamples(rest, n);
  const validation = `${n} random test images choose β per threat; accuracy reported on ${n} other test images`;
  const steps = req.pgdSteps ?? 10;
  const batch = req.batch ?? attackBatchFor(base.config);
  const threats = defaultThreats(req.eps)
    .filter((t) => (t.corruption ? req.corruptions !== false : t.attack ? req.attacks !== false : true))
    .map((t) =>
      t.attack && t.attack.kind !== "fgsm"
        ? { ...t, name: t.name.replace("PGD-10", `PGD-${steps}`), attack: { ...t.attack, steps } }
        : t,
    );
  const run = createCtRun(req.runsRoot, req.name, "robustness", {
    command: "ct-robustness",
    base: { run: base.run.dir, epoch: base.epoch, task: base.task, model: base.config },
    betas: req.betas,
    c: req.c ?? 0.5,
    validation,
    threats: threats.map((t) => ({ name: t.name, attack: t.attack, corruption: t.corruption })),
    seed,
    batch,
  });
  return inRun(
    run,
    async () => {
      const results = await robustnessSweep(
        base.config,
        base.params,
        base.normalize,
        { val, test },
        {
          betas: req.betas,
          c: req.c,
          threats,
          seed,
          batchSize: batch,
          onBeta: req.onBeta,
          onResults: (partial) => {
            const rows = robustnessRows(partial);
            run.writeFile("table.md", robustnessTable(rows));
            run.writeJson("results.json", { results: partial, rows, validation, partial: true });
          },
        },
      );
      const rows = robustnessRows(results);
      run.writeJson("results.json", { results, rows, validation });
      run.writeFile("table.md", robustnessTable(rows));
      const shown = results.filter((r) => !r.threat.includes("@"));
      const data = shown.flatMap((r) =>
        r.scores.map((s) => ({ beta: s.beta, threat: r.threat, accuracy: s.testAccuracy })),
      );
      run.writeFile(
        "figures/robust-accuracy-vs-beta.svg",
        await renderSvg(
          lineChart({
            title: `Test accuracy under attack vs β (c = ${req.c ?? 0.5})`,
            x: { field: "beta", title: "β (1 = ReLU)" },
            y: { field: "accuracy", title: "Accuracy", format: ".0%" },
            color: { field: "threat", title: "Threat" },
            data,
          }),
        ),
      );
      run.setStatus("done", 0);
      return { run, results, rows, validation };
    },
    () => treeDispose(base.params),
  );
}

export async function runFigure(req: {
  betas: number[];
  steps?: number;
  seed?: number;
  save?: string;
  runsRoot?: string;
  name?: string;
}): Promise<{ run: Run; file: string }> {
  // Make the --save folder before the minutes of training, so a bad path fails at once.
  if (req.save) makeDirs(dirname(req.save));
  await startEngine();
  const run = createCtRun(req.runsRoot, req.name, "figure", {
    command: "ct-figure",
    ...req,
    runsRoot: undefined,
  });
  return inRun(run, async () => {
    const svg = await ctuFigureSvg(req.betas, req.seed ?? 0, req.steps ?? 1500);
    const file = run.writeFile("figures/ctu.svg", svg);
    // A .png target is rasterised: the SVG of the decision-boundary panels is megabytes.
    if (req.save) writeFileAtomic(req.save, req.save.endsWith(".png") ? svgToPng(svg, { width: 1400 }) : svg);
    run.setStatus("done", 0);
    return { run, file };
  });
}

/** The task fields every CT request shares, as the library's TaskRequest. */
function taskOf(r: CtSearchRequest | CtCompareRequest): TaskRequest & { name?: string } {
  return {
    run: r.run,
    dataset: r.task,
    runsRoot: r.runs,
    dataDir: r.dataDir,
    limit: r.limit ?? null,
    testLimit: r.testLimit ?? null,
    val: r.val,
    seed: r.seed,
    name: r.name,
  };
}

/** The library's request for a validated `ct search` request (`requests/ct.ts`). */
export function searchRequestOf(r: CtSearchRequest): SearchRequest {
  return { ...taskOf(r), betas: r.betas, c: r.c, head: { steps: r.headSteps } };
}

/** The library's request for a validated `ct compare` request; `finetune` adds progress hooks. */
export function compareRequestOf(
  r: CtCompareRequest,
  finetune: Partial<NonNullable<CompareRequest["finetune"]>> = {},
): CompareRequest {
  return {
    ...taskOf(r),
    betas: r.betas,
    c: r.c,
    head: { steps: r.headSteps },
    finetune: { epochs: r.epochs, batchSize: r.batchSize, ...finetune },
    loraRank: r.loraRank,
    methods: r.methods,
  };
}

/** The library's request for a validated `ct robustness` request. */
export function robustnessRequestOf(r: CtRobustnessRequest): RobustnessRequest {
  const { runs, ...rest } = r;
  return { ...rest, runsRoot: runs };
}

/** Does a CT analysis in its run: a throw marks the run failed (or diverged) first; `cleanup` always runs. */
async function inRun<T>(run: Run, work: () => Promise<T>, cleanup: () => void = () => {}): Promise<T> {
  try {
    return await work();
  } catch (e) {
    run.recordFailure(e, 0);
    throw e;
  } finally {
    cleanup();
  }
}
