import { Command } from "commander";
import { startEngine } from "../engine/device.js";
import { HELD_OUT_TASKS, TRAINING_TASKS, parseTaskList, getFamily } from "../data/tasks/index.js";
import type { AdaptCallbacks } from "../steer/adapt-session.js";
import { compareAdaptersRun } from "../steer/compare.js";
import { UsageError } from "./errors.js";
import { createProgress, type Progress } from "./progress.js";
import { svfAdaptCommand } from "./svf-adapt.js";
import { interruptSignal } from "./signals.js";
import { aliasOption, required, runArgument, RUNS_HELP } from "./dialect.js";
import { addRequestOptions, requestFromCommand } from "./request-options.js";
import { printResult } from "./output.js";
import { loraTrainRequest, svfTrainRequest } from "../requests/adapter.js";
import { trainAdapterFromRequest } from "../steer/train-request.js";

function callbacks(progress: Progress): AdaptCallbacks {
  return {
    onSvd: (done, total, name, seconds, cached) =>
      progress.log(
        cached
          ? `SVD: ${total} matrices from the run's cache`
          : `SVD ${done}/${total}: ${name} (${seconds.toFixed(2)} s)`,
      ),
    onStart: ({ startStep, steps, trainable }) => {
      progress.log(`trainable parameters: ${trainable.toLocaleString("en")}`);
      if (startStep >= steps) progress.log("Nothing to do: all steps are already done.");
      progress.start(steps, "fine-tune");
    },
    onStep: (s) =>
      progress.update(s.step, {
        loss: s.loss.toFixed(4),
        ...(s.accuracy !== undefined ? { "batch acc": `${(100 * s.accuracy).toFixed(0)}%` } : {}),
      }),
    onEval: (e) =>
      progress.log(
        `step ${e.step}: validation ${(100 * e.accuracy).toFixed(1)}% (best ${(100 * e.best).toFixed(1)}% at step ${e.bestStep})`,
      ),
  };
}

type Presentation = { quiet?: boolean; json?: boolean };

/** An adapter trainer's command: the request's options, progress, and where the run went. */
export function adapterCommand(
  name: string,
  def: typeof svfTrainRequest | typeof loraTrainRequest,
  examples: string,
): Command {
  return addRequestOptions(new Command(name).description(def.summary), def)
    .option("--json", "print the result as one JSON object")
    .option("-q, --quiet", "no progress output")
    .addHelpText("after", examples)
    .action(async (...args: unknown[]) => {
      const self = args.at(-1) as Command;
      const { request } = requestFromCommand(self, def);
      const o = self.opts<Presentation>();
      const progress = createProgress({ quiet: o.quiet || o.json });
      const signal = interruptSignal(() =>
        progress.log("Interrupted: finishing the current step, then stopping…"),
      );
      const kind = def.kind === "svf-train" ? "svf" : "lora";
      const { run, result } = await trainAdapterFromRequest(
        { kind, ...request } as Parameters<typeof trainAdapterFromRequest>[0],
        {
          signal,
          callbacks: callbacks(progress),
        },
      );
      progress.stop();
      const expert = run.path("checkpoints", "expert.safetensors");
      printResult(
        o.json,
        {
          run: run.dir,
          status: result.status,
          reason: result.reason,
          validation: result.validation,
          bestStep: result.bestStep,
          test: result.test ?? null,
          expert,
        },
        [
          `run: ${run.dir}`,
          `status: ${result.status}${result.reason ? ` (${result.reason})` : ""}`,
          ...(result.status === "done"
            ? [
                `best validation accuracy ${(100 * result.validation).toFixed(1)}% at step ${result.bestStep}; ` +
                  `test accuracy ${(100 * (result.test ?? 0)).toFixed(1)}%`,
                `expert: ${expert}`,
              ]
            : []),
        ],
      );
      if (result.status === "diverged") process.exitCode = 1;
      if (result.status === "interrupted") process.exitCode = 130;
    });
}

function svfTrainCommand(): Command {
  return adapterCommand(
    "train",
    svfTrainRequest,
    `
Examples:
  $ tiller svf train runs/<pretrain> --task math                      # official defaults: Adam 2e-3, clip 1e-3, greedy rollouts
  $ tiller svf train runs/<pretrain> --task code --lr 0.03 --temperature 1 --reward-norm --kl-coef 0.1
  $ tiller svf train runs/<pretrain> --task reasoning --objective sft
  $ tiller svf train --resume runs/<svf-run>

The SVD of every targeted matrix is computed once and cached in the run (checkpoints/svd.safetensors);
the best expert (by validation accuracy) is checkpoints/expert.safetensors.`,
  );
}

/** "math=runs/a,code=runs/b" → {math: "runs/a", code: "runs/b"}. */
function taskMap(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(",").filter(Boolean)) {
    const [task, run] = part.split("=");
    if (!task || !run) throw new UsageError(`expected task=run pairs like math=runs/abc, got "${part}"`);
    getFamily(task.trim());
    out[task.trim()] = run.trim();
  }
  return out;
}

type EvalOptions = {
  svf?: string;
  lora?: string;
  task: string;
  json?: boolean;
  runs?: string;
  name?: string;
  quiet?: boolean;
};

function svfEvalCommand(): Command {
  const cmd = new Command("eval").description(
    "Test accuracy of the base model, LoRA and SVF on each task, with trainable-parameter counts.",
  );
  runArgument(
    cmd,
    "base",
    "the base LM: a pretraining run (id or directory) or a Hugging Face model directory",
    "base",
  );
  aliasOption(cmd, "tasks", "task", "<list>");
  return cmd
    .option("--svf <pairs>", "SVF runs per task, e.g. math=runs/a,code=runs/b")
    .option("--lora <pairs>", "LoRA runs per task, e.g. math=runs/c")
    .option(
      "--task <list>",
      "tasks to score, comma-separated",
      [...TRAINING_TASKS, ...HELD_OUT_TASKS].join(","),
    )
    .option("--json", "print the results as one JSON object")
    .option("--runs <dir>", RUNS_HELP)
    .option("--name <id>", "run id for the evaluation")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Example:
  $ tiller svf eval runs/<pretrain> --svf math=runs/<a>,code=runs/<b>,reasoning=runs/<c> \\
      --lora math=runs/<d>,code=runs/<e>,reasoning=runs/<f>

Writes results.json and table.md into a new run and prints the table.`,
    )
    .action(async (base: string | undefined, o: EvalOptions) => {
      await startEngine();
      const progress = createProgress({ quiet: o.quiet || o.json });
      const request = {
        base: required(base, "base"),
        tasks: parseTaskList(o.task),
        svf: o.svf ? taskMap(o.svf) : {},
        lora: o.lora ? taskMap(o.lora) : {},
        runsRoot: o.runs,
      };
      const { run, table, result } = await compareAdaptersRun(request, { name: o.name }, (what) =>
        progress.log(`scoring ${what}…`),
      );
      printResult(o.json, { run: run.dir, ...result }, [table, `run: ${run.dir}`]);
    });
}

export function svfCommand(): Command {
  return new Command("svf")
    .description(
      "Singular Value Fine-tuning (Transformer²): train z-vector experts, compare with LoRA and the base model.",
    )
    .addCommand(svfTrainCommand())
    .addCommand(svfEvalCommand())
    .addCommand(svfAdaptCommand());
}
