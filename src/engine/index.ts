/** Engine layer: the only code that knows how jax-js is set up. */
export * from "./jax.js";
export * from "./device.js";
export * from "./prng.js";
export * from "./tree.js";
export * from "./safetensors.js";
export { svd as hostSvd, singularValuesOf, type Svd } from "./svd.js";
export { yieldToEventLoop } from "./yield.js";
