/**
 * `svf train` and `lora train`: an adapter on a base LM, trained on one task by REINFORCE or
 * next-token loss (Transformer²'s fine-tuner). The base LM is the positional argument; `--resume`
 * continues a run instead. Defaults are the official code's (`steer/finetune.ts` FINETUNE_DEFAULTS
 * and `steer/svf/compose.ts` SVF_DEFAULTS; a test keeps them equal).
 */
import { z } from "zod";
import { getFamily, TRAINING_TASKS } from "../data/tasks/index.js";
import { nameField, runArgument, runsField, seedField } from "./common.js";
import { defineRequest, field, validBy, type Field } from "./request.js";

/** The adapter trainers' shared fields; `objective` defaults to each method's paper setting. */
function finetuneFields(objective: "rl" | "sft") {
  return {
    base: {
      ...runArgument("base LM: a pretraining run (id or directory) or a Hugging Face model directory", [
        "base",
      ]),
      schema: z.string().min(1).optional(),
    },
    task: field(z.string().min(1).superRefine(validBy(getFamily)).optional(), {
      description: `task to specialise on (${TRAINING_TASKS.join(", ")})`,
    }),
    objective: field(z.enum(["rl", "sft"]).default(objective), {
      description: "rl: REINFORCE on exact-match rewards; sft: next-token loss on the answers",
      placeholder: "<how>",
    }),
    targets: field(z.enum(["mlp", "attn", "all"]).default("mlp"), {
      description: "which matrices to adapt",
      placeholder: "<set>",
    }),
    steps: field(z.number().int().min(1).max(1_000_000).default(60), { description: "optimisation steps" }),
    batchSize: field(z.number().int().min(1).max(65_536).default(32), { description: "prompts per step" }),
    lr: field(z.number().positive().finite().default(2e-3), {
      description: "Adam learning rate",
      placeholder: "<x>",
    }),
    maxGradNorm: field(z.number().positive().default(1e-3), {
      description: "clip the gradient to this global norm",
      placeholder: "<x>",
    }),
    klCoef: field(z.number().min(0).default(0), {
      description: "λ of the KL penalty against the base model (0 = off, the official default)",
      placeholder: "<x>",
    }),
    klDirection: field(z.enum(["policy-ref", "ref-policy"]).default("policy-ref"), {
      description: "policy-ref: KL(π_W′‖π_W) (the paper); ref-policy: KL(π_W‖π_W′) (the official code)",
      placeholder: "<d>",
    }),
    temperature: field(z.number().min(0).default(0), {
      description: "rollout temperature (0 = greedy, the official setting)",
      placeholder: "<x>",
    }),
    rewardNorm: field(z.boolean().default(false), {
      description:
        "normalise rewards ((r − mean)/std) over the batch, or per prompt with --samples-per-prompt > 1",
    }),
    samplesPerPrompt: field(z.number().int().min(1).max(1024).default(1), {
      description: "rollouts per prompt (1 = the official setting)",
      placeholder: "<k>",
    }),
    trainExamples: field(z.number().int().min(1).default(2048), { description: "size of the training pool" }),
    evalEvery: field(z.number().int().min(1).default(10), {
      description: "validation accuracy every N steps (the best is kept)",
    }),
    evalExamples: field(z.number().int().min(1).default(128), {
      description: "validation questions per evaluation",
    }),
    seed: {
      ...seedField,
      meta: { ...seedField.meta, description: "seed for the init, the batches and the rollouts" },
    },
    runs: runsField,
    name: nameField,
    resume: field(z.string().min(1).optional(), {
      description: "continue an interrupted run from its last step",
      placeholder: "<run>",
      resumable: true,
      form: false,
    }),
  };
}

/** A base and a task for a new run, or `resume` alone. */
function startOrResume(r: { base?: string; task?: string; resume?: string }, ctx: z.RefinementCtx): void {
  if (r.resume) return;
  if (!r.base)
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["base"], message: "required (or --resume <run>)" });
  if (!r.task)
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["task"], message: "required (or --resume <run>)" });
}

const fields = <F extends Record<string, Field>>(f: F) => f;

export const svfTrainRequest = defineRequest(
  "svf-train",
  "Train an SVF expert: one vector z per weight matrix scaling its singular values, by REINFORCE (or next-token loss).",
  fields({
    ...finetuneFields("rl"),
    initVal: field(z.number().min(0).default(0.1), {
      description: "p is initialised at init_val + N(0, 0.01²)",
      placeholder: "<x>",
    }),
    maxMult: field(z.number().positive().default(1), {
      description: "z = max_mult · sigmoid(p)",
      placeholder: "<x>",
    }),
  }),
  startOrResume,
);

export const loraTrainRequest = defineRequest(
  "lora-train",
  "Train a LoRA adapter (W + (α/r)·BA) on one task: the baseline SVF is compared with.",
  fields({
    ...finetuneFields("sft"),
    rank: field(z.number().int().min(1).max(4096).default(4), {
      description: "rank of the update",
      placeholder: "<r>",
    }),
    alpha: field(z.number().positive().optional(), {
      description: "scale numerator α (update scaled by α/r)",
      defaultText: "2r",
      placeholder: "<x>",
    }),
  }),
  startOrResume,
);

export type SvfTrainRequest = z.infer<typeof svfTrainRequest.schema>;
export type LoraTrainRequest = z.infer<typeof loraTrainRequest.schema>;
