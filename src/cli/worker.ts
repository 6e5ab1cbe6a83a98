import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { Command, Option } from "commander";
import { UsageError } from "../errors.js";
import { DEFAULT_QUEUE_NAME, serveQueue } from "../sweep/queue.js";
import { parseRedisUrl, describeTarget } from "../sweep/redis/url.js";

export function workerCommand(): Command {
  return new Command("worker")
    .description(
      "Take sweep runs from a Redis queue (tiller sweep run --queue) and write them into the shared runs folder",
    )
    .requiredOption("--queue <url>", "the sweep's Redis queue: redis://[user:password@]host:port/db")
    .requiredOption("--runs <dir>", "the sweep's runs folder, as this machine sees it (a shared filesystem)")
    .addOption(new Option("--queue-name <name>", "BullMQ queue name").default(DEFAULT_QUEUE_NAME))
    .addHelpText(
      "after",
      `
Example:
  $ tiller worker --queue redis://10.0.0.5:6379/0 --runs /shared/runs
A worker takes one run at a time and uses all of this machine's cores (TILLER_THREADS to change).
A run whose worker dies is handed to another worker after the lock expires and resumes from its last
checkpoint. Ctrl-C finishes the current run, then exits; a second Ctrl-C stops it (it resumes elsewhere).`,
    )
    .action(async (o: { queue: string; runs: string; queueName: string }) => {
      const target = parseRedisUrl(o.queue);
      const runsRoot = resolve(o.runs);
      if (!existsSync(runsRoot) || !statSync(runsRoot).isDirectory())
        throw new UsageError(`--runs ${o.runs}: no such folder (it must be the sweep's shared runs folder)`);
      const finishCurrent = new AbortController();
      const stopNow = new AbortController();
      const say = (s: string) => process.stderr.write(s + "\n");
      const onSignal = () => {
        if (finishCurrent.signal.aborted) {
          say("Stopping the current run (it resumes on another worker)…");
          stopNow.abort();
        } else {
          say("Interrupted: finishing the current run, then exiting (Ctrl-C again to stop it now).");
          finishCurrent.abort();
        }
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
      say(
        `worker ${process.pid}: taking runs from ${describeTarget(target)} queue ${o.queueName} into ${runsRoot}`,
      );
      await serveQueue({
        url: o.queue,
        name: o.queueName,
        runsRoot,
        signal: finishCurrent.signal,
        stopNow: stopNow.signal,
        onEvent: (e) => {
          if (e.type === "started") say(`started  ${e.id} (sweep ${e.sweep})`);
          else if (e.type === "finished") {
            const r = e.outcome;
            const how = r.cached ? " (already there)" : r.resumed ? " (resumed from its checkpoint)" : "";
            say(
              `${r.status.padEnd(8)} ${r.id}${how}${r.reason ? `: ${r.reason}` : ""} · ${r.seconds.toFixed(1)} s`,
            );
          } else say(e.message);
        },
      });
    });
}
