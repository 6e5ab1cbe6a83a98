/**
 * Jobs the lab starts: each is one `tiller …` command run as a child process that writes its run
 * into the runs folder, exactly as if typed in a terminal. The lab only validates the form, builds
 * the argument list, queues (one job at a time by default: the machine's cores are the limit) and
 * keeps the tail of the output. Progress comes from the run's own files, like any other run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { MODELS } from "../nn/models/index.js";
import { OPTIMIZERS } from "../optim/index.js";
import { entryKind } from "../runs/files.js";
import { newRunId } from "../runs/store.js";
import { packageRoot } from "./paths.js";
import { LabRequestError, runDir } from "./run-data.js";

export const JOB_STATUSES = ["queued", "running", "done", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export type JobRecord = {
  id: string;
  kind: string;
  label: string;
  /** The run this job writes (known up front: the lab names it). */
  runId?: string;
  args: string[];
  status: JobStatus;
  exitCode?: number | null;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  /** The last bytes of the command's stdout and stderr, interleaved as they came. */
  log: string;
};

/** How a job's command line becomes a process: `tiller <args>`. */
export type Launcher = (args: string[], env: NodeJS.ProcessEnv) => ChildProcess;

const RUN_NAME = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "letters, digits, '.', '_', '-' only");
const finite = z.number().finite();

/** The training form: the same choices as `tiller train`, bounded so a typo cannot start a week of work. */
const TrainJob = z
  .object({
    kind: z.literal("train"),
    model: z.enum(MODELS),
    optimizer: z.enum(OPTIMIZERS),
    lr: finite.positive().max(10),
    epochs: z.number().int().min(1).max(200),
    batchSize: z.number().int().min(1).max(4096).default(256),
    limit: z.number().int().min(1).max(60_000).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
    hidden: z.array(z.number().int().min(1).max(4096)).min(1).max(8).optional(),
    momentum: finite.min(0).lt(1).optional(),
    weightDecay: finite.min(0).max(1).optional(),
    logEvery: z.number().int().min(1).max(10_000).default(10),
    name: RUN_NAME.optional(),
  })
  .strict();

/** `tiller optim compare`: the same model, init and data order under several optimisers. */
const CompareJob = z
  .object({
    kind: z.literal("optim-compare"),
    model: z.enum(MODELS),
    optimizers: z.array(z.enum(OPTIMIZERS)).min(2).max(8),
    epochs: z.number().int().min(1).max(200),
    batchSize: z.number().int().min(1).max(4096).default(256),
    limit: z.number().int().min(1).max(60_000).optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
    logEvery: z.number().int().min(1).max(10_000).default(10),
    name: RUN_NAME.optional(),
  })
  .strict();

/** `tiller landscape surface <run>`: writes landscape/<name>.json and a figure into that run. */
const SurfaceJob = z
  .object({
    kind: z.literal("landscape-surface"),
    run: RUN_NAME,
    directions: z.enum(["hessian", "random", "pca"]).default("random"),
    count: z.number().int().min(2).max(8).default(2),
    steps: z.number().int().min(3).max(200).default(40),
    examples: z.number().int().min(1).max(10_000).default(256),
    epoch: z.number().int().min(1).optional(),
    name: RUN_NAME.optional(),
  })
  .strict();

export const JobRequest = z.discriminatedUnion("kind", [TrainJob, CompareJob, SurfaceJob]);
export type JobRequest = z.infer<typeof JobRequest>;

