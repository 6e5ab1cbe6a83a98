import { Command } from "commander";
import { writeRunReport } from "../report/run-report.js";
import { runTraining } from "../train/session.js";
import { positiveInt } from "./errors.js";
import { createProgress } from "./progress.js";
import { interruptSignal } from "./signals.js";

/**
 * `npm start`: the main job on embedded defaults. Today it trains the Fashion-MNIST MLP for one
 * epoch with Adam and writes its report; later chapters (optimisers, landscape, CT, SVF) join here.
 */
export function tourCommand(): Command {
  return new Command("tour")
    .description(
      "Run the guided tour on real data (today: train the MLP on Fashion-MNIST and write a report).",
    )
    .option("--out <dir>", "runs folder (default ./runs or $TILLER_RUNS)")
    .option("--epochs <n>", "epochs for the MLP", positiveInt, 1)
    .option("-q, --quiet", "no progress output")
    .action(async (o: { out?: string; epochs: number; quiet?: boolean }) => {
      const progress = createProgress({ quiet: o.quiet });
      progress.log(
        "Tiller tour — 1. training the MLP 784-512-64-10 on Fashion-MNIST with Adam (lr 1e-3, batch 256)",
      );
      let total = 0;
      const { run, result } = await runTraining(
        {
          model: "mlp",
          optimizer: { name: "adam", lr: 1e-3 },
          epochs: o.epochs,
          batchSize: 256,
          seed: 0,
          runsRoot: o.out,
          name: undefined,
        },
        {
          signal: interruptSignal(() =>
            progress.log("Interrupted; the run can be resumed with tiller train --resume."),
          ),
          callbacks: {
            onStart: (i) => (total = i.stepsPerEpoch),
            onStep: (e) => {
              if (e.stepInEpoch === 1) progress.start(total, `epoch ${e.epoch}`);
              progress.update(e.stepInEpoch, { loss: e.loss.toFixed(4) });
            },
            onEpoch: (e) =>
              progress.stop(
                `epoch ${e.epoch}: test accuracy ${(100 * e.test_accuracy).toFixed(2)}% · ${e.elapsed_s.toFixed(1)} s`,
              ),
          },
        },
      );
      const report = await writeRunReport(run.dir);
      process.stdout.write(
        `\nrun: ${run.dir} (${result.status})\nreport: ${report}\nopen it with: xdg-open ${report}\n`,
      );
    });
}
