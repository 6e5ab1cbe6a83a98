/**
 * Curvature Tuning's model surgery: every ReLU of a trained model becomes a CTU, with no change to
 * any weight. The CTU's parameters are added to the param tree at each activation's node
 * (`act{i}.beta`, `act{i}.c`, as raw values: β = σ(raw)), either one scalar pair shared by the layer
 * or one pair per channel (trainable CT).
 */
import { numpy as np } from "../../engine/jax.js";
import { setPath, type Params } from "../../engine/tree.js";
import type { ActivationName } from "../../nn/activations.js";
import { activationSites, type ModelConfig } from "../../nn/models/index.js";
import { UsageError } from "../../errors.js";

export type CtOptions = {
  /** Curvature β ∈ [0, 1]; 1 is the original ReLU exactly. */
  beta: number;
  /** Mixing coefficient c ∈ [0, 1]; default 0.5. */
  c?: number;
  /** One (β, c) per channel instead of one per layer. */
  perChannel?: boolean;
  /** The activation to replace; default "relu". */
  from?: ActivationName;
};

/** The raw value whose sigmoid is p: log(p / (1 − p)); p = 1 gives +∞ (fine in memory, never saved). */
export function logit(p: number): number {
  return Math.log(p) - Math.log1p(-p);
}

/** The CTU parameter nodes of a model, by site name: raw β and c, scalars or one per channel. */
export function ctuParams(config: ModelConfig, opts: CtOptions): Record<string, Params> {
  const { beta, c = 0.5, perChannel = false } = opts;
  if (!(beta >= 0 && beta <= 1)) throw new UsageError(`beta must be in [0, 1], got ${beta}`);
  if (!(c >= 0 && c <= 1)) throw new UsageError(`c must be in [0, 1], got ${c}`);
  return Object.fromEntries(
    activationSites(config).map(({ name, size }) => {
      const shape = perChannel ? [size] : [];
      return [name, { beta: np.full(shape, logit(beta)), c: np.full(shape, logit(c)) }];
    }),
  );
}

/**
 * Replaces every `from` activation (ReLU by default) of the model by a CTU with the given β and c.
 * Takes ownership of `params`; the returned tree holds the same weights plus the CTU parameters.
 */
export function replaceActivations(
  config: ModelConfig,
  params: Params,
  opts: CtOptions,
): { config: ModelConfig; params: Params } {
  const from = opts.from ?? "relu";
  if (config.activation !== from)
    throw new UsageError(
      `Curvature Tuning replaces ${from}, but this ${config.name} uses ${config.activation} activations`,
    );
  const out: Params = { ...params };
  for (const [name, node] of Object.entries(ctuParams(config, opts))) setPath(out, name, node);
  return { config: { ...config, activation: "ctu" } as ModelConfig, params: out };
}

/** Overwrites the CTU parameters of a replaced model's tree with new ones (same sites). */
export function withCtuParams(params: Params, nodes: Record<string, Params>): Params {
  const out: Params = { ...params };
  for (const [name, node] of Object.entries(nodes)) setPath(out, name, node);
  return out;
}
