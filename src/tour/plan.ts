/**
 * The tour as data: the work units of each chapter at a scale (tiny for tests, quick for
 * `npm start`, full for the real figures), their cache keys, and what to do with each given what
 * the run store already holds. Nothing here touches data or trains; `planUnits` is pure.
 *
 * A unit is one run directory under `<runs>/tour/`, named `<unit>-<key>`, where the key is a hash
 * of the unit's config and of the keys of the units it reads. Change a setting and the key changes,
 * so a stale result is never reused; keep the settings and a finished unit is read back instead of
 * recomputed. A finished unit holds `tour.json` (its outcome); a unit without it was interrupted.
 */
import { createHash } from "node:crypto";
import { UsageError } from "../errors.js";
import { stableJson } from "../runs/stable-json.js";

export { stableJson };

export const TOUR_SCALES = ["tiny", "quick", "full"] as const;
export type TourScale = (typeof TOUR_SCALES)[number];

export type InitsSettings = { inits: string[]; limit: number | null; epochs: number; lr: number };
export type OptimizersSettings = { limit: number | null; epochs: number; logEvery: number };
export type LandscapeSettings = {
  examples: number;
  interpolationSteps: number;
  topK: number;
  maxIter: number;
  traceSamples: number;
  surfaceSteps: number;
  surfaceRange: [number, number];
  pathSteps: number;
};
export type CtSettings = {
  sourceLimit: number | null;
  sourceEpochs: number;
  limit: number | null;
  testLimit: number | null;
  betas: number[];
  headSteps: number;
  epochs: number;
};
export type SvfSettings = {
  pretrainSteps: number;
  expertSteps: number;
  evalEvery: number;
  evalExamples: number;
  trainExamples: number;
  testExamples: number | null;
  /** Few-shot adaptation to a held-out task: CEM over mixtures of the experts. */
  adapt: { task: string; shots: number; iterations: number; population: number };
};

export type TourSettings = {
  scale: TourScale;
  inits: InitsSettings;
  optimizers: OptimizersSettings;
  landscape: LandscapeSettings;
  ct: CtSettings;
  svf: SvfSettings;
};

const grid = (lo: number, hi: number, step: number) =>
  Array.from({ length: Math.round((hi - lo) / step) + 1 }, (_, i) => Number((lo + i * step).toFixed(4)));

/** What each scale runs. Quick is sized to finish in under 10 minutes on 2 cores. */
const SCALES: Record<TourScale, Omit<TourSettings, "scale">> = {
  tiny: {
    inits: { inits: ["torch_default", "kaiming_normal"], limit: 1024, epochs: 1, lr: 1e-3 },
    optimizers: { limit: 1536, epochs: 2, logEvery: 1 },
    landscape: {
      examples: 128,
      interpolationSteps: 9,
      topK: 2,
      maxIter: 12,
      traceSamples: 8,
      surfaceSteps: 9,
      surfaceRange: [-1, 1],
      pathSteps: 30,
    },
    ct: {
      sourceLimit: 1536,
      sourceEpochs: 1,
      limit: 1200,
      testLimit: 400,
      betas: [0.8, 0.9, 1],
      headSteps: 40,
      epochs: 1,
    },
    svf: {
      pretrainSteps: 24,
      expertSteps: 1,
      evalEvery: 1,
      evalExamples: 8,
      trainExamples: 64,
      testExamples: 16,
      adapt: { task: "mixed", shots: 4, iterations: 1, population: 4 },
    },
  },
  quick: {
    inits: {
      inits: ["torch_default", "xavier_normal", "kaiming_normal", "orthogonal"],
      limit: 8192,
      epochs: 1,
      lr: 1e-3,
    },
    optimizers: { limit: 15360, epochs: 4, logEvery: 5 },
    landscape: {
      examples: 256,
      interpolationSteps: 25,
      topK: 4,
      maxIter: 40,
      traceSamples: 30,
      surfaceSteps: 25,
      surfaceRange: [-1, 1],
      pathSteps: 100,
    },
    ct: {
      sourceLimit: 10240,
      sourceEpochs: 2,
      limit: 6000,
      testLimit: 2000,
      betas: grid(0.8, 1, 0.02),
      headSteps: 200,
      epochs: 2,
    },
    svf: {
      pretrainSteps: 300,
      expertSteps: 20,
      evalEvery: 10,
      evalExamples: 64,
      trainExamples: 1024,
      testExamples: 128,
      adapt: { task: "mixed", shots: 16, iterations: 3, population: 10 },
    },
  },
  full: {
    inits: {
      inits: ["torch_default", "lecun", "xavier_normal", "kaiming_normal", "orthogonal", "scaled_orthogonal"],
      limit: null,
      epochs: 3,
      lr: 1e-3,
    },
    optimizers: { limit: null, epochs: 10, logEvery: 10 },
    landscape: {
      examples: 256,
      interpolationSteps: 31,
      topK: 4,
      maxIter: 100,
      traceSamples: 100,
      surfaceSteps: 40,
      surfaceRange: [-1, 1],
      pathSteps: 100,
    },
    ct: {
      sourceLimit: null,
      sourceEpochs: 5,
      limit: null,
      testLimit: null,
      betas: grid(0.7, 1, 0.01),
      headSteps: 300,
      epochs: 5,
    },
    svf: {
      pretrainSteps: 1500,
      expertSteps: 60,
      evalEvery: 10,
      evalExamples: 128,
      trainExamples: 2048,
      testExamples: null,
      adapt: { task: "mixed", shots: 16, iterations: 10, population: 32 },
    },
  },
};

