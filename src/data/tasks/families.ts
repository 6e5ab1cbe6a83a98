/**
 * The task families. Each generates one verifiable example from a seeded Rng: a question, its
 * exact answer, and nothing else; the prompt template and the checker are shared (index.ts).
 *
 *   math       two-step arithmetic word problems               "Ann had 7 pens, got 5, lost 3. Pens now?" → 9
 *   code       output of a one-line list/string program        "x=[3,1,2];print(max(x))" → 3
 *   reasoning  multiple choice over generated comparisons      "... Who is oldest? Bo:A Cy:B Ann:C" → Ann:C
 *   math-hard  (held out) three or four steps, larger numbers
 *   mixed      (held out) compositions: code with arithmetic, comparisons after arithmetic
 */
import type { Rng } from "../../engine/rng.js";

export type TaskExample = { family: string; question: string; answer: string };

export type TaskFamily = {
  name: string;
  description: string;
  /** Never used to train experts; kept for the self-adaptation experiments. */
  heldOut: boolean;
  /** Longest answer to generate, in tokens (default: DEFAULT_ANSWER_TOKENS). */
  answerTokens?: number;
  generate(rng: Rng): TaskExample;
};

const NAMES = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ivy", "Jo", "Kim", "Lu"] as const;
const OBJECTS = ["pens", "cats", "cups", "eggs", "figs", "hats", "keys", "nuts", "toys", "cards"] as const;

/** A running total that gains and loses items, never going below zero. */
function wordSteps(rng: Rng, steps: number, start: [number, number], delta: [number, number]) {
  let total = rng.int(...start);
  const parts: string[] = [];
  for (let i = 0; i < steps; i++) {
    const d = rng.int(...delta);
    if (total - d >= 0 && rng.next() < 0.5) {
      parts.push(`lost ${d}`);
      total -= d;
    } else {
      parts.push(`got ${d}`);
      total += d;
    }
  }
  return { parts, total };
}

/**
 * "Ann had 7 pens, got 5, lost 3. Pens now?": a start drawn from `start`, then `steps` gains and
 * losses (a fixed count, or one drawn from a range) each drawn from `delta`.
 */
function wordProblem(
  family: string,
  start: [number, number],
  steps: number | [number, number],
  delta: [number, number],
): (rng: Rng) => TaskExample {
  return (rng) => {
    const name = rng.pick(NAMES);
    const obj = rng.pick(OBJECTS);
    const first = rng.int(...start);
    const count = typeof steps === "number" ? steps : rng.int(...steps);
    const { parts, total } = wordSteps(rng, count, [first, first], delta);
    return {
      family,
      question: `${name} had ${first} ${obj}, ${parts.join(", ")}. ${cap(obj)} now?`,
      answer: String(total),
    };
  };
}

export const math: TaskFamily = {
  name: "math",
  description: "two-step arithmetic word problems, numeric answer",
  heldOut: false,
  generate: wordProblem("math", [2, 20], 2, [1, 9]),
};

export const mathHard: TaskFamily = {
  name: "math-hard",
  description: "three- or four-step arithmetic word problems with larger numbers (held out)",
  heldOut: true,
  generate: wordProblem("math-hard", [10, 40], [3, 4], [2, 15]),
};

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

const LETTERS = "abcdefghijklmnopqrstuvwxyz";

function listProgram(rng: Rng): [string, string] {
  const xs = Array.from({ length: rng.int(3, 5) }, () => rng.int(0, 9));
  const src = `x=[${xs.join(",")}]`;
  const sorted = [...xs].sort((a, b) => a - b);
  const k = rng.pick(xs);
  const i = rng.int(0, xs.length - 1);
  const ops: [string, number][] = [
    ["max(x)", Math.max(...xs)],
    ["min(x)", Math.min(...xs)],
    ["sum(x)", xs.reduce((a, b) => a + b, 0)],
    ["len(x)", xs.length],
    ["sorted(x)[0]", sorted[0]],
    ["sorted(x)[-1]", sorted[sorted.length - 1]],
    [`x[${i}]`, xs[i]],
    ["x[-1]", xs[xs.length - 1]],
    [`x.count(${k})`, xs.filter((v) => v === k).length],
  ];
  const [expr, value] = rng.pick(ops);
  return [`${src};print(${expr})`, String(value)];
}

function stringProgram(rng: Rng): [string, string] {
  const s = Array.from({ length: rng.int(3, 4) }, () => rng.pick([...LETTERS])).join("");
  const ops: [string, string][] = [
    ["s[::-1]", [...s].reverse().join("")],
    ["s.upper()", s.toUpperCase()],
    ["len(s)", String(s.length)],
    ["s[1:]", s.slice(1)],
    ["s[0]+s[-1]", s[0] + s[s.length - 1]],
    ["s*2", s + s],
  ];
  const [expr, value] = rng.pick(ops);
  return [`s='${s}';print(${expr})`, value];
}

