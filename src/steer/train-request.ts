/**
 * Carries out a validated `svf train` or `lora train` request (`requests/adapter.ts`): a new
 * adapter run on its base LM, or the run named by `resume` continued from its last step.
 */
import type { FinetuneResult } from "./finetune.js";
import type { Run } from "../runs/store.js";
import type { LoraTrainRequest, SvfTrainRequest } from "../requests/adapter.js";
import { SVF_DEFAULTS } from "./svf/compose.js";
import {
  resumeAdapterTraining,
  startAdapterTraining,
  type AdaptCallbacks,
  type AdapterSpec,
} from "./adapt-session.js";
import { startEngine } from "../engine/device.js";

type Request = ({ kind: "svf" } & SvfTrainRequest) | ({ kind: "lora" } & LoraTrainRequest);

function adapterOf(r: Request): AdapterSpec {
  return r.kind === "svf"
    ? { kind: "svf", svf: { initVal: r.initVal, maxMult: r.maxMult, noise: SVF_DEFAULTS.noise } }
    : { kind: "lora", lora: { rank: r.rank, alpha: r.alpha ?? 2 * r.rank } };
}

export async function trainAdapterFromRequest(
  r: Request,
  opts: { signal?: AbortSignal; callbacks?: AdaptCallbacks } = {},
): Promise<{ run: Run; result: FinetuneResult }> {
  await startEngine();
  if (r.resume) return resumeAdapterTraining(r.resume, { ...opts, runsRoot: r.runs });
  return startAdapterTraining(
    {
      base: r.base!,
      targets: r.targets,
      adapter: adapterOf(r),
      finetune: {
        task: r.task!,
        objective: r.objective,
        steps: r.steps,
        batchSize: r.batchSize,
        lr: r.lr,
        maxGradNorm: r.maxGradNorm,
        klCoef: r.klCoef,
        klDirection: r.klDirection,
        temperature: r.temperature,
        rewardNorm: r.rewardNorm,
        samplesPerPrompt: r.samplesPerPrompt,
        trainExamples: r.trainExamples,
        evalEvery: r.evalEvery,
        evalExamples: r.evalExamples,
        seed: r.seed,
      },
      runsRoot: r.runs,
      name: r.name,
    },
    opts,
  );
}
