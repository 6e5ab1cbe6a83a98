/**
 * Robustness of Curvature Tuning (the paper's second claim): accuracy under adversarial attacks
 * (FGSM, PGD-ℓ∞, PGD-ℓ2) and common corruptions, for each β of a grid, with β chosen per threat on
 * a validation split and the accuracy reported on a disjoint test split. β = 1 is the base model.
 */
import { jit, numpy as np } from "../../engine/jax.js";
import { treeDispose, treeRef, type Params } from "../../engine/tree.js";
import type { ImageSplit, Normalization } from "../../data/dataset.js";
import { corruptSplit, type CorruptionName } from "../../data/corruptions.js";
import { createModel, type ModelConfig } from "../../nn/models/index.js";
import { makeAttacker, onPixels, robustAccuracy, type Attack } from "./attacks.js";
import { ctuParams, replaceActivations, withCtuParams } from "./replace.js";
import { pickBest, type BetaScore } from "./search.js";

export type Threat = {
  name: string;
  attack?: Attack;
  corruption?: { name: CorruptionName; severity: number };
};

export const CORRUPTION_THREATS: CorruptionName[] = [
  "gaussian-noise",
  "shot-noise",
  "gaussian-blur",
  "contrast",
  "brightness",
];

/** ε as a person writes it: k/255 when it is one, else the number. */
export function epsText(eps: number): string {
  const k = eps * 255;
  return Math.abs(k - Math.round(k)) < 1e-6 ? `${Math.round(k)}/255` : String(Number(eps.toPrecision(4)));
}

/**
 * Clean, FGSM and PGD at common Fashion-MNIST budgets (PGD ℓ∞ at each of `linfEps`, default 4/255
 * and 8/255), and five corruptions at severities 1, 3, 5.
 */
export function defaultThreats(linfEps: number[] = [4 / 255, 8 / 255]): Threat[] {
  return [
    { name: "clean" },
    { name: "FGSM ℓ∞ ε=8/255", attack: { kind: "fgsm", eps: 8 / 255 } },
    ...linfEps.map((eps): Threat => ({
      name: `PGD-10 ℓ∞ ε=${epsText(eps)}`,
      attack: { kind: "pgd-linf", eps, steps: 10 },
    })),
    { name: "PGD-10 ℓ2 ε=0.5", attack: { kind: "pgd-l2", eps: 0.5, steps: 10 } },
    ...CORRUPTION_THREATS.flatMap((name) =>
      [1, 3, 5].map((severity) => ({ name: `${name}@${severity}`, corruption: { name, severity } })),
    ),
  ];
}

export type ThreatResult = { threat: string; scores: BetaScore[]; base: BetaScore; best: BetaScore };

export type RobustnessOptions = {
  betas: number[];
  c?: number;
  threats?: Threat[];
  seed?: number;
  batchSize?: number;
  onBeta?(beta: number, index: number, total: number): void;
  /** After each β: every threat's scores so far (a crash keeps the finished βs). */
  onResults?(results: ThreatResult[]): void;
};

function summarize(threats: Threat[], scores: BetaScore[][]): ThreatResult[] {
  return threats.map((t, k) => ({
    threat: t.name,
    scores: scores[k],
    base: scores[k].find((s) => s.beta === 1) ?? scores[k][scores[k].length - 1],
    best: pickBest(scores[k]),
  }));
}

/**
 * Runs every threat for every β. `val` and `test` are pixel-space splits (values in [0, 1]);
 * the model's normalisation is applied inside. Borrows params.
 */
export async function robustnessSweep(
  config: ModelConfig,
  params: Params,
  normalize: Normalization,
  data: { val: ImageSplit; test: ImageSplit },
  opts: RobustnessOptions,
): Promise<ThreatResult[]> {
  const c = opts.c ?? 0.5;
  const threats = opts.threats ?? defaultThreats();
  const seed = opts.seed ?? 0;
  const sets = threats.map((t) => {
    if (!t.corruption) return data;
    const { name, severity } = t.corruption;
    return {
      val: corruptSplit(data.val, name, severity, 2 * seed),
      test: corruptSplit(data.test, name, severity, 2 * seed + 1),
    };
  });
  const ct = replaceActivations(config, treeRef(params), { beta: 0.5, c });
  const tools = (cfg: ModelConfig) => {
    const apply = onPixels(createModel(cfg).apply, normalize);
    return {
      apply,
      attacker: makeAttacker(apply),
      predict: jit((p: Params, x: np.Array) => np.argmax(apply(p, x), -1)),
    };
  };
  const baseTools = tools(config);
  const ctTools = tools(ct.config);
  const scores: BetaScore[][] = threats.map(() => []);
  try {
    for (const [i, beta] of opts.betas.entries()) {
      const nodes = beta === 1 ? null : ctuParams(config, { beta, c });
      const p = nodes ? withCtuParams(ct.params, nodes) : params;
      const t = nodes ? ctTools : baseTools;
      for (const [k, threat] of threats.entries()) {
        const run = (split: ImageSplit) =>
          robustAccuracy(t.apply, p, split, threat.attack ?? null, {
            batchSize: opts.batchSize,
            attacker: t.attacker,
            predict: t.predict,
          });
        scores[k].push({ beta, valAccuracy: await run(sets[k].val), testAccuracy: await run(sets[k].test) });
      }
      if (nodes) treeDispose(nodes);
      opts.onResults?.(summarize(threats, scores));
      opts.onBeta?.(beta, i, opts.betas.length);
    }
  } finally {
    for (const t of [baseTools, ctTools]) {
      t.attacker.dispose();
      t.predict.dispose();
    }
    treeDispose(ct.params);
  }
  return summarize(threats, scores);
}
