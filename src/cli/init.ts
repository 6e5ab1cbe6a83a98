import { Command } from "commander";
import { initializerByName, INIT_NAMES } from "../init/registry.js";
import {
  compareInits,
  formatTable,
  initCompareRequestOf,
  resumeInitComparison,
  type InitCompareCallbacks,
} from "../train/init-compare.js";
import { BOOK_INITS, initCompareRequest } from "../requests/init-compare.js";
import { createProgress } from "./progress.js";
import { epochProgress } from "../train/progress.js";
import { interruptSignal } from "./signals.js";
import { addRequestOptions, requestFromCommand } from "./request-options.js";
import { printResult } from "./output.js";

export function initCommand(): Command {
  const init = new Command("init").description(
    "Weight initialisers: list them, or compare them by training the same model from each.",
  );
  init.addCommand(
    new Command("list").description("List the initialisers with their formulas.").action(() => {
      const shape = [64, 32, 3, 3];
      for (const name of INIT_NAMES)
        process.stdout.write(
          `${name.padEnd(18)} ${initializerByName(name, { nonlinearity: "relu" }).formula}\n`,
        );
      process.stdout.write(
        `\nFans follow PyTorch: a [out, in, kh, kw] kernel has fan_in = in·kh·kw, fan_out = out·kh·kw (e.g. [${shape}] → 288, 576).\n` +
          "kaiming_* take the gain of the model's activation (ReLU √2, PReLU/LeakyReLU √(2/(1+a²)), tanh 5/3).\n",
      );
    }),
  );
  init.addCommand(compareCommand());
  return init;
}

function compareCommand(): Command {
  return addRequestOptions(new Command("compare").description(initCompareRequest.summary), initCompareRequest)
    .option("--json", "print the table rows as one JSON object")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller init compare --model mlp --activation prelu --inits ${BOOK_INITS.join(",")} --epochs 3
  $ tiller init compare --inits kaiming_normal,kaiming_uniform --init-mode fan_out --limit 5000 --epochs 1
  $ tiller init compare --model cnn --inits torch_default,orthogonal --optimizer adam --lr 1e-3
  $ tiller init list

Columns:
  Error Rate %              100·(1 − test accuracy) after the last epoch
  Convergence Speed         epochs until the training loss (trailing mean over 5% of an epoch) first
                            covers 90% of its drop from the first step to the end; smaller is faster
  Average Condition Number  mean over weight matrices of σmax/σmin at init
  Spectral Norm             mean over weight matrices of σmax at init
  Effective Rank Ratio      mean over weight matrices of exp(H(σ/Σσ))/min(rows, cols) at init
  Execution Time s          wall time of the method's training
A method whose loss becomes NaN/Inf is marked diverged and shows nan; the others still run.
Default optimiser: SGD, lr 0.01, momentum 0.9 (L-Momentum's α = 0.9² = 0.81).
The run directory holds table.csv, table.json, spectra.json, curves.json, figures/, report.html
and one training run per method under methods/.`,
    )
    .action(async (_o: unknown, self: Command) => {
      const { request } = requestFromCommand(self, initCompareRequest);
      const o = self.opts<{ quiet?: boolean; json?: boolean }>();
      const progress = createProgress({ quiet: o.quiet || o.json });
      const signal = interruptSignal(() =>
        progress.log("Interrupted: finishing the current step, then stopping…"),
      );
      const how = { signal, runsRoot: request.runs, callbacks: progressCallbacks(progress) };
      const { run, rows, status } = request.resume
        ? await resumeInitComparison(request.resume, how)
        : await compareInits(initCompareRequestOf(request), how);
      progress.stop();
      const [table, report] = [run.path("table.csv"), run.path("report.html")];
      printResult(o.json, { run: run.dir, status, rows, table, report }, [
        "",
        formatTable(rows),
        "",
        `run: ${run.dir}`,
        `table: ${table}`,
        `report: ${report}`,
      ]);
      // As optim compare: a diverged row is a failure the exit code reports.
      if (rows.some((r) => r.status === "diverged")) process.exitCode = 1;
      if (status === "interrupted") process.exitCode = 130;
    });
}

/** Progress lines and bars for each method of a comparison. */
function progressCallbacks(progress: ReturnType<typeof createProgress>): InitCompareCallbacks {
  let method = "";
  return {
    onMethodStart: (m) => {
      method = m.method;
      progress.log(`[${m.index + 1}/${m.count}] ${m.method}`);
    },
    onMethodEnd: (r) =>
      progress.log(
        r.status === "diverged"
          ? `${r.method}: diverged at step ${r.divergedAtStep} (${r.reason})`
          : `${r.method}: ${r.status}, error ${r.errorRate.toFixed(2)}%, ${r.executionTime.toFixed(1)} s`,
      ),
    train: epochProgress(progress, () => method, "  "),
  };
}
