/**
 * `lm pretrain`: the built-in character-level decoder LM on a mixture of the generated tasks.
 * Defaults are `lm/pretrain.ts` PRETRAIN_DEFAULTS (a test keeps them equal).
 */
import { z } from "zod";
import { parseTaskMixture, PRETRAIN_TASKS } from "../data/tasks/index.js";
import { nameField, runsField, seedField } from "./common.js";
import { defineRequest, field, validBy } from "./request.js";

export const lmPretrainRequest = defineRequest(
  "lm-pretrain",
  "Train the built-in character-level decoder LM on a mixture of the generated tasks.",
  {
    task: field(z.string().min(1).superRefine(validBy(parseTaskMixture)).default(PRETRAIN_TASKS.join(",")), {
      description:
        "comma-separated task families, each optionally weighted as name:weight (default uniform; dispatch: the adaptation prompt of tiller svf adapt)",
      placeholder: "<list>",
      aliases: ["tasks"],
    }),
    size: field(z.enum(["tiny", "small"]).default("tiny"), {
      description: "model size",
      placeholder: "<size>",
    }),
    steps: field(z.number().int().min(1).max(10_000_000).default(1500), {
      description: "optimisation steps",
    }),
    batchSize: field(z.number().int().min(1).max(65_536).default(64), { description: "sequences per step" }),
    lr: field(z.number().positive().finite().default(3e-3), {
      description: "AdamW learning rate",
      placeholder: "<x>",
    }),
    weightDecay: field(z.number().min(0).finite().default(0.01), {
      description: "AdamW decoupled weight decay",
      placeholder: "<x>",
    }),
    lossOn: field(z.enum(["all", "answer"]).default("all"), {
      description: "which next-token predictions count",
      placeholder: "<what>",
    }),
    evalEvery: field(z.number().int().min(1).default(250), {
      description: "validation accuracy every N steps",
    }),
    evalExamples: field(z.number().int().min(1).default(64), {
      description: "validation questions per task at each evaluation",
    }),
    checkpointEvery: field(z.number().int().min(1).default(250), { description: "checkpoint every N steps" }),
    seed: {
      ...seedField,
      meta: { ...seedField.meta, description: "seed for the init and the example stream" },
    },
    runs: runsField,
    name: {
      ...nameField,
      meta: { ...nameField.meta, description: "run id (default: timestamp-lm-size-xxxx)" },
    },
    resume: field(z.string().min(1).optional(), {
      description: "continue an interrupted pretraining run from its last checkpoint",
      placeholder: "<run>",
      resumable: true,
      form: false,
    }),
  },
);
export type LmPretrainRequest = z.infer<typeof lmPretrainRequest.schema>;
