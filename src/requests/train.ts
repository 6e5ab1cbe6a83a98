/**
 * `tiller train`: one model, one optimiser, Fashion-MNIST. The single description of a training
 * request; `train/session.ts` turns the validated value into the run's config.json.
 */
import { z } from "zod";
import { ACTIVATIONS } from "../nn/activations.js";
import { canonicalInitName, INIT_NAMES } from "../init/registry.js";
import { OPTIMIZERS, parseParamPairs, parseSchedule } from "../optim/index.js";
import {
  batchSizeField,
  dataDirField,
  DEFAULT_EPOCHS,
  epochsField,
  limitField,
  logEveryField,
  modelField,
  nameField,
  normalizeField,
  runsField,
  seedField,
} from "./common.js";
import { defineRequest, field, validBy } from "./request.js";

export { DEFAULT_EPOCHS };

/** With `onDivergence: "skip"`, the skipped steps a run tolerates unless told otherwise. */
export const DEFAULT_MAX_SKIPS = 10;

const width = z.number().int().min(1).max(65_536);

/** Command-line text of a bias rule: zeros, torch_default or a number. */
function biasRule(text: string): string | number {
  if (text === "zeros" || text === "torch_default") return text;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n))
    throw new Error(`expected zeros, torch_default or a number, got "${text}"`);
  return n;
}

/** Model shape and initialisation: the fields `train`, `optim compare` and `init compare` share. */
export const modelFields = {
  model: modelField,
  task: field(z.enum(["fashion-mnist"]).default("fashion-mnist"), {
    description: "task (dataset) to train on",
    aliases: ["dataset"],
  }),
  hidden: field(z.array(width).min(1).max(16).optional(), {
    description: "mlp hidden layer sizes, comma-separated (default 512,64)",
    placeholder: "<sizes>",
  }),
  channels: field(z.array(width).min(1).max(8).optional(), {
    description: "cnn conv channels per block (default 32,64), resnet channels per stage (default 16,32,64)",
    placeholder: "<sizes>",
  }),
  dense: field(width.optional(), { description: "cnn dense layer width (default 256)" }),
  blocks: field(z.number().int().min(1).max(64).optional(), {
    description: "resnet basic blocks per stage (default 1; ResNet-18: --channels 64,128,256,512 --blocks 2)",
  }),
  norm: field(z.enum(["none", "group"]).optional(), {
    description:
      "resnet normalisation after each conv: none (zero-initialised branches) or group (GroupNorm) (default none)",
  }),
  activation: field(z.enum(ACTIVATIONS).optional(), {
    description: "activation (default relu; gelu for vit)",
  }),
  init: field(z.enum(INIT_NAMES).optional(), {
    description: "weight initialiser (tiller init list; default torch_default, PyTorch's)",
    fromText: (t) => canonicalInitName(t.trim()),
  }),
  biasInit: field(z.union([z.enum(["zeros", "torch_default"]), z.number().finite()]).optional(), {
    description: "biases: zeros, torch_default or a number (default zeros with --init)",
    placeholder: "<rule>",
    fromText: biasRule,
  }),
  zeroInitLast: field(z.boolean().optional(), {
    description: "start the last projection (classifier head) at zero",
  }),
};

/** The data and bookkeeping fields every training-like request shares. */
export const trainingFields = {
  epochs: epochsField,
  batchSize: batchSizeField,
  seed: seedField,
  limit: limitField,
  normalize: normalizeField,
  dataDir: dataDirField,
  runs: runsField,
  name: nameField,
  logEvery: logEveryField,
};

export type TrainingFields = z.infer<
  z.ZodObject<{ [K in keyof typeof trainingFields]: (typeof trainingFields)[K]["schema"] }>
>;

/** What a step with NaN/Inf loss or gradient norm does to a training run (or a comparison's member). */
export const divergenceFields = {
  onDivergence: field(z.enum(["stop", "skip"]).default("stop"), {
    description: "a step with NaN/Inf loss or gradient norm: stop the run (diverged), or skip it unapplied",
    placeholder: "<what>",
  }),
  maxSkips: field(z.number().int().min(0).optional(), {
    description: `with --on-divergence skip: more skipped steps than this stop the run (default ${DEFAULT_MAX_SKIPS})`,
  }),
};

