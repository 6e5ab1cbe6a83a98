/**
 * Families built from the expert families, for the self-adaptation experiments (Transformer²
 * part 2). They are not in FAMILIES (the suite proper) but resolve by name like any family:
 *
 *   dispatch  the adaptation prompt: "Classify as math, code, reasoning or other: <question>"
 *             → "\boxed{<family>}", the question drawn from math, code or reasoning. In the
 *             pretraining mixture it teaches the base LM to follow the prompt (strategy 1); as an
 *             SVF task it trains the classification expert (strategy 2).
 *   mixture   math, code and reasoning questions in equal parts: the data of the LoRA baseline
 *             "trained on the mixture".
 */
import { code, math, reasoning, type TaskExample, type TaskFamily } from "./families.js";
import type { Rng } from "../../engine/rng.js";

/** The families the expert library covers, in the order of the adaptation prompt. */
export const EXPERT_FAMILIES: readonly TaskFamily[] = [math, code, reasoning];
export const OTHER = "other";

/** The adaptation prompt's question for `question`, listing `categories` and "other". */
export function dispatchQuestion(question: string, categories: readonly string[]): string {
  return `Classify as ${[...categories, OTHER].join(", ").replace(/, ([^,]*)$/, " or $1")}: ${question}`;
}

/** The answer the adaptation prompt asks for (as the official code: \boxed{category}). */
export function boxed(category: string): string {
  return `\\boxed{${category}}`;
}

export type ComposedFamily = TaskFamily & {
  /** Families whose questions this one is made of (their validation/test questions stay out of training). */
  components: readonly TaskFamily[];
};

export const dispatch: ComposedFamily = {
  name: "dispatch",
  description: "classify a math, code or reasoning question into its family, answer \\boxed{family}",
  heldOut: false,
  answerTokens: 20,
  components: EXPERT_FAMILIES,
  generate(rng: Rng): TaskExample {
    const inner = rng.pick(EXPERT_FAMILIES).generate(rng);
    return {
      family: "dispatch",
      question: dispatchQuestion(
        inner.question,
        EXPERT_FAMILIES.map((f) => f.name),
      ),
      answer: boxed(inner.family),
    };
  },
};

export const mixture: ComposedFamily = {
  name: "mixture",
  description: "math, code and reasoning questions in equal parts (the LoRA-on-the-mixture baseline)",
  heldOut: false,
  components: EXPERT_FAMILIES,
  generate(rng: Rng): TaskExample {
    return { ...rng.pick(EXPERT_FAMILIES).generate(rng), family: "mixture" };
  },
};

export const COMPOSED_FAMILIES: readonly ComposedFamily[] = [dispatch, mixture];
