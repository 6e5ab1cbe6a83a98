/**
 * `tiller svf adapt` as a library call: the Transformer² Table-2-style comparison. For each task
 * (held-out families and the experts' own tasks), on its canonical test split:
 *
 *   base        the base weights
 *   LoRA        a LoRA trained on the mixture of the expert tasks (when given)
 *   expert      the task's own SVF expert (expert tasks only: the upper reference)
 *   prompt      pass 1: the adaptation prompt on the base weights → category; pass 2: that W′
 *   classifier  pass 1: the adaptation prompt under the classification expert z_c; pass 2: as above
 *   fewshot     α searched by CEM on `shots` labelled training examples, then one W′ for the split
 *
 * with dispatch confusion matrices (task × chosen route), the CEM curves, and tokens/s of each pass.
 */
import { treeDispose, treeRef, type Params } from "../../../engine/tree.js";
import { evalSplits, getFamily, isCorrect, trainSplit, answerTokens } from "../../../data/tasks/index.js";
import { UsageError } from "../../../errors.js";
import { loadTrainedAdapter } from "../../adapt-session.js";
import { createGenerator } from "../../../lm/generate.js";
import type { CemGeneration } from "./cem.js";
import { OTHER, readDispatch } from "./dispatch.js";
import { fewShotSearch, type FewShotOptions, type FewShotResult } from "./fewshot.js";
import { composer, disposeLibrary, loadExpertLibrary } from "./library.js";
import { mixExperts } from "./mix.js";
import {
  addStats,
  answer,
  answerByRoute,
  dispatchPass,
  emptyStats,
  RouteWeights,
  tokensPerSecond,
  type PassStats,
} from "./two-pass.js";

export const STRATEGIES = ["prompt", "classifier", "fewshot"] as const;
export type Strategy = (typeof STRATEGIES)[number];

export type SelfAdaptRequest = {
  /** category → SVF expert run. */
  experts: Record<string, string>;
  /** SVF run trained on the "dispatch" task (strategy 2). */
  classifier?: string;
  /** LoRA run trained on the "mixture" task (the baseline). */
  lora?: string;
  strategies: Strategy[];
  tasks: string[];
  fewshot: FewShotOptions;
  /** Test questions per task (default: the whole split). */
  testExamples?: number;
  batchSize: number;
  runsRoot?: string;
};

export type Cell = { accuracy: number; correct: number; n: number };
export const COLUMNS = ["base", "lora", "expert", "prompt", "classifier", "fewshot"] as const;
export type Column = (typeof COLUMNS)[number];
export type Row = { task: string; heldOut: boolean } & Partial<Record<Column, Cell>>;

export type Confusion = {
  /** Column labels: the categories, then "other". */
  labels: string[];
  rows: { task: string; counts: number[] }[];
  /** Share of expert-task prompts routed to their own expert. */
  accuracy: number;
  /** Pass-1 answers the parser could not read (counted as "other"), over all prompts. */
  unparseable: number;
  prompts: number;
};

export type Throughput = { pass1?: PassStats; pass2: PassStats };

export type SelfAdaptResult = {
  categories: string[];
  rows: Row[];
  confusion: Partial<Record<"prompt" | "classifier", Confusion>>;
  cem: Record<string, Omit<FewShotResult, "best">>;
  /** Keyed by column: base, lora, expert, prompt, classifier, fewshot. */
  throughput: Record<string, Throughput>;
  /**
   * Distinct W′ each strategy's pass 2 needed over all tasks (built once per expert and shared by
   * every prompt routed there; few-shot: one per task).
   */
  weightBuilds: Partial<Record<Strategy, number>>;
  runs: Record<string, string>;
};

export type SelfAdaptCallbacks = {
  onPhase?(what: string): void;
  onGeneration?(task: string, g: CemGeneration, iterations: number): void;
};

function cell(texts: string[], answers: string[]): Cell {
  const correct = texts.filter((t, i) => isCorrect(t, answers[i])).length;
  return { accuracy: answers.length ? correct / answers.length : 0, correct, n: answers.length };
}

