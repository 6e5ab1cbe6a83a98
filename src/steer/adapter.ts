/**
 * What every adapter is: a small `trainable` tree, the `frozen` material it reads (base params, SVD
 * factors…), and a pure `build` that turns the two into the full model's params. SVF and LoRA on
 * the LM (steer/finetune.ts) and trainable CT, LoRA and full fine-tuning on the vision models
 * (steer/ct/finetune.ts) are all adapters, so one trainer per model family compares them on equal terms.
 */
import type { Params } from "../engine/tree.js";

export type Adapter = {
  /** The method: "svf", "lora", "trainable CT", … */
  kind: string;
  /** Initial trainable values. */
  trainable: Params;
  /** Everything else `build` reads; passed to jitted functions as an argument, never closed over. */
  frozen: Params;
  /** Full model params from (trainable, frozen); pure, usable inside jit and grad. Consumes both. */
  build(trainable: Params, frozen: Params): Params;
  /** Small, JSON-able facts stored with the adapter (targets, rank, max_mult…). */
  describe: Record<string, string | number>;
};
