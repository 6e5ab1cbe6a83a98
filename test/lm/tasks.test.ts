import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  EVAL_SPLIT_SIZE,
  FAMILIES,
  HELD_OUT_TASKS,
  TRAINING_TASKS,
  evalSplits,
  isCorrect,
  parseTaskList,
  parseTaskMixture,
  promptText,
  reward,
  trainSplit,
  trainStream,
} from "../../src/data/tasks/index.js";
import { taskTokenizer } from "../../src/lm/presets.js";
import { makeBatch } from "../../src/lm/batch.js";

const checked = JSON.parse(
  readFileSync(new URL("../fixtures/reference/lm/tasks.json", import.meta.url), "utf8"),
) as Record<string, { question: string; answer: string }[]>;

describe("task suite", () => {
  it("regenerates exactly the test questions whose answers Python checked independently", () => {
    for (const f of FAMILIES) {
      const got = evalSplits(f.name)
        .test.slice(0, 40)
        .map(({ question, answer }) => ({ question, answer }));
      expect(got, f.name).toEqual(checked[f.name].map(({ question, answer }) => ({ question, answer })));
    }
  });

  it("has math, code and reasoning for training and at least two held-out families", () => {
    expect(TRAINING_TASKS).toEqual(["math", "code", "reasoning"]);
    expect(HELD_OUT_TASKS.length).toBeGreaterThanOrEqual(2);
  });

  it("keeps train, validation and test questions disjoint", () => {
    for (const f of FAMILIES) {
      const { validation, test } = evalSplits(f.name);
      const train = trainSplit(f.name, 1000, 5);
      expect(validation).toHaveLength(EVAL_SPLIT_SIZE);
      expect(test).toHaveLength(EVAL_SPLIT_SIZE);
      const sets = [train, validation, test].map((s) => new Set(s.map((e) => e.question)));
      expect(sets.map((s) => s.size)).toEqual([1000, EVAL_SPLIT_SIZE, EVAL_SPLIT_SIZE]);
      for (const q of sets[0]) expect(sets[1].has(q) || sets[2].has(q)).toBe(false);
      for (const q of sets[1]) expect(sets[2].has(q)).toBe(false);
    }
  });

  it("is reproducible from the seed, and different seeds give different training data", () => {
    expect(trainSplit("math", 50, 1)).toEqual(trainSplit("math", 50, 1));
    expect(trainSplit("math", 50, 1)).not.toEqual(trainSplit("math", 50, 2));
    const a = trainStream(["math", "code"], 3);
    const b = trainStream(["math", "code"], 3);
    for (let i = 0; i < 20; i++) expect(a.next().value).toEqual(b.next().value);
  });

  it("parses a weighted mixture and draws families in proportion to their weights", () => {
    expect(parseTaskMixture("math,code")).toEqual({ tasks: ["math", "code"] });
    expect(parseTaskMixture("math:2,code:2")).toEqual({ tasks: ["math", "code"] });
    expect(parseTaskMixture("math,reasoning:3")).toEqual({ tasks: ["math", "reasoning"], weights: [1, 3] });
    for (const bad of ["math:0", "math:-1", "math:x", "math:1:2", "math,math:2", "algebra:2"])
      expect(() => parseTaskMixture(bad), bad).toThrow();
    const stream = trainStream(["math", "reasoning"], 0, [1, 3]);
    let reasoning = 0;
    for (let i = 0; i < 4000; i++) if (stream.next().value!.family === "reasoning") reasoning++;
    expect(reasoning / 4000).toBeGreaterThan(0.72);
    expect(reasoning / 4000).toBeLessThan(0.78);
    // an unweighted mixture is the uniform stream, unchanged
    const a = trainStream(["math", "code"], 3);
    const b = trainStream(["math", "code"], 3, undefined);
    for (let i = 0; i < 20; i++) expect(a.next().value).toEqual(b.next().value);
  });

  it("the pretraining stream never yields a validation or test question", () => {
    const held = new Set(
      TRAINING_TASKS.flatMap((t) =>
        [...evalSplits(t).validation, ...evalSplits(t).test].map((e) => e.question),
      ),
    );
    const stream = trainStream(TRAINING_TASKS, 0);
    for (let i = 0; i < 3000; i++) expect(held.has(stream.next().value!.question)).toBe(false);
  });

  it("scores by exact match after trimming, with rewards +1 / −1", () => {
    expect(isCorrect(" 12 ", "12")).toBe(true);
    expect(isCorrect("120", "12")).toBe(false);
    expect(reward("B", "B")).toBe(1);
    expect(reward("C", "B")).toBe(-1);
  });

  it("every question and answer is in the character tokenizer's alphabet and round-trips", () => {
    const tok = taskTokenizer();
    for (const f of FAMILIES)
      for (const e of evalSplits(f.name).test) {
        const text = promptText(e.question) + e.answer;
        expect(tok.decode(tok.encode(text))).toBe(text);
      }
    expect(() => tok.encode("é")).toThrow(/not in the alphabet/);
  });

  it("training batches mask only the answer and EOS when asked", () => {
    const tok = taskTokenizer();
    const ex = { family: "math", question: "Bo had 3 figs, got 7, lost 3. Figs now?", answer: "7" };
    const b = makeBatch(tok, [ex], "answer");
    const ids = Array.from(b.tokens);
    const counted = Array.from(b.mask)
      .map((m, t) => (m ? ids[t + 1] : null))
      .filter((x) => x !== null);
    expect(counted).toEqual([...tok.encode("7"), tok.eosId]);
    const all = makeBatch(tok, [ex], "all");
    expect(Array.from(all.mask).filter(Boolean).length).toBe(
      tok.encode(promptText(ex.question) + "7").length + 1,
    );
  });

  it("rejects unknown task names with a usage error", () => {
    expect(() => parseTaskList("math,poetry")).toThrow(/unknown task "poetry"/);
  });
});
