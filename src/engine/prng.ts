/**
 * Explicit PRNG keys, JAX style: a key is a uint32[2] array; it is split, never reused.
 * Host-side randomness that must match other languages bit for bit (the data order) lives in
 * `src/data/order.ts` instead.
 */
import { random, type numpy as np } from "./jax.js";
import { UsageError } from "../errors.js";

export type Key = np.Array;

export function keyFromSeed(seed: number): Key {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new UsageError(`seed must be an integer in [0, 2^32), got ${seed}`);
  return random.key(seed);
}

/** Splits a key into `n` fresh keys. Consumes `key`. */
export function splitKey(key: Key, n = 2): Key[] {
  const keys = random.split(key, n);
  const out = Array.from({ length: n }, (_, i) => keys.ref.slice(i));
  keys.dispose();
  return out;
}
