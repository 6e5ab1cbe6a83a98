/**
 * Task examples as token batches for teacher-forced training: BOS + prompt + answer + EOS, right-
 * padded. The loss mask marks which next-token predictions count: every real token ("all") or only
 * the answer and its EOS ("answer").
 */
import { promptText, type TaskExample } from "../data/tasks/index.js";
import type { TextTokenizer } from "./tokenizer.js";

export type LossOn = "all" | "answer";

export type TokenBatch = {
  /** [B, T] int32, right-padded. */
  tokens: Int32Array;
  /** [B, T−1] float32: 1 where the prediction of tokens[:, t+1] counts. */
  mask: Float32Array;
  B: number;
  T: number;
};

export const LENGTH_BUCKET = 16;

export function encodeExample(tok: TextTokenizer, ex: TaskExample): { ids: number[]; answerStart: number } {
  if (tok.bosId === null || tok.eosId === null)
    throw new Error("task batches need a tokenizer with BOS and EOS");
  const prompt = [tok.bosId, ...tok.encode(promptText(ex.question))];
  return { ids: [...prompt, ...tok.encode(ex.answer), tok.eosId], answerStart: prompt.length };
}

/**
 * T is the longest example rounded up to a multiple of `bucket`, and at least `minLength`: fewer
 * distinct shapes, see pretrain.ts.
 */
export function makeBatch(
  tok: TextTokenizer,
  examples: TaskExample[],
  lossOn: LossOn,
  bucket = LENGTH_BUCKET,
  minLength = 0,
): TokenBatch {
  const encoded = examples.map((e) => encodeExample(tok, e));
  const longest = Math.max(...encoded.map((e) => e.ids.length));
  const T = Math.max(minLength, Math.ceil(longest / bucket) * bucket);
  const B = examples.length;
  const tokens = new Int32Array(B * T).fill(tok.padId);
  const mask = new Float32Array(B * (T - 1));
  encoded.forEach(({ ids, answerStart }, b) => {
    tokens.set(ids, b * T);
    const from = lossOn === "all" ? 1 : answerStart;
    for (let t = from; t < ids.length; t++) mask[b * (T - 1) + t - 1] = 1;
  });
  return { tokens, mask, B, T };
}
