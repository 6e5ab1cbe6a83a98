/**
 * Fields many requests share, declared once so the same option has the same flag, range and default
 * in every command (issue 22: one CLI dialect).
 */
import { z } from "zod";
import { MODELS } from "../nn/models/index.js";
import { field } from "./request.js";

/** A run id as the run store names directories. */
export const RUN_NAME = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
    "invalid run id: letters, digits, '.', '_', '-' only (at most 128)",
  );

const int = () => z.number().int();

/** The runs folder: `--runs`, else $TILLER_RUNS, else ./runs. */
export const runsField = field(z.string().min(1).optional(), {
  description: "runs folder (default $TILLER_RUNS or ./runs)",
  placeholder: "<dir>",
  aliases: ["out"],
  resumable: true,
  form: false,
});

export const nameField = field(RUN_NAME.optional(), {
  description: "run id (default: a timestamp and what was run)",
  placeholder: "<id>",
});

/** The run a command reads, as a positional argument. */
export function runArgument(description: string, aliases: string[] = []) {
  return field(RUN_NAME.or(z.string().min(1)), { description, positional: true, aliases });
}

/** `train`, `optim compare`, `init compare` and `ct pretrain` train the MLP unless told otherwise. */
export const modelField = field(z.enum(MODELS).default("mlp"), { description: "model to train" });

export const seedField = field(
  int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(0),
  { description: "seed for initialisation and data order" },
);

/** Epochs of a training-like request that names none. */
export const DEFAULT_EPOCHS = 3;
export const epochsField = field(int().min(1).max(1000).default(DEFAULT_EPOCHS), { description: "epochs" });
export const batchSizeField = field(int().min(1).max(60_000).default(256), { description: "batch size" });
export const limitField = field(int().min(1).max(60_000).optional(), {
  description: "use only the first N training images (quick runs)",
});
export const logEveryField = field(int().min(1).max(100_000).default(10), {
  description: "write a step line to metrics.jsonl every N steps",
});
export const normalizeField = field(z.enum(["standardize", "scale"]).default("standardize"), {
  description: "input scaling",
  placeholder: "<how>",
});
export const dataDirField = field(z.string().min(1).optional(), {
  description:
    "folder with the Fashion-MNIST IDX files (default $TILLER_DATA or /usr/share/datasets/fashion-mnist)",
  placeholder: "<dir>",
  resumable: true,
  form: false,
});
