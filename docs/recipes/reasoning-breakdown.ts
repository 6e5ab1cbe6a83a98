/**
 * Where a language model's reasoning answers go wrong: scores the reasoning test split greedily
 * and splits the accuracy by question shape — one fact (by the fact's and the question's word) or
 * a two-fact chain (facts in order or reversed, asking for the most or the least) — and counts
 * the answers that are a listed option. The model is a pretraining run or an SVF/LoRA run (its
 * best expert on its base); `validation` scores that split instead.
 *
 *   node --import tsx docs/recipes/reasoning-breakdown.ts runs/<pretrain-or-adapter-run> [validation]
 */
import { startEngine } from "../../src/engine/device.js";
import { evalSplits } from "../../src/data/tasks/index.js";
import { taskAccuracy } from "../../src/lm/evaluate.js";
import { createGenerator } from "../../src/lm/generate.js";
import { loadTrainedAdapter } from "../../src/steer/adapt-session.js";
import { loadLm } from "../../src/lm/store.js";
import { readJson } from "../../src/runs/store.js";

const MORE = new Set(["older", "taller", "faster", "oldest", "tallest", "fastest"]);

/** The bucket of one reasoning question. */
export function shapeOf(question: string): string {
  const one = /^(\w+) is (\w+) than (\w+)\. Who is (\w+)\?/.exec(question);
  const facts = (question.match(/ than /g) ?? []).length;
  if (facts === 1 && one) {
    const word = (w: string) => (MORE.has(w) ? "more" : "less");
    return `one fact, "${word(one[2])}" fact, "${word(one[4])}" question`;
  }
  const inOrder = /^(\w+) is \w+ than (\w+)\. \2 is/.test(question);
  const most = /Who is (oldest|tallest|fastest)\?/.test(question);
  return `two facts ${inOrder ? "in order" : "reversed"}, asks the ${most ? "most" : "least"}`;
}

async function main(source: string, split: "validation" | "test") {
  await startEngine();
  const adapterRun = (readJson(`${source}/config.json`) as { kind?: string }).kind === "adapter";
  const lm = adapterRun ? (await loadTrainedAdapter(source)).lm : loadLm(source);
  const examples = evalSplits("reasoning")[split];
  const { outputs, right, accuracy } = await taskAccuracy(
    createGenerator(lm.cfg),
    lm.params,
    lm.tokenizer,
    examples,
  );
  const buckets = new Map<string, [number, number]>();
  const count = (key: string, ok: boolean) => {
    const [c, n] = buckets.get(key) ?? [0, 0];
    buckets.set(key, [c + (ok ? 1 : 0), n + 1]);
  };
  examples.forEach((e, i) => {
    count(shapeOf(e.question), right[i]);
    const out = outputs[i].trim();
    count(
      "answer is a listed option",
      new RegExp(`(^| )${out.replace(/\W/g, "\\$&")}( |$)`).test(e.question),
    );
  });
  console.log(`reasoning ${split} accuracy ${(100 * accuracy).toFixed(1)}% (${examples.length} questions)`);
  for (const [key, [c, n]] of [...buckets].sort())
    console.log(
      `${key.padEnd(46)} ${String(c).padStart(4)} / ${String(n).padEnd(4)} ${((100 * c) / n).toFixed(1)}%`,
    );
}

const split = process.argv[3] === "validation" ? "validation" : "test";
if (process.argv[2]) await main(process.argv[2], split);
else console.error("usage: node --import tsx docs/recipes/reasoning-breakdown.ts runs/<run> [validation]");
