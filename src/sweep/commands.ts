/**
 * What a sweep can run: every request kind of the library's registry (`requestSchemas`) whose
 * session writes a new run directory (`name` under `runs`). A spec's runs are validated with the
 * kind's own schema — the one the CLI and the lab use — and carried out by its own session.
 *
 * The sweep sets `name` (the hash of the request) and `runs` (the worker's run store); a run that
 * was started and not finished continues through the kind's `resume` field where it has one.
 */
import { parseRequest } from "../requests/request.js";
import { requestSchemas, type RequestKind, type Session } from "../sessions.js";
import { UsageError } from "../errors.js";
import { optimizerConfig } from "../optim/index.js";

/** How a run ended, as a sweep records it. */
export type RunEnd = { status: "done" | "failed" | "interrupted"; reason?: string };

/** Fields a sweep sets itself: where the run goes and what it is called. */
const SET_BY_SWEEP = ["name", "runs", "resume"];

/**
 * What a kind's schema leaves to its session but a sweep should know before it starts a hundred
 * runs: an optimiser's own hyper-parameter names.
 */
const EXTRA_CHECKS: Partial<Record<RequestKind, (r: Record<string, unknown>) => void>> = {
  train: (r) =>
    void optimizerConfig(
      r.optimizer as string,
      (r.params ?? {}) as Record<string, string | number | boolean>,
    ),
};

/** Kinds that add to a run rather than make one (a surface is written into the run it reads). */
const NOT_SWEEPABLE: RequestKind[] = ["landscape-surface"];

export const SWEEP_COMMANDS = (Object.keys(requestSchemas) as RequestKind[]).filter(
  (k) => !NOT_SWEEPABLE.includes(k) && "name" in requestSchemas[k].schema.fields,
);
export type SweepCommandName = RequestKind;

export type SweepCommand = {
  kind: SweepCommandName;
  /** The options a spec may fix or sweep. */
  options: string[];
  /** The request with defaults filled, or a UsageError naming the field. */
  validate(raw: Record<string, unknown>): Record<string, unknown>;
  start(request: Record<string, unknown>, id: string, runsRoot: string, signal: AbortSignal): Promise<RunEnd>;
  /** Continues the run at `dir` from its last checkpoint (kinds with a `resume` field). */
  resume(
    request: Record<string, unknown>,
    dir: string,
    runsRoot: string,
    signal: AbortSignal,
  ): Promise<RunEnd>;
};

function endOf(status: string): RunEnd {
  if (status === "done" || status === "interrupted") return { status };
  return { status: "failed", reason: status };
}

export function sweepCommand(kind: SweepCommandName): SweepCommand {
  if (!SWEEP_COMMANDS.includes(kind)) throw new UsageError(`a sweep cannot run "${kind}"`);
  const session = requestSchemas[kind] as unknown as Session;
  const def = session.schema;
  const options = Object.keys(def.fields).filter((f) => !SET_BY_SWEEP.includes(f));
  return {
    kind,
    options,
    validate(raw) {
      const own = SET_BY_SWEEP.filter((f) => raw[f] !== undefined);
      if (own.length) throw new UsageError(`${own.join(", ")}: set by the sweep, not the spec`);
      const unknown = Object.keys(raw).filter((k) => !options.includes(k) && !SET_BY_SWEEP.includes(k));
      if (unknown.length)
        throw new UsageError(
          `unknown option ${unknown.map((k) => `"${k}"`).join(", ")} (known: ${options.join(", ")})`,
        );
      const request = parseRequest(def, raw) as Record<string, unknown>;
      EXTRA_CHECKS[kind]?.(request);
      return request;
    },
    async start(request, id, runsRoot, signal) {
      const r = parseRequest(def, { ...request, name: id, runs: runsRoot });
      return endOf((await session.run(r, { signal })).status);
    },
    async resume(request, dir, runsRoot, signal) {
      if (!("resume" in def.fields))
        throw new Error(`a ${kind} run cannot be resumed; delete ${dir} to run it again`);
      const r = parseRequest(def, { ...request, runs: runsRoot, resume: dir });
      return endOf((await session.run(r, { signal })).status);
    },
  };
}
