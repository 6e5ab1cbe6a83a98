import { Command, Option } from "commander";
import { startEngine } from "../engine/device.js";
import { HELD_OUT_TASKS, TRAINING_TASKS, parseTaskList, getFamily } from "../data/tasks/index.js";
import {
  resumeAdapterTraining,
  startAdapterTraining,
  type AdaptCallbacks,
  type AdapterSpec,
} from "../steer/adapt-session.js";
import { compareAdaptersRun } from "../steer/compare.js";
import { FINETUNE_DEFAULTS, type FinetuneConfig, type FinetuneResult } from "../steer/finetune.js";
import type { Run } from "../runs/store.js";
import { SVF_DEFAULTS } from "../steer/svf/compose.js";
import { TARGET_SETS, type TargetSet } from "../steer/svf/targets.js";
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, UsageError } from "./errors.js";
import { createProgress, type Progress } from "./progress.js";
import { svfAdaptCommand } from "./svf-adapt.js";
import { interruptSignal } from "./signals.js";
import { RUNS_HELP } from "./dialect.js";
import { refuseOptionsOnResume } from "./resume.js";

/** Options every adapter trainer takes (SVF and LoRA share the fine-tuner). */
export type FinetuneOptions = {
  base?: string;
  task?: string;
  objective: "rl" | "sft";
  targets: TargetSet;
  steps: number;
  batchSize: number;
  lr?: number;
  maxGradNorm: number;
  klCoef: number;
  klDirection: "policy-ref" | "ref-policy";
  temperature: number;
  rewardNorm?: boolean;
  samplesPerPrompt: number;
  trainExamples: number;
  evalEvery: number;
  evalExamples: number;
  seed: number;
  runs?: string;
  name?: string;
  resume?: string;
  quiet?: boolean;
};

export function addFinetuneOptions(cmd: Command, defaults: { objective: "rl" | "sft"; lr: number }): Command {
  const d = FINETUNE_DEFAULTS;
  return cmd
    .option(
      "--base <run|dir>",
      "base LM: a pretraining run (id or directory) or a Hugging Face model directory",
    )
    .option("--task <name>", `task to specialise on (${TRAINING_TASKS.join(", ")})`)
    .addOption(
      new Option(
        "--objective <how>",
        "rl: REINFORCE on exact-match rewards; sft: next-token loss on the answers",
      )
        .choices(["rl", "sft"])
        .default(defaults.objective),
    )
    .addOption(new Option("--targets <set>", "which matrices to adapt").choices(TARGET_SETS).default("mlp"))
    .option("--steps <n>", "optimisation steps", positiveInt, d.steps)
    .option("--batch-size <n>", "prompts per step", positiveInt, d.batchSize)
    .option("--lr <x>", `Adam learning rate (default ${defaults.lr})`, positiveNumber)
    .option("--max-grad-norm <x>", "clip the gradient to this global norm", positiveNumber, d.maxGradNorm)
    .option(
      "--kl-coef <x>",
      "λ of the KL penalty against the base model (0 = off, the official default)",
      nonNegativeNumber,
      d.klCoef,
    )
    .addOption(
      new Option(
        "--kl-direction <d>",
        "policy-ref: KL(π_W′‖π_W) (the paper); ref-policy: KL(π_W‖π_W′) (the official code)",
      )
        .choices(["policy-ref", "ref-policy"])
        .default(d.klDirection),
    )
    .option(
      "--temperature <x>",
      "rollout temperature (0 = greedy, the official setting)",
      nonNegativeNumber,
      d.temperature,
    )
    .option(
      "--reward-norm",
      "normalise rewards ((r − mean)/std) over the batch, or per prompt with --samples-per-prompt > 1",
    )
    .option("--samples-per-prompt <k>", "rollouts per prompt (1 = the official setting)", positiveInt, 1)
    .option("--train-examples <n>", "size of the training pool", positiveInt, d.trainExamples)
    .option(
      "--eval-every <n>",
      "validation accuracy every N steps (the best is kept)",
      positiveInt,
      d.evalEvery,
    )
    .option("--eval-examples <n>", "validation questions per evaluation", positiveInt, d.evalExamples)
    .option("--seed <n>", "seed for the init, the batches and the rollouts", nonNegativeInt, d.seed)
    .option("--runs <dir>", RUNS_HELP)
    .option("--name <id>", "run id")
    .option("--resume <run>", "continue an interrupted run from its last step")
    .option("-q, --quiet", "no progress output");
}

export function finetuneConfig(o: FinetuneOptions, defaultLr: number): FinetuneConfig {
  if (!o.task) throw new UsageError("--task is required (or --resume <run>)");
  getFamily(o.task);
  return {
    task: o.task,
    objective: o.objective,
    steps: o.steps,
    batchSize: o.batchSize,
    lr: o.lr ?? defaultLr,
    maxGradNorm: o.maxGradNorm,
    klCoef: o.klCoef,
    klDirection: o.klDirection,
    temperature: o.temperature,
    rewardNorm: Boolean(o.rewardNorm),
    samplesPerPrompt: o.samplesPerPrompt,
    trainExamples: o.trainExamples,
    evalEvery: o.evalEvery,
    evalExamples: o.evalExamples,
    seed: o.seed,
  };
}

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

