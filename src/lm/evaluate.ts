/** Exact-match accuracy of greedy answers on task examples. */
import {
  answerTokens,
  DEFAULT_ANSWER_TOKENS,
  promptText,
  isCorrect,
  type TaskExample,
} from "../data/tasks/index.js";
import { treeRef, type Params } from "../engine/tree.js";
import type { Generator } from "./generate.js";
import type { TextTokenizer } from "./tokenizer.js";

export const ANSWER_TOKENS = DEFAULT_ANSWER_TOKENS;

export function promptIds(tok: TextTokenizer, question: string): number[] {
  return [...(tok.bosId === null ? [] : [tok.bosId]), ...tok.encode(promptText(question))];
}

/** Text of generated ids up to (not including) EOS. */
export function answerText(tok: TextTokenizer, ids: number[]): string {
  const end = tok.eosId === null ? -1 : ids.indexOf(tok.eosId);
  return tok.decode(end < 0 ? ids : ids.slice(0, end));
}

/** Greedy answers and their accuracy. Borrows params. */
export async function taskAccuracy(
  gen: Generator,
  params: Params,
  tok: TextTokenizer,
  examples: TaskExample[],
  opts: { batchSize?: number; maxNewTokens?: number } = {},
): Promise<{ accuracy: number; correct: number; n: number; outputs: string[] }> {
  const { batchSize = 256, maxNewTokens = answerTokens(examples.map((e) => e.family)) } = opts;
  const outputs: string[] = [];
  for (let i = 0; i < examples.length; i += batchSize) {
    const chunk = examples.slice(i, i + batchSize);
    const g = await gen.generate(
      treeRef(params),
      chunk.map((e) => promptIds(tok, e.question)),
      { maxNewTokens, temperature: 0, eosId: tok.eosId, padId: tok.padId },
    );
    outputs.push(...g.tokens.map((t) => answerText(tok, t)));
  }
  const correct = outputs.filter((o, i) => isCorrect(o, examples[i].answer)).length;
  return { accuracy: examples.length ? correct / examples.length : 0, correct, n: examples.length, outputs };
}