/** The weights of a LoRA run on the same base model, for the LoRA column. */
async function loraWeights(
  ref: string,
  runsRoot: string | undefined,
  base: { hiddenSize: number; numLayers: number },
): Promise<Params> {
  const t = await loadTrainedAdapter(ref, runsRoot);
  if (t.config.adapter.kind !== "lora") throw new UsageError(`--lora ${ref} is not a LoRA run`);
  if (t.lm.cfg.hiddenSize !== base.hiddenSize || t.lm.cfg.numLayers !== base.numLayers)
    throw new UsageError(`--lora ${ref} adapts a different base model (${t.config.base})`);
  return t.params;
}

/** The share of an expert task's prompts that pass 1 routed to that task's expert. */
function dispatchAccuracy(c: Confusion, categories: string[]): number {
  const own = c.rows.filter((r) => categories.includes(r.task));
  const hit = own.reduce((s, r) => s + r.counts[c.labels.indexOf(r.task)], 0);
  const all = own.reduce((s, r) => s + r.counts.reduce((a, b) => a + b, 0), 0);
  return all ? hit / all : NaN;
}

export async function selfAdapt(
  req: SelfAdaptRequest,
  cb: SelfAdaptCallbacks = {},
): Promise<SelfAdaptResult> {
  req.tasks.forEach(getFamily);
  if (req.strategies.includes("classifier") && !req.classifier)
    throw new UsageError("--strategy classifier needs --classifier <svf run trained on --task dispatch>");
  const lib = loadExpertLibrary({ experts: req.experts, classifier: req.classifier, runsRoot: req.runsRoot });
  const { lm, categories } = lib;
  const tok = lm.tokenizer;
  const gen = createGenerator(lm.cfg);
  const compose = composer(lib);
  const weights = new RouteWeights(lm.params, (route) => {
    const k = categories.indexOf(route);
    if (k < 0) throw new Error(`no expert "${route}"`);
    return compose.params(treeRef(lib.zs[k]));
  });
  const classifierParams = lib.classifier ? compose.params(treeRef(lib.classifier.z)) : null;
  const lora = req.lora ? await loraWeights(req.lora, req.runsRoot, lm.cfg) : null;
  const labels = [...categories, OTHER];
  const confusion: SelfAdaptResult["confusion"] = {};
  const throughput: SelfAdaptResult["throughput"] = {};
  const track = (key: string, pass2: PassStats, pass1?: PassStats) => {
    const t = throughput[key] ?? { pass2: emptyStats() };
    t.pass2 = addStats(t.pass2, pass2);
    if (pass1) t.pass1 = addStats(t.pass1 ?? emptyStats(), pass1);
    throughput[key] = t;
  };
  const rows: Row[] = [];
  const cemOut: SelfAdaptResult["cem"] = {};
  const builds: SelfAdaptResult["weightBuilds"] = {};
  const used: Partial<Record<Strategy, Set<string>>> = {};
  const opts = { batchSize: req.batchSize };
  try {
    for (const task of req.tasks) {
      const family = getFamily(task);
      const test = evalSplits(task).test.slice(0, req.testExamples ?? Infinity);
      const questions = test.map((e) => e.question);
      const answers = test.map((e) => e.answer);
      const maxNewTokens = answerTokens([task]);
      const row: Row = { task, heldOut: family.heldOut };
      const plain = async (key: "base" | "lora" | "expert", params: Params) => {
        cb.onPhase?.(`${task}: ${key}`);
        const out = await answer(gen, params, tok, questions, { ...opts, maxNewTokens });
        row[key] = cell(out.texts, answers);
        track(key, out.stats);
      };
      await plain("base", lm.params);
      if (lora) await plain("lora", lora);
      if (categories.includes(task)) await plain("expert", weights.get(task));
      for (const strategy of ["prompt", "classifier"] as const) {
        if (!req.strategies.includes(strategy)) continue;
        cb.onPhase?.(`${task}: ${strategy} dispatch`);
        const pass1 = await dispatchPass(
          gen,
          strategy === "prompt" ? lm.params : (classifierParams as Params),
          tok,
          questions,
          categories,
          req.batchSize,
        );
        const pass2 = await answerByRoute(gen, weights, tok, questions, pass1.routes, {
          ...opts,
          maxNewTokens,
        });
        const routes = (used[strategy] ??= new Set());
        pass1.routes.filter((r) => r !== OTHER).forEach((r) => routes.add(r));
        builds[strategy] = routes.size;
        row[strategy] = cell(pass2.texts, answers);
        track(strategy, pass2.stats, pass1.stats);
        const c = (confusion[strategy] ??= { labels, rows: [], accuracy: 0, unparseable: 0, prompts: 0 });
        c.rows.push({ task, counts: labels.map((l) => pass1.routes.filter((r) => r === l).length) });
        c.unparseable += pass1.raw.filter((t) => readDispatch(t, categories) === null).length;
        c.prompts += questions.length;
      }
      if (req.strategies.includes("fewshot")) {
        cb.onPhase?.(`${task}: few-shot CEM over α (${req.fewshot.shots} shots)`);
        const shots = trainSplit(task, req.fewshot.shots, req.fewshot.seed);
        const found = await fewShotSearch(lib, compose, gen, shots, req.fewshot, (g) =>
          cb.onGeneration?.(task, g, req.fewshot.iterations),
        );
        const { best: _best, ...rest } = found;
        void _best;
        cemOut[task] = rest;
        cb.onPhase?.(`${task}: few-shot answers with the found α`);
        const t0 = performance.now();
        const params = compose.params(mixExperts(lib.zs, lib.targets, found.alpha, req.fewshot));
        const built = (performance.now() - t0) / 1000;
        const out = await answer(gen, params, tok, questions, { ...opts, maxNewTokens });
        treeDispose(params);
        builds.fewshot = (builds.fewshot ?? 0) + 1;
        row.fewshot = cell(out.texts, answers);
        track("fewshot", { ...out.stats, seconds: out.stats.seconds + built });
      }
      rows.push(row);
    }
    for (const c of Object.values(confusion)) c.accuracy = dispatchAccuracy(c, categories);
  } finally {
    weights.dispose();
    if (classifierParams) treeDispose(classifierParams);
    if (lora) treeDispose(lora);
    compose.dispose();
    gen.dispose();
    disposeLibrary(lib);
  }
  return {
    categories,
    rows,
    confusion,
    cem: cemOut,
    throughput,
    weightBuilds: builds,
    runs: {
      ...lib.runs,
      ...(lib.classifier ? { classifier: lib.classifier.run } : {}),
      ...(req.lora ? { lora: req.lora } : {}),
    },
  };
}

