import { Command, InvalidArgumentError } from "commander";
import { startEngine } from "../engine/device.js";
import { getFamily, HELD_OUT_TASKS, parseTaskList } from "../data/tasks/index.js";
import { CEM_DEFAULTS } from "../steer/svf/adapt/cem.js";
import { FEWSHOT_DEFAULTS } from "../steer/svf/adapt/fewshot.js";
import { mergeSelfAdaptRuns, selfAdaptRun } from "../steer/svf/adapt/runs.js";
import { STRATEGIES, type SelfAdaptRequest, type Strategy } from "../steer/svf/adapt/session.js";
import { nonNegativeInt, positiveInt, UsageError } from "./errors.js";
import { createProgress } from "./progress.js";
import { RUNS_HELP } from "./dialect.js";
import { printResult } from "./output.js";

type AdaptOptions = {
  merge?: string;
  experts?: string;
  classifier?: string;
  lora?: string;
  strategy: string;
  task: string;
  expertTasks: boolean;
  testExamples?: number;
  shots: number;
  iterations: number;
  population: number;
  eliteFrac: number;
  perLayer?: boolean;
  normalise?: boolean;
  seed: number;
  batchSize: number;
  runs?: string;
  name?: string;
  quiet?: boolean;
  json?: boolean;
};

/** "math=runs/a,code=runs/b" → {math: "runs/a", code: "runs/b"} (categories are expert task names). */
function expertMap(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(",").filter(Boolean)) {
    const [task, run] = part.split("=");
    if (!task?.trim() || !run?.trim())
      throw new UsageError(`--experts: expected category=run pairs like math=runs/abc, got "${part}"`);
    if (getFamily(task.trim()).heldOut)
      throw new UsageError(`--experts: "${task.trim()}" is a held-out task, not an expert category`);
    out[task.trim()] = run.trim();
  }
  return out;
}

function strategies(value: string): Strategy[] {
  const names = value.split(",").map((s) => s.trim());
  if (names.includes("all")) return [...STRATEGIES];
  for (const n of names)
    if (!(STRATEGIES as readonly string[]).includes(n))
      throw new UsageError(`unknown strategy "${n}" (choose from: ${[...STRATEGIES, "all"].join(", ")})`);
  return [...new Set(names)] as Strategy[];
}

function fraction(value: string): number {
  const x = Number(value);
  if (!(x > 0 && x <= 1)) throw new InvalidArgumentError(`expected a number in (0, 1], got "${value}"`);
  return x;
}

async function merge(list: string, o: AdaptOptions): Promise<void> {
  const sources = list
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const { run, table, result } = await mergeSelfAdaptRuns(sources, { runsRoot: o.runs, name: o.name });
  printResult(o.json, { run: run.dir, ...result }, [table, `run: ${run.dir}`]);
}

export function svfAdaptCommand(): Command {
  const d = CEM_DEFAULTS;
  return new Command("adapt")
    .description(
      "Transformer² self-adaptation: two-pass inference (prompt dispatch, classification expert, few-shot CEM over expert mixtures) compared with the base model and LoRA.",
    )
    .option(
      "--experts <pairs>",
      "the expert library: category=svf-run pairs, e.g. math=runs/a,code=runs/b,reasoning=runs/c",
    )
    .option("--classifier <run>", "SVF run trained on --task dispatch (strategy classifier)")
    .option("--lora <run>", "LoRA run trained on --task mixture (the baseline column)")
    .option("--strategy <s>", `prompt, classifier, fewshot, a comma list, or all`, "all")
    .option("--task <list>", "held-out task(s) to adapt to", HELD_OUT_TASKS.join(","))
    .option("--no-expert-tasks", "score only --task, not also the experts' own tasks")
    .option("--test-examples <n>", "test questions per task (default: the whole split)", positiveInt)
    .option(
      "--shots <n>",
      "labelled examples of the task for the CEM search",
      positiveInt,
      FEWSHOT_DEFAULTS.shots,
    )
    .option("--iterations <n>", "CEM generations", positiveInt, d.iterations)
    .option("--population <n>", "CEM population", positiveInt, d.population)
    .option("--elite-frac <x>", "CEM elite fraction", fraction, d.eliteFrac)
    .option("--per-layer", "one α per expert and layer (default: one per expert)")
    .option("--normalise", "scale the α of each layer to sum 1")
    .option("--seed <n>", "seed of the shots and of CEM", nonNegativeInt, 0)
    .option("--batch-size <n>", "prompts per generation batch", positiveInt, 256)
    .option("--merge <runs>", "instead: one table from finished adapt runs (comma list), e.g. one per task")
    .option("--runs <dir>", RUNS_HELP)
    .option("--name <id>", "run id")
    .option("--json", "print the results as one JSON object")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller svf adapt --experts math=runs/<a>,code=runs/<b>,reasoning=runs/<c> --strategy prompt --task math-hard
  $ tiller svf adapt --experts math=runs/<a>,code=runs/<b>,reasoning=runs/<c> \\
      --classifier runs/<svf on dispatch> --lora runs/<lora on mixture> --strategy all
  $ tiller svf adapt --experts ... --strategy fewshot --task mixed --shots 16 --iterations 10 --per-layer

Strategies: prompt — the base model classifies the question (\\boxed{category}, anything else is
"other" → base weights); classifier — the same prompt under the classification expert z_c;
fewshot — z′ = Σ α_k z_k with α found by CEM on --shots labelled examples. Writes results.json,
table.md and figures/cem-<task>.svg into a new run and prints the tables.`,
    )
    .action(async (o: AdaptOptions) => {
      if (o.merge) return merge(o.merge, o);
      if (!o.experts) throw new UsageError("--experts is required (category=run pairs)");
      const experts = expertMap(o.experts);
      const chosen = strategies(o.strategy);
      const heldOut = parseTaskList(o.task);
      const tasks = [
        ...heldOut,
        ...(o.expertTasks ? Object.keys(experts).filter((t) => !heldOut.includes(t)) : []),
      ];
      if (chosen.includes("classifier") && !o.classifier)
        throw new UsageError("--strategy classifier needs --classifier <svf run trained on --task dispatch>");
      await startEngine();
      const progress = createProgress({ quiet: o.quiet || o.json });
      const request: SelfAdaptRequest = {
        experts,
        classifier: o.classifier,
        lora: o.lora,
        strategies: chosen,
        tasks,
        testExamples: o.testExamples,
        batchSize: o.batchSize,
        runsRoot: o.runs,
        fewshot: {
          ...d,
          shots: o.shots,
          iterations: o.iterations,
          population: o.population,
          eliteFrac: o.eliteFrac,
          perLayer: Boolean(o.perLayer),
          normalise: Boolean(o.normalise),
          seed: o.seed,
        },
      };
      let current = "";
      const callbacks = {
        onPhase: (what: string) => progress.log(`${what}…`),
        onGeneration: (task: string, g: { iteration: number; best: number }, iterations: number) => {
          if (current !== task) progress.start(iterations, `CEM ${task}`, "iterations");
          current = task;
          progress.update(g.iteration, { loss: `best ${(100 * g.best).toFixed(0)}%` });
          if (g.iteration === iterations) {
            progress.stop();
            current = "";
          }
        },
      };
      const { run, table, result } = await selfAdaptRun(request, callbacks, {
        runsRoot: o.runs,
        name: o.name,
      });
      progress.stop();
      printResult(o.json, { run: run.dir, ...result }, [table, `run: ${run.dir}`]);
    });
}
