/**
 * `init compare`: one model trained from each initialiser with the same seed, data order and
 * optimiser. Its optimiser defaults are the book's experiment (SGD, lr 0.01, momentum 0.9), not
 * `train`'s Adam: the table it reproduces was made that way.
 */
import { z } from "zod";
import { canonicalInitName, INIT_NAMES } from "../init/registry.js";
import { OPTIMIZERS } from "../optim/index.js";
import { modelFields, trainingFields } from "./train.js";
import { defineRequest, field } from "./request.js";

export const BOOK_INITS = [
  "lecun",
  "xavier_normal",
  "kaiming_normal",
  "orthogonal",
  "scaled_orthogonal",
  "l_momentum",
] as const;

export const initCompareRequest = defineRequest(
  "init-compare",
  "Train one model per initialiser (same seed, data order and optimiser) and tabulate error rate, convergence speed and the weight spectra at init.",
  {
    model: modelFields.model,
    task: modelFields.task,
    hidden: modelFields.hidden,
    channels: {
      ...modelFields.channels,
      meta: { ...modelFields.channels.meta, description: "cnn/resnet channels per stage" },
    },
    dense: modelFields.dense,
    activation: modelFields.activation,
    inits: field(
      z
        .array(z.enum(INIT_NAMES))
        .min(1)
        .refine((l) => new Set(l).size === l.length, "each initialiser may appear once")
        .default([...BOOK_INITS]),
      {
        description: "initialisers to compare, comma-separated (tiller init list)",
        placeholder: "<names>",
        fromText: (t) => t.split(",").map((s) => canonicalInitName(s.trim())),
      },
    ),
    biasInit: {
      ...modelFields.biasInit,
      meta: {
        ...modelFields.biasInit.meta,
        description: "biases: zeros, torch_default or a number (default zeros)",
      },
    },
    zeroInitLast: modelFields.zeroInitLast,
    initMode: field(z.enum(["fan_in", "fan_out"]).optional(), {
      description: "kaiming_*: fan_in (default) or fan_out",
      placeholder: "<mode>",
    }),
    initGain: field(z.number().positive().optional(), {
      description: "xavier_*/orthogonal gain (default 1)",
      placeholder: "<x>",
    }),
    initScale: field(z.number().positive().optional(), {
      description: "scaled_orthogonal scale (default √(2/fan_in))",
      placeholder: "<x>",
    }),
    initAlpha: field(z.number().positive().optional(), {
      description: "l_momentum target mean of w² (default momentum², 0.81)",
      placeholder: "<x>",
    }),
    optimizer: field(z.enum(OPTIMIZERS).default("sgd"), { description: "optimiser" }),
    lr: field(z.number().positive().finite().default(0.01), {
      description: "learning rate",
      placeholder: "<x>",
    }),
    momentum: field(z.number().min(0).lt(1).optional(), {
      description: "momentum for sgd (default 0.9)",
      placeholder: "<x>",
    }),
    ...trainingFields,
    resume: field(z.string().min(1).optional(), {
      description: "continue an interrupted comparison (id or directory); its config decides the rest",
      placeholder: "<run>",
      resumable: true,
      form: false,
    }),
  },
  (r, ctx) => {
    if (r.momentum !== undefined && !["sgd", "momentum", "nesterov", "rmsprop"].includes(r.optimizer))
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ["momentum"],
        message: `applies to sgd, not ${r.optimizer}`,
      });
  },
);
export type InitCompareFields = z.infer<typeof initCompareRequest.schema>;
