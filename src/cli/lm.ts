import { dirname } from "node:path";
import { Command } from "commander";
import { startEngine } from "../engine/device.js";
import { mixtureLabel } from "../data/tasks/index.js";
import { createGenerator } from "../lm/generate.js";
import { answerText } from "../lm/evaluate.js";
import { forkPretrainRun, pretrain, openPretrainRun, type PretrainConfig } from "../lm/pretrain.js";
import { loadLm } from "../lm/store.js";
import { Run } from "../runs/store.js";
import { nonNegativeInt, nonNegativeNumber, positiveInt } from "./errors.js";
import { createProgress } from "./progress.js";
import { interruptSignal } from "./signals.js";
import { required, runArgument, RUNS_HELP } from "./dialect.js";
import { addRequestOptions, requestFromCommand } from "./request-options.js";
import { printResult } from "./output.js";
import { lmPretrainRequest } from "../requests/lm.js";

function pretrainCommand(): Command {
  return addRequestOptions(new Command("pretrain").description(lmPretrainRequest.summary), lmPretrainRequest)
    .option("--json", "print the result as one JSON object")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller lm pretrain --task math,code,reasoning --size tiny      # ~0.1 M params, the default budget
  $ tiller lm pretrain --size small --steps 3000 --loss-on all
  $ tiller lm pretrain --task math,code,reasoning:3,dispatch         # reasoning drawn 3× as often
  $ tiller lm pretrain --resume runs/<id>                            # after Ctrl-C or a crash

The run holds config.json (model config, tokenizer), metrics.jsonl (loss, validation accuracy),
checkpoints/step-N.safetensors, checkpoints/model.safetensors and results.json (test accuracy).`,
    )
    .action(async (_o: unknown, self: Command) => {
      const { request } = requestFromCommand(self, lmPretrainRequest);
      await startEngine();
      const { run, config } = openPretrainRun(request);
      const o = self.opts<{ quiet?: boolean; json?: boolean }>();
      await runPretrain(run, config, Boolean(request.resume), o);
    });
}

/** Runs (or resumes) a pretraining run with progress and Ctrl-C handling, then prints its outcome. */
async function runPretrain(
  run: Run,
  config: PretrainConfig,
  resume: boolean,
  o: { quiet?: boolean; json?: boolean },
) {
  const progress = createProgress({ quiet: o.quiet || o.json });
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
  printResult(
    o.json,
    { run: run.dir, status: result.status, reason: result.reason, test: result.test ?? null },
    [
      `run: ${run.dir}`,
      `status: ${result.status}${result.reason ? ` (${result.reason})` : ""}`,
      ...Object.entries(result.test ?? {}).map(([t, a]) => `test accuracy ${t}: ${(100 * a).toFixed(1)}%`),
    ],
  );
  if (result.status === "diverged") process.exitCode = 1;
  if (result.status === "interrupted") process.exitCode = 130;
}

type ForkOptions = { step: number; runs?: string; name?: string; quiet?: boolean; json?: boolean };

function forkCommand(): Command {
  return new Command("fork")
    .description(
      "A new pretraining run that ends at one of an earlier run's step checkpoints: its model is that checkpoint, saved and scored like a finished run.",
    )
    .argument("<run>", "a pretraining run (id or directory) with checkpoints/step-N.safetensors")
    .requiredOption("--step <n>", "the step checkpoint to end at", positiveInt)
    .option("--runs <dir>", RUNS_HELP)
    .option("--name <id>", "run id (default: <run id>-at-<step>)")
    .option("--json", "print the result as one JSON object")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller lm fork runs/<pretrain> --step 2500            # the model after 2,500 of its steps
  $ tiller svf train runs/<pretrain>-at-2500 --task reasoning

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
      await runPretrain(run, config, true, o);
    });
}

type GenerateOptions = {
  json?: boolean;
  prompt: string[];
  maxNewTokens: number;
  temperature: number;
  topK: number;
  seed: number;
  runs?: string;
};

function generateCommand(): Command {
  const cmd = new Command("generate").description(
    "Generate text from a pretraining run or a Hugging Face Llama/Qwen2 directory (KV cache, batched).",
  );
  return runArgument(
    cmd,
    "model",
    "pretraining run (id or directory) or Hugging Face model directory",
    "model",
  )
    .requiredOption("--prompt <text...>", "one or more prompts (generated as one batch)")
    .option("--max-new-tokens <n>", "tokens to generate per prompt", positiveInt, 32)
    .option("--temperature <x>", "sampling temperature (0 = greedy)", nonNegativeNumber, 0)
    .option("--top-k <n>", "sample from the k most likely tokens (0 = all)", nonNegativeInt, 0)
    .option("--seed <n>", "sampling seed", nonNegativeInt, 0)
    .option("--runs <dir>", "runs folder, to find a run by id (default $TILLER_RUNS or ./runs)")
    .option("--json", "print the completions as one JSON object")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller lm generate runs/<pretrain-run> --prompt "Ann had 7 pens, got 5, lost 3. Pens now?
A:"
  $ tiller lm generate ./my-llama --prompt "The capital of France is" --temperature 0.7 --top-k 40`,
    )
    .action(async (model: string | undefined, o: GenerateOptions) => {
      await startEngine();
      const lm = loadLm(required(model, "model"), o.runs);
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
      const completions = out.tokens.map((t, i) => ({
        prompt: o.prompt[i],
        text: answerText(lm.tokenizer, t),
      }));
      printResult(
        o.json,
        { completions },
        completions.map((c) => `${JSON.stringify(c.prompt)} → ${JSON.stringify(c.text)}`),
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
