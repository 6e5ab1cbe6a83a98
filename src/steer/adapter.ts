/**
 * What a fine-tuner trains: a small `trainable` tree and a pure `apply` that turns it, with the
 * frozen material (base params, SVD factors…), into full model params. SVF and LoRA are both
 * adapters, so one trainer (finetune.ts) serves both and compares them on equal terms.
 */
import type { Params } from "../engine/tree.js";

export type Adapter = {
  kind: "svf" | "lora";
  /** Initial trainable values. */
  trainable: Params;
  /** Everything else `apply` reads; passed to jitted functions as an argument, never closed over. */
  frozen: Params;
  /** Full model params from (trainable, frozen); pure, usable inside jit and grad. Consumes both. */
  apply(trainable: Params, frozen: Params): Params;
  /** Small, JSON-able facts stored with the adapter (targets, rank, max_mult…). */
  describe: Record<string, string | number>;
};