/** The `tiller` argument list for a validated request, and the run it will write. */
export function jobCommand(
  req: JobRequest,
  runsRoot: string,
): { args: string[]; runId: string; label: string; newRun: boolean } {
  switch (req.kind) {
    case "train": {
      const runId = req.name ?? newRunId([req.model, req.optimizer, "lab"]);
      const args = [
        "train",
        ...["--model", req.model, "--optimizer", req.optimizer, "--lr", String(req.lr)],
        ...[
          "--epochs",
          String(req.epochs),
          "--batch-size",
          String(req.batchSize),
          "--seed",
          String(req.seed),
        ],
        ...(req.limit !== undefined ? ["--limit", String(req.limit)] : []),
        ...(req.hidden ? ["--hidden", req.hidden.join(",")] : []),
        ...(req.momentum !== undefined ? ["--momentum", String(req.momentum)] : []),
        ...(req.weightDecay !== undefined ? ["--weight-decay", String(req.weightDecay)] : []),
        ...["--log-every", String(req.logEvery), "--out", runsRoot, "--name", runId],
      ];
      return {
        args,
        runId,
        newRun: true,
        label: `train ${req.model} · ${req.optimizer} lr ${req.lr} · ${req.epochs} epochs`,
      };
    }
    case "optim-compare": {
      if (new Set(req.optimizers).size !== req.optimizers.length)
        throw new LabRequestError(400, "invalid job: optimizers: each optimiser may appear once");
      const runId = req.name ?? newRunId([req.model, "compare", "lab"]);
      const args = [
        ...["optim", "compare", "--model", req.model, "--optimizers", req.optimizers.join(",")],
        ...[
          "--epochs",
          String(req.epochs),
          "--batch-size",
          String(req.batchSize),
          "--seed",
          String(req.seed),
        ],
        ...(req.limit !== undefined ? ["--limit", String(req.limit)] : []),
        ...["--log-every", String(req.logEvery), "--out", runsRoot, "--name", runId],
      ];
      return {
        args,
        runId,
        newRun: true,
        label: `compare ${req.optimizers.join(", ")} on ${req.model} · ${req.epochs} epochs`,
      };
    }
    case "landscape-surface": {
      const args = [
        ...["landscape", "surface", req.run, "--directions", req.directions, "--count", String(req.count)],
        ...["--steps", String(req.steps), "--examples", String(req.examples), "--out", runsRoot],
        ...(req.epoch !== undefined ? ["--epoch", String(req.epoch)] : []),
        ...(req.name ? ["--name", req.name] : []),
      ];
      return {
        args,
        runId: req.run,
        newRun: false,
        label: `${req.directions} surface of ${req.run} · ${req.steps}×${req.steps}`,
      };
    }
  }
}

