import { Command, InvalidArgumentError } from "commander";
import { defaultRunsRoot } from "../runs/store.js";
import { LOOPBACK, startLab } from "../lab/server.js";
import { positiveInt } from "./errors.js";

type LabOptions = { port: number; host: string; runs?: string; maxJobs: number };

function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535)
    throw new InvalidArgumentError(`expected a port 0–65535, got "${value}"`);
  return n;
}

export function labCommand(): Command {
  return new Command("lab")
    .description(
      "Serve the lab: runs, live training curves, landscapes and the optimiser playground in the browser.",
    )
    .option("--port <n>", "port (0 picks a free one)", portNumber, 7722)
    .option(
      "--host <addr>",
      "address to bind; anything but loopback exposes your runs to the network",
      "127.0.0.1",
    )
    .option("--runs <dir>", "runs folder (default ./runs or $TILLER_RUNS)")
    .option("--max-jobs <n>", "jobs started from the lab that may run at once", positiveInt, 1)
    .addHelpText(
      "after",
      `
Examples:
  $ tiller lab                       # http://127.0.0.1:7722/ over ./runs
  $ tiller lab --port 0 --runs /tmp/runs

Stop with Ctrl-C; jobs started from the lab are interrupted (resumable with tiller train --resume).`,
    )
    .action(async (o: LabOptions) => {
      const lab = await startLab({
        runsRoot: o.runs ?? defaultRunsRoot(),
        host: o.host,
        port: o.port,
        maxJobs: o.maxJobs,
      });
      if (!LOOPBACK.has(o.host))
        process.stderr.write(
          `warning: the lab is reachable from the network on ${o.host}; it has no login.\n`,
        );
      process.stdout.write(`Tiller lab: ${lab.url}\nruns: ${lab.runsRoot}\n(Ctrl-C stops it)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          process.stderr.write("stopping the lab…\n");
          void lab.close().then(resolve);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
    });
}
