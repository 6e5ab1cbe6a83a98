/**
 * Jobs the lab starts: each is one `tiller …` command run as a child process that writes its run
 * into the runs folder, exactly as if typed in a terminal. The lab validates the form with the
 * command's request schema (`requests/`), writes the request back as its argument list, queues
 * (one job at a time by default: the machine's cores are the limit) and keeps the tail of the output. Progress comes from the run's own files, like any other run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_LR, type OptimizerName } from "../optim/index.js";
import { requestArgv } from "../requests/argv.js";
import { formFields, type FieldInfo } from "../requests/describe.js";
import { parseRequest, type RequestDef } from "../requests/request.js";
import { RUN_NAME } from "../requests/common.js";
import { trainRequest } from "../requests/train.js";
import { optimCompareRequest } from "../requests/optim-compare.js";
import { landscapeSurfaceRequest } from "../requests/landscape.js";
import { UsageError } from "../errors.js";
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

type LabJob = {
  def: RequestDef;
  /** The command's words before the request's arguments. */
  words: string[];
  /** Whether the job writes a new run (else it adds to the run it reads). */
  newRun: boolean;
  runId(r: Record<string, unknown>): string;
  label(r: Record<string, unknown>): string;
};

/** The jobs the lab can start: each a request kind (`requests/`) and the command that carries it out. */
const LAB_JOBS: Record<string, LabJob> = {
  train: {
    def: trainRequest,
    words: ["train"],
    newRun: true,
    runId: (r) => (r.name as string | undefined) ?? newRunId([String(r.model), String(r.optimizer), "lab"]),
    label: (r) =>
      `train ${String(r.model)} · ${String(r.optimizer)} lr ${String(r.lr ?? DEFAULT_LR[r.optimizer as OptimizerName])} · ${String(r.epochs)} epochs`,
  },
  "optim-compare": {
    def: optimCompareRequest,
    words: ["optim", "compare"],
    newRun: true,
    runId: (r) => (r.name as string | undefined) ?? newRunId([String(r.model), "compare", "lab"]),
    label: (r) =>
      `compare ${((r.optimizers as string[] | undefined) ?? ["sgd", "adam", "lion"]).join(", ")} on ${String(r.model)} · ${String(r.epochs)} epochs`,
  },
  "landscape-surface": {
    def: landscapeSurfaceRequest,
    words: ["landscape", "surface"],
    newRun: false,
    runId: (r) => String(r.run),
    label: (r) =>
      `${String(r.directions)} surface of ${String(r.run)} · ${String(r.steps)}×${String(r.steps)}`,
  },
};

export const JOB_KINDS = Object.keys(LAB_JOBS);

/** A job as the lab received it: its kind, the validated request and the fields the body gave. */
export type JobRequest = { kind: string; request: Record<string, unknown>; given: string[] };

/** Each job kind's form: its fields with type, default, range and choices, from the request schema. */
export function jobForms(): Record<string, { summary: string; fields: FieldInfo[] }> {
  return Object.fromEntries(
    Object.entries(LAB_JOBS).map(([kind, j]) => [
      kind,
      { summary: j.def.summary, fields: formFields(j.def) },
    ]),
  );
}

/** The `tiller` argument list for a validated request, and the run it will write. */
export function jobCommand(
  job: JobRequest,
  runsRoot: string,
): { args: string[]; runId: string; label: string; newRun: boolean } {
  const { def, words, newRun, runId: idOf, label } = LAB_JOBS[job.kind];
  const runId = idOf(job.request);
  const asked = Object.fromEntries(job.given.map((k) => [k, job.request[k]]));
  const args = [
    ...words,
    ...requestArgv(def, { ...asked, runs: runsRoot, ...(newRun ? { name: runId } : {}) }),
  ];
  return { args, runId, newRun, label: label(job.request) };
}

export function parseJobRequest(body: unknown): JobRequest {
  const { kind, ...fields } = (typeof body === "object" && body !== null ? body : {}) as Record<
    string,
    unknown
  >;
  const job = typeof kind === "string" ? LAB_JOBS[kind] : undefined;
  if (!job) throw new LabRequestError(400, `invalid job: kind: expected one of ${JOB_KINDS.join(", ")}`);
  const fixed = Object.keys(fields).filter((k) => job.def.fields[k]?.meta.form === false);
  if (fixed.length)
    throw new LabRequestError(400, `invalid job: ${fixed.join(", ")}: not settable from the lab`);
  // The command line takes a run as an id or a directory; the lab names runs of its own folder only.
  for (const [name, f] of Object.entries(job.def.fields))
    if (f.meta.positional && !RUN_NAME.safeParse(fields[name]).success)
      throw new LabRequestError(400, `invalid job: ${name}: a run id of the lab's runs folder`);
  try {
    return { kind: kind as string, request: parseRequest(job.def, fields), given: Object.keys(fields) };
  } catch (e) {
    if (e instanceof UsageError) throw new LabRequestError(400, `invalid job: ${e.message}`);
    throw e;
  }
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