/** Runs (or resumes) one adapter training and prints where it went. */
export async function runAdapterCommand(
  o: FinetuneOptions,
  adapter: AdapterSpec,
  defaultLr: number,
): Promise<void> {
  await startEngine();
  const progress = createProgress({ quiet: o.quiet });
  const signal = interruptSignal(() =>
    progress.log("Interrupted: finishing the current step, then stopping…"),
  );
  let out: { run: Run; result: FinetuneResult };
  if (o.resume)
    out = await resumeAdapterTraining(o.resume, { signal, callbacks: callbacks(progress), runsRoot: o.runs });
  else {
    if (!o.base) throw new UsageError("--base is required (or --resume <run>)");
    out = await startAdapterTraining(
      {
        base: o.base,
        targets: o.targets,
        adapter,
        finetune: finetuneConfig(o, defaultLr),
        runsRoot: o.runs,
        name: o.name,
      },
      { signal, callbacks: callbacks(progress) },
    );
  }
  progress.stop();
  const { run, result } = out;
  process.stdout.write(
    `run: ${run.dir}\nstatus: ${result.status}${result.reason ? ` (${result.reason})` : ""}\n`,
  );
  if (result.status === "done")
    process.stdout.write(
      `best validation accuracy ${(100 * result.validation).toFixed(1)}% at step ${result.bestStep}; ` +
        `test accuracy ${(100 * (result.test ?? 0)).toFixed(1)}%\nexpert: ${run.path("checkpoints", "expert.safetensors")}\n`,
    );
  if (result.status === "diverged") process.exitCode = 1;
  if (result.status === "interrupted") process.exitCode = 130;
}

type SvfTrainOptions = FinetuneOptions & { initVal: number; maxMult: number };

export const SVF_DEFAULT_LR = 2e-3;

function svfTrainCommand(): Command {
  return addFinetuneOptions(
    new Command("train").description(
      "Train an SVF expert: one vector z per weight matrix scaling its singular values, by REINFORCE (or next-token loss).",
    ),
    { objective: "rl", lr: SVF_DEFAULT_LR },
  )
    .option(
      "--init-val <x>",
      "p is initialised at init_val + N(0, 0.01²)",
      nonNegativeNumber,
      SVF_DEFAULTS.initVal,
    )
    .option("--max-mult <x>", "z = max_mult · sigmoid(p)", positiveNumber, SVF_DEFAULTS.maxMult)
    .addHelpText(
      "after",
      `
Examples:
  $ tiller svf train --base runs/<pretrain> --task math                      # official defaults: Adam 2e-3, clip 1e-3, greedy rollouts
  $ tiller svf train --base runs/<pretrain> --task code --lr 0.03 --temperature 1 --reward-norm --kl-coef 0.1
  $ tiller svf train --base runs/<pretrain> --task reasoning --objective sft
  $ tiller svf train --resume runs/<svf-run>

The SVD of every targeted matrix is computed once and cached in the run (checkpoints/svd.safetensors);
the best expert (by validation accuracy) is checkpoints/expert.safetensors.`,
    )
    .action((o: SvfTrainOptions, cmd: Command) => {
      if (o.resume) refuseOptionsOnResume(cmd);
      return runAdapterCommand(
        o,
        { kind: "svf", svf: { initVal: o.initVal, maxMult: o.maxMult, noise: SVF_DEFAULTS.noise } },
        SVF_DEFAULT_LR,
      );
    });
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
  base: string;
  svf?: string;
  lora?: string;
  tasks: string;
  runs?: string;
  name?: string;
  quiet?: boolean;
};

function svfEvalCommand(): Command {
  return new Command("eval")
    .description(
      "Test accuracy of the base model, LoRA and SVF on each task, with trainable-parameter counts.",
    )
    .requiredOption("--base <run|dir>", "the base LM")
    .option("--svf <pairs>", "SVF runs per task, e.g. math=runs/a,code=runs/b")
    .option("--lora <pairs>", "LoRA runs per task, e.g. math=runs/c")
    .option("--tasks <list>", "tasks to score", [...TRAINING_TASKS, ...HELD_OUT_TASKS].join(","))
    .option("--runs <dir>", RUNS_HELP)
    .option("--name <id>", "run id for the evaluation")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Example:
  $ tiller svf eval --base runs/<pretrain> --svf math=runs/<a>,code=runs/<b>,reasoning=runs/<c> \\
      --lora math=runs/<d>,code=runs/<e>,reasoning=runs/<f>

Writes results.json and table.md into a new run and prints the table.`,
    )
    .action(async (o: EvalOptions) => {
      await startEngine();
      const progress = createProgress({ quiet: o.quiet });
      const request = {
        base: o.base,
        tasks: parseTaskList(o.tasks),
        svf: o.svf ? taskMap(o.svf) : {},
        lora: o.lora ? taskMap(o.lora) : {},
        runsRoot: o.runs,
      };
      const { run, table } = await compareAdaptersRun(request, { name: o.name }, (what) =>
        progress.log(`scoring ${what}…`),
      );
      process.stdout.write(`${table}\nrun: ${run.dir}\n`);
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
