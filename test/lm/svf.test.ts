import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { numpy as np, valueAndGrad } from "../../src/engine/jax.js";
import { startEngine } from "../../src/engine/device.js";
import { keyFromSeed } from "../../src/engine/prng.js";
import { fromNamedLeaves, namedLeaves, treeMap, treeRef, type Params } from "../../src/engine/tree.js";
import { loadHfCheckpoint } from "../../src/lm/hf.js";
import { lmForward } from "../../src/lm/model.js";
import { reinforceLoss, type KlDirection } from "../../src/steer/finetune.js";
import { composeWeight, svfParams, svfParamsFromZ, zFromPolicy } from "../../src/steer/svf/compose.js";
import { expertParams, loadExpert, mixZ } from "../../src/steer/svf/expert.js";
import { Run } from "../../src/runs/store.js";
import { toHost } from "../../src/engine/tree.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decompose, factorsFromHost, type SvdFactors } from "../../src/steer/svf/svd.js";
import { leafAt } from "../../src/engine/tree.js";
import { selectTargets } from "../../src/steer/svf/targets.js";
import { svfAdapter } from "../../src/steer/svf/adapter.js";

const DIR = new URL("../fixtures/reference/lm/", import.meta.url).pathname;
type Ref = {
  targets: string[];
  p: Record<string, number[]>;
  composed: Record<string, number[]>;
  tokens: number[][];
  mask: number[][];
  rewards: number[];
  cases: {
    kl_coef: number;
    direction: KlDirection;
    loss: number;
    kl: number;
    grad: Record<string, number[]>;
  }[];
};
const ref: Ref = JSON.parse(readFileSync(`${DIR}svf.json`, "utf8"));

function maxRel(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  return worst / scale;
}

let factors: SvdFactors;
beforeAll(async () => {
  await startEngine();
  const { params } = loadHfCheckpoint(DIR + "llama-tiny");
  factors = factorsFromHost(
    await decompose(params, selectTargets(params, "mlp")),
    selectTargets(params, "mlp"),
  );
});

const load = () => loadHfCheckpoint(DIR + "llama-tiny");
const refFactors = (): SvdFactors =>
  treeMap((x) => x.ref, factors as unknown as Params) as unknown as SvdFactors;

