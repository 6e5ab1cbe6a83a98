import { Command } from "commander";
import { trainRequest } from "../requests/train.js";
import { trainFromRequest } from "../train/session.js";
import type { TrainCallbacks } from "../train/loop.js";
import { writeRunReport } from "../report/run-report.js";
import { createProgress } from "./progress.js";
import { epochProgress } from "../train/progress.js";
import { interruptSignal } from "./signals.js";
import { addRequestOptions, requestFromCommand } from "./request-options.js";
import { printResult } from "./output.js";

const EXAMPLES = `
Examples:
  $ tiller train                                        # MLP 784-512-64-10, Adam 1e-3, 3 epochs
  $ tiller train --model mlp --hidden 512,64 --optimizer adam --lr 1e-3 --epochs 3 --batch-size 256
  $ tiller train --model cnn --epochs 3                 # conv 32 → pool → conv 64 → pool → dense 256
  $ tiller train --optimizer sgd --lr 0.05 --momentum 0.9 --limit 2000 --epochs 2
  $ tiller train --optimizer lion --lr 1e-4 --param weightDecay=0.1 --schedule cosine:steps=700
  $ tiller train --optimizer sophiag --param rho=0.04 --param every=10
  $ tiller train --init kaiming_normal --activation prelu --zero-init-last
  $ tiller train --resume runs/<id>                     # after Ctrl-C or a crash
  $ tiller train --resume runs/<id> --epochs 10         # train a finished run on to 10 epochs in all
  $ tiller train --from runs/<id> --optimizer adam --lr 1e-3 --epochs 20 --dynamics epoch
                                                        # continue a trained model; then: tiller dynamics <new run>

The run directory holds config.json, status.json, metrics.jsonl, checkpoints/ and report.html.
Every option is a field of the train request (tiller's library: trainRequest, trainFromRequest).`;

type Presentation = { report: boolean; quiet?: boolean; json?: boolean };

/** Progress lines for a training run: a bar per epoch, one summary line at its end. */
function progressCallbacks(progress: ReturnType<typeof createProgress>): TrainCallbacks {
  const bars = epochProgress(progress);
  return {
    ...bars,
    onStart: (info) => {
      bars.onStart?.(info);
      if (info.startEpoch > info.epochs) progress.log("Nothing to do: all epochs are already done.");
    },
    onSkip: (e) => progress.log(`step ${e.step} skipped (${e.skips}): ${e.reason}`),
  };
}

export function trainCommand(): Command {
  const cmd = new Command("train").description(trainRequest.summary);
  addRequestOptions(cmd, trainRequest)
    .option("--no-report", "do not write report.html at the end")
    .option("--json", "print the result as one JSON object")
    .option("-q, --quiet", "no progress output")
    .addHelpText("after", EXAMPLES)
    .action(async (_o: unknown, self: Command) => {
      const { request } = requestFromCommand(self, trainRequest);
      const o = self.opts<Presentation>();
      const progress = createProgress({ quiet: o.quiet || o.json });
      const signal = interruptSignal(() =>
        progress.log("Interrupted: finishing the current step, then stopping…"),
      );
      const { run, result, config } = await trainFromRequest(request, {
        callbacks: progressCallbacks(progress),
        signal,
      });
      progress.stop();
      const report = o.report ? await writeRunReport(run.dir) : undefined;
      printResult(
        o.json,
        {
          run: run.dir,
          id: config.id,
          status: result.status,
          reason: result.reason,
          final: result.epochs.at(-1) ?? null,
          report,
        },
        [
          `run: ${run.dir}`,
          `status: ${result.status}${result.reason ? ` (${result.reason})` : ""}`,
          ...(report ? [`report: ${report}`] : []),
        ],
      );
      if (result.status === "diverged") process.exitCode = 1;
      if (result.status === "interrupted") process.exitCode = 130;
    });
  return cmd;
}
