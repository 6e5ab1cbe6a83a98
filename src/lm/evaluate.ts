/** Exact-match accuracy of greedy answers on task examples. */
import { answerTokens, promptText, isCorrect, type TaskExample } from "../data/tasks/index.js";
import { treeRef, type Params } from "../engine/tree.js";
import type { Generator } from "./generate.js";
import type { TextTokenizer } from "./tokenizer.js";

export function promptIds(tok: TextTokenizer, question: string): number[] {
  return [...(tok.bosId === null ? [] : [tok.bosId]), ...tok.encode(promptText(question))];
}

/** Text of generated ids up to (not including) EOS. */
export function answerText(tok: TextTokenizer, ids: number[]): string {
  const end = tok.eosId === null ? -1 : ids.indexOf(tok.eosId);
  return tok.decode(end < 0 ? ids : ids.slice(0, end));
}

/**
 * Prompts per generation batch for sequences of up to `length` tokens: at most 256, and few
 * enough that the prefill's attention (B × heads × length²) stays bounded. On the wasm backend
 * every buffer lives in one 4 GiB memory, and after training steps have fragmented it, scoring 256
 * long `dispatch` prompts at once with the small LM ran out of it
 * ("Allocation exceeds the 4 GiB memory32 limit"); 64 at a time did not.
 */
export function generationBatch(length: number): number {
  return Math.max(1, Math.min(256, Math.floor(2 ** 20 / Math.max(1, length) ** 2)));
}

/** Greedy answers, which of them are right, and their accuracy. Borrows params. */
export async function taskAccuracy(
  gen: Generator,
  params: Params,
  tok: TextTokenizer,
  examples: TaskExample[],
  opts: { batchSize?: number; maxNewTokens?: number } = {},
): Promise<{ accuracy: number; correct: number; n: number; outputs: string[]; right: boolean[] }> {
  const { maxNewTokens = answerTokens(examples.map((e) => e.family)) } = opts;
  const ids = examples.map((e) => promptIds(tok, e.question));
  const batchSize =
    opts.batchSize ?? generationBatch(Math.max(0, ...ids.map((p) => p.length)) + maxNewTokens);
  const outputs: string[] = [];
  for (let i = 0; i < examples.length; i += batchSize) {
    const chunk = ids.slice(i, i + batchSize);
    // A short last chunk is filled up with copies of its first prompt (answers dropped): one batch
    // shape per task, so the wasm allocator reuses the same buffers (see generationBatch).
    const filler = i > 0 ? batchSize - chunk.length : 0;
    const prompts = [...chunk, ...Array.from({ length: filler }, () => chunk[0])];
    const g = await gen.generate(treeRef(params), prompts, {
      maxNewTokens,
      temperature: 0,
      eosId: tok.eosId,
      padId: tok.padId,
    });
    outputs.push(...g.tokens.slice(0, chunk.length).map((t) => answerText(tok, t)));
  }
  const right = outputs.map((o, i) => isCorrect(o, examples[i].answer));
  const correct = right.filter(Boolean).length;
  return {
    accuracy: examples.length ? correct / examples.length : 0,
    correct,
    n: examples.length,
    outputs,
    right,
  };
}