/** A warning when a pass-1 model mostly fails to answer the adaptation prompt in its format. */
export function dispatchWarnings(r: SelfAdaptResult): string[] {
  return Object.entries(r.confusion)
    .filter(([, c]) => c.prompts && c.unparseable / c.prompts > 0.5)
    .map(
      ([name, c]) =>
        `warning: ${name === "prompt" ? "the base model" : "the classification expert"} did not answer the adaptation prompt as \\boxed{category} for ${((100 * c.unparseable) / c.prompts).toFixed(0)}% of the prompts (they fall back to the base weights)` +
        (name === "prompt" ? "; pretrain with the dispatch task or rely on --strategy classifier" : ""),
    );
}

const pct = (c?: Cell) => (c ? `${(100 * c.accuracy).toFixed(1)}%` : "—");

/** The comparison, confusion matrices and throughput as Markdown. */
export function selfAdaptTables(r: SelfAdaptResult): string {
  const cols = COLUMNS.filter((c) => r.rows.some((row) => row[c]));
  const title: Record<Column, string> = {
    base: "base",
    lora: "LoRA (mixture)",
    expert: "own expert",
    prompt: "T² prompt",
    classifier: "T² classifier",
    fewshot: "T² few-shot",
  };
  const out = [
    `| task | ${cols.map((c) => title[c]).join(" | ")} |`,
    `| --- | ${cols.map(() => "---:").join(" | ")} |`,
    ...r.rows.map(
      (row) =>
        `| ${row.task}${row.heldOut ? " (held out)" : ""} | ${cols.map((c) => pct(row[c])).join(" | ")} |`,
    ),
    "",
    `Exact match, greedy decoding, ${r.rows[0]?.base?.n ?? 0} test questions per task; experts: ${r.categories.join(", ")}.`,
  ];
  for (const [name, c] of Object.entries(r.confusion)) {
    out.push(
      "",
      `Dispatch by ${name === "prompt" ? "the adaptation prompt on the base weights" : "the classification expert"} (rows: task, columns: chosen route); routed to their own expert on the expert tasks: ${Number.isNaN(c.accuracy) ? "—" : `${(100 * c.accuracy).toFixed(1)}%`}; unparseable answers (→ other): ${Number.isFinite(c.unparseable) && c.prompts ? `${c.unparseable}/${c.prompts}` : "not recorded"}`,
      "",
      `| task | ${c.labels.join(" | ")} |`,
      `| --- | ${c.labels.map(() => "---:").join(" | ")} |`,
      ...c.rows.map((row) => `| ${row.task} | ${row.counts.join(" | ")} |`),
    );
  }
  if (Object.keys(r.cem).length) {
    out.push(
      "",
      "| task | α found by CEM | few-shot fitness | evaluations | search time |",
      "| --- | --- | ---: | ---: | ---: |",
    );
    for (const [task, c] of Object.entries(r.cem))
      out.push(
        `| ${task} | ${c.alpha.map((a) => a.toFixed(2)).join(", ")} | ${(100 * c.fitness.score).toFixed(1)}% (log-lik ${(c.fitness.tiebreak ?? 0).toFixed(2)}) | ${c.evaluations} | ${c.seconds.toFixed(1)} s |`,
      );
  }
  out.push(
    "",
    "Tokens/s count prompt and generated tokens and include jax-js compiling each new batch shape on first use.",
    "",
    "| model | pass 1 tokens/s | pass 2 tokens/s | W′ needed |",
    "| --- | ---: | ---: | ---: |",
  );
  for (const [name, t] of Object.entries(r.throughput))
    out.push(
      `| ${name} | ${t.pass1 ? tokensPerSecond(t.pass1).toFixed(0) : "—"} | ${tokensPerSecond(t.pass2).toFixed(0)} | ${r.weightBuilds[name as Strategy] ?? "—"} |`,
    );
  const warnings = dispatchWarnings(r);
  if (warnings.length) out.push("", ...warnings);
  return out.join("\n") + "\n";
}

