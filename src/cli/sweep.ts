import { existsSync } from "node:fs";
import { Command, Option } from "commander";
import { defaultRunsRoot } from "../runs/store.js";
import { UsageError } from "../errors.js";
import { DEFAULT_QUEUE_NAME } from "../sweep/queue.js";
import { redactRedisUrl } from "../sweep/redis/url.js";
import { METRICS, sortRows, sweepRows, bestRow, type SweepRow } from "../sweep/results.js";
import { readSweepSpec } from "../sweep/spec.js";
import { listSweeps, readSweepRecord } from "../sweep/store.js";
import { defaultWorkers } from "../sweep/pool.js";
import { planSweep, runSweep, type PlannedRun, type SweepEvent } from "../sweep/sweep.js";
import { positiveInt } from "./errors.js";

const SPEC_HELP = `
A spec (JSON):
  { "name": "optim-lr", "command": "train",
    "fixed":  { "model": "mlp", "hidden": [64], "epochs": 1, "limit": 2000 },
    "grid":   { "optimizer": ["sgd", "adam", "lion"],
                "lr": { "min": 1e-4, "max": 1e-1, "count": 4, "scale": "log" } },
    "seeds":  [0, 1] }
Also "random": { "count": 8, "seed": 0, "params": { "lr": { "min": 1e-4, "max": 1e-1, "scale": "log" } } }
and "runs": [ { "optimizer": "adamw", "lr": 0.001 } ] (an explicit list). See docs/sweeps.md.`;

const fmtValue = (v: unknown) =>
  typeof v === "number" ? String(Number(v.toPrecision(6))) : typeof v === "string" ? v : JSON.stringify(v);
const describe = (values: Record<string, unknown>) =>
  Object.entries(values)
    .map(([k, v]) => `${k}=${fmtValue(v)}`)
    .join(" ");

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

function planCommand(): Command {
  return new Command("plan")
    .description("Print the runs a spec makes and which of them are already done")
    .argument("<spec>", "sweep spec (JSON)")
    .option("--runs <dir>", "runs folder (default ./runs or $TILLER_RUNS)")
    .option("--json", "print the plan as JSON")
    .action((file: string, o: { runs?: string; json?: boolean }) => {
      const spec = readSweepSpec(file);
      const { record, runs } = planSweep(spec, o.runs ?? defaultRunsRoot());
      if (o.json)
        return void process.stdout.write(JSON.stringify({ sweep: record.name, runs }, null, 2) + "\n");
      const rows = runs.map((r) => [...record.swept.map((k) => fmtValue(r.values[k])), r.state, r.id]);
      process.stdout.write(table([...record.swept, "state", "run"], rows));
      const count = (s: PlannedRun["state"]) => runs.filter((r) => r.state === s).length;
      process.stdout.write(
        `sweep ${record.name}: ${runs.length} runs · ${count("done")} done · ${count("started")} started (resume) · ` +
          `${count("pending")} to run · ${count("failed")} failed\n`,
      );
    });
}

type RunOptions = {
  runs?: string;
  workers?: number;
  threads?: number;
  queue?: string;
  queueName: string;
  quiet?: boolean;
};

