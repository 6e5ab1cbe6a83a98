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
export { runTraining, resumeTraining, type TrainRequest } from "./train/session.js";
export { Run, listRuns } from "./runs/store.js";
export { writeRunReport } from "./report/run-report.js";
