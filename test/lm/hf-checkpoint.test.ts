import { readFileSync } from "node:fs";
import { describe, expect, it, beforeAll } from "vitest";
import { numpy as np } from "../../src/engine/jax.js";
import { startEngine } from "../../src/engine/device.js";
import { decodeSafetensors } from "../../src/engine/safetensors.js";
import { treeRef } from "../../src/engine/tree.js";
import { loadHfCheckpoint } from "../../src/lm/hf.js";
import { lmForward } from "../../src/lm/model.js";
import { createGenerator } from "../../src/lm/generate.js";

const FIXTURES = new URL("../fixtures/reference/lm/", import.meta.url).pathname;
type Expected = {
  encodings: Record<string, number[]>;
  ids: number[];
  logits: { shape: number[]; data: number[] };
  greedy: number[];
};
const expected = (name: string): Expected =>
  JSON.parse(readFileSync(`${FIXTURES}${name}/expected.json`, "utf8"));

beforeAll(async () => {
  await startEngine();
});

describe.each(["llama-tiny", "qwen2-tiny"])("Hugging Face checkpoint %s", (name) => {
  it("byte-level BPE from tokenizer.json gives the reference ids and decodes back", () => {
    const { tokenizer } = loadHfCheckpoint(FIXTURES + name);
    for (const [text, ids] of Object.entries(expected(name).encodings)) {
      expect(tokenizer!.encode(text), text).toEqual(ids);
      expect(tokenizer!.decode(ids)).toBe(text);
    }
  });

  it("reproduces PyTorch's logits to 1e-5 relative", async () => {
    const { cfg, params } = loadHfCheckpoint(FIXTURES + name);
    const ref = expected(name);
    const tokens = np.array(ref.ids, { dtype: np.int32 }).reshape([1, ref.ids.length]);
    const logits = lmForward(params, cfg, tokens);
    expect(logits.shape).toEqual(ref.logits.shape);
    const got = await logits.data();
    const scale = Math.max(...ref.logits.data.map(Math.abs));
    let worst = 0;
    ref.logits.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i] - v) / scale)));
    expect(worst).toBeLessThan(1e-5);
  });

  it("greedy KV-cache generation matches PyTorch's full recomputation, alone and in a left-padded batch", async () => {
    const { cfg, params } = loadHfCheckpoint(FIXTURES + name);
    const ref = expected(name);
    const gen = createGenerator(cfg);
    const alone = await gen.generate(params, [ref.ids], {
      maxNewTokens: 8,
      temperature: 0,
      eosId: null,
      padId: 0,
    });
    expect(alone.tokens[0]).toEqual(ref.greedy);
    const short = ref.ids.slice(0, 3);
    const batch = await gen.generate(treeRef(params), [short, ref.ids], {
      maxNewTokens: 8,
      temperature: 0,
      eosId: null,
      padId: 0,
    });
    expect(batch.tokens[1]).toEqual(ref.greedy);
    const shortAlone = await gen.generate(params, [short], {
      maxNewTokens: 8,
      temperature: 0,
      eosId: null,
      padId: 0,
    });
    expect(batch.tokens[0]).toEqual(shortAlone.tokens[0]);
    gen.dispose();
  });
});

describe("half-precision safetensors", () => {
  it("decodes F16 and BF16 bit patterns to their IEEE values", () => {
    const f16 = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0x3555];
    const bf16 = [0x3f80, 0x4049, 0xc2f7, 0x0000];
    const header = (dtype: string, n: number, at: number) => ({
      dtype,
      shape: [n],
      data_offsets: [at, at + 2 * n],
    });
    let json = JSON.stringify({
      a: header("F16", f16.length, 0),
      b: header("BF16", bf16.length, 2 * f16.length),
    });
    json += " ".repeat((8 - (json.length % 8)) % 8);
    const h = new TextEncoder().encode(json);
    const bytes = new Uint8Array(8 + h.length + 2 * (f16.length + bf16.length));
    new DataView(bytes.buffer).setBigUint64(0, BigInt(h.length), true);
    bytes.set(h, 8);
    const dv = new DataView(bytes.buffer, 8 + h.length);
    [...f16, ...bf16].forEach((bits, i) => dv.setUint16(2 * i, bits, true));
    const { tensors } = decodeSafetensors(bytes);
    expect(tensors.a.dtype).toBe("float32");
    expect(Array.from(tensors.a.data)).toEqual([
      1,
      -2,
      65504,
      2 ** -24,
      Infinity,
      Math.fround(0.333251953125),
    ]);
    expect(Array.from(tensors.b.data)).toEqual([1, 3.140625, -123.5, 0]);
  });
});