function runCommand(): Command {
  return new Command("run")
    .description("Run a sweep's runs that are not done, on local workers or through a Redis queue")
    .argument("<spec>", "sweep spec (JSON)")
    .option(
      "--runs <dir>",
      "runs folder (default ./runs or $TILLER_RUNS); shared by every worker with --queue",
    )
    .option(
      "--workers <n>",
      `local worker processes (default one per 2 cores: ${defaultWorkers()})`,
      positiveInt,
    )
    .option("--threads <n>", "threads per local worker (default: the cores split evenly)", positiveInt)
    .option(
      "--queue <url>",
      "put the runs on a BullMQ queue in Redis (redis://host:port/db); run `tiller worker` to take them",
    )
    .addOption(new Option("--queue-name <name>", "BullMQ queue name").default(DEFAULT_QUEUE_NAME))
    .option("-q, --quiet", "only the summary")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller sweep run sweep.json --workers 2
  $ tiller sweep run sweep.json --queue redis://127.0.0.1:6379/0 --runs /shared/runs
  $ tiller worker --queue redis://127.0.0.1:6379/0 --runs /shared/runs      # on each machine
Each run is a run directory named by its request's hash: finished runs are never recomputed and an
interrupted sweep continues where it stopped. Ctrl-C hands out no more runs; a second Ctrl-C stops
the running ones (they resume next time).
${SPEC_HELP}`,
    )
    .action(async (file: string, o: RunOptions) => {
      const spec = readSweepSpec(file);
      if (o.queue && (o.workers || o.threads))
        throw new UsageError("--workers and --threads are for local sweeps, not --queue");
      const stopHanding = new AbortController();
      const stopNow = new AbortController();
      const say = (s: string) => process.stderr.write(s + "\n");
      const onSignal = () => {
        if (stopNow.signal.aborted) process.exit(130);
        if (stopHanding.signal.aborted) {
          say("Stopping the running runs (they resume next time)…");
          stopNow.abort();
        } else {
          say(
            "Interrupted: no more runs are handed out; the running ones finish (Ctrl-C again to stop them).",
          );
          stopHanding.abort();
        }
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      const events = runSweep(spec, {
        runsRoot: o.runs,
        workers: o.workers,
        threads: o.threads,
        ...(o.queue ? { queue: { url: o.queue, name: o.queueName } } : {}),
        signal: stopHanding.signal,
        stopNow: stopNow.signal,
      });
      const report = reporter(o, say);
      for await (const e of events) report(e);
    });
}

function reporter(o: RunOptions, say: (s: string) => void): (e: SweepEvent) => void {
  const values = new Map<string, string>();
  return (e) => {
    if (e.type === "planned") {
      for (const r of e.runs) values.set(r.id, describe(r.values));
      const where = o.queue
        ? `queue ${redactRedisUrl(o.queue)}`
        : `${o.workers ?? defaultWorkers()} local workers`;
      say(
        `sweep ${e.sweep}: ${e.runs.length} runs, ${e.runs.length - e.toRun} already done or failed, ${e.toRun} to run on ${where}`,
      );
    } else if (o.quiet) {
      if (e.type === "done") say(summary(e));
    } else if (e.type === "started") say(`started  ${e.id} (${values.get(e.id)}) on ${e.worker}`);
    else if (e.type === "finished") {
      const { outcome: r } = e;
      const how = r.cached ? " (already there)" : r.resumed ? " (resumed from its checkpoint)" : "";
      say(`${r.status.padEnd(8)} ${r.id}${how}${r.reason ? `: ${r.reason}` : ""}`);
    } else if (e.type === "lost")
      say(`the queue lost ${e.ids.length} runs (Redis restarted?); queued again: ${e.ids.join(", ")}`);
    else if (e.type === "notice") say(e.message);
    else if (e.type === "done") {
      say(summary(e));
      if (e.failed) process.exitCode = 1;
      else if (e.notRun) process.exitCode = 130;
    }
  };
}

const summary = (e: Extract<SweepEvent, { type: "done" }>) =>
  `${e.done} done · ${e.failed} failed · ${e.notRun} not run · ${e.seconds.toFixed(1)} s`;

type ShowOptions = { runs?: string; sort?: string; asc?: boolean; json?: boolean; csv?: boolean };

function showCommand(): Command {
  return new Command("show")
    .description("The sweep's table: swept values, final and best test metrics, status, time")
    .argument("<sweep>", "sweep name (or its spec file)")
    .option("--runs <dir>", "runs folder (default ./runs or $TILLER_RUNS)")
    .option(
      "--sort <key>",
      `sort by a metric (${METRICS.join(", ")}) or a swept option (default final_accuracy)`,
    )
    .option("--asc", "ascending order")
    .option("--json", "print rows as JSON")
    .option("--csv", "print rows as CSV")
    .action((name: string, o: ShowOptions) => {
      const runsRoot = o.runs ?? defaultRunsRoot();
      const sweepName = existsSync(name) && name.endsWith(".json") ? readSweepSpec(name).name : name;
      const record = readSweepRecord(runsRoot, sweepName);
      const key = o.sort ?? "final_accuracy";
      if (!(METRICS as readonly string[]).includes(key) && !record.swept.includes(key))
        throw new UsageError(
          `--sort: no column "${key}" (choose one of: ${[...METRICS, ...record.swept].join(", ")})`,
        );
      const rows = sortRows(sweepRows(runsRoot, record), key, o.asc ? false : undefined);
      if (o.json)
        return void process.stdout.write(
          JSON.stringify({ sweep: record.name, swept: record.swept, rows }, null, 2) + "\n",
        );
      const cells = (r: SweepRow) => [
        ...record.swept.map((k) => fmtValue(r.values[k])),
        r.state,
        ...METRICS.map((m) =>
          r[m] === undefined ? "" : m === "seconds" ? r[m]!.toFixed(1) : r[m]!.toFixed(4),
        ),
        String(r.epochs),
        r.id,
      ];
      const header = [...record.swept, "status", ...METRICS, "epochs", "run"];
      if (o.csv) {
        const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
        process.stdout.write(
          [header, ...rows.map(cells)].map((r) => r.map(quote).join(",")).join("\n") + "\n",
        );
        return;
      }
      process.stdout.write(table(header, rows.map(cells)));
      const best = bestRow(rows);
      if (best)
        process.stdout.write(
          `best: ${best.id} (${describe(best.values)}) final accuracy ${best.final_accuracy!.toFixed(4)}\n`,
        );
    });
}

export function sweepCommand(): Command {
  return new Command("sweep")
    .description("Many runs from one spec: grids, random samples, seeds; local workers or a Redis queue")
    .addCommand(planCommand())
    .addCommand(runCommand())
    .addCommand(showCommand())
    .addCommand(
      new Command("list")
        .description("The sweeps recorded in the runs folder")
        .option("--runs <dir>", "runs folder (default ./runs or $TILLER_RUNS)")
        .action((o: { runs?: string }) => {
          for (const name of listSweeps(o.runs ?? defaultRunsRoot())) process.stdout.write(name + "\n");
        }),
    )
    .addHelpText("after", SPEC_HELP);
}
