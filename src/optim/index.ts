/** Optimisers by name, with the CLI's hyper-parameters. */
import { adam, adamw } from "./adam.js";
import { sgd } from "./sgd.js";
import type { GradientTransformation } from "./transform.js";
import { UsageError } from "../errors.js";

export * from "./transform.js";
export { sgd, traceMomentum } from "./sgd.js";
export { adam, adamw, scaleByAdam } from "./adam.js";

export const OPTIMIZERS = ["sgd", "adam", "adamw"] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export type OptimizerConfig = {
  name: OptimizerName;
  lr: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  b1?: number;
  b2?: number;
  eps?: number;
};

export function createOptimizer(config: OptimizerConfig): GradientTransformation {
  switch (config.name) {
    case "sgd":
      return sgd(config);
    case "adam":
      return adam(config);
    case "adamw":
      return adamw(config);
    default:
      throw new UsageError(
        `unknown optimizer "${(config as { name: string }).name}" (choose one of: ${OPTIMIZERS.join(", ")})`,
      );
  }
}
