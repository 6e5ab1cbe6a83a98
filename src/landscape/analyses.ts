/**
 * Whole analyses of a run, as the CLI and the lab start them: open the run and its checkpoints,
 * build the objective on the evaluation subset, compute, and store the result (JSON with
 * provenance) and its figure in the run's folder. Each returns what it computed and the files.
 * One analysis per file in analyses/.
 */
export type { CommonOptions, Progress } from "./analyses/common.js";
export { runInterpolation } from "./analyses/interpolation.js";
export { runProjection } from "./analyses/projection.js";
export { runHessian, type HessianRequest } from "./analyses/hessian.js";
export {
  loadSurface,
  runSurface,
  surfaceOf,
  type SurfaceRecord,
  type SurfaceRequest,
} from "./analyses/surface.js";
export { runFit } from "./analyses/fit.js";
export { runWavelets } from "./analyses/wavelets.js";
export { runTopology } from "./analyses/topology.js";
export {
  BOOK_PATH_SETTINGS,
  defaultPathStart,
  parseOptimizerList,
  runPaths,
  stableParams,
} from "./analyses/paths.js";
export type { GaussianFit } from "./gaussian-fit.js";
export type { Overlay } from "./figures.js";
