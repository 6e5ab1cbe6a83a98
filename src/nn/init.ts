/** Parameter initialisation used by the layers until a named initialiser is chosen (src/init/). */
import { random, numpy as np } from "../engine/jax.js";
import type { Key } from "../engine/prng.js";

/**
 * PyTorch's default for Linear and Conv2d: weight and bias ~ U(−1/√fan_in, 1/√fan_in)
 * (kaiming_uniform with a = √5 reduces to this bound). Matching it keeps the PyTorch twin honest.
 */
export function torchDefaultUniform(key: Key, shape: number[], fanIn: number): np.Array {
  const bound = 1 / Math.sqrt(fanIn);
  return random.uniform(key, shape, { minval: -bound, maxval: bound });
}