export function parseJobRequest(body: unknown): JobRequest {
  const parsed = JobRequest.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`);
    throw new LabRequestError(400, `invalid job: ${issues.join("; ")}`);
  }
  return parsed.data;
}

/**
 * Runs the CLI this module was loaded with: the compiled `dist/src/cli/main.js` next to a built
 * lab, or `src/cli/main.ts` through tsx in development and tests.
 */
export function cliLauncher(): Launcher {
  const here = fileURLToPath(import.meta.url);
  const root = packageRoot();
  const compiled = resolve(dirname(here), "../cli/main.js");
  const prefix = here.endsWith(".ts") ? ["--import", "tsx", join(root, "src/cli/main.ts")] : [compiled];
  return (args, env) =>
    spawn(process.execPath, [...prefix, ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
}

export type JobQueueOptions = {
  runsRoot: string;
  /** Jobs running at once; the rest wait in order. */
  maxRunning?: number;
  launcher?: Launcher;
  /** Bytes of output kept per job. */
  logBytes?: number;
  /** Jobs remembered (finished ones are dropped oldest first). */
  keep?: number;
  /** Jobs waiting at once; a submission beyond this is refused (HTTP 429) rather than queued forever. */
  maxQueued?: number;
};

export class JobQueue {
  readonly #jobs = new Map<string, JobRecord>();
  readonly #children = new Map<string, ChildProcess>();
  readonly #cancelled = new Set<string>();
  readonly #exits = new Map<string, Promise<void>>();
  readonly #opts: Required<JobQueueOptions>;

  constructor(opts: JobQueueOptions) {
    this.#opts = {
      maxRunning: 1,
      launcher: cliLauncher(),
      logBytes: 16_384,
      keep: 200,
      maxQueued: 20,
      ...opts,
    };
  }

  submit(body: unknown): JobRecord {
    const req = parseJobRequest(body);
    const { args, runId, label, newRun } = jobCommand(req, this.#opts.runsRoot);
    const exists = entryKind(join(this.#opts.runsRoot, runId)) !== undefined;
    if (newRun && (exists || [...this.#jobs.values()].some((j) => j.runId === runId)))
      throw new LabRequestError(409, `run "${runId}" already exists`);
    // The same check as the read routes: a run must exist and resolve inside the runs folder.
    if (!newRun) runDir(this.#opts.runsRoot, runId);
    const queued = [...this.#jobs.values()].filter((j) => j.status === "queued").length;
    if (queued >= this.#opts.maxQueued)
      throw new LabRequestError(
        429,
        `the job queue is full (${queued} jobs waiting, the limit is ${this.#opts.maxQueued}); cancel one or wait`,
      );
    const job: JobRecord = {
      id: `job-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`,
      kind: req.kind,
      label,
      runId,
      args,
      status: "queued",
      createdAt: new Date().toISOString(),
      log: "",
    };
    this.#jobs.set(job.id, job);
    this.#forget();
    this.#pump();
    return { ...job };
  }

  list(): JobRecord[] {
    return [...this.#jobs.values()].reverse().map((j) => ({ ...j }));
  }

  get(id: string): JobRecord {
    const job = this.#jobs.get(id);
    if (!job) throw new LabRequestError(404, `no job "${id}"`);
    return { ...job };
  }

  /** The job writing run `runId`, if this lab started one. */
  forRun(runId: string): JobRecord | undefined {
    return [...this.#jobs.values()].findLast((j) => j.runId === runId);
  }

  /** A queued job is dropped; a running one gets SIGTERM (training stops at a step boundary, resumable). */
  cancel(id: string): JobRecord {
    const job = this.#jobs.get(id);
    if (!job) throw new LabRequestError(404, `no job "${id}"`);
    if (job.status === "queued") {
      job.status = "cancelled";
      job.endedAt = new Date().toISOString();
    } else if (job.status === "running") {
      this.#cancelled.add(id);
      this.#children.get(id)?.kill("SIGTERM");
    }
    return { ...job };
  }

  /** Resolves when the job has left `running` (for tests and shutdown). */
  async settled(id: string): Promise<JobRecord> {
    while (["queued", "running"].includes(this.get(id).status)) {
      await (this.#exits.get(id) ?? new Promise((r) => setTimeout(r, 50)));
    }
    return this.get(id);
  }

  /** Drops queued jobs and stops running ones (SIGTERM, then SIGKILL after `graceMs`). */
  async close(graceMs = 15_000): Promise<void> {
    for (const job of this.#jobs.values()) if (job.status === "queued") this.cancel(job.id);
    const running = [...this.#children.entries()];
    for (const [id, child] of running) {
      this.#cancelled.add(id);
      child.kill("SIGTERM");
    }
    const kill = setTimeout(() => running.forEach(([, c]) => c.kill("SIGKILL")), graceMs);
    await Promise.all(running.map(([id]) => this.#exits.get(id)));
    clearTimeout(kill);
  }

  #pump(): void {
    const running = [...this.#jobs.values()].filter((j) => j.status === "running").length;
    const next = [...this.#jobs.values()].find((j) => j.status === "queued");
    if (!next || running >= this.#opts.maxRunning) return;
    this.#start(next);
    this.#pump();
  }

  #start(job: JobRecord): void {
    job.status = "running";
    job.startedAt = new Date().toISOString();
    let child: ChildProcess;
    try {
      child = this.#opts.launcher(job.args, { ...process.env, TILLER_RUNS: this.#opts.runsRoot });
    } catch (e) {
      this.#finish(job, null, `cannot start: ${(e as Error).message}\n`);
      return;
    }
    this.#children.set(job.id, child);
    const append = (chunk: Buffer | string) => {
      job.log = (job.log + chunk.toString()).slice(-this.#opts.logBytes);
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    this.#exits.set(
      job.id,
      new Promise<void>((resolveExit) => {
        child.on("error", (e) => {
          this.#finish(job, null, `cannot start: ${e.message}\n`);
          resolveExit();
        });
        child.on("close", (code) => {
          this.#finish(job, code);
          resolveExit();
        });
      }),
    );
  }

  #finish(job: JobRecord, code: number | null, message = ""): void {
    if (job.status !== "running") return;
    this.#children.delete(job.id);
    job.log = (job.log + message).slice(-this.#opts.logBytes);
    job.exitCode = code;
    job.status = this.#cancelled.has(job.id) ? "cancelled" : code === 0 ? "done" : "failed";
    job.endedAt = new Date().toISOString();
    this.#pump();
  }

  #forget(): void {
    const finished = [...this.#jobs.values()].filter((j) => !["queued", "running"].includes(j.status));
    for (const j of finished.slice(0, Math.max(0, this.#jobs.size - this.#opts.keep)))
      this.#jobs.delete(j.id);
  }
}
