/**
 * What a sweep can run: for each command, the schema its request must satisfy (validated with
 * errors that name the field) and how one validated request becomes a finished run directory.
 *
 * This is the sweep's side of "one schema per request" (issue 22): when `src/requests/` and its
 * `requestSchemas` registry land, `sweepCommands` is built from that registry instead.
 */
import { z } from "zod";
import { ACTIVATIONS } from "../nn/activations.js";
import { MODELS } from "../nn/models/index.js";
import { OPTIMIZERS, optimizerConfig } from "../optim/index.js";
import { resumeTraining, runTraining, type TrainRequest } from "../train/session.js";

/** How a run ended, as a sweep records it. */
export type RunEnd = { status: "done" | "failed" | "interrupted"; reason?: string };

export type SweepCommand<R = Record<string, unknown>> = {
  /** The request's schema: strict (an unknown option is an error), with defaults and ranges. */
  schema: z.ZodType<R, z.ZodTypeDef, unknown>;
  /** Checks what the schema cannot see (e.g. an optimiser's own hyper-parameter names); throws UsageError. */
  check?(request: R): void;
  /** Starts the run `id` under `runsRoot` from a validated request. */
  start(request: R, id: string, runsRoot: string, signal: AbortSignal): Promise<RunEnd>;
  /** Continues the run at `dir` from its last checkpoint. */
  resume(dir: string, runsRoot: string, signal: AbortSignal): Promise<RunEnd>;
};

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const finite = z.number().finite();

/** `tiller train`: the options a sweep may fix or sweep, bounded like the lab's training form. */
export const TrainSweepRequest = z
  .object({
    model: z.enum(MODELS).default("mlp"),
    hidden: z.array(int(1, 4096)).min(1).max(8).optional(),
    channels: z.array(int(1, 1024)).min(1).max(8).optional(),
    dense: int(1, 8192).optional(),
    activation: z.enum(ACTIVATIONS).optional(),
    init: z.string().min(1).optional(),
    optimizer: z.enum(OPTIMIZERS).default("adam"),
    lr: finite.positive().max(10).optional(),
    momentum: finite.min(0).lt(1).optional(),
    weightDecay: finite.min(0).max(1).optional(),
    /** Any other hyper-parameter of the optimiser (b1, rho, …), checked against its own list. */
    params: z.record(z.union([finite, z.boolean()])).optional(),
    epochs: int(1, 200).default(1),
    batchSize: int(1, 4096).default(256),
    limit: int(1, 60_000).optional(),
    seed: int(0, 2 ** 31 - 1).default(0),
    normalize: z.enum(["standardize", "scale"]).default("standardize"),
    logEvery: int(1, 10_000).default(10),
    onDivergence: z.enum(["stop", "skip"]).default("stop"),
  })
  .strict();
export type TrainSweepRequest = z.infer<typeof TrainSweepRequest>;

/** The library's request for a validated sweep request. */
export function trainRequestOf(r: TrainSweepRequest): TrainRequest {
  const optimizer = {
    ...optimizerConfig(r.optimizer, r.params ?? {}),
    ...(r.lr !== undefined ? { lr: r.lr } : {}),
    ...(r.momentum !== undefined ? { momentum: r.momentum } : {}),
    ...(r.weightDecay !== undefined ? { weightDecay: r.weightDecay } : {}),
  };
  return {
    model: r.model,
    modelOptions: {
      hidden: r.hidden,
      channels: r.channels,
      dense: r.dense,
      activation: r.activation,
      init: r.init,
    },
    optimizer,
    epochs: r.epochs,
    batchSize: r.batchSize,
    seed: r.seed,
    limit: r.limit ?? null,
    normalize: r.normalize,
    logEvery: r.logEvery,
    onDivergence: r.onDivergence,
  };
}

function endOf(result: { status: string; reason?: string }): RunEnd {
  if (result.status === "done") return { status: "done" };
  if (result.status === "interrupted") return { status: "interrupted", reason: result.reason };
  return { status: "failed", reason: result.reason ?? result.status };
}

const train: SweepCommand<TrainSweepRequest> = {
  schema: TrainSweepRequest,
  check: (r) => void optimizerConfig(r.optimizer, r.params ?? {}),
  async start(request, id, runsRoot, signal) {
    const { result } = await runTraining({ ...trainRequestOf(request), name: id, runsRoot }, { signal });
    return endOf(result);
  },
  async resume(dir, runsRoot, signal) {
    const { result } = await resumeTraining(dir, { runsRoot, signal });
    return endOf(result);
  },
};

export const sweepCommands = { train } as const;
export type SweepCommandName = keyof typeof sweepCommands;
export const SWEEP_COMMANDS = Object.keys(sweepCommands) as SweepCommandName[];

export function sweepCommand(name: SweepCommandName): SweepCommand {
  return sweepCommands[name] as unknown as SweepCommand;
}
