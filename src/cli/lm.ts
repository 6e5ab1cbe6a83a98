import { dirname } from "node:path";
import { Command, Option } from "commander";
import { startEngine } from "../engine/device.js";
import { mixtureLabel, parseTaskMixture, PRETRAIN_TASKS } from "../data/tasks/index.js";
import { createGenerator } from "../lm/generate.js";
import { answerText } from "../lm/evaluate.js";
import { LM_SIZES, type LmSize } from "../lm/presets.js";
import {
  forkPretrainRun,
  pretrain,
  pretrainConfigOf,
  pretrainRunConfig,
  PRETRAIN_DEFAULTS,
  type PretrainConfig,
} from "../lm/pretrain.js";
import { loadLm } from "../lm/store.js";
import { Run, defaultRunsRoot, newRunId } from "../runs/store.js";
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber } from "./errors.js";
import { createProgress } from "./progress.js";
import { interruptSignal } from "./signals.js";
import { RUNS_HELP } from "./dialect.js";
import { refuseOptionsOnResume } from "./resume.js";

type PretrainOptions = {
  tasks: string;
  size: LmSize;
  steps: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  lossOn: "all" | "answer";
  evalEvery: number;
  evalExamples: number;
  checkpointEvery: number;
  seed: number;
  runs?: string;
  name?: string;
  resume?: string;
  quiet?: boolean;
};

/** --tasks as PretrainConfig fields: taskWeights only for a weighted mixture. */
function mixture(value: string): Pick<PretrainConfig, "tasks" | "taskWeights"> {
  const { tasks, weights } = parseTaskMixture(value);
  return weights ? { tasks, taskWeights: weights } : { tasks };
}

function pretrainCommand(): Command {
  const d = PRETRAIN_DEFAULTS;
  return new Command("pretrain")
    .description("Train the built-in character-level decoder LM on a mixture of the generated tasks.")
    .option(
      "--tasks <list>",
      "comma-separated task families, each optionally weighted as name:weight (default uniform; dispatch: the adaptation prompt of tiller svf adapt)",
      PRETRAIN_TASKS.join(","),
    )
    .addOption(new Option("--size <size>", "model size").choices(LM_SIZES).default("tiny"))
    .option("--steps <n>", "optimisation steps", positiveInt, d.steps)
    .option("--batch-size <n>", "sequences per step", positiveInt, d.batchSize)
    .option("--lr <x>", "AdamW learning rate", positiveNumber, d.lr)
    .option("--weight-decay <x>", "AdamW decoupled weight decay", nonNegativeNumber, d.weightDecay)
    .addOption(
      new Option("--loss-on <what>", "which next-token predictions count")
        .choices(["all", "answer"])
        .default(d.lossOn),
    )
    .option("--eval-every <n>", "validation accuracy every N steps", positiveInt, d.evalEvery)
    .option(
      "--eval-examples <n>",
      "validation questions per task at each evaluation",
      positiveInt,
      d.evalExamples,
    )
    .option("--checkpoint-every <n>", "checkpoint every N steps", positiveInt, d.checkpointEvery)
    .option("--seed <n>", "seed for the init and the example stream", nonNegativeInt, d.seed)
    .option("--runs <dir>", RUNS_HELP)
    .option("--name <id>", "run id (default: timestamp-lm-size-xxxx)")
    .option("--resume <run>", "continue an interrupted pretraining run from its last checkpoint")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller lm pretrain --tasks math,code,reasoning --size tiny     # ~0.1 M params, the default budget
  $ tiller lm pretrain --size small --steps 3000 --loss-on all
  $ tiller lm pretrain --tasks math,code,reasoning:3,dispatch        # reasoning drawn 3× as often
  $ tiller lm pretrain --resume runs/<id>                            # after Ctrl-C or a crash

The run holds config.json (model config, tokenizer), metrics.jsonl (loss, validation accuracy),
checkpoints/step-N.safetensors, checkpoints/model.safetensors and results.json (test accuracy).`,
    )
    .action(async (o: PretrainOptions, cmd: Command) => {
      if (o.resume) refuseOptionsOnResume(cmd);
      await startEngine();
      let run: Run;
      let config: PretrainConfig;
      if (o.resume) {
        run = Run.openForWriting(o.resume, o.runs);
        config = pretrainConfigOf(run);
      } else {
        config = {
          ...mixture(o.tasks),
          size: o.size,
          steps: o.steps,
          batchSize: o.batchSize,
          lr: o.lr,
          weightDecay: o.weightDecay,
          seed: o.seed,
          lossOn: o.lossOn,
          evalEvery: o.evalEvery,
          evalExamples: o.evalExamples,
          checkpointEvery: o.checkpointEvery,
        };
        run = Run.create(
          o.runs ?? defaultRunsRoot(),
          o.name ?? newRunId(["lm", o.size]),
          pretrainRunConfig(config),
        );
      }
      await runPretrain(run, config, Boolean(o.resume), o.quiet);
    });
}

/** Runs (or resumes) a pretraining run with progress and Ctrl-C handling, then prints its outcome. */
async function runPretrain(run: Run, config: PretrainConfig, resume: boolean, quiet?: boolean) {
  const progress = createProgress({ quiet });
  const signal = interruptSignal(() =>
    progress.log("Interrupted: finishing the current step, then stopping…"),
  );
  const result = await pretrain(run, config, {
    resume,
    signal,
    callbacks: {
      onStart: ({ startStep, steps, paramCount }) => {
        progress.log(
          `model: ${config.size}, ${paramCount.toLocaleString("en")} parameters; tasks ${mixtureLabel(config.tasks, config.taskWeights, ", ")}`,
        );
        if (startStep >= steps)
          progress.log("Nothing to train: all steps are done; saving and scoring the model.");
        progress.start(steps, "pretrain");
      },
      onStep: ({ step, loss }) => progress.update(step, { loss: loss.toFixed(4) }),
      onEval: ({ step, accuracy }) =>
        progress.log(
          `step ${step}: validation accuracy ` +
            Object.entries(accuracy)
              .map(([t, a]) => `${t} ${(100 * a).toFixed(1)}%`)
              .join(", "),
        ),
    },
  });
  progress.stop();
  process.stdout.write(
    `run: ${run.dir}\nstatus: ${result.status}${result.reason ? ` (${result.reason})` : ""}\n`,
  );
  if (result.test)
    for (const [t, a] of Object.entries(result.test))
      process.stdout.write(`test accuracy ${t}: ${(100 * a).toFixed(1)}%\n`);
  if (result.status === "diverged") process.exitCode = 1;
  if (result.status === "interrupted") process.exitCode = 130;
}

type ForkOptions = { step: number; runs?: string; name?: string; quiet?: boolean };

function forkCommand(): Command {
  return new Command("fork")
    .description(
      "A new pretraining run that ends at one of an earlier run's step checkpoints: its model is that checkpoint, saved and scored like a finished run.",
    )
    .argument("<run>", "a pretraining run (id or directory) with checkpoints/step-N.safetensors")
    .requiredOption("--step <n>", "the step checkpoint to end at", positiveInt)
    .option("--runs <dir>", RUNS_HELP)
    .option("--name <id>", "run id (default: <run id>-at-<step>)")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller lm fork runs/<pretrain> --step 2500            # the model after 2,500 of its steps
  $ tiller svf train --base runs/<pretrain>-at-2500 --task reasoning

The learning rate of tiller lm pretrain is constant and its example stream a function of the seed,
so the fork is the run that --steps N would have made (on the same device): a base with more
headroom for adaptation, taken from a longer run without training again.`,
    )
    .action(async (source: string, o: ForkOptions) => {
      await startEngine();
      const from = Run.open(source, o.runs);
      const { run, config } = forkPretrainRun(
        from,
        o.step,
        o.runs ?? dirname(from.dir),
        o.name ?? `${from.id}-at-${o.step}`,
      );
      await runPretrain(run, config, true, o.quiet);
    });
}

