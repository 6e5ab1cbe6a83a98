/** `tiller optim compare`: one model, several optimisers, the same initial weights and batches. */
import { z } from "zod";
import { checkDivergence, divergenceFields, modelFields, trainingFields } from "./train.js";
import { defineRequest, field } from "./request.js";

export const optimCompareRequest = defineRequest(
  "optim-compare",
  "Train a model with several optimisers from the same initial weights and data order; table + four-panel figure.",
  {
    model: modelFields.model,
    task: modelFields.task,
    hidden: modelFields.hidden,
    channels: modelFields.channels,
    activation: modelFields.activation,
    optimizers: field(
      z
        .array(z.string().min(1))
        .min(1)
        .max(16)
        .refine((l) => new Set(l).size === l.length, "each optimiser may appear once")
        .optional(),
      {
        description: "optimisers (or labels from --config), comma-separated",
        defaultText: "sgd,adam,lion, or every entry of --config",
        placeholder: "<names>",
      },
    ),
    config: field(z.string().min(1).optional(), {
      description:
        'JSON file: {"label": {"name": "adam", "lr": 0.001, ...}, ...} or a list of {label?, name, ...}',
      placeholder: "<file>",
      form: false,
    }),
    ...trainingFields,
    ...divergenceFields,
    resume: field(z.string().min(1).optional(), {
      description: "continue an interrupted comparison (id or directory): the interrupted member resumes",
      placeholder: "<run>",
      resumable: true,
      form: false,
    }),
  },
  checkDivergence,
);
export type OptimCompareRequest = z.infer<typeof optimCompareRequest.schema>;