/** `maxSkips` only with `onDivergence: "skip"`. */
export function checkDivergence(r: { maxSkips?: number; onDivergence: string }, ctx: z.RefinementCtx): void {
  if (r.maxSkips !== undefined && r.onDivergence !== "skip")
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ["maxSkips"],
      message: "applies to --on-divergence skip",
    });
}

export const trainRequest = defineRequest(
  "train",
  "Train a model on Fashion-MNIST; every epoch is logged and checkpointed in a run directory.",
  {
    ...modelFields,
    optimizer: field(z.enum(OPTIMIZERS).default("adam"), { description: "optimiser" }),
    lr: field(z.number().positive().finite().optional(), {
      description: "learning rate",
      defaultText: "per optimiser: 0.01 sgd, 1e-3 adam, 1e-4 lion, …",
      placeholder: "<x>",
    }),
    momentum: field(z.number().min(0).lt(1).optional(), {
      description: "sgd momentum in [0, 1)",
      placeholder: "<x>",
    }),
    nesterov: field(z.boolean().optional(), { description: "sgd: Nesterov momentum" }),
    weightDecay: field(z.number().min(0).finite().optional(), {
      description: "weight decay (L2 for sgd/adam, decoupled for adamw)",
      placeholder: "<x>",
    }),
    params: field(z.record(z.union([z.string(), z.number(), z.boolean()])).optional(), {
      description:
        "optimiser hyper-parameter, repeatable (e.g. b1=0.9, rho=0.04, every=10, centered=true, clipNorm=1)",
      flag: "param",
      placeholder: "<key=value>",
      fromText: (t, previous) => ({ ...(previous as object | undefined), ...parseParamPairs([t]) }),
      toText: (v: Record<string, unknown>) => Object.entries(v).map(([k, x]) => `${k}=${String(x)}`),
    }),
    schedule: field(z.string().superRefine(validBy(parseSchedule)).optional(), {
      description: "learning-rate schedule, e.g. cosine:steps=2000 or warmup-cosine:warmup=100,steps=2000",
      placeholder: "<spec>",
    }),
    ...trainingFields,
    // Optional here (3 when absent), so that a resume can tell "--epochs N" from the default.
    epochs: field(epochsField.schema.removeDefault().optional(), {
      description: "epochs (with --resume: a larger total trains the run on)",
      defaultText: String(DEFAULT_EPOCHS),
      implicitDefault: DEFAULT_EPOCHS,
      resumable: true,
    }),
    resume: field(z.string().min(1).optional(), {
      description: "continue an interrupted run (id or directory) from its last checkpoint",
      placeholder: "<run>",
      resumable: true,
      form: false,
    }),
    from: field(z.string().min(1).optional(), {
      description:
        "start from a trained run's weights (its model; fresh optimiser): continue training a loaded model",
      placeholder: "<run>",
    }),
    fromEpoch: field(z.number().int().min(1).optional(), {
      description: "with --from: which checkpoint (default: the last)",
    }),
    dynamics: field(z.enum(["epoch", "step", "off"]).default("epoch"), {
      description: "record training dynamics to dynamics.jsonl (tiller dynamics draws them)",
      placeholder: "<every>",
      resumable: true,
    }),
    ...divergenceFields,
  },
  (r, ctx) => {
    const issue = (path: string, message: string) =>
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
    if (r.maxSkips !== undefined && r.onDivergence !== "skip")
      issue("maxSkips", "applies to --on-divergence skip");
    if (r.fromEpoch !== undefined && r.from === undefined) issue("fromEpoch", "needs --from <run>");
    if (r.from !== undefined && r.resume !== undefined) issue("from", "a resumed run keeps its own start");
  },
);
export type TrainRequestFields = z.infer<typeof trainRequest.schema>;