/** The settings of a scale (a fresh copy, free to change). */
export function tourSettings(scale: TourScale): TourSettings {
  if (!Object.hasOwn(SCALES, scale))
    throw new UsageError(`unknown tour scale "${String(scale)}" (choose from: ${TOUR_SCALES.join(", ")})`);
  return { scale, ...structuredClone(SCALES[scale]) };
}

/** The SVF chapter's experts: one per training task of the suite. */
export const SVF_TASKS = ["math", "code", "reasoning"] as const;

export type UnitName =
  | "inits"
  | "optimizers"
  | "landscape"
  | "ct-source"
  | "ct-compare"
  | "lm"
  | `svf-${(typeof SVF_TASKS)[number]}`
  | "svf-eval"
  | "svf-adapt";

export type Unit = {
  name: UnitName;
  /** The chapter (1–5) it belongs to. */
  chapter: number;
  title: string;
  /** Everything that decides its result (with the units it reads, this makes its key). */
  config: Record<string, unknown>;
  deps: UnitName[];
  /** Continues from its last checkpoint after an interruption (training runs); others restart. */
  resumable: boolean;
};

/** The tour's units in order (dependencies first). `dataDir` is part of every data-reading config. */
export function tourUnits(settings: TourSettings, dataDir?: string): Unit[] {
  const data = { dataset: "fashion-mnist", dataDir: dataDir ?? null };
  const s = settings;
  return [
    {
      name: "inits",
      chapter: 1,
      title: "initialiser comparison",
      config: { ...data, model: "mlp", hidden: [512, 64], batchSize: 256, seed: 0, ...s.inits },
      deps: [],
      resumable: false,
    },
    {
      name: "optimizers",
      chapter: 2,
      title: "optimiser comparison (SGD, Adam, Lion)",
      config: {
        ...data,
        model: "mlp",
        hidden: [512, 64],
        members: ["sgd", "adam", "lion"],
        batchSize: 256,
        seed: 0,
        dynamicsOf: "adam",
        ...s.optimizers,
      },
      deps: [],
      resumable: false,
    },
    {
      name: "landscape",
      chapter: 3,
      title: "landscape of the Adam-trained MLP",
      config: { subject: "adam", ...s.landscape },
      deps: ["optimizers"],
      resumable: false,
    },
    {
      name: "ct-source",
      chapter: 4,
      title: "CT source model (MLP on classes 0–4)",
      config: {
        ...data,
        task: "fashion-mnist:0-4",
        model: "mlp",
        hidden: [512, 64],
        batchSize: 128,
        lr: 1e-3,
        seed: 0,
        limit: s.ct.sourceLimit,
        epochs: s.ct.sourceEpochs,
      },
      deps: [],
      resumable: true,
    },
    {
      name: "ct-compare",
      chapter: 4,
      title: "CT transfer to classes 5–9",
      config: {
        ...data,
        task: "fashion-mnist:5-9",
        c: 0.5,
        seed: 0,
        batchSize: 128,
        loraRank: 1,
        limit: s.ct.limit,
        testLimit: s.ct.testLimit,
        betas: s.ct.betas,
        headSteps: s.ct.headSteps,
        epochs: s.ct.epochs,
      },
      deps: ["ct-source"],
      resumable: false,
    },
    {
      name: "lm",
      chapter: 5,
      title: "pretraining the task-suite LM",
      config: { size: "tiny", tasks: [...SVF_TASKS], seed: 0, steps: s.svf.pretrainSteps },
      deps: [],
      resumable: true,
    },
    ...SVF_TASKS.map((task): Unit => ({
      name: `svf-${task}`,
      chapter: 5,
      title: `SVF expert for ${task}`,
      config: {
        task,
        objective: "rl",
        targets: "mlp",
        seed: 0,
        steps: s.svf.expertSteps,
        evalEvery: s.svf.evalEvery,
        evalExamples: s.svf.evalExamples,
        trainExamples: s.svf.trainExamples,
        testExamples: s.svf.testExamples,
      },
      deps: ["lm"],
      resumable: true,
    })),
    {
      name: "svf-eval",
      chapter: 5,
      title: "base vs SVF experts on the task suite",
      config: { testExamples: s.svf.testExamples },
      deps: ["lm", ...SVF_TASKS.map((t) => `svf-${t}` as const)],
      resumable: false,
    },
    {
      name: "svf-adapt",
      chapter: 5,
      title: `few-shot adaptation to the held-out task ${s.svf.adapt.task}`,
      config: { strategy: "fewshot", seed: 0, testExamples: s.svf.testExamples, ...s.svf.adapt },
      deps: SVF_TASKS.map((t) => `svf-${t}` as const),
      resumable: false,
    },
  ];
}

