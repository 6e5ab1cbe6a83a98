/**
 * Every request kind with the library function that carries it out: the one table the sweep (and
 * any program) uses to validate a request and run it in-process. The CLI commands parse the same
 * schemas (`requests/`) and call the same functions, so a request run here and the command line that
 * asks for it (`requestArgv`) make the same run.
 */
import { ctCompareRequest, ctPretrainRequest, ctRobustnessRequest, ctSearchRequest } from "./requests/ct.js";
import { landscapeSurfaceRequest } from "./requests/landscape.js";
import { optimCompareRequest } from "./requests/optim-compare.js";
import { parseRequest, type RequestDef, type RequestOf } from "./requests/request.js";
import { trainRequest } from "./requests/train.js";
import { loraTrainRequest, svfTrainRequest } from "./requests/adapter.js";
import { lmPretrainRequest } from "./requests/lm.js";
import { trainAdapterFromRequest } from "./steer/train-request.js";
import { openPretrainRun, pretrain as pretrainLm } from "./lm/pretrain.js";
import { runSurface, surfaceOf } from "./landscape/analyses.js";
import { startEngine } from "./engine/device.js";
import { loadEngine } from "./engine/jax.js";
import { Run } from "./runs/store.js";
import { UsageError } from "./errors.js";
import { pretrain, pretrainRequestOf } from "./steer/ct/pretrain.js";
import {
  compareRequestOf as ctCompareRequestOf,
  robustnessRequestOf,
  runCompare,
  runRobustness,
  runSearch,
  searchRequestOf,
} from "./steer/ct/session.js";
import { compareRequestOf, resumeComparison, runComparison } from "./train/compare.js";
import { compareInits, initCompareRequestOf } from "./train/init-compare.js";
import { initCompareRequest } from "./requests/init-compare.js";
import type { TrainCallbacks } from "./train/loop.js";
import { trainFromRequest } from "./train/session.js";

export type SessionOptions = {
  /** Stops training at a step boundary (the run is marked interrupted and can be resumed). */
  signal?: AbortSignal;
  /** Training progress, for the kinds that train. */
  callbacks?: TrainCallbacks;
};

/** Where the session wrote (the run directory) and how it ended. */
export type SessionResult = { run: string; status: "done" | "diverged" | "interrupted" };

export type Session<D extends RequestDef = RequestDef> = {
  schema: D;
  run(request: RequestOf<D>, opts?: SessionOptions): Promise<SessionResult>;
};

function session<D extends RequestDef>(
  schema: D,
  run: (request: RequestOf<D>, opts: SessionOptions) => Promise<SessionResult>,
): Session<D> {
  return { schema, run: (request, opts = {}) => run(request, opts) };
}

/** Request kind → its schema and the library function that runs it. */
export const requestSchemas = {
  train: session(trainRequest, async (r, o) => {
    const { run, result } = await trainFromRequest(r, o);
    return { run: run.dir, status: result.status };
  }),
  "optim-compare": session(optimCompareRequest, async (r, o) => {
    const how = { signal: o.signal, callbacks: () => o.callbacks ?? {}, runsRoot: r.runs };
    const { run, rows } = r.resume
      ? await resumeComparison(r.resume, how)
      : await runComparison(compareRequestOf(r), how);
    const worst = rows.find((x) => x.status !== "done")?.status ?? "done";
    return { run: run.dir, status: worst };
  }),
  "init-compare": session(initCompareRequest, async (r, o) => {
    const { run, status } = await compareInits(initCompareRequestOf(r), {
      signal: o.signal,
      callbacks: { train: o.callbacks },
    });
    return { run: run.dir, status };
  }),
  "ct-pretrain": session(ctPretrainRequest, async (r, o) => {
    const { run, result } = await pretrain(pretrainRequestOf(r), o);
    return { run: run.dir, status: result.status };
  }),
  "ct-search": session(ctSearchRequest, async (r) => {
    const { run } = await runSearch(searchRequestOf(r));
    return { run: run.dir, status: "done" };
  }),
  "ct-compare": session(ctCompareRequest, async (r) => {
    const { run } = await runCompare(ctCompareRequestOf(r));
    return { run: run.dir, status: "done" };
  }),
  "ct-robustness": session(ctRobustnessRequest, async (r) => {
    const { run } = await runRobustness(robustnessRequestOf(r));
    return { run: run.dir, status: "done" };
  }),
  "landscape-surface": session(landscapeSurfaceRequest, async (r) => {
    await startEngine();
    await runSurface(surfaceOf(r));
    return { run: Run.open(r.run, r.runs).dir, status: "done" };
  }),
  "svf-train": session(svfTrainRequest, async (r, o) => {
    const { run, result } = await trainAdapterFromRequest({ kind: "svf", ...r }, { signal: o.signal });
    return { run: run.dir, status: result.status };
  }),
  "lora-train": session(loraTrainRequest, async (r, o) => {
    const { run, result } = await trainAdapterFromRequest({ kind: "lora", ...r }, { signal: o.signal });
    return { run: run.dir, status: result.status };
  }),
  "lm-pretrain": session(lmPretrainRequest, async (r, o) => {
    await startEngine();
    const { run, config } = openPretrainRun(r);
    const result = await pretrainLm(run, config, { resume: Boolean(r.resume), signal: o.signal });
    return { run: run.dir, status: result.status };
  }),
} satisfies Record<string, Session>;

export type RequestKind = keyof typeof requestSchemas;

/** Validates `raw` against its kind's schema (errors name the field) and runs it. */
export async function runRequest(kind: string, raw: unknown, opts?: SessionOptions): Promise<SessionResult> {
  const entry = (requestSchemas as Record<string, Session>)[kind];
  if (!entry)
    throw new UsageError(`unknown request kind "${kind}" (one of ${Object.keys(requestSchemas).join(", ")})`);
  const request = parseRequest(entry.schema, raw);
  await loadEngine(); // importing the library loads no engine; a session may use it before startEngine
  return entry.run(request, opts);
}
