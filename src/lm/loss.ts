/** Token log-probabilities and the masked next-token loss, the objectives every LM trainer shares. */
import { nn, numpy as np } from "../engine/jax.js";
import type { Params } from "../engine/tree.js";
import { logSoftmax } from "../nn/activations.js";
import { lmForward, type ForwardOptions, type LmConfig } from "./model.js";

/**
 * log π(tokens[:, t+1] | tokens[:, ≤t]) for t = 0..T−2, shape [B, T−1], and the full next-token
 * log-distributions [B, T−1, V]. Consumes params and inputs.
 */
export function nextTokenLogProbs(
  params: Params,
  cfg: LmConfig,
  tokens: np.Array,
  opts: ForwardOptions = {},
): { chosen: np.Array; logp: np.Array } {
  const T = tokens.shape[1];
  const logits = lmForward(params, cfg, tokens.ref, opts);
  const logp = logSoftmax(logits.slice([], [0, T - 1]), -1);
  const targets = tokens.slice([], [1, T]);
  const chosen = logp.ref.mul(nn.oneHot(targets, cfg.vocabSize)).sum(-1);
  return { chosen, logp };
}

/** Sum of −log π over the masked positions (mask [B, T−1]). Consumes everything. */
export function maskedNextTokenLossSum(
  params: Params,
  cfg: LmConfig,
  tokens: np.Array,
  mask: np.Array,
): np.Array {
  const { chosen, logp } = nextTokenLogProbs(params, cfg, tokens);
  logp.dispose();
  return chosen.mul(mask).sum().neg();
}

/** Mean −log π over the masked positions (mask [B, T−1]). Consumes everything. */
export function maskedNextTokenLoss(
  params: Params,
  cfg: LmConfig,
  tokens: np.Array,
  mask: np.Array,
): np.Array {
  return maskedNextTokenLossSum(params, cfg, tokens, mask.ref).div(mask.sum());
}
