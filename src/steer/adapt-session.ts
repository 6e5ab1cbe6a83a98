/**
 * Adapter training sessions: the library calls behind `tiller svf train` and `tiller lora train`.
 * A session loads the base LM (pretraining run or Hugging Face directory), builds the adapter
 * (SVF: SVD cached in the run; LoRA: low-rank factors), creates or reopens the run and fine-tunes.
 * Everything needed to resume is in the run's config.json and checkpoints.
 */
import { resolve } from "node:path";
import { keyFromSeed, splitKey } from "../engine/prng.js";
import { countParams, fillLike, treeDispose } from "../engine/tree.js";
import { getFamily } from "../data/tasks/index.js";
import { UsageError } from "../errors.js";
import { Run, defaultRunsRoot, newRunId } from "../runs/store.js";
import { svfAdapter } from "./svf/adapter.js";
import type { SvfOptions } from "./svf/compose.js";
import { cachedSvd } from "./svf/svd.js";
import { selectTargets, type TargetSet } from "./svf/targets.js";
import { loraAdapter, type LoraOptions } from "./lora/lora.js";
import type { Adapter } from "./adapter.js";
import { finetune, type FinetuneCallbacks, type FinetuneConfig, type FinetuneResult } from "./finetune.js";
import { loadLm } from "../lm/store.js";

export type AdapterSpec = { kind: "svf"; svf: SvfOptions } | { kind: "lora"; lora: LoraOptions };

export type AdaptRequest = {
  base: string;
  targets: TargetSet;
  adapter: AdapterSpec;
  finetune: FinetuneConfig;
  runsRoot?: string;
  name?: string;
};

export type AdaptRunConfig = AdaptRequest & { kind: "adapter"; createdAt: string };

export type AdaptCallbacks = FinetuneCallbacks & {
  onSvd?(done: number, total: number, name: string, seconds: number, cached: boolean): void;
};

async function buildAdapter(run: Run | null, request: AdaptRequest, cb: AdaptCallbacks) {
  const lm = loadLm(request.base, request.runsRoot);
  const targets = selectTargets(lm.params, request.targets);
  const [kInit] = splitKey(keyFromSeed(request.finetune.seed), 1);
  let adapter: Adapter;
  if (request.adapter.kind === "svf") {
    if (!run) throw new Error("an SVF session needs its run for the SVD cache");
    const { factors, cached } = await cachedSvd(run, lm.params, targets, (d, t, n, s) =>
      cb.onSvd?.(d, t, n, s, false),
    );
    if (cached) cb.onSvd?.(targets.length, targets.length, "(cached)", 0, true);
    adapter = svfAdapter(kInit, lm.params, factors, request.adapter.svf);
  } else adapter = loraAdapter(kInit, lm.params, targets, request.adapter.lora);
  return { lm, adapter };
}

export async function startAdapterTraining(
  request: AdaptRequest,
  opts: { signal?: AbortSignal; callbacks?: AdaptCallbacks } = {},
): Promise<{ run: Run; result: FinetuneResult }> {
  getFamily(request.finetune.task);
  if (getFamily(request.finetune.task).heldOut)
    throw new UsageError(
      `task "${request.finetune.task}" is held out for self-adaptation; train experts on math, code or reasoning`,
    );
  const root = request.runsRoot ?? defaultRunsRoot();
  const id = request.name ?? newRunId([request.adapter.kind, request.finetune.task]);
  const base = resolveBase(request.base, request.runsRoot);
  const config: AdaptRunConfig = { ...request, base, kind: "adapter", createdAt: new Date().toISOString() };
  const run = Run.create(root, id, config);
  const cb = opts.callbacks ?? {};
  // A setup that fails (a base that does not load, a bad target set) leaves the run failed, not running.
  const { lm, adapter } = await run.failOnError(() => buildAdapter(run, { ...request, base }, cb));
  const result = await finetune(run, lm, adapter, request.finetune, { signal: opts.signal, callbacks: cb });
  return { run, result };
}

export async function resumeAdapterTraining(
  idOrDir: string,
  opts: { signal?: AbortSignal; callbacks?: AdaptCallbacks; runsRoot?: string } = {},
): Promise<{ run: Run; result: FinetuneResult }> {
  const run = Run.openForWriting(idOrDir, opts.runsRoot);
  const config = run.config<AdaptRunConfig>();
  if (config.kind !== "adapter") throw new UsageError(`run ${run.dir} is not an SVF/LoRA run`);
  const cb = opts.callbacks ?? {};
  const { lm, adapter } = await run.failOnError(() => buildAdapter(run, config, cb));
  const result = await finetune(run, lm, adapter, config.finetune, {
    resume: true,
    signal: opts.signal,
    callbacks: cb,
  });
  return { run, result };
}

/** An HF directory stays a path; a run id becomes its directory, so the adapter run finds it later. */
function resolveBase(base: string, runsRoot?: string): string {
  try {
    return Run.open(base, runsRoot).dir;
  } catch {
    return resolve(base);
  }
}

export function trainableCount(adapter: Adapter): number {
  return countParams(adapter.trainable);
}

export type TrainedAdapter = {
  run: Run;
  config: AdaptRunConfig;
  lm: Awaited<ReturnType<typeof buildAdapter>>["lm"];
  /** Model params with the trained adapter applied. */
  params: import("../engine/tree.js").Params;
  trainableParams: number;
};

/** The best adapter of a finished SVF/LoRA run, applied to its base model. */
export async function loadTrainedAdapter(idOrDir: string, runsRoot?: string): Promise<TrainedAdapter> {
  const run = Run.open(idOrDir, runsRoot);
  const config = run.config<AdaptRunConfig>();
  if (config.kind !== "adapter") throw new UsageError(`run ${run.dir} is not an SVF/LoRA run`);
  if (!("expert.safetensors" in run.checkpointIndex()))
    throw new UsageError(
      `run ${run.dir} has not finished (no checkpoints/expert.safetensors); resume it first`,
    );
  const { lm, adapter } = await buildAdapter(run, config, {});
  const trained = fillLike(
    adapter.trainable,
    run.loadCheckpoint("expert").tensors,
    run.path("checkpoints", "expert.safetensors"),
  );
  const trainableParams = countParams(trained);
  treeDispose(adapter.trainable);
  const params = adapter.build(trained, adapter.frozen);
  return { run, config, lm: { ...lm, params }, params, trainableParams };
}
