import { Command } from "commander";
import { Run, defaultRunsRoot } from "../runs/store.js";
import { writeRunReport } from "../report/run-report.js";
import { RUNS_HELP } from "./dialect.js";
import { printResult } from "./output.js";

export function reportCommand(): Command {
  return new Command("report")
    .description("Write a self-contained report.html (loss and accuracy curves, config, summary) for a run.")
    .argument("<run>", "run id or run directory")
    .option("--runs <dir>", RUNS_HELP)
    .option("--json", "print the result as one JSON object")
    .addHelpText("after", "\nExample:\n  $ tiller report runs/20261125-101500-mlp-adam-1a2b\n")
    .action(async (id: string, o: { runs?: string; json?: boolean }) => {
      const run = Run.open(id, o.runs ?? defaultRunsRoot());
      const report = await writeRunReport(run.dir);
      printResult(o.json, { run: run.dir, report }, [report]);
    });
}
