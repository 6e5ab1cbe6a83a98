/**
 * Curvature Tuning's requests: `ct pretrain` (a source model), `ct search` (training-free β
 * search), `ct compare` (transfer methods side by side) and `ct robustness` (attacks and
 * corruptions per β). Each reads the trained run given as its positional argument.
 */
import { z } from "zod";
import { parseTask } from "../data/subsets.js";
import { UsageError } from "../errors.js";
import {
  batchSizeField,
  dataDirField,
  epochsField,
  limitField,
  modelField,
  nameField,
  runArgument,
  runsField,
  seedField,
} from "./common.js";
import { modelFields } from "./train.js";
import { defineRequest, field, validBy } from "./request.js";

export const METHODS = ["linear-probe", "linear-probe-ct", "trainable-ct", "lora", "full"] as const;
export type MethodName = (typeof METHODS)[number];

/** "0.7:1:0.01" (start:stop:step, stop included) or "0.8,0.9,0.95"; β = 1 is always added. */
export function parseBetaGrid(spec: string): number[] {
  const bad = () =>
    new UsageError(
      `bad beta grid "${spec}" (expected start:stop:step like 0.7:1:0.01, or a list like 0.8,0.9,1)`,
    );
  let betas: number[];
  const range = spec.split(":");
  if (range.length === 3) {
    const [a, b, s] = range.map(Number);
    if (![a, b, s].every(Number.isFinite) || s <= 0 || b < a) throw bad();
    const count = Math.floor((b - a) / s + 1e-9);
    if (count > 10_000) throw bad();
    betas = Array.from({ length: count + 1 }, (_, i) => Number((a + i * s).toFixed(10)));
  } else if (range.length === 1) {
    betas = spec.split(",").map((v) => (v.trim() === "" ? NaN : Number(v)));
    if (!betas.every(Number.isFinite)) throw bad();
  } else throw bad();
  if (betas.some((b) => b < 0 || b > 1))
    throw new UsageError(`beta values must lie in [0, 1] (grid "${spec}")`);
  return [...new Set([...betas, 1])].sort((x, y) => x - y);
}

const betasField = (spec: string, description: string) =>
  field(
    z
      .array(z.number().min(0).max(1))
      .min(1)
      .max(10_001)
      .default(parseBetaGrid(spec))
      .transform((b) => [...new Set([...b, 1])].sort((x, y) => x - y)),
    { description, defaultText: spec, placeholder: "<grid>", fromText: (t) => parseBetaGrid(t.trim()) },
  );
/** "4/255,8/255" or "0.01,0.02": a list of ℓ∞ budgets in pixel units (fractions allowed). */
export function parseEpsList(text: string): number[] {
  return text.split(",").map((part) => {
    const [a, b, ...more] = part.trim().split("/");
    const v = b === undefined ? Number(a) : Number(a) / Number(b);
    if (more.length > 0 || a === "" || !Number.isFinite(v) || v <= 0 || v > 1)
      throw new Error(`"${part.trim()}" is not a budget in (0, 1] (write 0.01 or 2/255)`);
    return v;
  });
}
const cField = (description: string) =>
  field(z.number().min(0).max(1).default(0.5), { description, placeholder: "<x>" });
const taskField = (description: string) =>
  field(z.string().min(1).superRefine(validBy(parseTask)), { description, aliases: ["dataset"] });

/** The trained run a CT command steers, the downstream task and its splits. */
const steerFields = {
  run: runArgument("the trained run (id or directory) to steer", ["run"]),
  task: {
    ...taskField("downstream task (default: the run's own task)"),
    schema: taskField("").schema.optional(),
  },
  limit: {
    ...limitField,
    meta: { ...limitField.meta, description: "use only the first N training images of the task" },
  },
  testLimit: field(z.number().int().min(1).max(10_000).optional(), {
    description: "use only the first N test images of the task",
  }),
  val: field(z.number().int().min(1).max(60_000).optional(), {
    description:
      "validation examples held out (default: 1/6 of train for transfer, 2000 test images otherwise)",
  }),
  seed: {
    ...seedField,
    meta: { ...seedField.meta, description: "seed for the validation split, heads and noise" },
  },
  dataDir: dataDirField,
  runs: runsField,
  name: { ...nameField, meta: { ...nameField.meta, description: "id of the result run" } },
};

