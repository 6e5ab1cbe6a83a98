/**
 * Tokenizers behind one small interface: a character tokenizer for the built-in tasks (every
 * character a token, plus PAD/BOS/EOS), and Hugging Face byte-level BPE read from a
 * `tokenizer.json` through @huggingface/tokenizers.
 */
import { Tokenizer as HfTokenizerImpl } from "@huggingface/tokenizers";

export type TextTokenizer = {
  readonly kind: string;
  /** Number of ids the tokenizer can produce (the model's vocabulary may be larger). */
  readonly vocabSize: number;
  readonly padId: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  /** Ids of `text`, without BOS/EOS. */
  encode(text: string): number[];
  /** Text of `ids`, special tokens dropped. */
  decode(ids: number[]): string;
};

export const PAD = "<pad>";
export const BOS = "<bos>";
export const EOS = "<eos>";

/**
 * One token per character of a fixed alphabet; ids 0, 1, 2 are PAD, BOS, EOS. Unknown characters
 * are an error (the tasks are generated, so an unknown character is a bug, not data).
 */
export class CharTokenizer implements TextTokenizer {
  readonly kind = "char";
  readonly padId = 0;
  readonly bosId = 1;
  readonly eosId = 2;
  readonly alphabet: string;
  private readonly ids: Map<string, number>;

  constructor(alphabet: string) {
    const chars = [...alphabet];
    if (new Set(chars).size !== chars.length)
      throw new Error("CharTokenizer: the alphabet repeats a character");
    this.alphabet = alphabet;
    this.ids = new Map(chars.map((c, i) => [c, i + 3]));
  }

  get vocabSize(): number {
    return this.ids.size + 3;
  }

  encode(text: string): number[] {
    return [...text].map((c) => {
      const id = this.ids.get(c);
      if (id === undefined)
        throw new Error(`CharTokenizer: character ${JSON.stringify(c)} is not in the alphabet`);
      return id;
    });
  }

  decode(ids: number[]): string {
    const chars = [...this.alphabet];
    return ids
      .filter((i) => i >= 3 && i < this.vocabSize)
      .map((i) => chars[i - 3])
      .join("");
  }

  toJSON() {
    return { kind: this.kind, alphabet: this.alphabet };
  }
}

/** A tokenizer.json (or tokenizer_config.json) that cannot be used: one line saying why. */
export class TokenizerError extends Error {
  override name = "TokenizerError";
}

/** Runs the library's code on user-supplied JSON: whatever it throws becomes a TokenizerError. */
function guarded<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TokenizerError) throw e;
    throw new TokenizerError(`${what}: ${String((e as Error)?.message ?? e).split("\n")[0]}`);
  }
}

/** Byte-level BPE (or any model tokenizer.json describes), as the Hugging Face checkpoint ships it. */
export class HfTokenizer implements TextTokenizer {
  readonly kind = "hf";
  readonly vocabSize: number;
  readonly padId: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  private readonly impl: HfTokenizerImpl;

  constructor(tokenizerJson: object, tokenizerConfig: Record<string, unknown> = {}) {
    const bad = (why: string) => new TokenizerError(`tokenizer.json: ${why}`);
    if (typeof tokenizerJson !== "object" || tokenizerJson === null || Array.isArray(tokenizerJson))
      throw bad("not a JSON object");
    if (typeof tokenizerConfig !== "object" || tokenizerConfig === null || Array.isArray(tokenizerConfig))
      throw new TokenizerError("tokenizer_config.json: not a JSON object");
    const json = tokenizerJson as {
      model?: { vocab?: unknown };
      added_tokens?: unknown;
    };
    const vocab = json.model?.vocab ?? {};
    const added = json.added_tokens ?? [];
    if (typeof vocab !== "object" || vocab === null) throw bad("model.vocab is not an object or list");
    if (!Array.isArray(added)) throw bad("added_tokens is not a list");
    // Unigram models list [token, score] pairs; the others map token → id.
    if (Array.isArray(vocab) && !vocab.every((e) => Array.isArray(e) && typeof e[0] === "string"))
      throw bad("model.vocab is a list but not of [token, score] pairs");
    const vocabIds = Array.isArray(vocab) ? vocab.map((_, i) => i) : Object.values(vocab);
    const ids = [...vocabIds, ...added.map((t: { id?: unknown } | null) => t?.id)];
    if (!ids.every((id) => Number.isSafeInteger(id) && (id as number) >= 0))
      throw bad("token ids must be integers ≥ 0");
    this.impl = guarded("tokenizer.json", () => new HfTokenizerImpl(tokenizerJson, tokenizerConfig));
    this.vocabSize = ids.reduce<number>((m, id) => Math.max(m, (id as number) + 1), 0);
    const idOf = (key: string): number | null => {
      const v = tokenizerConfig[key];
      const content = typeof v === "string" ? v : (v as { content?: string } | null | undefined)?.content;
      if (content !== undefined && typeof content !== "string")
        throw new TokenizerError(`tokenizer_config.json: ${key} is not a string`);
      return content === undefined
        ? null
        : (guarded("tokenizer.json", () => this.impl.token_to_id(content)) ?? null);
    };
    this.bosId = idOf("bos_token");
    this.eosId = idOf("eos_token");
    this.padId = idOf("pad_token") ?? this.eosId ?? 0;
  }

  encode(text: string): number[] {
    const ids = guarded("tokenizer.json", () => this.impl.encode(text, { add_special_tokens: false }).ids);
    if (!ids.every((id: number) => Number.isSafeInteger(id) && id >= 0 && id < this.vocabSize))
      throw new TokenizerError(`tokenizer.json: encoding gave ids outside 0..${this.vocabSize - 1}`);
    return ids;
  }

  decode(ids: number[]): string {
    return guarded("tokenizer.json", () => this.impl.decode(ids, { skip_special_tokens: true }));
  }
}