/**
 * One result from several runs of the same expert library on different tasks (tasks are
 * independent, so they can run in parallel processes or machines): rows, confusion rows and CEM
 * searches concatenated, pass statistics summed.
 */
export function mergeResults(parts: SelfAdaptResult[]): SelfAdaptResult {
  if (!parts.length) throw new UsageError("nothing to merge");
  const [first] = parts;
  for (const p of parts)
    if (
      p.categories.join(",") !== first.categories.join(",") ||
      JSON.stringify(p.runs) !== JSON.stringify(first.runs)
    )
      throw new UsageError("the runs to merge used different expert libraries");
  const out: SelfAdaptResult = {
    ...first,
    rows: [],
    confusion: {},
    cem: {},
    throughput: {},
    weightBuilds: {},
  };
  for (const p of parts) {
    out.rows.push(...p.rows);
    Object.assign(out.cem, p.cem);
    for (const [k, c] of Object.entries(p.confusion) as ["prompt" | "classifier", Confusion][]) {
      const m = (out.confusion[k] ??= {
        labels: c.labels,
        rows: [],
        accuracy: NaN,
        unparseable: 0,
        prompts: 0,
      });
      m.rows.push(...c.rows);
      m.unparseable += c.unparseable;
      m.prompts += c.prompts;
    }
    for (const [k, t] of Object.entries(p.throughput)) {
      const m = (out.throughput[k] ??= { pass2: emptyStats() });
      m.pass2 = addStats(m.pass2, t.pass2);
      if (t.pass1) m.pass1 = addStats(m.pass1 ?? emptyStats(), t.pass1);
    }
    for (const [k, n] of Object.entries(p.weightBuilds) as [Strategy, number][])
      out.weightBuilds[k] = Math.max(out.weightBuilds[k] ?? 0, n);
  }
  for (const c of Object.values(out.confusion)) {
    const own = c.rows.filter((r) => out.categories.includes(r.task));
    const hit = own.reduce((s, r) => s + r.counts[c.labels.indexOf(r.task)], 0);
    const all = own.reduce((s, r) => s + r.counts.reduce((a, b) => a + b, 0), 0);
    c.accuracy = all ? hit / all : NaN;
  }
  return out;
}