/** Each unit's key: a hash of its name, its config and its dependencies' keys. */
export function unitKeys(units: Unit[]): Map<UnitName, string> {
  const keys = new Map<UnitName, string>();
  for (const u of units) {
    const deps = u.deps.map((d) => {
      const k = keys.get(d);
      if (!k) throw new Error(`tour unit ${u.name} depends on ${d}, which is not before it`);
      return k;
    });
    const hash = createHash("sha256")
      .update(stableJson({ name: u.name, config: u.config, deps }))
      .digest("hex");
    keys.set(u.name, hash.slice(0, 10));
  }
  return keys;
}

export const unitId = (name: UnitName, key: string) => `${name}-${key}`;

/** What the store holds for a unit's directory. */
export type UnitState =
  { exists: false } | { exists: true; finished: boolean; status: string | null; hasCheckpoint: boolean };

export type UnitAction =
  /** Finished with this key: read its outcome back. */
  | "reuse"
  /** Interrupted training: continue from its last checkpoint. */
  | "resume"
  /** Nothing there: compute it. */
  | "run"
  /** Something unusable there (interrupted non-resumable work, --fresh, a redone dependency): delete, then compute. */
  | "redo";

export type PlannedUnit = { unit: Unit; id: string; key: string; action: UnitAction; why: string };

/**
 * Decides every unit's action. A unit is recomputed when asked (--fresh, or --fresh for its chapter),
 * when it never finished, or when a unit it reads is recomputed (the dependency's key is the same,
 * but its outcome may not be — e.g. a redone training run).
 */
export function planUnits(
  units: Unit[],
  stateOf: (id: string) => UnitState,
  opts: { fresh?: boolean | number[] } = {},
): PlannedUnit[] {
  const keys = unitKeys(units);
  const recomputed = new Set<UnitName>();
  const freshChapter = (u: Unit) =>
    opts.fresh === true || (Array.isArray(opts.fresh) && opts.fresh.includes(u.chapter));
  return units.map((unit) => {
    const key = keys.get(unit.name)!;
    const id = unitId(unit.name, key);
    const state = stateOf(id);
    const depRedone = unit.deps.find((d) => recomputed.has(d));
    let action: UnitAction;
    let why: string;
    if (freshChapter(unit)) {
      action = state.exists ? "redo" : "run";
      why = "--fresh";
    } else if (depRedone) {
      action = state.exists ? "redo" : "run";
      why = `it reads ${depRedone}, computed this time`;
    } else if (!state.exists) {
      action = "run";
      why = "not in the store";
    } else if (state.finished) {
      action = "reuse";
      why = "finished earlier with the same settings";
    } else if (unit.resumable && state.hasCheckpoint && state.status !== "failed") {
      action = "resume";
      why = `stopped (${state.status ?? "no status"}); continuing from its last checkpoint`;
    } else {
      action = "redo";
      why = `unfinished (${state.status ?? "no status"}); starting it again`;
    }
    if (action !== "reuse") recomputed.add(unit.name);
    return { unit, id, key, action, why };
  });
}