describe("singular value fine-tuning", () => {
  it('targets the MLP gate/up/down matrices, as the official code\'s "mlp" filter', () => {
    const { params } = load();
    expect(selectTargets(params, "mlp")).toEqual(ref.targets);
  });

  it("the SVD reconstructs every targeted matrix to 1e-5 relative (Frobenius)", async () => {
    const { params } = load();
    for (const name of ref.targets) {
      const f = factors[name];
      const w = leafAt(params, name);
      const rebuilt = np.matmul(f.U.ref.mul(f.S.ref.reshape([1, -1])), f.V.ref.transpose());
      const err = Math.sqrt((await np.square(rebuilt.sub(w.ref)).sum().data())[0]);
      const norm = Math.sqrt((await np.square(w.ref).sum().data())[0]);
      expect(err / norm, name).toBeLessThan(1e-5);
    }
  });

  it("W' = U diag(S⊙z) Vᵀ · ΣS/Σ(S⊙z) matches PyTorch's torch.svd composition", async () => {
    for (const [name, want] of Object.entries(ref.composed)) {
      const f = refFactors()[name];
      const z = zFromPolicy(np.array(ref.p[name]), 1);
      const w = composeWeight(f.U, f.S, f.V, z);
      expect(maxRel(await w.data(), want), name).toBeLessThan(1e-5);
    }
  });

  it("a constant z reproduces the base model's logits to 1e-5 relative", async () => {
    const { cfg, params } = load();
    const tokens = () => np.array(ref.tokens, { dtype: np.int32 });
    const baseLogits = await lmForward(treeRef(params), cfg, tokens()).data();
    const p = fromNamedLeaves(ref.targets.map((n) => [n, np.full([factors[n].S.shape[0]], 0.37)]));
    const adapted = svfParams(params, refFactors(), p, 1);
    const logits = await lmForward(adapted, cfg, tokens()).data();
    expect(maxRel(logits, baseLogits)).toBeLessThan(1e-5);
  });

  it("the initial z-vectors follow the official init: p = 0.1 + N(0, 0.01²), one per target of length min(m, n)", async () => {
    const { params } = load();
    const adapter = svfAdapter(keyFromSeed(3), params, refFactors());
    const leaves = namedLeaves(adapter.trainable);
    expect(leaves.map(([n]) => n)).toEqual(ref.targets);
    const all: number[] = [];
    for (const [n, x] of leaves) {
      expect(x.shape[0]).toBe(Math.min(...leafAt(load().params, n).shape));
      all.push(...(await x.ref.data()));
    }
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    const sd = Math.sqrt(all.reduce((a, b) => a + (b - mean) ** 2, 0) / all.length);
    expect(Math.abs(mean - 0.1)).toBeLessThan(0.002);
    expect(Math.abs(sd - 0.01)).toBeLessThan(0.002);
  });

  it.each(ref.cases.map((c) => [c.kl_coef, c.direction, c] as const))(
    "REINFORCE loss with KL coefficient %s (%s) and its gradient through W' to p match PyTorch",
    async (klCoef, direction, c) => {
      const { cfg, params } = load();
      const adapter = svfAdapter(keyFromSeed(0), params, refFactors());
      const p = fromNamedLeaves(ref.targets.map((n) => [n, np.array(ref.p[n])]));
      const tokens = np.array(ref.tokens, { dtype: np.int32 });
      const [B, T] = tokens.shape;
      const positions = np.broadcastTo(np.arange(T).astype(np.int32).reshape([1, T]), [B, T]);
      const base = adapter.frozen.base as Params;
      const refLogp =
        klCoef > 0
          ? (await import("../../src/lm/loss.js")).nextTokenLogProbs(treeRef(base), cfg, tokens.ref).logp
          : np.zeros([1]);
      const loss = reinforceLoss(adapter.build, cfg, klCoef, direction);
      const [[value, kl], grads] = valueAndGrad(loss, { hasAux: true })(
        p,
        adapter.frozen,
        tokens,
        positions,
        np.ones([B, T]).astype(np.bool),
        np.array(ref.mask),
        np.array(ref.rewards),
        refLogp,
      );
      expect(Math.abs((await value.data())[0] - c.loss) / Math.abs(c.loss)).toBeLessThan(1e-4);
      if (klCoef > 0) expect(Math.abs((await kl.data())[0] - c.kl) / Math.abs(c.kl)).toBeLessThan(1e-3);
      else kl.dispose();
      for (const [name, g] of namedLeaves(grads))
        expect(maxRel(await g.data(), c.grad[name]), name).toBeLessThan(1e-3);
    },
  );

  it("expert files load back into adapted weights, and a mixture of z-vectors is Σ α_k z_k", async () => {
    const root = mkdtempSync(join(tmpdir(), "tiller-expert-"));
    const save = async (id: string, shift: number) => {
      const run = Run.create(root, id, { kind: "adapter" });
      const p = fromNamedLeaves(ref.targets.map((n) => [n, np.array(ref.p[n]).add(shift)]));
      run.saveCheckpoint("expert", await toHost(p), {
        adapter: "svf",
        max_mult: "1",
        targets: ref.targets.join(","),
      });
      return run.dir;
    };
    const [a, b] = [loadExpert(await save("a", 0)), loadExpert(await save("b", 1))];
    expect(a.targets).toEqual(ref.targets);
    const { cfg, params } = load();
    const tokens = () => np.array(ref.tokens, { dtype: np.int32 });
    const viaExpert = await lmForward(expertParams(treeRef(params), refFactors(), a), cfg, tokens()).data();
    const viaMix = await lmForward(
      svfParamsFromZ(treeRef(params), refFactors(), mixZ([a, b], [1, 0])),
      cfg,
      tokens(),
    ).data();
    expect(maxRel(viaMix, viaExpert)).toBeLessThan(1e-6);
    const name = ref.targets[0];
    const z = await leafAt(mixZ([a, b], [0.25, 0.75]), name).data();
    ref.p[name].forEach((p, i) => {
      const sig = (x: number) => 1 / (1 + Math.exp(-x));
      expect(z[i]).toBeCloseTo(0.25 * sig(p) + 0.75 * sig(p + 1), 5);
    });
    expect(() => loadExpert(join(root, "missing"))).toThrow();
  });
});