export const code: TaskFamily = {
  name: "code",
  description: "predict the output of a one-line list or string program",
  heldOut: false,
  generate(rng) {
    const [question, answer] = rng.next() < 0.6 ? listProgram(rng) : stringProgram(rng);
    return { family: "code", question, answer };
  },
};

const RELATIONS = [
  { more: "older", less: "younger", most: "oldest", least: "youngest" },
  { more: "taller", less: "shorter", most: "tallest", least: "shortest" },
  { more: "faster", less: "slower", most: "fastest", least: "slowest" },
] as const;

/**
 * Options "x:A y:B z:C" over `names` in a shuffled order; returns the text and the answer, the
 * right option as written ("y:B"). The answer names the choice before its letter because a
 * character LM of the built-in sizes does not learn to map a choice it has worked out to a bare
 * letter placed before it: measured on the tiny LM, "Pick Bo. A)Cy B)Bo C)Ann" → B stayed at
 * chance for 1,000 steps, while "… Cy:A Bo:B Ann:C" → "Bo:B" is copied as an induction head does.
 */
function choices(rng: Rng, names: readonly string[], right: string): [string, string] {
  const order = rng.shuffle(names);
  const text = order.map((n, i) => `${n}:${"ABCD"[i]}`).join(" ");
  return [text, `${right}:${"ABCD"[order.indexOf(right)]}`];
}

export const reasoning: TaskFamily = {
  name: "reasoning",
  description: "multiple-choice questions over one or two generated comparisons, answer option",
  heldOut: false,
  generate(rng) {
    const rel = rng.pick(RELATIONS);
    const [a, b, c] = rng.shuffle(NAMES).slice(0, 3);
    if (rng.next() < 0.5) {
      // One fact in either direction ("a is younger than b"), the question in either direction,
      // and c as a distractor: the answer is a when fact and question use the same word.
      const factMore = rng.next() < 0.5;
      const askMore = rng.next() < 0.5;
      const [opts, answer] = choices(rng, [a, b, c], factMore === askMore ? a : b);
      const word = (more: boolean) => (more ? rel.more : rel.less);
      return {
        family: "reasoning",
        question: `${a} is ${word(factMore)} than ${b}. Who is ${word(askMore)}? ${opts}`,
        answer,
      };
    }
    // Two facts a > b > c in either order: the extreme is found by chaining them.
    const facts =
      rng.next() < 0.5
        ? [`${a} is ${rel.more} than ${b}.`, `${b} is ${rel.more} than ${c}.`]
        : [`${b} is ${rel.more} than ${c}.`, `${a} is ${rel.more} than ${b}.`];
    const askMost = rng.next() < 0.5;
    const [opts, answer] = choices(rng, [a, b, c], askMost ? a : c);
    return {
      family: "reasoning",
      question: `${facts.join(" ")} Who is ${askMost ? rel.most : rel.least}? ${opts}`,
      answer,
    };
  },
};

export const mixed: TaskFamily = {
  name: "mixed",
  description:
    "compositions of the other families: list programs with arithmetic, comparisons after arithmetic (held out)",
  heldOut: true,
  generate(rng) {
    if (rng.next() < 0.5) {
      const xs = Array.from({ length: rng.int(2, 4) }, () => rng.int(0, 9));
      const d = rng.int(1, 9);
      const [f, v] = rng.pick([
        ["sum", xs.reduce((p, q) => p + q, 0)],
        ["max", Math.max(...xs)],
        ["min", Math.min(...xs)],
      ] as const);
      return { family: "mixed", question: `x=[${xs.join(",")}];print(${f}(x)+${d})`, answer: String(v + d) };
    }
    const [p, q] = rng.shuffle(NAMES).slice(0, 2);
    const obj = rng.pick(OBJECTS);
    const np = rng.int(1, 9);
    const nq = rng.int(1, 9);
    const gain = rng.int(1, 9);
    const pAfter = np + gain;
    if (pAfter === nq) return mixed.generate(rng);
    const askMore = rng.next() < 0.5;
    const winner = pAfter > nq === askMore ? p : q;
    const [opts, answer] = choices(rng, [p, q], winner);
    return {
      family: "mixed",
      question: `${p} had ${np} ${obj}, ${q} had ${nq}. ${p} got ${gain}. Who has ${askMore ? "more" : "fewer"}? ${opts}`,
      answer,
    };
  },
};

export const FAMILIES: readonly TaskFamily[] = [math, code, reasoning, mathHard, mixed];
