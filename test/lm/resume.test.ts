import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { startEngine } from "../../src/engine/device.js";
import { keyFromSeed } from "../../src/engine/prng.js";
import { Run } from "../../src/runs/store.js";
import { lmInit } from "../../src/lm/model.js";
import { presetConfig, taskTokenizer } from "../../src/lm/presets.js";
import {
  forkPretrainRun,
  pretrain,
  pretrainRunConfig,
  PRETRAIN_DEFAULTS,
  type PretrainConfig,
} from "../../src/lm/pretrain.js";
import { saveLm } from "../../src/lm/store.js";
import {
  resumeAdapterTraining,
  startAdapterTraining,
  type AdaptRequest,
} from "../../src/steer/adapt-session.js";
import { FINETUNE_DEFAULTS } from "../../src/steer/finetune.js";
import { SVF_DEFAULTS } from "../../src/steer/svf/compose.js";

beforeAll(async () => {
  await startEngine();
});

const tensorsOf = (run: Run, name: string) =>
  Object.fromEntries(
    Object.entries(run.loadCheckpoint(name).tensors).map(([k, v]) => [k, Array.from(v.data)]),
  );

describe("pretraining", () => {
  const config: PretrainConfig = {
    ...PRETRAIN_DEFAULTS,
    tasks: ["reasoning", "code"],
    size: "tiny",
    steps: 4,
    batchSize: 4,
    evalEvery: 1000,
    evalExamples: 4,
    checkpointEvery: 1,
    testExamples: 4,
  };

  it("an interrupted run resumes to the same model as an uninterrupted one", async () => {
    const root = mkdtempSync(join(tmpdir(), "tiller-lm-"));
    const straight = Run.create(root, "straight", pretrainRunConfig(config));
    expect((await pretrain(straight, config)).status).toBe("done");

    const broken = Run.create(root, "broken", pretrainRunConfig(config));
    const stop = new AbortController();
    const first = await pretrain(broken, config, {
      signal: stop.signal,
      callbacks: { onStep: ({ step }) => step === 2 && stop.abort() },
    });
    expect(first.status).toBe("interrupted");
    expect(broken.status().status).toBe("interrupted");
    const second = await pretrain(broken, config, { resume: true });
    expect(second.status).toBe("done");
    expect(tensorsOf(broken, "model")).toEqual(tensorsOf(straight, "model"));
    const losses = (r: Run) => r.metrics().filter((m) => m.type === "step");
    expect(losses(broken)).toHaveLength(losses(straight).length);
  });

  it("a fork at step N of a longer run is the run that --steps N makes", async () => {
    const root = mkdtempSync(join(tmpdir(), "tiller-lm-"));
    const long = Run.create(root, "long", pretrainRunConfig(config));
    expect((await pretrain(long, config)).status).toBe("done");
    const short = Run.create(root, "short", pretrainRunConfig({ ...config, steps: 2 }));
    expect((await pretrain(short, { ...config, steps: 2 })).status).toBe("done");

    const { run, config: forked } = forkPretrainRun(long, 2, root, "long-at-2");
    expect(forked.steps).toBe(2);
    expect((await pretrain(run, forked, { resume: true })).status).toBe("done");
    expect(tensorsOf(run, "model")).toEqual(tensorsOf(short, "model"));
    // Its curve is the source's up to the fork (steps are logged every 10 and at the end).
    expect(run.metrics().every((m) => m.type !== "epoch" && m.step <= 2)).toBe(true);
    expect(run.config<{ forkedFrom: unknown }>().forkedFrom).toEqual({ run: long.dir, step: 2 });
    expect(() => forkPretrainRun(long, 7, root, "nope")).toThrow(
      /no checkpoint at step 7; it has steps 1, 2, 3, 4/,
    );
  });
});

describe("SVF reinforcement learning", () => {
  it("an interrupted RL run resumes to the same expert, and the SVD comes from the run's cache", async () => {
    const root = mkdtempSync(join(tmpdir(), "tiller-svf-"));
    const cfg = presetConfig("tiny");
    const base = Run.create(root, "base", {
      kind: "lm-pretrain",
      lm: cfg,
      tokenizer: taskTokenizer().toJSON(),
    });
    await saveLm(base, lmInit(keyFromSeed(4), cfg));
    const request = (name: string): AdaptRequest => ({
      base: base.dir,
      targets: "mlp",
      adapter: { kind: "svf", svf: SVF_DEFAULTS },
      finetune: {
        ...FINETUNE_DEFAULTS,
        task: "reasoning",
        objective: "rl",
        steps: 3,
        batchSize: 4,
        lr: 0.05,
        temperature: 1,
        klCoef: 0.1,
        trainExamples: 32,
        evalEvery: 1,
        evalExamples: 4,
        testExamples: 4,
      },
      runsRoot: root,
      name,
    });
    const straight = await startAdapterTraining(request("straight"));
    expect(straight.result.status).toBe("done");

    const stop = new AbortController();
    const svdEvents: boolean[] = [];
    const first = await startAdapterTraining(request("broken"), {
      signal: stop.signal,
      callbacks: {
        onStep: ({ step }) => step === 1 && stop.abort(),
        onSvd: (_d, _t, _n, _s, cached) => svdEvents.push(cached),
      },
    });
    expect(first.result.status).toBe("interrupted");
    const second = await resumeAdapterTraining(first.run.dir, {
      callbacks: { onSvd: (_d, _t, _n, _s, cached) => svdEvents.push(cached) },
    });
    expect(second.result.status).toBe("done");
    expect(svdEvents.at(-1)).toBe(true);
    expect(svdEvents.slice(0, -1).every((c) => !c)).toBe(true);
    expect(tensorsOf(second.run, "expert")).toEqual(tensorsOf(straight.run, "expert"));
    const rl = (r: Run) => r.metrics().filter((m) => m.type === "rl_step");
    expect(rl(second.run).map((m) => m.loss)).toEqual(rl(straight.run).map((m) => m.loss));
  });
});
