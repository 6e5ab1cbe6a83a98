/**
 * What every image classifier's config holds besides its architecture: the input it sees, the
 * classes it predicts, its activation and how its layers start. The registry (index.ts) fills the
 * first two from the data and the rest from the model's defaults.
 */
import type { ActivationName } from "../activations.js";
import type { InitConfig } from "../init.js";

export type ClassifierConfig = InitConfig & {
  /** [channels, height, width] of one example. */
  inputShape: [number, number, number];
  classes: number;
  activation: ActivationName;
};

/** A model's defaults: its whole config but what the data decides. */
export type ModelDefaults<C extends ClassifierConfig> = Omit<C, "inputShape" | "classes">;
