/**
 * The one door to jax-js. The shim must be evaluated before jax-js's module body runs, and ES
 * modules evaluate imports in order, so it is imported first here and nowhere else.
 */
import "./node-shim.js";
export * from "@jax-js/jax";
export { shutdownWorkers } from "./node-shim.js";
