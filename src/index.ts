/** Tiller's library entry: the pieces a program needs to train, analyse and report. */
export * as engine from "./engine/index.js";
export { startEngine } from "./engine/device.js";
export { keyFromSeed, splitKey } from "./engine/prng.js";
export { createModel, modelConfig, MODELS, type Model, type ModelConfig } from "./nn/models/index.js";
export * as layers from "./nn/layers.js";
export * as optim from "./optim/index.js";
export { loadFashionMnist } from "./data/fashion-mnist.js";
export { epochPermutation } from "./data/order.js";
export { train, makeTrainStep, loadParamsFromCheckpoint } from "./train/loop.js";
export { evaluate } from "./train/evaluate.js";
export { runTraining, resumeTraining, trainFromRequest, type TrainRequest } from "./train/session.js";

// Requests: one schema per command; the registry of kinds and the functions that run them.
export {
  requestSchemas,
  runRequest,
  type RequestKind,
  type Session,
  type SessionResult,
} from "./sessions.js";
export { parseRequest, notResumable, type RequestDef, type RequestOf } from "./requests/request.js";
export { requestArgv } from "./requests/argv.js";
export { formFields, type FieldInfo } from "./requests/describe.js";
export { Run, listRuns } from "./runs/store.js";
// Sweeps: many runs from one spec, on local workers or a BullMQ queue (docs/sweeps.md).
export { runSweep, planSweep, type SweepEvent, type SweepOptions } from "./sweep/sweep.js";
export { parseSweepSpec, readSweepSpec, type SweepSpec } from "./sweep/spec.js";
export { serveQueue } from "./sweep/queue.js";
export { writeRunReport } from "./report/run-report.js";

// The optimisation lab: initialisers and their diagnostics, comparisons, the landscape.
export * as initializers from "./init/initializers.js";
export { modelDiagnostics, matrixDiagnostics } from "./init/diagnostics.js";
export { compareInits } from "./train/init-compare.js";
export { runComparison } from "./train/compare.js";
export * as landscape from "./landscape/analyses.js";
export { powerIteration, lanczosTopK, hutchinsonTrace, spectralDensity } from "./landscape/hessian.js";

// Steering: Curvature Tuning and Transformer² (SVF experts, two-pass self-adaptation).
export { ctu } from "./nn/activations.js";
export { replaceActivations } from "./steer/ct/replace.js";
export { searchBeta } from "./steer/ct/search.js";
export { compareMethods } from "./steer/ct/compare.js";
export { robustnessSweep } from "./steer/ct/robustness.js";
export { makeAttacker } from "./steer/ct/attacks.js";
export { runSearch, runCompare, runRobustness } from "./steer/ct/session.js";
export { startAdapterTraining, resumeAdapterTraining } from "./steer/adapt-session.js";
export { composeWeight, svfParamsFromZ } from "./steer/svf/compose.js";
export { selfAdapt } from "./steer/svf/adapt/session.js";
export { runTour } from "./tour/tour.js";
