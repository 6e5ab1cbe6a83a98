/**
 * The shared step loop (src/train/steps.ts) on a scripted trainer: what it writes to the run and
 * when it stops, independent of any model.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Run, type MetricEvent } from "../../src/runs/store.js";
import { numpy as np } from "../../src/engine/jax.js";
import { DivergedError, runSteps, scalars, type StepReport, type Trainer } from "../../src/train/steps.js";

const root = mkdtempSync(join(tmpdir(), "tiller-steps-"));
let runs = 0;
const newRun = () => Run.create(root, `r${++runs}`, { kind: "test" });

/** A trainer whose step s reports loss `losses[s - 1]` (gradient norm 1 unless given), checkpointing every step. */
function scripted(losses: number[], extra: Partial<Trainer> & { gradNorms?: number[] } = {}) {
  const calls = { after: [] as number[], disposed: 0, started: -1 };
  const trainer: Trainer = {
    steps: losses.length,
    start: (done) => (calls.started = done),
    async step(s): Promise<StepReport> {
      const loss = losses[s - 1];
      const gradNorm = extra.gradNorms?.[s - 1] ?? 1;
      return {
        loss,
        gradNorm,
        metric: { type: "step", epoch: 0, step: s, loss, grad_norm: gradNorm, elapsed_s: 0 },
      };
    },
    async after(s) {
      calls.after.push(s);
      return true;
    },
    dispose: () => calls.disposed++,
    ...extra,
  };
  return { trainer, calls };
}

const steps = (run: Run) => run.metrics().map((m) => (m as { step: number }).step);

describe("the step loop", () => {
  it("stops diverged at the first non-finite gradient norm, even with a finite loss, and logs nothing of that step", async () => {
    const run = newRun();
    const { trainer, calls } = scripted([3, 2, 1, 0.5], { gradNorms: [1, 1, NaN, 1] });
    const r = await runSteps(trainer, { run });
    expect(r).toEqual({ status: "diverged", step: 2, reason: "gradient norm became NaN (loss 1) at step 3" });
    expect(run.status()).toMatchObject({ status: "diverged", epochsCompleted: 2 });
    expect(steps(run)).toEqual([1, 2]);
    expect(calls.after).toEqual([1, 2]);
    expect(calls.disposed).toBe(1);
  });

  it("stops diverged at a NaN or infinite loss", async () => {
    for (const bad of [NaN, Infinity]) {
      const run = newRun();
      const r = await runSteps(scripted([1, bad, 1]).trainer, { run });
      expect(r.status).toBe("diverged");
      expect(r.reason).toBe(`loss became ${bad} (gradient norm 1) at step 2`);
    }
  });

  it("a trainer's DivergedError ends the run diverged with its message; another error marks it failed and is rethrown", async () => {
    const run = newRun();
    const boom = scripted([1, 1], {
      async step() {
        throw new DivergedError("too many skips");
      },
    });
    expect(await runSteps(boom.trainer, { run })).toMatchObject({
      status: "diverged",
      reason: "too many skips",
    });
    const failing = newRun();
    const bad = scripted([1, 1], {
      async after() {
        throw new Error("disk full");
      },
    });
    await expect(runSteps(bad.trainer, { run: failing })).rejects.toThrow("disk full");
    expect(failing.status()).toMatchObject({ status: "failed", reason: "disk full" });
    expect(bad.calls.disposed).toBe(1);
  });

  it("an abort stops before the next step, interrupted at the last finished one", async () => {
    const run = newRun();
    const controller = new AbortController();
    const { trainer } = scripted([1, 1, 1, 1], {
      async after(s) {
        if (s === 2) controller.abort();
        return true;
      },
    });
    const r = await runSteps(trainer, { run, signal: controller.signal });
    expect(r.status).toBe("interrupted");
    expect(run.status()).toMatchObject({ status: "interrupted", epochsCompleted: 2 });
    expect(steps(run)).toEqual([1, 2]);
  });

  it("a resume cuts metrics.jsonl back to the restored step and goes on from there, with no line twice", async () => {
    const run = newRun();
    for (const s of [1, 2, 3, 4])
      // a run killed after logging step 4 but checkpointing step 2
      run.appendMetric({
        type: "step",
        epoch: 0,
        step: s,
        loss: 1,
        grad_norm: 1,
        elapsed_s: 0,
      } as MetricEvent);
    const { trainer, calls } = scripted([1, 1, 1, 1, 1], { restore: () => ({ step: 2, elapsed: 7 }) });
    const r = await runSteps(trainer, { run, resume: true });
    expect(r.status).toBe("done");
    expect(calls.started).toBe(2);
    expect(steps(run)).toEqual([1, 2, 3, 4, 5]);
    expect(run.status()).toMatchObject({ status: "done", epochsCompleted: 5 });
  });
});

describe("scalars", () => {
  it("reads a step's outputs in order, float32 scalars stacked into one read-back, others one by one", async () => {
    expect(await scalars(np.array(1.5), np.array(-2), np.array(3.25))).toEqual([1.5, -2, 3.25]);
    expect(await scalars(np.array(7, { dtype: np.int32 }), np.array(0.5))).toEqual([7, 0.5]);
    expect(await scalars(np.array(4))).toEqual([4]);
  });
});
