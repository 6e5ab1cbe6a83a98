import { Command } from "commander";
import { listRuns, Run, defaultRunsRoot } from "../runs/store.js";

/** Metrics may be null (JSON has no NaN: a diverged or skipped evaluation) or absent (no test set). */
const pct = (x?: number | null) => (typeof x === "number" ? `${(100 * x).toFixed(2)}%` : "–");
const fixed = (x: number | null | undefined, digits: number) =>
  typeof x === "number" ? x.toFixed(digits) : "–";

export function runsCommand(): Command {
  const cmd = new Command("runs").description("List and inspect runs in the run store.");
  cmd
    .command("list")
    .description("List runs, newest first.")
    .option("--out <dir>", "runs folder (default ./runs or $TILLER_RUNS)")
    .option("--json", "machine-readable output")
    .action((o: { out?: string; json?: boolean }) => {
      const { runs, broken } = listRuns(o.out ?? defaultRunsRoot());
      if (o.json) {
        const entries = [...runs, ...broken.map((b) => ({ id: b.id, dir: b.dir, broken: b.reason }))];
        process.stdout.write(JSON.stringify(entries, null, 2) + "\n");
        return;
      }
      if (runs.length === 0 && broken.length === 0) {
        process.stdout.write(`no runs in ${o.out ?? defaultRunsRoot()} — start one with "tiller train"\n`);
        return;
      }
      const rows = runs.map((r) => {
        const c = r.config as { model?: { name?: string }; optimizer?: { name?: string; lr?: number } };
        return [
          r.id,
          String(c.model?.name ?? "?"),
          `${c.optimizer?.name ?? "?"} ${c.optimizer?.lr ?? ""}`,
          r.status?.status ?? "?",
          pct(r.best),
          typeof r.duration_s === "number" ? `${r.duration_s.toFixed(0)} s` : "–",
        ];
      });
      printTable(
        ["id", "model", "optimizer", "status", "best acc", "time"],
        [...rows, ...broken.map((b) => [b.id, "?", "?", "broken", "–", "–"])],
      );
      if (broken.length) process.stdout.write("\nbroken runs:\n");
      for (const b of broken) process.stdout.write(`  ${b.id}: ${b.reason}\n`);
    });
  cmd
    .command("show <run>")
    .description("Show a run's config, status and per-epoch metrics.")
    .option("--out <dir>", "runs folder (default ./runs or $TILLER_RUNS)")
    .action((id: string, o: { out?: string }) => {
      const run = Run.open(id, o.out ?? defaultRunsRoot());
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
                  fixed(e.train_loss, 4),
                  pct(e.train_accuracy),
                  fixed(e.test_loss, 4),
                  pct(e.test_accuracy),
                  `${fixed(e.elapsed_s, 1)} s`,
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
