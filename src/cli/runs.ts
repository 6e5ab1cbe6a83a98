import { Command } from "commander";
import { listRuns, Run, defaultRunsRoot } from "../runs/store.js";
import { RUNS_HELP } from "./dialect.js";
import { printResult } from "./output.js";
import { duration, percent as pct, sig } from "../report/format.js";
import { runHeadline } from "../runs/headline.js";

/** A loss may be null in metrics.jsonl (JSON has no NaN: a skipped evaluation, an empty test set). */
const fixed = (x: number | null | undefined, digits: number) =>
  typeof x === "number" ? x.toFixed(digits) : "–";

export function runsCommand(): Command {
  const cmd = new Command("runs").description("List and inspect runs in the run store.");
  cmd
    .command("list")
    .description("List runs, newest first.")
    .option("--runs <dir>", RUNS_HELP)
    .option("--json", "machine-readable output")
    .action((o: { runs?: string; json?: boolean }) => {
      const { runs, broken } = listRuns(o.runs ?? defaultRunsRoot());
      if (o.json) {
        const withHeadlines = runs.map((r) => {
          const h = runHeadline(r.dir, r.config, r.best === undefined ? [] : [r.best]);
          return { ...r, best: h.best, duration_s: r.duration_s ?? h.duration_s };
        });
        const entries = [
          ...withHeadlines,
          ...broken.map((b) => ({ id: b.id, dir: b.dir, broken: b.reason })),
        ];
        process.stdout.write(JSON.stringify(entries, null, 2) + "\n");
        return;
      }
      if (runs.length === 0 && broken.length === 0) {
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
        const brokenRows = broken.map((b) => [b.id, "–", "–", "broken", "–", "–"]);
        printTable(["id", "what", "optimizer", "status", "best acc", "time"], [...rows, ...brokenRows]);
      }
      // A bad entry never hides the others: each is named with what is wrong with it.
      if (broken.length) process.stdout.write("\nbroken runs:\n");
      for (const b of broken) process.stdout.write(`  ${b.id}: ${b.reason}\n`);
    });
  cmd
    .command("show <run>")
    .description("Show a run's config, status and per-epoch metrics.")
    .option("--runs <dir>", RUNS_HELP)
    .option("--json", "print the run as one JSON object")
    .action((id: string, o: { runs?: string; json?: boolean }) => {
      const run = Run.open(id, o.runs ?? defaultRunsRoot());
      const status = run.status();
      if (o.json) {
        const epochs = run.metrics().filter((m) => m.type === "epoch");
        const checkpoints = run.epochCheckpoints();
        const shown = { id: run.id, dir: run.dir, status, config: run.config(), epochs, checkpoints };
        return printResult(true, shown, []);
      }
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
                  fixed(e.train_loss, 4),
                  pct(e.train_accuracy),
                  fixed(e.test_loss, 4),
                  pct(e.test_accuracy),
                  duration(e.elapsed_s),
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
