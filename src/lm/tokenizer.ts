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

/** Byte-level BPE (or any model tokenizer.json describes), as the Hugging Face checkpoint ships it. */
export class HfTokenizer implements TextTokenizer {
  readonly kind = "hf";
  readonly vocabSize: number;
  readonly padId: number;
  readonly bosId: number | null;
  readonly eosId: number | null;
  private readonly impl: HfTokenizerImpl;

  constructor(tokenizerJson: object, tokenizerConfig: Record<string, unknown> = {}) {
    this.impl = new HfTokenizerImpl(tokenizerJson, tokenizerConfig);
    const json = tokenizerJson as {
      model?: { vocab?: Record<string, number> };
      added_tokens?: { id: number }[];
    };
    const ids = [...Object.values(json.model?.vocab ?? {}), ...(json.added_tokens ?? []).map((t) => t.id)];
    this.vocabSize = ids.length ? Math.max(...ids) + 1 : 0;
    const idOf = (key: string): number | null => {
      const v = tokenizerConfig[key];
      const content = typeof v === "string" ? v : (v as { content?: string } | undefined)?.content;
      return content === undefined ? null : (this.impl.token_to_id(content) ?? null);
    };
    this.bosId = idOf("bos_token");
    this.eosId = idOf("eos_token");
    this.padId = idOf("pad_token") ?? this.eosId ?? 0;
  }

  encode(text: string): number[] {
    return this.impl.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: number[]): string {
    return this.impl.decode(ids, { skip_special_tokens: true });
  }
}
