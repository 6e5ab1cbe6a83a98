/** SVF as an Adapter: trainable p per target, frozen {base, svd}. */
import type { Key } from "../../engine/prng.js";
import type { Params } from "../../engine/tree.js";
import type { Adapter } from "../adapter.js";
import { initPolicy, svfParams, SVF_DEFAULTS, type SvfOptions } from "./compose.js";
import type { SvdFactors } from "./svd.js";

/** Takes ownership of base and factors. */
export function svfAdapter(
  key: Key,
  base: Params,
  factors: SvdFactors,
  opts: SvfOptions = SVF_DEFAULTS,
): Adapter {
  const trainable = initPolicy(key, factors, opts);
  return {
    kind: "svf",
    trainable,
    frozen: { base, svd: factors as unknown as Params },
    build: (p, frozen) =>
      svfParams(frozen.base as Params, frozen.svd as unknown as SvdFactors, p, opts.maxMult),
    describe: {
      targets: Object.keys(factors).join(","),
      init_val: opts.initVal,
      max_mult: opts.maxMult,
      noise: opts.noise,
    },
  };
}
