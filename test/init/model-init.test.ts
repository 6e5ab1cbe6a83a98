import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { startEngine } from "../../src/engine/device.js";
import { keyFromSeed } from "../../src/engine/prng.js";
import { namedLeaves, treeDispose, type Params } from "../../src/engine/tree.js";
import { UsageError } from "../../src/errors.js";
import { checkInitConfig, layerInits } from "../../src/nn/init.js";
import { createModel, modelConfig, type ModelConfig } from "../../src/nn/models/index.js";

const data = { inputShape: [1, 28, 28] as [number, number, number], classes: 10 };

async function fingerprint(params: Params): Promise<string> {
  const h = createHash("sha256");
  for (const [name, x] of namedLeaves(params)) {
    h.update(name);
    h.update(new Uint8Array((await x.ref.data()).buffer));
  }
  return h.digest("hex").slice(0, 16);
}

async function leaf(params: Params, name: string): Promise<Float32Array> {
  const x = namedLeaves(params).find(([n]) => n === name)?.[1];
  if (!x) throw new Error(`no ${name}`);
  return (await x.ref.data()) as Float32Array;
}

const rms = (v: Float32Array) => Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);

/** |rms/want − 1| must be under 5 standard errors of an RMS estimate from v.length entries. */
function expectStd(v: Float32Array, want: number, what: string) {
  expect(Math.abs(rms(v) / want - 1), `${what}: rms ${rms(v)} vs ${want}`).toBeLessThan(
    5 / Math.sqrt(2 * v.length),
  );
}

function init(name: string, overrides: Record<string, unknown>, seed = 5): Params {
  return createModel(modelConfig(name, data, overrides) as ModelConfig).init(keyFromSeed(seed));
}

beforeAll(async () => {
  await startEngine();
});

describe("models take an initialiser by name", () => {
  it("the default (torch_default) is bit for bit the init from before named initialisers", async () => {
    // sha256 of every leaf, seed 5, computed before named initialisers (b34b1a8; resnet at 97ba6d8)
    const before = {
      mlp: "2c759792ebfdc148",
      cnn: "6898bee2c7317930",
      vit: "e0d47b79b25fa264",
      resnet: "189e4cb1e4be442e",
    };
    const activation = { mlp: "prelu", cnn: "relu", vit: "gelu", resnet: "relu" };
    for (const m of ["mlp", "cnn", "vit", "resnet"] as const) {
      const implicit = init(m, { activation: activation[m] });
      const explicit = init(m, { activation: activation[m], init: "torch_default" });
      expect(await fingerprint(implicit), m).toBe(before[m]);
      expect(await fingerprint(explicit), m).toBe(before[m]);
      treeDispose(implicit);
      treeDispose(explicit);
    }
  });

  it("kaiming_normal in a cnn uses conv fans (in·3·3) and ReLU's gain; biases start at zero", async () => {
    const p = init("cnn", { init: "kaiming_normal" });
    expectStd(await leaf(p, "conv1.weight"), Math.sqrt(2 / (32 * 9)), "conv1");
    expectStd(await leaf(p, "fc0.weight"), Math.sqrt(2 / 3136), "fc0");
    expectStd(await leaf(p, "fc1.weight"), Math.sqrt(2 / 256), "fc1");
    for (const b of ["conv0.bias", "conv1.bias", "fc0.bias", "fc1.bias"])
      expect(
        (await leaf(p, b)).every((v) => v === 0),
        b,
      ).toBe(true);
    treeDispose(p);
  });

  it("an mlp with PReLU takes leaky_relu's gain at the initial slope 0.25", async () => {
    const p = init("mlp", { activation: "prelu", init: "he_normal", initOptions: { mode: "fan_out" } });
    expectStd(await leaf(p, "fc0.weight"), Math.sqrt(2 / (1 + 0.25 ** 2) / 512), "fc0");
    expect(await leaf(p, "act0.slope")).toEqual(new Float32Array([0.25]));
    treeDispose(p);
  });

  it("zeroInitLast zeroes the classifier head; biasInit sets every other bias", async () => {
    const p = init("vit", { init: "xavier_uniform", biasInit: 0.1, zeroInitLast: true });
    expect((await leaf(p, "head.weight")).every((v) => v === 0)).toBe(true);
    expect((await leaf(p, "head.bias")).every((v) => v === 0)).toBe(true);
    for (const b of ["embed.bias", "block0.attn.q.bias", "block1.fc2.bias"])
      expect(
        (await leaf(p, b)).every((v) => Math.abs(v - 0.1) < 1e-7),
        b,
      ).toBe(true);
    expectStd(await leaf(p, "block0.fc1.weight"), Math.sqrt(2 / (64 + 128)), "fc1");
    treeDispose(p);
  });

  it("l_momentum and scaled_orthogonal reach every mlp layer with their own scale", async () => {
    const lm = init("mlp", { init: "l_momentum", initOptions: { alpha: 0.49 } });
    for (const w of ["fc0.weight", "fc1.weight", "fc2.weight"])
      expect(rms(await leaf(lm, w)) / 0.7 - 1, w).toBeCloseTo(0, 4);
    treeDispose(lm);
    const so = init("mlp", { init: "scaled_orthogonal" });
    // rows of the 512×784 view are orthonormal: mean w² = 1/784, times the scale² = 2/784
    expect(rms(await leaf(so, "fc0.weight")) / (Math.sqrt(2 / 784) / Math.sqrt(784)) - 1).toBeCloseTo(0, 4);
    treeDispose(so);
  });

  it("modelConfig validates the init part and stores the canonical name", () => {
    expect((modelConfig("cnn", data, { init: "he_uniform" }) as { init?: string }).init).toBe(
      "kaiming_uniform",
    );
    expect(() => modelConfig("mlp", data, { init: "uniform" })).toThrow(/unknown initialiser "uniform"/);
    expect(() => modelConfig("resnet", data, { biasInit: "one" })).toThrow(UsageError);
  });

  it("bad init names and options are usage errors before anything is built", () => {
    expect(() => checkInitConfig({ init: "kaiming" as never })).toThrow(UsageError);
    expect(() => checkInitConfig({ biasInit: "ones" as never })).toThrow(/bias init must be/);
    expect(() => checkInitConfig({ initOptions: { scale: 0 } })).toThrow(/scale must be a positive number/);
    expect(checkInitConfig({ init: "glorot_uniform" as never }).init).toBe("xavier_uniform");
    expect(() => layerInits({ activation: "relu", init: "nope" as never })).toThrow(
      /unknown initialiser "nope"/,
    );
  });
});
