import { Command } from "commander";
import { listRuns, Run, defaultRunsRoot } from "../runs/store.js";
import { RUNS_HELP } from "./dialect.js";

import { duration, percent as pct, sig } from "../report/format.js";
import { runHeadline } from "../runs/headline.js";

export function runsCommand(): Command {
  const cmd = new Command("runs").description("List and inspect runs in the run store.");
  cmd
    .command("list")
    .description("List runs, newest first.")
    .option("--runs <dir>", RUNS_HELP)
    .option("--json", "machine-readable output")
    .action((o: { runs?: string; json?: boolean }) => {
      const { runs, problems } = listRuns(o.runs ?? defaultRunsRoot());
      if (o.json) {
        const withHeadlines = runs.map((r) => {
          const h = runHeadline(r.dir, r.config, r.best === undefined ? [] : [r.best]);
          return { ...r, best: h.best, duration_s: r.duration_s ?? h.duration_s };
        });
        process.stdout.write(JSON.stringify(withHeadlines, null, 2) + "\n");
      } else if (runs.length === 0) {
        process.stdout.write(`no runs in ${o.runs ?? defaultRunsRoot()} — start one with "tiller train"\n`);
      } else {
        const rows = runs.map((r) => {
          const h = runHeadline(r.dir, r.config, r.best === undefined ? [] : [r.best]);
          return [
            r.id,
            h.what ?? "–",
            h.optimizer ? `${h.optimizer}${h.lr !== undefined ? ` ${sig(h.lr)}` : ""}` : "–",
            r.status?.status ?? "–",
            pct(h.best),
            duration(r.duration_s ?? h.duration_s),
          ];
        });
        printTable(["id", "what", "optimizer", "status", "best acc", "time"], rows);
      }
      for (const p of problems) process.stderr.write(`warning: ${p}\n`);
    });
  cmd
    .command("show <run>")
    .description("Show a run's config, status and per-epoch metrics.")
    .option("--runs <dir>", RUNS_HELP)
    .action((id: string, o: { runs?: string }) => {
      const run = Run.open(id, o.runs ?? defaultRunsRoot());
      const status = run.status();
      process.stdout.write(
        `run ${run.id}\n  dir: ${run.dir}\n  status: ${status.status}${status.reason ? ` (${status.reason})` : ""}\n`,
      );
      process.stdout.write(`  config: ${JSON.stringify(run.config())}\n`);
      const epochs = run.metrics().filter((m) => m.type === "epoch");
      if (epochs.length)
        printTable(
          ["epoch", "train loss", "train acc", "test loss", "test acc", "time"],
          epochs.map((e) =>
            e.type === "epoch"
              ? [
                  String(e.epoch),
                  e.train_loss.toFixed(4),
                  pct(e.train_accuracy),
                  e.test_loss.toFixed(4),
                  pct(e.test_accuracy),
                  `${e.elapsed_s.toFixed(1)} s`,
                ]
              : [],
          ),
        );
      process.stdout.write(
        `  checkpoints: ${
          run
            .epochCheckpoints()
            .map((e) => `epoch-${e}`)
            .join(", ") || "none"
        }\n`,
      );
    });
  return cmd;
}

export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (c ?? "").padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  process.stdout.write(
    [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n") + "\n",
  );
}