export const ctPretrainRequest = defineRequest(
  "ct-pretrain",
  "Train a source model on a task (e.g. Fashion-MNIST classes 0–4) with the ordinary training loop.",
  {
    task: field(taskField("").schema.default("fashion-mnist:0-4"), {
      description: "source task: fashion-mnist, fashion-mnist:0-4, …",
    }),
    model: modelField,
    hidden: modelFields.hidden,
    channels: {
      ...modelFields.channels,
      meta: { ...modelFields.channels.meta, description: "cnn/resnet channels per block or stage" },
    },
    dense: modelFields.dense,
    blocks: modelFields.blocks,
    norm: modelFields.norm,
    epochs: epochsField,
    batchSize: batchSizeField,
    lr: field(z.number().positive().finite().default(1e-3), {
      description: "Adam learning rate",
      placeholder: "<x>",
    }),
    seed: seedField,
    limit: {
      ...limitField,
      meta: { ...limitField.meta, description: "use only the first N training images of the task" },
    },
    dataDir: dataDirField,
    runs: runsField,
    name: nameField,
  },
);

export const ctSearchRequest = defineRequest(
  "ct-search",
  "Training-free CT: evaluate every β of a grid on a validation split, keep the best, report test accuracy of base vs CT.",
  {
    ...steerFields,
    betas: betasField("0.7:1:0.01", "β grid: start:stop:step or a list (β = 1 always included)"),
    c: cField("CTU mixing coefficient c in [0, 1]"),
    headSteps: field(z.number().int().min(1).max(100_000).default(300), {
      description: "transfer tasks: full-batch Adam steps of the new linear head per β",
    }),
  },
);

export const ctCompareRequest = defineRequest(
  "ct-compare",
  "Transfer comparison: linear probe, linear probe + CT, trainable CT, LoRA and full fine-tuning on one downstream task.",
  {
    ...steerFields,
    betas: betasField("0.7:1:0.01", "β grid for linear probe + CT"),
    c: cField("CTU mixing coefficient for the β search"),
    headSteps: field(z.number().int().min(1).max(100_000).default(300), {
      description: "full-batch Adam steps of each linear probe",
    }),
    // Fine-tuning epochs and batches: a different thing from a source model's, so their own defaults.
    epochs: field(z.number().int().min(1).max(1000).default(5), {
      description: "epochs of trainable CT, LoRA and full fine-tuning",
    }),
    batchSize: field(z.number().int().min(1).max(60_000).default(128), {
      description: "batch size of trainable CT, LoRA and full fine-tuning",
    }),
    loraRank: field(z.number().int().min(1).max(4096).default(1), { description: "LoRA rank" }),
    methods: field(
      z
        .array(z.enum(METHODS))
        .min(1)
        .default([...METHODS]),
      { description: `comma-separated subset of ${METHODS.join(",")}` },
    ),
  },
);

export const ctRobustnessRequest = defineRequest(
  "ct-robustness",
  "Accuracy under FGSM, PGD-ℓ∞, PGD-ℓ2 and common corruptions for each β; β chosen per threat on a validation split.",
  {
    run: runArgument("the trained run (id or directory)", ["run"]),
    betas: betasField("0.7:1:0.02", "β grid: start:stop:step or a list (β = 1 always included)"),
    c: cField("CTU mixing coefficient c in [0, 1]"),
    n: field(z.number().int().min(1).max(5000).default(1000), {
      description: "test images in the validation split and in the disjoint test split",
    }),
    pgdSteps: field(z.number().int().min(1).max(10_000).default(10), { description: "PGD iterations" }),
    eps: field(
      z
        .array(z.number().gt(0).max(1))
        .min(1)
        .max(32)
        .default([4 / 255, 8 / 255]),
      {
        description: "PGD ℓ∞ budgets in pixel units, a list (fractions allowed)",
        defaultText: "4/255,8/255",
        placeholder: "<list>",
        fromText: (t) => parseEpsList(t),
      },
    ),
    batch: field(z.number().int().min(1).max(5000).optional(), {
      description:
        "images per attack batch (default: 250 for an MLP, 64 for a conv net, whose input gradients need up to ~10 MiB an image)",
    }),
    attacks: field(z.boolean().default(true), { description: "skip FGSM and PGD", negatable: true }),
    corruptions: field(z.boolean().default(true), { description: "skip the corruptions", negatable: true }),
    seed: {
      ...seedField,
      meta: { ...seedField.meta, description: "seed for the split and the corruption noise" },
    },
    dataDir: dataDirField,
    runs: runsField,
    name: { ...nameField, meta: { ...nameField.meta, description: "id of the result run" } },
  },
);

export type CtPretrainRequest = z.infer<typeof ctPretrainRequest.schema>;
export type CtSearchRequest = z.infer<typeof ctSearchRequest.schema>;
export type CtCompareRequest = z.infer<typeof ctCompareRequest.schema>;
export type CtRobustnessRequest = z.infer<typeof ctRobustnessRequest.schema>;