type GenerateOptions = {
  model: string;
  prompt: string[];
  maxNewTokens: number;
  temperature: number;
  topK: number;
  seed: number;
  runs?: string;
};

function generateCommand(): Command {
  return new Command("generate")
    .description(
      "Generate text from a pretraining run or a Hugging Face Llama/Qwen2 directory (KV cache, batched).",
    )
    .requiredOption("--model <run|dir>", "pretraining run (id or directory) or Hugging Face model directory")
    .requiredOption("--prompt <text...>", "one or more prompts (generated as one batch)")
    .option("--max-new-tokens <n>", "tokens to generate per prompt", positiveInt, 32)
    .option("--temperature <x>", "sampling temperature (0 = greedy)", nonNegativeNumber, 0)
    .option("--top-k <n>", "sample from the k most likely tokens (0 = all)", nonNegativeInt, 0)
    .option("--seed <n>", "sampling seed", nonNegativeInt, 0)
    .option("--runs <dir>", "runs folder, to find a run by id")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller lm generate --model runs/<pretrain-run> --prompt "Ann had 7 pens, got 5, lost 3. Pens now?
A:"
  $ tiller lm generate --model ./my-llama --prompt "The capital of France is" --temperature 0.7 --top-k 40`,
    )
    .action(async (o: GenerateOptions) => {
      await startEngine();
      const lm = loadLm(o.model, o.runs);
      const prompts = o.prompt.map((p) => [
        ...(lm.tokenizer.bosId === null ? [] : [lm.tokenizer.bosId]),
        ...lm.tokenizer.encode(p),
      ]);
      const gen = createGenerator(lm.cfg);
      const out = await gen.generate(lm.params, prompts, {
        maxNewTokens: o.maxNewTokens,
        temperature: o.temperature,
        topK: o.topK,
        eosId: lm.tokenizer.eosId,
        padId: lm.tokenizer.padId,
        seed: o.seed,
      });
      gen.dispose();
      out.tokens.forEach((t, i) =>
        process.stdout.write(
          `${JSON.stringify(o.prompt[i])} → ${JSON.stringify(answerText(lm.tokenizer, t))}\n`,
        ),
      );
    });
}

export function lmCommand(): Command {
  return new Command("lm")
    .description(
      "The decoder language model: pretraining on the task suite, forks at a step checkpoint, generation.",
    )
    .addCommand(pretrainCommand())
    .addCommand(forkCommand())
    .addCommand(generateCommand());
}
